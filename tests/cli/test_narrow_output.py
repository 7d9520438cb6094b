"""Tables read anywhere: in an 80-column terminal (COLUMNS=80) and piped to a file, no
number is cut ("gap…", "20.…"); V2G output says what it is and what each column holds."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcharging.cli import app

#: A small V2G scenario (one price day), so that its widest tables build in seconds.
V2G = """\
name: v2g-small
vehicle:
  capacity_kwh: 72
  power_levels_kw: [-11, -5.5, 0, 5.5, 11]
  efficiency: 0.92
  start: {min_kwh: 0, max_kwh: 72, step_kwh: 1}
window: {arrival: "14:00", departure: "18:00", slot_minutes: 15}
demand: {mean_kwh: 30, sd_kwh: 5}
cost:
  model: physical
  wear_cost_per_kw2h: 0.0015
  shortfall_cost_per_kwh: 5.0
  degradation_cost_per_kwh: 0.02
  residual_value_per_kwh: 0.065
prices: {kind: tou, tariff: sce-tou-ev-8, period: summer-weekday}
forecast_slots: 15
v2g: {discharge_efficiency: 0.92, reserve_kwh: 15}
"""


@pytest.fixture(name="v2g")
def v2g_fixture(tmp_path: Path) -> str:
    path = tmp_path / "v2g-small.yaml"
    path.write_text(V2G)
    return str(path)


def invoke(*args: str, columns: int | None) -> str:
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def cells(row: dict, physical: bool) -> list[str]:
    """A report row's numbers as the table prints them."""
    shown = [f"{row['expected_return']:.4g}", f"{100 * row['relative_gap']:.2f}"]
    shown.append(f"{row['shortfall_probability']:.2e}")
    if physical:
        for key in ("expected_energy_cost", "expected_wear_cost", "expected_shortfall_cost"):
            shown.append(f"{row[key]:.3f}")
    else:
        shown += [f"{row['gap_to_optimum']:.3g}", f"{row['expected_charging_cost']:.3g}"]
    return shown


@pytest.mark.parametrize("columns", [80, None])
@pytest.mark.parametrize(
    "options",
    [["--episodes", "20"], ["--scenario", "seed-physical", "--episodes", "20"], ["V2G"]],
)
def test_every_number_appears_in_full(v2g, columns, options) -> None:
    args = ["compare", *[f"--scenario={v2g}" if option == "V2G" else option for option in options]]
    text = invoke(*args, columns=columns)
    rows = json.loads(invoke(*args, "--json", columns=columns))
    assert "…" not in text
    if columns:
        assert max(len(line) for line in text.splitlines()) <= columns
    for row in rows:
        line = next(line for line in text.splitlines() if line.split()[:1] == [row["policy"]])
        assert line
        for cell in cells(row, physical="--episodes" not in options[:1]):
            assert re.search(rf"(?<![\d.]){re.escape(cell)}(?![\d])", text), (cell, row["policy"])
    if "--episodes" in options:
        assert "MC mean" in text


@pytest.mark.parametrize("columns", [80, 40])
def test_evaluate_at_a_narrow_width_lists_the_figures(v2g, columns) -> None:
    text = invoke("evaluate", "--scenario", v2g, "--policy", "idle", columns=columns)
    data = json.loads(
        invoke("evaluate", "--scenario", v2g, "--policy", "idle", "--json", columns=columns)
    )
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= columns
    for cell in cells(data, physical=True):
        assert cell in text


def test_v2g_columns_say_what_they_hold(v2g) -> None:
    text = " ".join(invoke("compare", "--scenario", v2g, columns=None).split())
    for header in ("net of exports", "cycle ageing", "credit"):
        assert header in text


def test_solve_says_a_v2g_problem_is_one_and_titles_its_day_table(v2g) -> None:
    text = " ".join(invoke("solve", "--scenario", "v2g-overnight-nl", columns=80).split())
    assert "V2G" in text and "negative power discharges" in text
    assert "the 5 best and the 5 worst of 365 days" in text
    text = " ".join(invoke("solve", "--scenario", v2g, columns=80).split())
    assert "V2G" in text and "price day" not in text  # one day: no day table
