"""What a session log holds once read: sessions, the rows refused and why, and the rows kept
with a change.

A :class:`SessionRecord` keeps apart what a controller knows when the vehicle arrives (the
driver's requested energy and estimated departure, real forecasts only where ``claimed``)
from what then happened (the actual departure and the energy delivered). Every data row of a
file ends up either as a record or as a :class:`Rejection` naming its file and line; a kept
row whose estimate had to be dropped also leaves an :class:`Adjustment`, so that
:meth:`SessionFile.summary` accounts for every row.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

#: The kind of each rejection (a stable key of :meth:`SessionFile.summary`) and what it means.
REJECTION_KINDS: dict[str, str] = {
    "wrong_cell_count": "a CSV row with more or fewer values than the header",
    "not_an_object": "a JSON item that is not an object",
    "missing_field": "a required value is empty or absent",
    "bad_field": "a value of the wrong type, or a name that is too long or unprintable",
    "bad_number": "a number that cannot be read",
    "non_finite_number": "NaN, Infinity or a number too large for a float",
    "negative_value": "a negative energy",
    "non_positive_power": "a station power of 0 kW or less",
    "bad_flag": "a claimed value other than true/false",
    "bad_timestamp": "a timestamp that cannot be read, or is outside the years allowed",
    "no_timezone": "a timestamp without a UTC offset and no time zone given",
    "ambiguous_time": "a local time that occurs twice at a daylight-saving change",
    "zero_length_stay": "departure equal to arrival",
    "negative_stay": "departure before arrival",
    "stay_above_limit": "a stay (or estimated stay) longer than the limit",
    "energy_above_limit": "an energy above the limit",
    "power_above_limit": "a station power above the limit",
    "duplicate_session_id": "a session_id already kept from an earlier row",
}

#: The kind of each change to a kept row (a key of :meth:`SessionFile.summary`).
ADJUSTMENT_KINDS: dict[str, str] = {
    "estimate_not_after_arrival": (
        "estimated departure not after arrival: the estimate is dropped and the session "
        "marked unclaimed"
    ),
}


class SessionFileError(ValueError):
    """A session file that cannot be read as a whole (not a regular file, too large, unknown
    format, missing columns, no sessions, bad encoding); the message names the file."""


@dataclass(frozen=True)
class SessionRecord:
    """One charging session as the file states it.

    ``source`` and ``line`` say where it came from (the file's name; the 1-based line of a
    CSV row, or the 1-based index of a JSON item) and take no part in equality: a session
    written and read again is equal to itself.

    Attributes:
        session_id: unique within the file.
        station_id: the station (ACN-Data's space, e.g. ``CA-305``); "" when the file has
            none.
        arrival, departure: timezone-aware; departure is after arrival.
        energy_kwh: the energy delivered, what the vehicle actually took.
        requested_kwh: the driver's request, known at arrival; None when the file has none.
        estimated_departure: the driver's stated departure, known at arrival; None when none
            (or when it was not after arrival).
        max_power_kw: the most the station delivers to this session; None when not stated.
        claimed: whether ``requested_kwh`` and ``estimated_departure`` are the driver's own
            forecasts. False rows may carry values filled in from the outcome (ACN-Data's
            unclaimed sessions copy the delivered energy and actual departure into them),
            which a controller must not be shown. A claimed session always has a request.
    """

    source: str = field(compare=False)
    line: int = field(compare=False)
    session_id: str
    station_id: str
    arrival: dt.datetime
    departure: dt.datetime
    energy_kwh: float
    requested_kwh: float | None
    estimated_departure: dt.datetime | None
    max_power_kw: float | None
    claimed: bool


@dataclass(frozen=True)
class RowNote:
    """Something said of one data row: where it is, what (one line) and its kind."""

    source: str
    line: int
    reason: str
    kind: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Rejection(RowNote):
    """A data row that was not kept: where it is, why and the kind of reason (a key of
    :data:`REJECTION_KINDS`)."""


@dataclass(frozen=True)
class Adjustment(RowNote):
    """A data row that was kept with a change: where, what changed and its kind (a key of
    :data:`ADJUSTMENT_KINDS`)."""


@dataclass(frozen=True)
class SessionFile:
    """Everything read from one session file: the sessions kept, the rows refused, the kept
    rows that were changed, and the format it was read as (``acn-csv``, ``acn-json`` or
    ``csv``)."""

    records: tuple[SessionRecord, ...]
    rejections: tuple[Rejection, ...]
    format: str
    adjustments: tuple[Adjustment, ...] = ()

    def summary(self) -> dict[str, int]:
        """``kept`` and ``rejected`` rows, then how many rows each kind of rejection and of
        adjustment concerns (kinds that did not occur are left out)."""
        counts = {"kept": len(self.records), "rejected": len(self.rejections)}
        kinds = Counter(rejection.kind for rejection in self.rejections)
        kinds.update(adjustment.kind for adjustment in self.adjustments)
        counts.update(sorted(kinds.items()))
        return counts
