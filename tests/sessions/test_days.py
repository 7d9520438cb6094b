"""Session logs laid out as days: whole slots, requests, estimates, needs, and every
session not laid out counted with its reason."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from smartcharging.sessions.days import (
    CLIPPED,
    DayLayout,
    SessionLayoutError,
    lay_out_days,
)
from smartcharging.sessions.records import SessionRecord

ZONE = ZoneInfo("America/Los_Angeles")
LAYOUT = DayLayout("America/Los_Angeles", 0, 15, 6.0)


def record(
    line: int,
    arrival: str,
    departure: str,
    energy: float = 5.0,
    requested: float | None = 8.0,
    estimated: str | None = None,
    station: str = "S1",
    claimed: bool = True,
    power: float | None = None,
) -> SessionRecord:
    day = dt.date(2021, 5, 3)

    def at(clock: str) -> dt.datetime:
        hours, minutes = map(int, clock.split(":"))
        return dt.datetime.combine(day, dt.time(0), tzinfo=ZONE) + dt.timedelta(
            hours=hours, minutes=minutes
        )

    return SessionRecord(
        source="log.csv",
        line=line,
        session_id=f"s{line}",
        station_id=station,
        arrival=at(arrival),
        departure=at(departure),
        energy_kwh=energy,
        requested_kwh=requested if claimed else None,
        estimated_departure=at(estimated) if estimated else None,
        max_power_kw=power,
        claimed=claimed,
    )


def test_whole_slots_requests_estimates_and_needs() -> None:
    laid = lay_out_days(
        [
            # 08:07..10:52: whole slots 08:15..10:45 = 33..43; stated 10:00 -> slot 40
            record(2, "08:07", "10:52", estimated="10:00", requested=30.0),
            # unclaimed: the energy taken is its request, the typical stated stay its estimate
            record(3, "09:00", "12:00", energy=4.0, claimed=False, station="S2"),
        ],
        LAYOUT,
    )
    days = laid.days
    assert days.dates == ("2021-05-03",)
    assert days.arrival == (33, 36) and days.departure == (43, 48)
    assert days.estimated_departure == (40, 36 + 7)  # typical stated stay: 40 - 33
    assert days.requested_kwh == (30.0, 4.0)
    # the need is capped by the stay at 6 kW: 10 slots x 1.5 kWh
    assert days.need_kwh == (15.0, 4.0)
    assert days.claimed == (True, False)
    assert laid.summary() == {"kept": 2, "cut": 0}


def test_every_cut_is_named_and_counted() -> None:
    laid = lay_out_days(
        [
            record(2, "08:00", "09:00"),
            record(3, "08:30", "10:00"),  # overlaps line 2 at S1
            record(4, "08:01", "08:14", station="S2"),  # no whole slot
            record(5, "08:00", "09:00", station="DC"),  # excluded
            record(6, "08:00", "09:00", station="S3", power=50.0),  # another power
            record(7, "08:00", "09:00", station="S4", requested=0.0),
            record(8, "23:00", "23:59", station="S5"),  # clipped at 24:00? no: ends in day
        ],
        DayLayout("America/Los_Angeles", 0, 15, 6.0, exclude_stations=("DC",)),
    )
    kinds = {r.line: r.kind for r in laid.cut}
    assert kinds == {
        3: "overlap_at_station",
        4: "stay_below_one_slot",
        5: "excluded_station",
        6: "station_power_differs",
        7: "nothing_requested",
    }
    assert "log.csv:2" in next(str(r) for r in laid.cut if r.line == 3)
    assert str(laid.cut[0]).startswith("log.csv:3: ")
    assert laid.summary()["kept"] == 2 and laid.summary()["cut"] == 5


def test_stays_past_the_day_are_clipped_and_counted() -> None:
    late = record(2, "22:00", "23:59")
    late = SessionRecord(**{**late.__dict__, "departure": late.departure + dt.timedelta(hours=3)})
    laid = lay_out_days([late], LAYOUT)
    assert laid.days.departure == (96,) and laid.summary()[CLIPPED] == 1


def test_sessions_without_stations_share_as_few_as_overlap() -> None:
    laid = lay_out_days(
        [
            record(2, "08:00", "10:00", station=""),
            record(3, "09:00", "11:00", station=""),
            record(4, "10:30", "12:00", station=""),  # the first is free again
        ],
        LAYOUT,
    )
    assert laid.days.stations == ("station-1", "station-2")
    by_arrival = dict(zip(laid.days.arrival, laid.days.station, strict=True))
    assert by_arrival == {32: 0, 36: 1, 42: 0}


def test_days_follow_the_local_clock_and_dates() -> None:
    early = record(2, "01:00", "02:00")
    layout = DayLayout("America/Los_Angeles", 4 * 60, 15, 6.0)  # days start at 04:00
    laid = lay_out_days([early], layout)
    assert laid.days.dates == ("2021-05-02",)  # 01:00 belongs to the day before's window
    assert laid.days.arrival == ((24 - 4 + 1) * 4,)
    only_later = DayLayout("America/Los_Angeles", 0, 15, 6.0, first_date=dt.date(2021, 5, 4))
    with pytest.raises(SessionLayoutError, match="outside_dates"):
        lay_out_days([early], only_later)


def test_unnamed_stations_never_take_a_real_name() -> None:
    laid = lay_out_days(
        [
            record(2, "08:00", "10:00", station="station-1"),
            record(3, "08:00", "10:00", station=""),
        ],
        LAYOUT,
    )
    assert laid.days.stations == ("station-1", "station-2") and laid.summary()["cut"] == 0


def test_a_late_arrival_belongs_to_the_next_day() -> None:
    late = record(2, "23:54", "23:59")
    late = SessionRecord(**{**late.__dict__, "departure": late.departure + dt.timedelta(hours=17)})
    laid = lay_out_days([late], LAYOUT)
    assert laid.days.dates == ("2021-05-04",) and laid.days.arrival == (0,)
    assert laid.days.departure == (16 * 4 + 3,)  # 16:59 the next day: slots up to 16:45


def test_an_excluded_station_must_exist() -> None:
    layout = DayLayout("America/Los_Angeles", 0, 15, 6.0, exclude_stations=("DCFC",))
    with pytest.raises(SessionLayoutError, match="no session is at station 'DCFC'"):
        lay_out_days([record(2, "08:00", "09:00")], layout)
