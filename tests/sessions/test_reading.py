"""Reading session logs: ACN-Data CSV and API JSON, plain CSV, every rejection and file error."""

import csv
import datetime as dt
import gzip
import io
import json
import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from smartcharging.sessions import (
    REJECTION_KINDS,
    SessionFile,
    SessionFileError,
    read_sessions,
    reading,
)

ACN_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "acn"
#: Sessions and claimed sessions of each shared period (../shared/data/README.md).
ACN_PERIODS = {
    "caltech_2019-05-01_2019-08-31.csv.gz": (3527, 3021),
    "caltech_2019-09-01_2019-12-31.csv.gz": (3177, 2636),
    "caltech_2020-02-01_2020-05-31.csv.gz": (1269, 1015),
    "caltech_2021-05-01_2021-08-31.csv.gz": (1829, 1645),
}
needs_acn = pytest.mark.skipif(not ACN_DATA.is_dir(), reason="no shared ACN-Data")

PLAIN_HEADER = "arrival,departure,energy_kwh"
PDT = dt.timezone(dt.timedelta(hours=-7))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def plain(tmp_path: Path, *rows: str, header: str = PLAIN_HEADER, name: str = "s.csv") -> Path:
    return write(tmp_path / name, "\n".join([header, *rows]) + "\n")


def only_rejection(sessions: SessionFile) -> tuple[str, str]:
    """The one rejection of ``sessions`` as (str, kind)."""
    assert len(sessions.rejections) == 1, sessions.rejections
    rejection = sessions.rejections[0]
    return str(rejection), rejection.kind


# --- the shared ACN-Data files -------------------------------------------------------------


@needs_acn
@pytest.mark.parametrize("name", sorted(ACN_PERIODS))
def test_shared_acn_files_read_every_session(name: str) -> None:
    started = time.perf_counter()
    sessions = read_sessions(ACN_DATA / name)
    seconds = time.perf_counter() - started
    count, claimed = ACN_PERIODS[name]
    assert sessions.format == "acn-csv"
    assert sessions.summary() == {"kept": count, "rejected": 0}
    assert sum(record.claimed for record in sessions.records) == claimed
    assert seconds < 5.0  # the bound; about 0.1 s on the reference machine
    for record in sessions.records:
        assert record.arrival.utcoffset() in (dt.timedelta(hours=-7), dt.timedelta(hours=-8))
        assert record.departure > record.arrival
        assert record.requested_kwh is not None and record.estimated_departure is not None
        assert record.max_power_kw is None and record.source == name
    first = sessions.records[0]
    assert first.line == 2 and sessions.records[-1].line == count + 1
    if name.startswith("caltech_2019-05"):
        assert first.session_id == "2_39_131_30_2019-05-01 08:18:44.595638"
        assert first.station_id == "CA-305"
        assert first.arrival == dt.datetime(2019, 5, 1, 1, 18, 45, tzinfo=PDT)
        assert (first.energy_kwh, first.requested_kwh) == (44.069, 60.0)
    if name.startswith("caltech_2021"):  # the DC fast charger is read like any station
        assert any(record.station_id == "11900388" for record in sessions.records)


@needs_acn
def test_unclaimed_acn_rows_keep_the_values_filled_in_from_the_outcome() -> None:
    sessions = read_sessions(ACN_DATA / "caltech_2019-09-01_2019-12-31.csv.gz")
    unclaimed = next(record for record in sessions.records if not record.claimed)
    assert unclaimed.requested_kwh == unclaimed.energy_kwh == 0.747
    assert unclaimed.estimated_departure == unclaimed.departure


def acn_csv(tmp_path: Path, *rows: str) -> Path:
    header = (
        "arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,"
        "session_id,estimated_departure,claimed"
    )
    return plain(tmp_path, *rows, header=header, name="acn.csv")


