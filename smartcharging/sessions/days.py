"""Session logs laid out as depot days: each session on its station, in whole slots.

A day is the window of ``24 h`` from ``day_start`` (local time in ``timezone``) on its date;
a session belongs to the day in whose window it arrives (one arriving in a day's last
slot, or in the hour a 25-hour day adds, to the next day, from its first slot). The day
is 24 hours of real time, so on the two days a year the clocks change, time-of-use prices
(laid out by clock time) are an hour off the sessions after the change. Slots are whole:
a vehicle is counted present from the first slot that starts at or after its arrival to
the last slot that ends at or before its departure, so that no controller is credited
with time the vehicle was not there. What each session becomes
(:mod:`smartcharging.config.sessions`):

* **request** (shown at arrival, the most the vehicle takes): the driver's requested energy
  for a claimed session; for an unclaimed one, whose file holds no real request, the energy
  it actually took (the only figure there is; it is known in advance only for these);
  at most what a station delivers in a whole day (larger requests mean nothing more);
* **estimated departure** (shown at arrival): the driver's stated departure for a claimed
  session, rounded to the nearest slot boundary; otherwise arrival plus the site's typical
  stay, the median stated stay of the claimed sessions (the median actual stay where none is
  claimed). Never the actual departure of an unclaimed session, which its file may have
  copied into the estimate;
* **need** (revealed at departure): the request capped by what the actual stay allows at the
  top charger power, since requests are often infeasible.

Nothing is dropped silently: every session not laid out is a :class:`Rejection` naming its
file, line and reason, and :meth:`LaidOutDays.summary` counts them by kind together with the
stays clipped at the day's end (kept, ending at the last slot).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from smartcharging.config.sessions import SessionDays
from smartcharging.sessions.records import Rejection, SessionRecord

#: Kinds of sessions not laid out (keys of :meth:`LaidOutDays.summary`) and what they mean.
CUT_KINDS: dict[str, str] = {
    "excluded_station": "a station the scenario excludes (e.g. a DC fast charger)",
    "outside_dates": "arrives on a day outside the scenario's dates",
    "stay_below_one_slot": "no whole slot between arrival and departure",
    "nothing_requested": "a request (or, unclaimed, an energy taken) of 0 kWh",
    "station_power_differs": "the session's maximum power is not the site's charger power",
    "overlap_at_station": "overlaps an earlier session at the same station",
}
#: Sessions kept with a change (keys of :meth:`LaidOutDays.summary`).
CLIPPED = "stay_past_day_end"
#: Stations named for sessions whose file names none: one per concurrent vehicle.
UNNAMED_STATION = "station-{}"
#: A session's maximum power may differ from the charger power by this share.
POWER_TOLERANCE = 0.01


@dataclass(frozen=True)
class DayLayout:
    """How sessions become days.

    Attributes:
        timezone: IANA name of the site's local time.
        day_start_minute: the minute of the local day at which each day's window starts.
        slot_minutes: length of one slot; a whole number of slots fits 24 hours.
        top_power_kw: the chargers' highest power (battery side), the cap of each need.
        exclude_stations: stations whose sessions are left out.
        first_date, last_date: the days kept (inclusive); None: every day with a session.
    """

    timezone: str
    day_start_minute: int
    slot_minutes: float
    top_power_kw: float
    exclude_stations: tuple[str, ...] = ()
    first_date: dt.date | None = None
    last_date: dt.date | None = None

    @property
    def n_slots(self) -> int:
        return round(24 * 60 / self.slot_minutes)

    @property
    def slot_hours(self) -> float:
        return self.slot_minutes / 60


@dataclass(frozen=True)
class LaidOutDays:
    """Session days, the sessions not laid out, and how many stays were clipped."""

    days: SessionDays
    cut: tuple[Rejection, ...]
    clipped: int

    def summary(self) -> dict[str, int]:
        """Sessions ``kept`` and ``cut``, then the count of each kind of cut and of
        clipped stays (kinds that did not occur are left out)."""
        counts = {"kept": self.days.n_sessions, "cut": len(self.cut)}
        counts.update(sorted(Counter(rejection.kind for rejection in self.cut).items()))
        if self.clipped:
            counts[CLIPPED] = self.clipped
        return counts


@dataclass
class _Slotted:
    record: SessionRecord
    date: dt.date
    arrival: int
    departure: int
    clipped: bool
    station: str = ""


class SessionLayoutError(ValueError):
    """Sessions that give no day at all; the message is one line."""


def lay_out_days(records: Iterable[SessionRecord], layout: DayLayout) -> LaidOutDays:
    """The session days of ``records`` (module docstring)."""
    zone = ZoneInfo(layout.timezone)
    slot = dt.timedelta(minutes=layout.slot_minutes)
    cut: list[Rejection] = []
    kept: list[_Slotted] = []
    excluded = set(layout.exclude_stations)
    records = list(records)
    unknown = excluded - {record.station_id for record in records}
    if unknown:
        raise SessionLayoutError(
            f"exclude_stations: no session is at station {sorted(unknown)[0]!r} (a typo would "
            "leave the station meant in)"
        )
    for record in records:
        kind, slotted = _slot(record, layout, zone, slot, excluded)
        if kind is not None:
            cut.append(Rejection(record.source, record.line, CUT_KINDS[kind], kind))
        elif slotted is not None:
            kept.append(slotted)
    _name_stations(kept)
    kept = _without_overlaps(kept, cut)
    if not kept:
        raise SessionLayoutError(
            f"no session could be laid out on a day ({len(cut):,} cut: "
            f"{dict(Counter(r.kind for r in cut))})"
        )
    typical = _typical_stay(kept, zone, slot, layout)
    dates = sorted({s.date for s in kept})
    stations = sorted({s.station for s in kept})
    day_of = {date: i for i, date in enumerate(dates)}
    station_of = {name: i for i, name in enumerate(stations)}
    estimated, requested, need = [], [], []
    day_kwh = layout.top_power_kw * layout.n_slots * layout.slot_hours
    for s in kept:
        estimated.append(_estimate(s, typical, zone, slot, layout))
        request = min(_request(s.record), day_kwh)
        requested.append(request)
        stay_kwh = layout.top_power_kw * (s.departure - s.arrival) * layout.slot_hours
        need.append(min(request, stay_kwh))
    days = SessionDays(
        dates=tuple(date.isoformat() for date in dates),
        stations=tuple(stations),
        day=tuple(day_of[s.date] for s in kept),
        station=tuple(station_of[s.station] for s in kept),
        arrival=tuple(s.arrival for s in kept),
        departure=tuple(s.departure for s in kept),
        estimated_departure=tuple(estimated),
        requested_kwh=tuple(requested),
        need_kwh=tuple(need),
        claimed=tuple(s.record.claimed for s in kept),
    )
    days.check(layout.n_slots)
    cut.sort(key=lambda rejection: (rejection.source, rejection.line))
    return LaidOutDays(days, tuple(cut), sum(s.clipped for s in kept))


def _window_start(date: dt.date, layout: DayLayout, zone: ZoneInfo) -> dt.datetime:
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
    return midnight + dt.timedelta(minutes=layout.day_start_minute)


def _slot(
    record: SessionRecord,
    layout: DayLayout,
    zone: ZoneInfo,
    slot: dt.timedelta,
    excluded: set[str],
) -> tuple[str | None, _Slotted | None]:
    """The kind of cut of ``record``, or its day and whole slots."""
    if record.station_id and record.station_id in excluded:
        return "excluded_station", None
    if record.max_power_kw is not None and (
        abs(record.max_power_kw - layout.top_power_kw) > POWER_TOLERANCE * layout.top_power_kw
    ):
        return "station_power_differs", None
    local = record.arrival.astimezone(zone)
    date = (local - dt.timedelta(minutes=layout.day_start_minute)).date()
    start = _window_start(date, layout, zone)
    arrival = math.ceil((record.arrival - start) / slot - 1e-9)
    if arrival >= layout.n_slots:  # in the day's last slot (or the hour a 25-hour day
        # adds): present from the next day's first slot
        date += dt.timedelta(days=1)
        start = _window_start(date, layout, zone)
        arrival = max(math.ceil((record.arrival - start) / slot - 1e-9), 0)
    if (layout.first_date is not None and date < layout.first_date) or (
        layout.last_date is not None and date > layout.last_date
    ):
        return "outside_dates", None
    departure = math.floor((record.departure - start) / slot + 1e-9)
    clipped = departure > layout.n_slots
    departure = min(departure, layout.n_slots)
    if departure <= arrival:
        return "stay_below_one_slot", None
    if _request(record) <= 0:
        return "nothing_requested", None
    return None, _Slotted(record, date, arrival, departure, clipped, record.station_id)


def _request(record: SessionRecord) -> float:
    """What a session asks for (module docstring)."""
    if record.claimed and record.requested_kwh is not None:
        return record.requested_kwh
    return record.energy_kwh


def _name_stations(sessions: list[_Slotted]) -> None:
    """Sessions whose file names no station go to the first unnamed station free at their
    arrival (as few stations as vehicles ever present together), named apart from every
    station the files do name."""
    taken = {s.station for s in sessions if s.station}
    names = (name for k in itertools.count(1) if (name := UNNAMED_STATION.format(k)) not in taken)
    unnamed = sorted(
        (s for s in sessions if not s.station), key=lambda s: (s.date, s.arrival, s.departure)
    )
    stations: list[tuple[str, dt.date, int]] = []  # name, and the day and slot it is free
    for s in unnamed:
        for k, (station, date, free) in enumerate(stations):
            if date < s.date or free <= s.arrival:
                stations[k] = (station, s.date, s.departure)
                s.station = station
                break
        else:
            s.station = next(names)
            stations.append((s.station, s.date, s.departure))


def _without_overlaps(sessions: list[_Slotted], cut: list[Rejection]) -> list[_Slotted]:
    """The sessions but those that overlap an earlier one at their station (cut)."""
    kept: list[_Slotted] = []
    last: dict[tuple[dt.date, str], _Slotted] = {}
    for s in sorted(sessions, key=lambda s: (s.date, s.station, s.arrival, s.departure)):
        before = last.get((s.date, s.station))
        if before is not None and s.arrival < before.departure:
            reason = (
                f"{CUT_KINDS['overlap_at_station']} ({before.record.source}:"
                f"{before.record.line}) at station {s.station!r}"
            )
            cut.append(Rejection(s.record.source, s.record.line, reason, "overlap_at_station"))
            continue
        last[(s.date, s.station)] = s
        kept.append(s)
    return kept


def _typical_stay(
    sessions: list[_Slotted], zone: ZoneInfo, slot: dt.timedelta, layout: DayLayout
) -> int:
    """The site's typical stay in slots (module docstring), at least one."""
    stated = [
        _slots_after(s, s.record.estimated_departure, zone, slot, layout) - s.arrival
        for s in sessions
        if s.record.claimed and s.record.estimated_departure is not None
    ]
    stays = stated or [s.departure - s.arrival for s in sessions]
    return max(int(np.median(stays)), 1)


def _slots_after(
    s: _Slotted, moment: dt.datetime, zone: ZoneInfo, slot: dt.timedelta, layout: DayLayout
) -> int:
    """The slot boundary nearest ``moment`` in the window of ``s``'s day."""
    return round((moment - _window_start(s.date, layout, zone)) / slot)


def _estimate(
    s: _Slotted, typical: int, zone: ZoneInfo, slot: dt.timedelta, layout: DayLayout
) -> int:
    """The departure a controller is told (module docstring), within ``arrival + 1 ..
    n_slots``."""
    told = s.record.estimated_departure
    if s.record.claimed and told is not None:
        estimate = _slots_after(s, told, zone, slot, layout)
    else:
        estimate = s.arrival + typical
    return min(max(estimate, s.arrival + 1), layout.n_slots)
