"""Errors in a depot scenario file name the file, not the scenario's ``name:`` field; a
built-in scenario is named as one."""

from pathlib import Path

import pytest

from smartcharging.builtin_scenarios import __file__ as builtin_init
from smartcharging.config.scenarios import ScenarioError, load_depot_scenario
from tests.cli.cli_runner import run_cli

DEPOT = (Path(builtin_init).parent / "depot-10-overnight.yaml").read_text()


def depot_file(folder: Path, old: str, new: str) -> Path:
    assert old in DEPOT
    path = folder / "dv.yaml"
    path.write_text(DEPOT.replace("name: depot-10-overnight", "name: dv").replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "{kind: day_ahead, market: nl-2024, timezone: Europe/Amsterdam}",
            "{kind: file, path: prices.csv}",
            "3 slot prices, the window has 48 slots",
        ),
        ("departure_slots: [40, 48]", "departure_slots: [40, 4800]", "departure"),
    ],
)
def test_depot_scenario_errors_name_the_file(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    (tmp_path / "prices.csv").write_text("slot,price_per_kwh\n0,0.1\n1,0.2\n2,0.3\n")
    path = depot_file(tmp_path, old, new)
    code, _, err = run_cli("compare", "--scenario", str(path))
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"error: --scenario: {path}: "), err
    assert problem in lines[0] and "'dv'" not in lines[0]


def test_builtin_scenario_errors_name_the_builtin() -> None:
    scenario = load_depot_scenario("depot-10-overnight")
    with pytest.raises(ScenarioError, match=r"^built-in scenario 'depot-10-overnight': "):
        scenario.to_config(n_chargers=0)