def test_acn_csv_rows_are_checked_like_any_other(tmp_path: Path) -> None:
    path = acn_csv(
        tmp_path,
        "2019-05-01 08:00:00-07:00,2019-05-01 12:00:00-07:00,10,8,CA-1,a,"
        "2019-05-01 11:00:00-07:00,True",
        "2019-05-01 08:00:00-07:00,2019-05-01 12:00:00-07:00,10,8,CA-1,,"
        "2019-05-01 11:00:00-07:00,True",
        "2019-05-01 08:00:00-07:00,2019-05-01 12:00:00-07:00,10,8,CA-1,b,"
        "2019-05-01 11:00:00-07:00,maybe",
    )
    sessions = read_sessions(path)
    assert sessions.format == "acn-csv" and len(sessions.records) == 1
    assert [str(r) for r in sessions.rejections] == [
        "acn.csv:3: session_id is empty",
        "acn.csv:4: claimed 'maybe' must be True or False",
    ]


# --- ACN-Data's API JSON -------------------------------------------------------------------


def api_item(index: int, **changes: object) -> dict[str, object]:
    """An item as ACN-Data's API gives it (layout as acnportal and SustainGym read it)."""
    item: dict[str, object] = {
        "_id": f"5bc90{index}",
        "clusterID": "0039",
        "connectionTime": "Wed, 25 Apr 2018 11:08:04 GMT",
        "disconnectTime": "Wed, 25 Apr 2018 13:20:10 GMT",
        "doneChargingTime": "Wed, 25 Apr 2018 13:21:10 GMT",
        "kWhDelivered": 7.932,
        "sessionID": f"2_39_78_362_2018-04-25 11:08:04.40012{index}",
        "siteID": "0002",
        "spaceID": "CA-496",
        "stationID": "2-39-78-362",
        "timezone": "America/Los_Angeles",
        "userID": None,
        "userInputs": None,
    }
    item.update(changes)
    return item


def user_input(modified: str, kwh: float, departure: str, minutes: int = 120) -> dict:
    return {
        "WhPerMile": 400,
        "kWhRequested": kwh,
        "milesRequested": 50,
        "minutesAvailable": minutes,
        "modifiedAt": modified,
        "paymentRequired": True,
        "requestedDeparture": departure,
        "userID": 558,
    }


def write_api(path: Path, items: list, compress: bool = False) -> Path:
    text = json.dumps({"_items": items, "_meta": {"total": len(items)}, "_links": {}})
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_api_json_takes_the_input_known_at_arrival(tmp_path: Path) -> None:
    inputs = [  # listed out of order: the earliest modification is what arrival knew
        user_input("Wed, 25 Apr 2018 12:30:00 GMT", 25.0, "Wed, 25 Apr 2018 18:00:00 GMT"),
        user_input("Wed, 25 Apr 2018 11:09:00 GMT", 10.0, "Wed, 25 Apr 2018 15:00:00 GMT"),
    ]
    unnamed_space = api_item(3, spaceID=None, timezone=None, userInputs=[])
    del unnamed_space["timezone"]
    minutes_only = user_input("Wed, 25 Apr 2018 11:09:00 GMT", 6.5, "", minutes=90)
    del minutes_only["requestedDeparture"]
    items = [
        api_item(1, userInputs=inputs),
        api_item(2),
        unnamed_space,
        api_item(4, userInputs=[minutes_only]),
    ]
    for compress, name in ((False, "api.json"), (True, "api.json.gz")):
        sessions = read_sessions(write_api(tmp_path / name, items, compress))
        assert sessions.format == "acn-json" and sessions.summary() == {"kept": 4, "rejected": 0}
        claimed, unclaimed, utc, minutes = sessions.records
        assert [r.line for r in sessions.records] == [1, 2, 3, 4]
        assert claimed.arrival == dt.datetime(2018, 4, 25, 4, 8, 4, tzinfo=PDT)
        assert claimed.arrival.utcoffset() == dt.timedelta(hours=-7)  # the item's zone
        assert claimed.departure == dt.datetime(2018, 4, 25, 13, 20, 10, tzinfo=dt.UTC)
        assert (claimed.requested_kwh, claimed.claimed, claimed.energy_kwh) == (10.0, True, 7.932)
        assert claimed.estimated_departure == dt.datetime(2018, 4, 25, 15, tzinfo=dt.UTC)
        assert claimed.station_id == "CA-496"
        assert (unclaimed.requested_kwh, unclaimed.estimated_departure) == (None, None)
        assert not unclaimed.claimed and not utc.claimed
        assert utc.station_id == "2-39-78-362" and utc.arrival.utcoffset() == dt.timedelta(0)
        assert minutes.estimated_departure == minutes.arrival + dt.timedelta(minutes=90)
        assert minutes.requested_kwh == 6.5 and minutes.claimed


