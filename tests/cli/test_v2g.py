"""V2G in the CLI: compare shows the value of V2G and its figures; the other commands run."""

import json
from pathlib import Path

from tests.cli.cli_runner import run_cli

SMALL = str(Path(__file__).parents[1] / "data" / "v2g-small.yaml")


def test_compare_shows_the_value_of_v2g_and_writes_its_figures(tmp_path: Path) -> None:
    code, out, err = run_cli("compare", "--scenario", SMALL, "--plots", str(tmp_path))
    assert code == 0, err
    assert "Value of V2G" in out and "optimal-without-v2g" in out
    assert "price-threshold-0.999" in out and "per year" in out
    assert (tmp_path / "v2g_value.png").stat().st_size > 0
    assert (tmp_path / "v2g_schedule.png").stat().st_size > 0


def test_compare_json_reports_discharge_export_and_ageing() -> None:
    code, out, err = run_cli("compare", "--scenario", SMALL, "--json")
    assert code == 0, err
    rows = {row["policy"]: row for row in json.loads(out)}
    best, charge_only = rows["optimal"], rows["optimal-without-v2g"]
    assert best["expected_return"] >= charge_only["expected_return"]
    assert best["expected_discharged_kwh"] > 0 and best["expected_export_revenue"] > 0
    assert charge_only["expected_discharged_kwh"] == 0.0
    assert rows["idle"]["expected_degradation_cost"] == 0.0


def test_solve_and_evaluate_run_on_a_v2g_scenario() -> None:
    code, out, err = run_cli("solve", "--scenario", SMALL, "--json")
    assert code == 0, err
    code, out, err = run_cli(
        "evaluate", "--scenario", SMALL, "--policy", "price-threshold-0.999", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["policy"] == "price-threshold-0.999"


def test_negative_power_levels_without_v2g_are_one_line_errors() -> None:
    code, _out, err = run_cli("solve", "--power-levels", "-7,0,7")
    assert code == 2
    assert "power_levels_kw" in err and "v2g" in err and len(err.strip().splitlines()) == 1
