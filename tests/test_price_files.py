"""A user's own prices from a CSV file, in vehicle and depot scenarios."""

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.config import limits
from smartcharging.config.price_files import read_price_file
from smartcharging.config.prices import PriceError, PriceSeries
from smartcharging.config.scenarios import (
    ScenarioError,
    load_depot_scenario,
    load_scenario,
    scenario_config,
)

BUILTINS = Path(__file__).parents[1] / "smartcharging" / "builtin_scenarios"


def write_series(path: Path, start: dt.datetime, step_minutes: int, values: list[float]) -> None:
    lines = ["timestamp,price_per_kwh"]
    for k, value in enumerate(values):
        lines.append(f"{(start + dt.timedelta(minutes=step_minutes * k)).isoformat()},{value}")
    path.write_text("\n".join(lines) + "\n")


def scenario_with_prices(folder: Path, builtin: str, prices: str) -> Path:
    """A copy of a built-in scenario in ``folder`` whose prices line is ``prices``."""
    text = (BUILTINS / f"{builtin}.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("prices:")]
    path = folder / f"{builtin}-own.yaml"
    path.write_text("\n".join([*lines, f"prices: {prices}"]) + "\n")
    return path


def test_a_series_becomes_one_price_row_per_covered_date(tmp_path: Path) -> None:
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    values = list(np.round(np.arange(96 * 3) * 0.001, 6))  # 15-minute prices, three days
    write_series(tmp_path / "p.csv", start, 15, values)
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: p.csv}")
    config = load_scenario(path).to_config()  # the window: 14:00-16:00 UTC, 15-minute slots
    assert config.profile_labels == ("2025-03-01", "2025-03-02", "2025-03-03")
    first = 14 * 4  # the 15-minute step at 14:00
    np.testing.assert_allclose(config.prices[1], values[96 + first : 96 + first + 8], rtol=1e-12)


def test_hourly_prices_are_averaged_over_each_slot_in_the_windows_time_zone(
    tmp_path: Path,
) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    write_series(tmp_path / "p.csv", start, 60, [float(h) for h in range(48)])
    path = scenario_with_prices(
        tmp_path, "seed-physical", "{kind: file, path: p.csv, timezone: Europe/Amsterdam}"
    )
    config = load_scenario(path).to_config()
    # 14:00 in Amsterdam is 13:00 UTC in January: the 15-minute slots of two hours
    np.testing.assert_allclose(config.prices[0], [13.0] * 4 + [14.0] * 4)


def test_slot_prices_make_one_row_and_a_depot_takes_them_too(tmp_path: Path) -> None:
    (tmp_path / "slots.csv").write_text(
        "slot,price_per_kwh\n" + "".join(f"{k},{0.1 + k / 100}\n" for k in range(8))
    )
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: slots.csv}")
    config = load_scenario(path).to_config()
    np.testing.assert_allclose(config.prices[0], [0.1 + k / 100 for k in range(8)])
    depot = load_depot_scenario("depot-25-evening").to_config()
    (tmp_path / "depot.csv").write_text(
        "slot,price_per_kwh\n" + "".join(f"{k},0.25\n" for k in range(depot.n_slots))
    )
    path = scenario_with_prices(tmp_path, "depot-25-evening", "{kind: file, path: depot.csv}")
    assert (load_depot_scenario(path).to_config().prices == 0.25).all()


