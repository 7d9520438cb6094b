"""Electricity prices shipped with the package, mapped onto a charging window's slots.

* Time-of-use tariffs (``data/tou_tariffs.yaml``): SCE TOU-EV-8, SCE TOU-EV-4 and PG&E A-10,
  USD/kWh by hour of day.
* Day-ahead prices of the Netherlands, 2024 (``data/nl_day_ahead_2024_hourly.csv``), hourly,
  EUR/MWh, UTC. Day-ahead prices: ENTSO-E Transparency Platform, via Ember (CC BY 4.0).
  The series lacks 2024-12-30T23:00Z; that hour is filled by linear interpolation of its
  neighbours.

A slot's price is the time-weighted mean price over the slot (minute by minute), so slots
that straddle a tariff boundary or an hour are priced exactly for uniform charging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import numpy as np

from smartcharging.config import limits
from smartcharging.config.data_files import load_yaml

NL_MARKET = "nl-2024"
#: The most dates a price series may cover (each is a price row; two more for windows that
#: start the day before or end the day after).
MAX_DATES = limits.MAX_PROFILES + 2
_YEAR_START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class PriceError(ValueError):
    """A price source or period that does not exist."""


@cache
def tou_tariffs() -> dict[str, dict]:
    """The shipped time-of-use tariffs, by identifier."""
    text = resources.files("smartcharging.data").joinpath("tou_tariffs.yaml").read_text()
    return dict(load_yaml(text))


def tou_slot_prices(
    tariff: str, period: str, arrival_hour: float, slot_hours: float, n_slots: int
) -> tuple[list[float], str]:
    """Prices of ``n_slots`` slots from ``arrival_hour`` under a tariff period, and the
    tariff's currency."""
    tariffs = tou_tariffs()
    if tariff not in tariffs:
        raise PriceError(f"unknown tariff {tariff!r}: choose one of {sorted(tariffs)}")
    periods = tariffs[tariff]["periods"]
    if period not in periods:
        raise PriceError(
            f"tariff {tariff!r} has no period {period!r}: choose one of {sorted(periods)}"
        )
    by_minute = np.empty(24 * 60)
    for start, end, price in periods[period]:
        by_minute[round(start * 60) : round(end * 60)] = price
    minutes = _slot_minutes(arrival_hour * 60, slot_hours * 60, n_slots) % (24 * 60)
    return _slot_means(by_minute[minutes]), tariffs[tariff]["currency"]


def tou_period_of(tariff: str, date: dt.date) -> str:
    """The period of ``tariff`` that applies on ``date``: its season by month, then
    ``-weekday`` or ``-weekend`` where the tariff tells them apart. Holidays are not
    modelled; a tariff without a period for that kind of day is an error naming it."""
    tariffs = tou_tariffs()
    if tariff not in tariffs:
        raise PriceError(f"unknown tariff {tariff!r}: choose one of {sorted(tariffs)}")
    entry = tariffs[tariff]
    season = "summer" if date.month in entry["summer_months"] else "winter"
    kind = "weekend" if date.weekday() >= 5 else "weekday"
    for period in (f"{season}-{kind}", season):
        if period in entry["periods"]:
            return period
    raise PriceError(
        f"tariff {tariff!r} has no period for {date.isoformat()} (a {season} {kind}): its "
        f"periods are {sorted(entry['periods'])}"
    )


def _slot_means(per_minute: np.ndarray) -> list[float]:
    """Mean price of each slot (row); a slot with one price keeps it exactly."""
    uniform = (per_minute == per_minute[:, :1]).all(axis=1)
    return np.where(uniform, per_minute[:, 0], per_minute.mean(axis=1)).tolist()


def _slot_minutes(start_minute: float, slot_minutes: float, n_slots: int) -> np.ndarray:
    """Minute indices covered by each slot, shape ``(n_slots, minutes per slot)``."""
    per_slot = max(round(slot_minutes), 1)
    starts = np.round(start_minute + np.arange(n_slots) * slot_minutes).astype(np.int64)
    return starts[:, None] + np.arange(per_slot)


@dataclass(frozen=True)
class PriceSeries:
    """Prices per kWh at a fixed step: ``values[k]`` holds from ``start`` (UTC) plus
    ``k * step_minutes`` minutes. ``name`` says where it comes from, in errors."""

    name: str
    start: dt.datetime
    step_minutes: int
    values: np.ndarray


@cache
def nl_hourly_prices() -> np.ndarray:
    """NL 2024 day-ahead prices in EUR/kWh, one per hour of 2024 (UTC), gap filled."""
    path = resources.files("smartcharging.data").joinpath("nl_day_ahead_2024_hourly.csv")
    hours = np.full(366 * 24, np.nan)
    with path.open() as file:
        next(file)
        for line in file:
            stamp, price = line.strip().split(",")
            moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            hours[int((moment - _YEAR_START).total_seconds() // 3600)] = float(price) / 1000
    missing = np.isnan(hours)
    hours[missing] = np.interp(np.flatnonzero(missing), np.flatnonzero(~missing), hours[~missing])
    return hours


def nl_series() -> PriceSeries:
    """The shipped NL 2024 day-ahead series."""
    return PriceSeries(
        f"the {NL_MARKET} series (2024-01-01 to 2024-12-31 UTC)",
        _YEAR_START,
        60,
        nl_hourly_prices(),
    )


def series_slot_prices(
    series: PriceSeries,
    arrival_hour: float,
    slot_hours: float,
    n_slots: int,
    timezone: str,
    dates: list[dt.date] | None = None,
) -> tuple[list[list[float]], list[str]]:
    """Slot prices of the window starting at ``arrival_hour`` (local time in ``timezone``)
    on each date, and the dates as labels. ``dates=None`` takes every date whose whole
    window lies inside the series."""
    zone = ZoneInfo(timezone)
    try:
        end = series.start + dt.timedelta(minutes=series.step_minutes * len(series.values))
        first = series.start.astimezone(zone).date() - dt.timedelta(days=1)
        days = (end.astimezone(zone).date() - first).days + 1
    except OverflowError:
        raise PriceError(f"{series.name} reaches beyond the years 1..9999") from None
    if dates is None and days > MAX_DATES:
        raise PriceError(
            f"{series.name} covers {days:,} dates, more than {limits.MAX_PROFILES:,} price rows "
            "(MAX_PROFILES in smartcharging.config.limits): give dates, or a shorter series"
        )
    candidates = dates or [first + dt.timedelta(days=d) for d in range(days)]
    rows, labels = [], []
    for date in candidates:
        try:
            local = dt.datetime.combine(date, dt.time(0), tzinfo=zone) + dt.timedelta(
                hours=arrival_hour
            )
            start = (local.astimezone(dt.UTC) - series.start).total_seconds() / 60
        except OverflowError:
            raise PriceError(f"date {date.isoformat()}: its window leaves the calendar") from None
        minutes = _slot_minutes(start, slot_hours * 60, n_slots)
        if minutes.min() < 0 or minutes.max() >= len(series.values) * series.step_minutes:
            if dates is not None:
                raise PriceError(
                    f"date {date.isoformat()}: its window is not covered by {series.name}"
                )
            continue
        rows.append(_slot_means(series.values[minutes // series.step_minutes]))
        labels.append(date.isoformat())
    if not rows:
        raise PriceError(f"{series.name} covers no whole window of {n_slots} slots")
    return rows, labels