def test_api_json_times_follow_the_timezone_argument_and_a_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps([api_item(1)]))
    (record,) = read_sessions(path, timezone="Europe/Amsterdam").records
    assert record.arrival.utcoffset() == dt.timedelta(hours=2)
    assert record.arrival == dt.datetime(2018, 4, 25, 11, 8, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("changes", "kind", "reason"),
    [
        ({"disconnectTime": None}, "missing_field", "disconnectTime is missing"),
        ({"connectionTime": 5}, "bad_field", "connectionTime 5 is not a string"),
        (
            {"connectionTime": "Thu, 25 Apr 2018 11:08:04 GMT"},
            "bad_timestamp",
            "connectionTime 'Thu, 25 Apr 2018 11:08:04 GMT': 2018-04-25 is a Wed",
        ),
        (
            {"connectionTime": "Wed, 31 Apr 2018 11:08:04 GMT"},
            "bad_timestamp",
            "connectionTime 'Wed, 31 Apr 2018 11:08:04 GMT' is no date",
        ),
        ({"kWhDelivered": "7.9"}, "bad_number", "kWhDelivered '7.9' is not a number"),
        ({"kWhDelivered": True}, "bad_number", "kWhDelivered True is not a number"),
        ({"kWhDelivered": 10**400}, "non_finite_number", "kWhDelivered inf is not a finite"),
        ({"kWhDelivered": -1}, "negative_value", "kWhDelivered -1.0 is negative"),
        ({"sessionID": None}, "missing_field", "sessionID is missing"),
        ({"sessionID": 17}, "bad_field", "sessionID 17 is not a string"),
        ({"spaceID": "a\nb"}, "bad_field", "spaceID 'a\\nb' must be at most 200 printable"),
        ({"timezone": "Mars/Olympus"}, "bad_field", "timezone 'Mars/Olympus' is not an IANA"),
        ({"userInputs": {"kWhRequested": 3}}, "bad_field", "userInputs {'kWhRequested': 3} is"),
        ({"userInputs": [3]}, "bad_field", "userInputs[0] is not an object"),
        (
            {"userInputs": [{"kWhRequested": 3, "minutesAvailable": 10**5}]},
            "stay_above_limit",
            "minutesAvailable 100000.0 is above the limit of 7 days",
        ),
    ],
)
def test_api_json_rejections_name_the_item(
    tmp_path: Path, changes: dict, kind: str, reason: str
) -> None:
    path = write_api(tmp_path / "api.json", [api_item(1), api_item(2, **changes)])
    sessions = read_sessions(path)
    text, found = only_rejection(sessions)
    assert found == kind and text.startswith(f"api.json:2: {reason}"), text
    assert len(sessions.records) == 1


def test_api_json_items_must_be_objects(tmp_path: Path) -> None:
    path = write_api(tmp_path / "api.json", [api_item(1), "x"])
    assert only_rejection(read_sessions(path)) == (
        "api.json:2: item 'x' is not an object",
        "not_an_object",
    )


# --- plain CSV -----------------------------------------------------------------------------


def test_plain_csv_with_only_the_required_columns(tmp_path: Path) -> None:
    path = plain(
        tmp_path,
        "2024-03-01T08:00+01:00,2024-03-01T17:30+01:00,22.5",
        "",
        "2024-03-01T09:15Z,2024-03-01T12:00Z,0",
    )
    sessions = read_sessions(path)
    assert sessions.format == "csv" and sessions.summary() == {"kept": 2, "rejected": 0}
    first, second = sessions.records
    name = path.name
    assert (first.session_id, first.station_id, first.line) == (f"{name}:line-2", "", 2)
    assert (second.session_id, second.line) == (f"{name}:line-4", 4)  # a blank line is no row
    assert first.requested_kwh is None and not first.claimed
    assert first.arrival == dt.datetime(2024, 3, 1, 7, tzinfo=dt.UTC)
    assert second.energy_kwh == 0.0


