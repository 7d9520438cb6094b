"""`compare --scenario depot-...` shows both bounds, MPC and the decomposition policy."""

import json
import sys

import pytest

from smartcharging import cli


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["smartcharging", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0


def test_depot_compare_reports_both_bounds_and_percent_gaps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["compare", "--scenario", "depot-25-evening", "--episodes", "1"]
    run_cli(monkeypatch, *base, "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["lagrangian_bound"] < report["hindsight_bound"]
    assert report["tighter_bound"] == "lagrangian"
    rows = {row["policy"]: row for row in report["policies"]}
    assert {"mpc", "lagrangian", "earliest-deadline-first"} <= set(rows)
    for row in rows.values():
        bound = report["lagrangian_bound"]
        assert row["mean_gap"] == pytest.approx(bound - row["mean_expected_return"])
        assert row["mean_gap"] >= 0
        assert row["gap_percent"] == pytest.approx(100 * row["mean_gap"] / abs(bound))
    assert rows["mpc"]["solves"] > 0 and rows["mpc"]["failed_solves"] == 0
    run_cli(monkeypatch, *base, "--csv")
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert {"mean_gap", "gap_percent", "mean_gap_to_hindsight", "failed_solves"} <= set(header)
