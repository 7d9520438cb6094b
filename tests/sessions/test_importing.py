"""`smartcharging scenario import-sessions`: a user's logs become a scenario that every
command takes, or one error line."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcharging.config.scenarios import load_depot_scenario
from tests.cli.cli_runner import run_cli

ACN = Path(__file__).parents[2] / "smartcharging" / "data" / "acn"
SITE = ["--grid-limit-kw", "150", "--timezone", "America/Los_Angeles", "--tariff", "sce-tou-ev-8"]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def test_plain_csv_to_scenario_to_comparison(tmp_path: Path) -> None:
    log = _csv(
        tmp_path / "depot.csv",
        [
            ["arrival", "departure", "energy_kwh", "station_id", "requested_energy_kwh"],
            ["2024-03-04T07:50:00-08:00", "2024-03-04T16:10:00-08:00", "20", "A", "25"],
            ["2024-03-04T08:20:00-08:00", "2024-03-04T12:00:00-08:00", "8", "B", ""],
            ["2024-03-05T09:00:00-08:00", "2024-03-05T09:05:00-08:00", "1", "A", "2"],
            ["2024-03-05T09:00:00-08:00", "not a time", "1", "B", "2"],
        ],
    )
    out = tmp_path / "site" / "mine.yaml"
    out.parent.mkdir()
    code, stdout, stderr = run_cli(
        "scenario", "import-sessions", str(log), "--out", str(out), "--charger-kw", "7", *SITE
    )
    assert code == 0, stderr
    assert "2 sessions on 1 day at 2 stations" in stdout
    assert "depot.csv:4: no whole slot" in stdout and "depot.csv:5:" in stdout
    config = load_depot_scenario(out).to_config()
    assert config.sessions is not None and config.sessions.requested_kwh == (25.0, 8.0)
    assert config.sessions.claimed == (True, False)
    rejected = list(csv.reader(out.with_name("mine.rejections.csv").read_text().splitlines()))
    assert sorted(row[1] for row in rejected[1:]) == ["4", "5"]
    code, stdout, stderr = run_cli("compare", "--scenario", str(out), "--episodes", "1", "--json")
    assert code == 0, stderr
    code, _, stderr = run_cli(
        "scenario", "import-sessions", str(log), "--out", str(out), "--charger-kw", "7", *SITE
    )
    assert code == 2 and "exists" in stderr and "--overwrite" in stderr


def test_acn_period_imports_within_the_issue_bound(tmp_path: Path) -> None:
    code, stdout, stderr = run_cli(
        "scenario",
        "import-sessions",
        str(ACN / "caltech_2021-05-01_2021-08-31.csv.gz"),
        "--out",
        str(tmp_path / "c.yaml"),
        "--charger-kw",
        "6.656",
        "--exclude-station",
        "11900388",
        *SITE,
    )
    assert code == 0, stderr
    assert "1,243 sessions on 123 days at 39 stations" in stdout
    assert "excluded_station 556" in stdout


def test_bad_settings_are_one_line_errors(tmp_path: Path) -> None:
    log = str(ACN / "caltech_2021-05-01_2021-08-31.csv.gz")
    out = str(tmp_path / "x.yaml")
    for args, message in (
        (["--charger-kw", "6.6", "--grid-limit-kw", "150", "--timezone", "UTC"], "exactly one"),
        ([*SITE], "pass --charger-kw"),
        (["--charger-kw", "6.6", *SITE[:2], "--timezone", "Nowhere/x", *SITE[4:]], "time zone"),
        (["--charger-kw", "6.6", *SITE, "--slot-minutes", "7"], "--slot-minutes 7"),
        (["--charger-kw", "-1", *SITE], "--charger-kw -1"),
        (["--charger-kw", "0", *SITE], "--charger-kw 0"),
        (["--charger-kw", "6.6", *SITE[:4], "--tariff", "nope"], "--tariff 'nope'"),
        (["--charger-kw", "6.6", *SITE, "--exclude-station", "Z"], "station 'Z'"),
        (["--charger-kw", "6.6", "--grid-limit-kw", "1e300", *SITE[2:]], "--grid-limit-kw"),
    ):
        code, _, stderr = run_cli("scenario", "import-sessions", log, "--out", out, *args)
        assert code == 2 and message in stderr, (args, stderr)
        assert stderr.count("\n") == 1 and "Traceback" not in stderr
    code, _, stderr = run_cli(
        "scenario", "import-sessions", log, "--out", str(tmp_path / "x.txt"), *SITE
    )
    assert code == 2 and ".yaml" in stderr


CELLS = st.one_of(
    st.sampled_from(
        ["2024-01-02T08:00:00+00:00", "2024-01-02T17:30:00Z", "2024-01-03T07:00", "", "x"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=6),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=5), max_size=8))
def test_random_logs_import_or_fail_in_one_line(tmp_path: Path, rows: list[list[str]]) -> None:
    header = ["arrival", "departure", "energy_kwh", "station_id", "requested_energy_kwh"]
    log = _csv(tmp_path / "random.csv", [header, *[(row + [""] * 5)[:5] for row in rows]])
    out = tmp_path / "random.yaml"
    code, _, stderr = run_cli(
        "scenario",
        "import-sessions",
        str(log),
        "--out",
        str(out),
        "--charger-kw",
        "7",
        "--overwrite",
        *SITE,
    )
    assert "Traceback" not in stderr
    if code != 0:
        assert code == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1
        return
    config = load_depot_scenario(out).to_config()
    assert config.sessions is not None
    rejected = len(out.with_name("random.rejections.csv").read_text().splitlines()) - 1
    assert config.sessions.n_sessions + rejected == len(rows)


def test_logs_without_ids_import_together(tmp_path: Path) -> None:
    header = ["arrival", "departure", "energy_kwh"]
    jan = _csv(tmp_path / "jan.csv", [header, ["2024-01-08T08:00Z", "2024-01-08T12:00Z", "5"]])
    feb = _csv(
        tmp_path / "feb.csv",
        [
            header,
            ["2024-02-08T08:00Z", "2024-02-08T12:00Z", "5"],
            ["2024-02-09T08:00Z", "2024-02-09T12:00Z", "5"],
        ],
    )
    out = tmp_path / "both.yaml"
    code, stdout, stderr = run_cli(
        "scenario",
        "import-sessions",
        str(jan),
        str(feb),
        "--out",
        str(out),
        "--charger-kw",
        "7",
        *SITE,
    )
    assert code == 0, stderr
    assert "3 sessions on 3 days" in stdout
    config = load_depot_scenario(out).to_config()
    assert config.sessions is not None and config.sessions.n_sessions == 3
    code, _, stderr = run_cli(
        "scenario",
        "import-sessions",
        str(jan),
        str(jan),
        "--out",
        str(tmp_path / "x.yaml"),
        "--charger-kw",
        "7",
        *SITE,
    )
    assert code == 2 and "given twice" in stderr


def test_a_failed_import_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    log = _csv(
        tmp_path / "site.sessions.csv",
        [["arrival", "departure", "energy_kwh"], ["2024-01-08T08:00Z", "2024-01-08T12:00Z", "5"]],
    )
    before = log.read_bytes()
    scenario = tmp_path / "site.yaml"
    scenario.write_text("old scenario\n")
    rejections = tmp_path / "site.rejections.csv"
    for args in (
        ["--grid-limit-kw", "-5", "--timezone", "UTC", "--tariff", "sce-tou-ev-8"],
        ["--grid-limit-kw", "50", "--timezone", "UTC", "--prices", str(tmp_path / "none.csv")],
        # valid settings whose prices cannot cover the days: fails once the scenario loads
        ["--grid-limit-kw", "50", "--timezone", "UTC", "--prices", str(_prices(tmp_path))],
    ):
        code, _, stderr = run_cli(
            "scenario",
            "import-sessions",
            str(log),
            "--out",
            str(scenario),
            "--charger-kw",
            "7",
            "--overwrite",
            *args,
        )
        assert code == 2 and "Traceback" not in stderr and "import-" not in stderr, stderr
        assert log.read_bytes() == before and scenario.read_text() == "old scenario\n"
        assert not rejections.exists()
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    rejections.write_text("mine\n")
    log = log.rename(tmp_path / "other.csv")
    code, _, stderr = run_cli(
        "scenario",
        "import-sessions",
        str(log),
        "--out",
        str(tmp_path / "site.yml"),
        "--charger-kw",
        "7",
        *SITE,
    )
    assert code == 2 and "site.rejections.csv exists" in stderr
    assert rejections.read_text() == "mine\n"


def _prices(folder: Path) -> Path:
    """A price series that covers another year than the sessions."""
    return _csv(
        folder / "prices.csv",
        [["timestamp", "price_per_kwh"]] + [[f"2023-01-01T{h:02d}:00Z", "0.2"] for h in range(24)],
    )