def test_plain_csv_with_every_column(tmp_path: Path) -> None:
    header = (
        "session_id,station_id,arrival,departure,energy_kwh,requested_energy_kwh,"
        "estimated_departure,max_power_kw,claimed"
    )
    path = plain(
        tmp_path,
        "s1,A,2024-03-01 08:00,2024-03-01 17:00,20,30,2024-03-01 16:00,11,",
        "s2,B,2024-03-01 08:00,2024-03-01 17:00,20,30,,22,false",
        "s3,B,2024-03-01 18:00,2024-03-01 19:00,2,,,,true",
        header=header,
    )
    one, two, three = read_sessions(path, timezone="Europe/Amsterdam").records
    assert one.arrival == dt.datetime(2024, 3, 1, 7, tzinfo=dt.UTC)
    assert one.arrival.utcoffset() == dt.timedelta(hours=1)
    assert (one.requested_kwh, one.max_power_kw, one.claimed) == (30.0, 11.0, True)
    assert one.estimated_departure == dt.datetime(2024, 3, 1, 15, tzinfo=dt.UTC)
    assert (two.claimed, two.estimated_departure, two.station_id) == (False, None, "B")
    assert not three.claimed  # claimed, but no request: nothing a controller could be told


def test_plain_csv_with_bom_crlf_quotes_and_gzip(tmp_path: Path) -> None:
    text = '\ufeffarrival,"energy_kwh",departure\r\n2024-03-01T08:00Z,"1.5",2024-03-01T09:00Z\r\n'
    path = tmp_path / "log.txt.gz"
    path.write_bytes(gzip.compress(text.encode()))
    (record,) = read_sessions(path).records
    assert record.energy_kwh == 1.5 and record.line == 2


def test_stays_across_a_daylight_saving_change_are_exact(tmp_path: Path) -> None:
    path = plain(tmp_path, "2019-11-02 22:00,2019-11-03 06:00,5")
    (record,) = read_sessions(path, timezone="America/Los_Angeles").records
    assert record.departure - record.arrival == dt.timedelta(hours=9)


