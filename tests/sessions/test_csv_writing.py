"""Writing sessions as the plain CSV: read back, the records are equal."""

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcharging.sessions import SessionRecord, read_sessions, reading, write_sessions_csv
from tests.sessions.test_reading import ACN_DATA, ACN_PERIODS, api_item, needs_acn, user_input


def round_trip(records: tuple[SessionRecord, ...], path: Path) -> tuple[SessionRecord, ...]:
    write_sessions_csv(records, path)
    sessions = read_sessions(path)
    assert sessions.format == "csv" and not sessions.rejections and not sessions.adjustments
    assert [record.line for record in sessions.records] == list(range(2, len(records) + 2))
    return sessions.records


@needs_acn
def test_a_shared_period_round_trips(tmp_path: Path) -> None:
    records = read_sessions(ACN_DATA / min(ACN_PERIODS)).records
    again = round_trip(records, tmp_path / "sessions.csv")
    assert again == records
    for before, after in zip(records, again, strict=True):  # the offsets are kept as well
        assert after.arrival.utcoffset() == before.arrival.utcoffset()
    header = (tmp_path / "sessions.csv").read_text().splitlines()[0]
    assert header == (
        "arrival,departure,energy_kwh,station_id,requested_energy_kwh,estimated_departure,"
        "max_power_kw,claimed,session_id"
    )


def test_sessions_without_request_estimate_or_station_round_trip(tmp_path: Path) -> None:
    items = [
        api_item(1, userInputs=[user_input("Wed, 25 Apr 2018 11:09:00 GMT", 0.1 + 0.2, "")]),
        api_item(2, spaceID=None, stationID=None, kWhDelivered=1e-300),
    ]
    items[0]["userInputs"][0]["requestedDeparture"] = "Wed, 25 Apr 2018 15:00:00 GMT"
    path = tmp_path / "api.json"
    path.write_text(json.dumps({"_items": items}))
    records = read_sessions(path).records
    assert records[0].requested_kwh == 0.1 + 0.2 and records[1].station_id == ""
    assert round_trip(records, tmp_path / "out.csv") == records


def test_writing_replaces_the_file_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    records = read_sessions(
        _plain(tmp_path / "in.csv", "2024-03-01T08:00Z,2024-03-01T09:00Z,1")
    ).records
    write_sessions_csv(records, path)
    written = path.read_text()

    def failing():
        yield records[0]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_sessions_csv(failing(), path)
    with pytest.raises(OSError):
        write_sessions_csv(records, tmp_path)  # a folder cannot be replaced by a file
    assert path.read_text() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def _plain(path: Path, *rows: str) -> Path:
    path.write_text("\n".join(["arrival,departure,energy_kwh", *rows]) + "\n")
    return path


NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda text: text.isprintable() and text.strip() == text)
OFFSETS = st.integers(min_value=-14 * 3600, max_value=14 * 3600).map(
    lambda seconds: dt.timezone(dt.timedelta(seconds=seconds))
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2199, 1, 1), timezones=OFFSETS
)
STAYS = st.timedeltas(min_value=dt.timedelta(microseconds=1), max_value=reading.MAX_STAY)
ENERGIES = st.floats(min_value=0, max_value=reading.MAX_SESSION_KWH)


@st.composite
def session_records(draw: st.DrawFn) -> tuple[SessionRecord, ...]:
    """Sessions as the reader keeps them: unique names, sensible stays and values."""
    ids = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    records = []
    for session_id in ids:
        arrival = draw(MOMENTS)
        requested = draw(st.none() | ENERGIES)
        estimate = draw(st.none() | STAYS.map(lambda stay, a=arrival: a + stay))
        records.append(
            SessionRecord(
                source="drawn",
                line=0,
                session_id=session_id,
                station_id=draw(st.just("") | NAMES),
                arrival=arrival,
                departure=(arrival + draw(STAYS)).astimezone(draw(OFFSETS)),
                energy_kwh=draw(ENERGIES),
                requested_kwh=requested,
                estimated_departure=estimate,
                max_power_kw=draw(
                    st.none()
                    | st.floats(min_value=0, max_value=reading.MAX_SESSION_KW, exclude_min=True)
                ),
                claimed=requested is not None and draw(st.booleans()),
            )
        )
    return tuple(records)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=session_records())
def test_any_kept_sessions_round_trip(tmp_path: Path, records: tuple[SessionRecord, ...]) -> None:
    again = round_trip(records, tmp_path / "drawn.csv")
    assert again == records
    for before, after in zip(records, again, strict=True):
        assert after.energy_kwh.hex() == before.energy_kwh.hex()  # bit for bit
        assert after.departure.utcoffset() == before.departure.utcoffset()