def test_a_relative_path_is_read_from_the_scenario_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slots.csv").write_text(
        "slot,price_per_kwh\n" + "".join(f"{k},0.2\n" for k in range(8))
    )
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: slots.csv}")
    monkeypatch.chdir(tmp_path.parent)
    assert scenario_config(path).prices.tolist() == [[0.2] * 8]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("price,slot\n0,1\n", ":1: header 'price,slot' must be timestamp,price_per_kwh"),
        ("slot,price_per_kwh\n", "holds no prices"),
        ("slot,price_per_kwh\n0,0.1\n2,0.1\n", ":3: slot '2' must be 1"),
        ("slot,price_per_kwh\n0,nan\n", ":2: price 'nan' is not a finite number"),
        ("slot,price_per_kwh\n0,1e999\n", ":2: price '1e999' is not a finite number"),
        ("slot,price_per_kwh\n0,0.1,3\n", ":2: 3 values, must be 2"),
        ("timestamp,price_per_kwh\n2025-01-01T00:00,0.1\n", ":2: timestamp '2025-01-01T00:00' has"),
        ("timestamp,price_per_kwh\nyesterday,0.1\n", ":2: timestamp 'yesterday' is not ISO 8601"),
        (
            "timestamp,price_per_kwh\n2025-01-01T00:00Z,0.1\n2025-01-01T01:00Z,0.1\n"
            "2025-01-01T03:00Z,0.1\n",
            ":4: timestamp 2025-01-01T03:00:00+00:00 is not 1:00:00 after the previous one",
        ),
        (
            "timestamp,price_per_kwh\n2025-01-01T01:00Z,0.1\n2025-01-01T00:00Z,0.1\n",
            "step -1 day, 23:00:00 must be a positive whole number of minutes",
        ),
    ],
)
def test_a_bad_price_file_is_refused_naming_the_file_and_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(PriceError) as caught:
        read_price_file(path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_a_price_file_too_large_not_utf8_or_missing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"slot,price_per_kwh\n0,\xff\n")
    with pytest.raises(PriceError, match="not UTF-8 text"):
        read_price_file(path)
    path.write_text("slot,price_per_kwh\n0,0.1\n1,0.1\n")
    monkeypatch.setattr(limits, "MAX_PRICE_POINTS", 1)
    with pytest.raises(PriceError, match="2 rows, more than 1"):
        read_price_file(path)
    monkeypatch.setattr(limits, "MAX_PRICE_FILE_BYTES", 10)
    with pytest.raises(PriceError, match="more bytes than a price file may hold"):
        read_price_file(path)
    with pytest.raises(PriceError, match="missing.csv: no such file"):
        read_price_file(tmp_path / "missing.csv")


def test_a_window_the_file_does_not_fit_is_a_scenario_error(tmp_path: Path) -> None:
    (tmp_path / "slots.csv").write_text("slot,price_per_kwh\n0,0.1\n")
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: slots.csv}")
    with pytest.raises(ScenarioError, match="1 slot prices, the window has 8 slots"):
        load_scenario(path).to_config()
    start = dt.datetime(2025, 1, 1, 20, tzinfo=dt.UTC)
    write_series(tmp_path / "p.csv", start, 60, [0.1] * 3)
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: p.csv}")
    with pytest.raises(ScenarioError, match="covers no whole window of 8 slots"):
        load_scenario(path).to_config()
    path = scenario_with_prices(
        tmp_path, "seed-physical", "{kind: file, path: p.csv, timezone: Mars/Olympus}"
    )
    with pytest.raises(ScenarioError, match="unknown time zone 'Mars/Olympus'"):
        load_scenario(path)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.text(alphabet="0123456789,.-:TZ+ abcnaslotimepr_\t\"'", max_size=30), max_size=6
    ),
    header=st.sampled_from(["timestamp,price_per_kwh", "slot,price_per_kwh", "x", ""]),
)
def test_any_price_file_is_read_or_refused_with_a_price_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], header: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "p.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    try:
        prices = read_price_file(path)
    except PriceError:
        return
    if isinstance(prices, PriceSeries):
        assert np.isfinite(prices.values).all() and prices.step_minutes >= 1
    else:
        assert all(np.isfinite(prices))


def test_devices_fifos_bom_and_calendar_edges(tmp_path: Path) -> None:
    with pytest.raises(PriceError, match="not a regular file"):
        read_price_file(Path("/dev/zero"))
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with pytest.raises(PriceError, match="not a regular file"):
        read_price_file(fifo)  # opening it would wait for a writer forever
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfslot,price_per_kwh\r\n0,0.1\r\n")  # as a spreadsheet saves it
    assert read_price_file(bom) == [0.1]
    late = tmp_path / "late.csv"
    write_series(late, dt.datetime(9999, 12, 25, tzinfo=dt.UTC), 60, [0.1] * 168)
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: late.csv}")
    with pytest.raises(ScenarioError, match="beyond the years 1..9999"):
        load_scenario(path).to_config()
    sparse = tmp_path / "sparse.csv"
    write_series(sparse, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), 60 * 24 * 3650, [0.2] * 9)
    path = scenario_with_prices(tmp_path, "seed-physical", "{kind: file, path: sparse.csv}")
    with pytest.raises(ScenarioError, match="dates, more than 10,000 price rows"):
        load_scenario(path).to_config()