@pytest.mark.parametrize(
    ("row", "kind", "reason"),
    [
        ("2024-03-01T08:00Z,2024-03-01T09:00Z", "wrong_cell_count", "2 values, the header has 3"),
        (",2024-03-01T09:00Z,1", "missing_field", "arrival is empty"),
        ("2024-03-01T08:00Z,,1", "missing_field", "departure is empty"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z, ", "missing_field", "energy_kwh is empty"),
        ("yesterday,2024-03-01T09:00Z,1", "bad_timestamp", "arrival 'yesterday' is not an ISO"),
        (
            "0001-01-01T00:00+05:00,2024-03-01T09:00Z,1",
            "bad_timestamp",
            "arrival '0001-01-01T00:00+05:00' is outside the years 1970-2200",
        ),
        ("2024-03-01T08:00,2024-03-01T09:00Z,1", "no_timezone", "arrival '2024-03-01T08:00' has"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z,lots", "bad_number", "energy_kwh 'lots' is not a"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z,1_000", "bad_number", "energy_kwh '1_000' is not a"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z,NaN", "non_finite_number", "energy_kwh nan is"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z,1e999", "non_finite_number", "energy_kwh inf is"),
        ("2024-03-01T08:00Z,2024-03-01T09:00Z,-0.5", "negative_value", "energy_kwh -0.5 is neg"),
        (
            "2024-03-01T08:00Z,2024-03-01T09:00Z,1000.5",
            "energy_above_limit",
            "energy_kwh 1000.5 is above the limit of 1000 kWh (MAX_SESSION_KWH",
        ),
        (
            "2024-03-01T08:00Z,2024-03-01T08:00Z,1",
            "zero_length_stay",
            "departure 2024-03-01T08:00:00+00:00 and arrival 2024-03-01T08:00:00+00:00 are "
            "equal (a zero-length stay)",
        ),
        (
            "2024-03-01T08:00Z,2024-03-01T07:00Z,1",
            "negative_stay",
            "departure 2024-03-01T07:00:00+00:00 and",
        ),
        (
            "2024-03-01T08:00Z,2024-03-08T08:00:01Z,1",
            "stay_above_limit",
            "the stay ends 168.0 h after arrival, above the limit of 7 days (MAX_STAY",
        ),
    ],
)
def test_plain_csv_rejections_name_file_line_and_reason(
    tmp_path: Path, row: str, kind: str, reason: str
) -> None:
    path = plain(tmp_path, "2024-03-01T08:00Z,2024-03-01T09:00Z,1", row)
    sessions = read_sessions(path)
    text, found = only_rejection(sessions)
    assert found == kind and text.startswith(f"s.csv:3: {reason}"), text
    assert sessions.summary() == {"kept": 1, "rejected": 1, kind: 1}
    assert kind in REJECTION_KINDS


@pytest.mark.parametrize(
    ("cells", "kind", "reason"),
    [
        ("30,,0", "non_positive_power", "max_power_kw 0.0 must be above 0"),
        (
            "30,,1001",
            "power_above_limit",
            "max_power_kw 1001.0 is above the limit of 1000 kW (MAX_SESSION_KW",
        ),
        ("-3,,", "negative_value", "requested_energy_kwh -3.0 is negative"),
        ("30,2024-03-09T08:00Z,", "stay_above_limit", "estimated_departure ends 192.0 h"),
        ("30,soon,", "bad_timestamp", "estimated_departure 'soon' is not an ISO 8601"),
    ],
)
def test_plain_csv_optional_columns_are_checked(
    tmp_path: Path, cells: str, kind: str, reason: str
) -> None:
    header = f"{PLAIN_HEADER},requested_energy_kwh,estimated_departure,max_power_kw"
    path = plain(tmp_path, f"2024-03-01T08:00Z,2024-03-01T09:00Z,1,{cells}", header=header)
    text, found = only_rejection(read_sessions(path))
    assert found == kind and text.startswith(f"s.csv:2: {reason}"), text


def test_local_times_that_do_not_exist_or_occur_twice(tmp_path: Path) -> None:
    path = plain(
        tmp_path,
        "2019-03-10 02:30,2019-03-10 05:00,1",
        "2019-11-03 01:30,2019-11-03 05:00,1",
        "2019-11-03 01:30-07:00,2019-11-03 05:00,1",
    )
    sessions = read_sessions(path, timezone="America/Los_Angeles")
    assert [(str(r), r.kind) for r in sessions.rejections] == [
        (
            "s.csv:2: arrival '2019-03-10 02:30' does not exist in America/Los_Angeles "
            "(skipped at a daylight-saving change)",
            "bad_timestamp",
        ),
        (
            "s.csv:3: arrival '2019-11-03 01:30' occurs twice in America/Los_Angeles (a "
            "daylight-saving change): add its UTC offset",
            "ambiguous_time",
        ),
    ]
    (record,) = sessions.records  # with its offset, the repeated hour is clear
    assert record.departure - record.arrival == dt.timedelta(hours=4, minutes=30)


def test_an_estimate_not_after_arrival_is_dropped_and_counted(tmp_path: Path) -> None:
    header = f"{PLAIN_HEADER},requested_energy_kwh,estimated_departure"
    path = plain(
        tmp_path,
        "2024-03-01T08:00Z,2024-03-01T12:00Z,5,9,2024-03-01T08:00Z",
        "2024-03-01T08:00Z,2024-03-01T12:00Z,5,9,2024-03-01T11:00Z",
        header=header,
    )
    sessions = read_sessions(path)
    dropped, kept = sessions.records
    assert (dropped.estimated_departure, dropped.claimed, dropped.requested_kwh) == (
        None,
        False,
        9.0,
    )
    assert kept.claimed and kept.estimated_departure is not None
    assert [str(a) for a in sessions.adjustments] == [
        "s.csv:2: estimated_departure 2024-03-01T08:00:00+00:00 is not after arrival "
        "2024-03-01T08:00:00+00:00: dropped, and the session marked unclaimed"
    ]
    assert sessions.summary() == {"kept": 2, "rejected": 0, "estimate_not_after_arrival": 1}


def test_a_repeated_session_id_is_rejected_after_the_first(tmp_path: Path) -> None:
    path = plain(
        tmp_path,
        "a,2024-03-01T08:00Z,2024-03-01T09:00Z,1",
        "a,2024-03-01T08:00Z,2024-03-01T07:00Z,1",
        "b,2024-03-01T08:00Z,2024-03-01T09:00Z,1",
        "a,2024-03-02T08:00Z,2024-03-02T09:00Z,1",
        header=f"session_id,{PLAIN_HEADER}",
    )
    sessions = read_sessions(path)
    assert [r.session_id for r in sessions.records] == ["a", "b"]
    assert [str(r) for r in sessions.rejections][1] == (
        "s.csv:5: session_id 'a' was already kept from line 2"
    )
    assert sessions.summary() == {
        "kept": 2,
        "rejected": 2,
        "duplicate_session_id": 1,
        "negative_stay": 1,
    }


# --- file-level errors ---------------------------------------------------------------------


def refused(path: Path, match: str, **options: object) -> None:
    with pytest.raises(SessionFileError, match=match) as caught:
        read_sessions(path, **options)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


def test_what_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for path, message in (
        (tmp_path / "none.csv", "no such file"),
        (tmp_path, "not a regular file"),
        (fifo, "not a regular file"),
        (Path("/dev/zero"), "not a regular file"),
    ):
        refused(path, f"^{re.escape(str(path))}: {message}$")


def test_files_too_large_before_or_after_decompression(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_SESSION_FILE_BYTES", 2_000)
    big = plain(tmp_path, *["2024-03-01T08:00Z,2024-03-01T09:00Z,1"] * 80)
    refused(big, r"more bytes than a session file may hold \(2,000; MAX_SESSION_FILE_BYTES")
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(PLAIN_HEADER.encode() + b"\n" + b" " * 10**6))
    assert bomb.stat().st_size < 2_000
    refused(bomb, "bomb.csv.gz: expands to more than 2,000 bytes")


def test_too_many_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_SESSION_ROWS", 2)
    refused(plain(tmp_path, *["x,y,z"] * 3), r"more than 2 rows \(MAX_SESSION_ROWS")
    refused(write_api(tmp_path / "a.json", [1, 2, 3]), "more than 2 items")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf \n\n", "is empty"),
        (b"arrival,departure,energy_kwh\n\xff\n", r"not UTF-8 text \(byte 29\)"),
        (gzip.compress(b"arrival,departure,energy_kwh\n")[:-6], "a damaged gzip file"),
        (b"\x1f\x8bnot gzip at all", "a damaged gzip file"),
        (b"arrival,departure,energy_kwh\n", "holds no sessions"),
        (b"arrival,departure,kwh\n1,2,3\n", "not a session file: JSON with _items"),
        (b"energy_kwh,departure,note\n", "missing column 'arrival': a plain session CSV"),
        (b"energy_kwh,departure,arrival,requested_energy\n", "unknown column 'requested_energy'"),
        (b"energy_kwh,departure,arrival,arrival\n", "column 'arrival' appears twice"),
        (b"arrival,departure,energy_kwh\n" + b"x" * 200_000, "not CSV .field larger than"),
        (b'{"_items": {}}', "an object with an _items list"),
        (b'{"_items": [NaN]}', "not JSON"),
        (b'{"_items": [], "_items": []}', "duplicate key '_items'"),
        (b"[" * 100 + b"]" * 100, "nested deeper than 32 levels"),
        (b'{"_items": []}', "holds no sessions"),
    ],
)
def test_broken_files_are_refused_with_one_line(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "log.dat"
    path.write_bytes(content)
    refused(path, match)


def test_formats_and_zones_must_be_known(tmp_path: Path) -> None:
    path = plain(tmp_path, "2024-03-01T08:00Z,2024-03-01T09:00Z,1")
    refused(path, "unknown session format 'xlsx': must be one of auto, acn-csv", format="xlsx")
    refused(path, "missing column 'delivered_energy \\(kWh\\)'", format="acn-csv")
    refused(path, "not JSON", format="acn-json")
    for zone in ("Mars/Olympus", "America", "../etc/passwd", ""):
        refused(path, "unknown time zone .*: must be an IANA name", timezone=zone)


def test_the_extension_decides_before_the_content(tmp_path: Path) -> None:
    text = "arrival,departure,energy_kwh\n2024-03-01T08:00Z,2024-03-01T09:00Z,1\n"
    assert read_sessions(write(tmp_path / "log.txt", text)).format == "csv"
    refused(write(tmp_path / "log.json", text), "log.json: not JSON")
    refused(write(tmp_path / "log.csv", '{"_items": []}'), "not a session file")


# --- random and malformed files ------------------------------------------------------------


def data_rows(path: Path, content: bytes, format: str) -> int:
    """The data rows of ``content`` (readable by the reader), counted without it."""
    text = (gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content).decode("utf-8-sig")
    if format == "acn-json":
        data = json.loads(text)
        return len(data["_items"] if isinstance(data, dict) else data)
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    return sum(1 for row in rows if any(cell.strip() for cell in row))


def check_accounted(path: Path, content: bytes, **options: object) -> None:
    """Reading ``content`` either accounts for every row or raises SessionFileError."""
    path.write_bytes(content)
    try:
        sessions = read_sessions(path, **options)  # type: ignore[arg-type]
    except SessionFileError as error:
        assert "\n" not in str(error)
        event("refused")
        return
    summary = sessions.summary()
    event(f"read, kept: {min(summary['kept'], 2)}, rejected: {min(summary['rejected'], 2)}")
    assert summary["kept"] + summary["rejected"] == data_rows(path, content, sessions.format)
    assert sum(summary.values()) - summary["kept"] - summary["rejected"] == (
        summary["rejected"] + len(sessions.adjustments)
    )
    for record in sessions.records:
        assert record.arrival.utcoffset() is not None and record.departure > record.arrival
        assert record.energy_kwh >= 0 and (record.requested_kwh is not None or not record.claimed)
    for rejection in sessions.rejections:
        assert "\n" not in rejection.reason and rejection.kind in REJECTION_KINDS


BASE = dt.datetime(2019, 11, 3, 0, 30)  # hours before Los Angeles leaves daylight saving
ZONES = [None, dt.UTC, PDT, dt.timezone(dt.timedelta(hours=5, minutes=30))]
ODD_TIMES = st.sampled_from(["2019-03-10 02:30", "9999-12-31T23:59+14:00", "0001-01-01", "Z"])


def mostly(good: st.SearchStrategy[str], *odd: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``good`` nine times in ten, else one of ``odd``."""
    return st.integers(0, 9).flatmap(lambda k: good if k else st.one_of(*odd))


TIMESTAMPS = mostly(
    st.builds(  # near one another, so that many rows make sensible stays
        lambda minutes, zone: (BASE + dt.timedelta(minutes=minutes)).replace(tzinfo=zone),
        st.integers(min_value=-120, max_value=12_000),
        st.sampled_from(ZONES),
    ).map(lambda moment: moment.isoformat(sep=" ")),
    st.datetimes(timezones=st.sampled_from(ZONES)).map(dt.datetime.isoformat),
    ODD_TIMES,
    st.text(max_size=12),
)
NUMBERS = mostly(
    st.floats(min_value=0, max_value=200).map(repr),
    st.floats().map(repr),
    st.integers(min_value=-(10**30), max_value=10**400).map(str),
    st.sampled_from(["NaN", "-inf", "1e999", "1_0", "", " 3 ", "0x10", "\u0663"]),
    st.text(max_size=6),
)
CELLS = {
    "arrival": TIMESTAMPS,
    "departure": TIMESTAMPS,
    "energy_kwh": NUMBERS,
    "estimated_departure": TIMESTAMPS,
    "requested_energy_kwh": NUMBERS,
    "max_power_kw": NUMBERS,
    "claimed": st.sampled_from(["True", "false", "", "maybe", "1"]),
    "session_id": mostly(st.sampled_from(["a", "b", "c", "d"]), st.just("x\ty"), st.text()),
    "station_id": mostly(st.sampled_from(["", "A", "B"]), st.text(max_size=4)),
}


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A plain session CSV: the required columns (one may be missing) and some optional ones,
    shuffled, maybe an unknown one; random cells, cells swapped between columns, rows too
    short or too long, maybe gzipped and maybe truncated."""
    names = list(CELLS)
    columns = names[:3] + draw(st.lists(st.sampled_from(names[3:]), unique=True))
    if draw(st.integers(0, 9)) == 0:
        columns.remove(draw(st.sampled_from(names[:3])))
    if draw(st.integers(0, 9)) == 0:
        columns.append("unknown")
    columns = draw(st.permutations(columns))
    lines = [columns]
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        row = [draw(CELLS.get(column, st.text(max_size=3))) for column in columns]
        if len(row) > 1 and draw(st.integers(0, 4)) == 0:
            first, second = draw(st.lists(st.sampled_from(range(len(row))), min_size=2, max_size=2))
            row[first], row[second] = row[second], row[first]
        if draw(st.integers(0, 4)) == 0:
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(st.text(max_size=3)))
        lines.append(row)
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    content = out.getvalue().encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        content = gzip.compress(content)
        if draw(st.integers(0, 3)) == 0:
            content = content[: draw(st.integers(0, len(content)))]
    return content


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["Wed, 25 Apr 2018 11:08:04 GMT", "Sun, 10 Mar 2019 10:30:00 GMT", "2019-05-01T08:00"]
    ),
    st.text(max_size=8),
)


@st.composite
def json_files(draw: st.DrawFn) -> bytes:
    """An API answer whose items have random and missing fields."""
    items = []
    for index in range(draw(st.integers(min_value=0, max_value=5))):
        item = api_item(index)
        for key in draw(st.lists(st.sampled_from(sorted(item)), max_size=4)):
            if draw(st.booleans()):
                item[key] = draw(JSON_VALUES)
            else:
                item.pop(key, None)
        if draw(st.booleans()):
            item["userInputs"] = draw(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            name: JSON_VALUES
                            for name in (
                                "kWhRequested",
                                "requestedDeparture",
                                "minutesAvailable",
                                "modifiedAt",
                            )
                        },
                    ),
                    max_size=3,
                )
            )
        items.append(draw(st.sampled_from([item, item, item, [item], "text", 3])))
    data: object = {"_items": items} if draw(st.booleans()) else items
    return json.dumps(data).encode()


#: One file per example, overwritten by the next: the function-scoped tmp_path is safe.
RANDOM_FILES = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@settings(RANDOM_FILES, max_examples=150)
@given(content=csv_files(), zone=st.sampled_from([None, "America/Los_Angeles"]))
def test_random_csv_files_are_read_or_refused(tmp_path: Path, content: bytes, zone) -> None:
    check_accounted(tmp_path / "random.csv", content, timezone=zone)


@settings(RANDOM_FILES, max_examples=100)
@given(content=json_files())
def test_random_api_json_is_read_or_refused(tmp_path: Path, content: bytes) -> None:
    check_accounted(tmp_path / "random.json", content)


@settings(RANDOM_FILES, max_examples=100)
@given(
    content=st.binary(max_size=300)
    | st.binary(max_size=200).map(lambda b: b"arrival,departure,energy_kwh\n" + b),
    format=st.sampled_from(reading.FORMATS),
)
def test_random_bytes_are_read_or_refused(tmp_path: Path, content: bytes, format: str) -> None:
    path = tmp_path / "random.dat"
    path.write_bytes(content)
    try:
        sessions = read_sessions(path, format=format)
    except SessionFileError:
        return
    assert len(sessions.records) + len(sessions.rejections) == data_rows(
        path, content, sessions.format
    )
