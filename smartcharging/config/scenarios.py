"""Scenario files: a validated, human-editable description of one charging problem.

A scenario is a YAML file (see ``smartcharging/builtin_scenarios/``) validated with pydantic:
every field is typed and carries its unit, unknown keys are errors, and a bad file fails
with one line naming the file, the field path, the value and what is allowed. A scenario
becomes a :class:`~smartcharging.config.ChargingConfig` through :meth:`Scenario.to_config`,
which also maps the price source onto the window's slots.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from smartcharging.config import limits
from smartcharging.config.data_files import load_yaml
from smartcharging.config.depot import SESSION_DERIVED, DepotConfig
from smartcharging.config.price_files import read_price_file
from smartcharging.config.prices import (
    NL_MARKET,
    PriceError,
    nl_series,
    series_slot_prices,
    tou_period_of,
    tou_slot_prices,
)
from smartcharging.config.validation import shorten
from smartcharging.config.vehicle import ChargingConfig, ConfigError

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScenarioError(ValueError):
    """A scenario name or file that cannot be used; the message is one line."""


class _Strict(BaseModel):
    """Scenario sections: unknown keys, infinities, NaN and true/false for numbers are
    errors that name the file and the field, not silently accepted values."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, value in data.items():
            field = cls.model_fields.get(name)
            items = value if isinstance(value, list | tuple) else [value]
            kinds = str(field.annotation) if field is not None else ""
            numeric = field is not None and ("float" in kinds or "int" in kinds)
            if numeric and any(isinstance(item, bool) for item in items):
                raise ValueError(f"{name}={value!r}: must be a number or text, not true/false")
        return data


class Start(_Strict):
    """Arrival battery level, uniform on min, min + step, ..., max."""

    min_kwh: float = Field(0.0, ge=0, description="lowest arrival level (kWh)")
    max_kwh: float | None = Field(
        None,
        ge=0,
        description="highest arrival level (kWh); default: the highest step not above capacity",
    )
    step_kwh: float = Field(1.0, gt=0, description="spacing of arrival levels (kWh)")


class Vehicle(_Strict):
    capacity_kwh: float = Field(gt=0, description="usable battery capacity (kWh)")
    power_levels_kw: list[float] = Field(
        min_length=1,
        description="charger power of each action (kW), increasing; negative levels "
        "discharge (only with a v2g section)",
    )
    efficiency: float = Field(1.0, gt=0, le=1, description="charging efficiency (0..1]")
    start: Start = Field(Start(), description="arrival battery level")


class Window(_Strict):
    arrival: str = Field(description="arrival clock time, HH:MM (local)")
    departure: str = Field(description="departure clock time, HH:MM (local)")
    departure_next_day: bool = Field(False, description="the departure is on the next day")
    slot_minutes: float = Field(15.0, gt=0, description="length of one decision slot (min)")

    @model_validator(mode="after")
    def _check(self) -> Window:
        for name in ("arrival", "departure"):
            if not _CLOCK.match(getattr(self, name)):
                raise ValueError(f"{name}={getattr(self, name)!r} must be a clock time HH:MM")
        minutes = self.minutes
        if minutes <= 0:
            raise ValueError(
                f"departure={self.departure!r} must be after arrival={self.arrival!r} (set "
                "departure_next_day: true for an overnight window)"
            )
        slots = minutes / self.slot_minutes
        if slots > limits.MAX_SLOTS:
            raise ValueError(
                f"slot_minutes={self.slot_minutes:g} gives {slots:.4g} slots: must give at most "
                f"{limits.MAX_SLOTS:,} (see smartcharging.config.limits)"
            )
        if abs(slots - round(slots)) > 1e-9:
            raise ValueError(
                f"slot_minutes={self.slot_minutes:g} must divide the window of {minutes} minutes"
            )
        return self

    @staticmethod
    def _minute(clock: str) -> int:
        hours, minutes = clock.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def minutes(self) -> int:
        return (
            self._minute(self.departure)
            + 24 * 60 * self.departure_next_day
            - self._minute(self.arrival)
        )

    @property
    def arrival_hour(self) -> float:
        return self._minute(self.arrival) / 60


class Demand(_Strict):
    mean_kwh: float = Field(ge=0, description="mean next-shift energy demand (kWh)")
    sd_kwh: float = Field(gt=0, description="standard deviation of the demand (kWh)")


class SeedCost(_Strict):
    """The notebook's cost: -(hours charging) * exp(kW) per slot, a fixed penalty."""

    model: Literal["seed"]
    penalty_factor: float = Field(
        10.0, ge=0, description="running out costs the worst possible charging bill times this"
    )


class PhysicalCost(_Strict):
    """Energy at the slot's price, wear coefficient * kW^2 * hours, a cost per missing kWh."""

    model: Literal["physical"]
    wear_cost_per_kw2h: float = Field(ge=0, description="battery wear (currency per kW^2 h)")
    shortfall_cost_per_kwh: float = Field(
        ge=0, description="cost of each kWh missing at departure (currency per kWh)"
    )
    degradation_cost_per_kwh: float = Field(
        0.0,
        ge=0,
        description="cycle ageing per kWh of battery throughput, either way (currency per kWh)",
    )
    residual_value_per_kwh: float = Field(
        0.0, ge=0, description="credit per kWh left after the shift (currency per kWh)"
    )


class VehicleToGrid(_Strict):
    """Discharging into the grid (vehicle-to-grid): enabled by this section's presence."""

    discharge_efficiency: float = Field(
        1.0, gt=0, le=1, description="share of the discharged energy that reaches the grid"
    )
    reserve_kwh: float = Field(0.0, ge=0, description="never discharge below this level (kWh)")
    export_fee_per_kwh: float = Field(
        0.0, ge=0, description="exports earn the slot's price minus this fee (currency per kWh)"
    )
    export_tariff_per_kwh: float | None = Field(
        None, description="a fixed feed-in tariff instead of the slot's price (currency per kWh)"
    )

    def config_fields(self) -> dict[str, Any]:
        return {"v2g": True, **self.model_dump()}


class DepotVehicleToGrid(VehicleToGrid):
    """V2G at a depot: every charger may discharge, together at most the export limit."""

    export_limit_kw: float | None = Field(
        None, gt=0, description="the most the chargers discharge together (kW); default: grid"
    )


class FlatPrice(_Strict):
    kind: Literal["flat"]
    price_per_kwh: float = Field(description="energy price (currency per kWh)")
    currency: str = Field("EUR", description="currency of the price and of all costs")


#: The TOU period of session days that takes each day's own period from its date.
BY_DATE = "by-date"


class TouPrice(_Strict):
    kind: Literal["tou"]
    tariff: Literal["sce-tou-ev-8", "sce-tou-ev-4", "pge-a-10"]
    period: str = Field(
        description="tariff period, e.g. summer-weekday or winter; by-date (session "
        "scenarios only): each day's period from its date"
    )


class DayAheadPrice(_Strict):
    kind: Literal["day_ahead"]
    market: Literal["nl-2024"]
    timezone: str = Field("Europe/Amsterdam", description="time zone of the window's clock")
    dates: list[dt.date] | None = Field(
        None,
        min_length=1,
        description="dates drawn per episode; default: every date the series covers",
    )


class FilePrice(_Strict):
    kind: Literal["file"]
    path: str = Field(
        min_length=1,
        description="a CSV file of prices per kWh (relative paths: from the scenario file's "
        "folder): timestamp,price_per_kwh or slot,price_per_kwh",
    )
    currency: str = Field("EUR", description="currency of the prices and of all costs")
    timezone: str = Field("UTC", description="time zone of the window's clock (timestamps)")
    dates: list[dt.date] | None = Field(
        None,
        min_length=1,
        description="dates drawn per episode; default: every date the series covers",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ValueError, OSError, ZoneInfoNotFoundError):
            raise ValueError(f"unknown time zone {zone!r} (an IANA name)") from None
        return zone


PriceSource = Annotated[
    FlatPrice | TouPrice | DayAheadPrice | FilePrice, Field(discriminator="kind")
]


def price_rows(
    source: FlatPrice | TouPrice | DayAheadPrice | FilePrice,
    arrival_hour: float,
    slot_hours: float,
    n_slots: int,
) -> dict[str, Any]:
    """Config fields (price rows, labels, currency) of a price source over a window."""
    if isinstance(source, FlatPrice):
        return {
            "price_profiles": ((source.price_per_kwh,) * n_slots,),
            "profile_labels": ("flat",),
            "currency": source.currency,
        }
    if isinstance(source, TouPrice):
        row, currency = tou_slot_prices(
            source.tariff, source.period, arrival_hour, slot_hours, n_slots
        )
        return {
            "price_profiles": (tuple(row),),
            "profile_labels": (source.period,),
            "currency": currency,
        }
    if isinstance(source, FilePrice):
        prices = read_price_file(Path(source.path))
        if isinstance(prices, list):
            if len(prices) != n_slots:
                raise PriceError(
                    f"{source.path}: {len(prices)} slot prices, the window has {n_slots} slots"
                )
            rows, labels = [prices], ["file"]
        else:
            rows, labels = series_slot_prices(
                prices, arrival_hour, slot_hours, n_slots, source.timezone, source.dates
            )
        return {
            "price_profiles": tuple(map(tuple, rows)),
            "profile_labels": tuple(labels),
            "currency": source.currency,
        }
    assert source.market == NL_MARKET
    rows, labels = series_slot_prices(
        nl_series(), arrival_hour, slot_hours, n_slots, source.timezone, source.dates
    )
    return {
        "price_profiles": tuple(map(tuple, rows)),
        "profile_labels": tuple(labels),
        "currency": "EUR",
    }


def session_price_rows(
    source: FlatPrice | TouPrice | DayAheadPrice | FilePrice,
    dates: list[dt.date],
    day_start_hour: float,
    slot_hours: float,
    n_slots: int,
) -> dict[str, Any]:
    """Config fields (one price row per date, the dates as labels, currency) of a price
    source over the session days ``dates``."""
    labels = tuple(date.isoformat() for date in dates)
    if isinstance(source, TouPrice) and source.period == BY_DATE:
        cache: dict[str, tuple[float, ...]] = {}
        rows = []
        for date in dates:
            period = tou_period_of(source.tariff, date)
            if period not in cache:
                row, currency = tou_slot_prices(
                    source.tariff, period, day_start_hour, slot_hours, n_slots
                )
                cache[period] = tuple(row)
            rows.append(cache[period])
        return {"price_profiles": tuple(rows), "profile_labels": labels, "currency": currency}
    if isinstance(source, DayAheadPrice | FilePrice):
        series = (
            read_price_file(Path(source.path)) if isinstance(source, FilePrice) else nl_series()
        )
        if not isinstance(series, list):
            if source.dates is not None:
                raise PriceError(
                    "prices.dates: session scenarios price their own days; leave it out"
                )
            series_rows, _ = series_slot_prices(
                series, day_start_hour, slot_hours, n_slots, source.timezone, dates
            )
            return {
                "price_profiles": tuple(map(tuple, series_rows)),
                "profile_labels": labels,
                "currency": source.currency if isinstance(source, FilePrice) else "EUR",
            }
    one = price_rows(source, day_start_hour, slot_hours, n_slots)
    return {
        **one,
        "price_profiles": one["price_profiles"][:1] * len(dates),
        "profile_labels": labels,
    }


class _Named(_Strict):
    """A whole scenario, which remembers what errors call it: its file, or ``built-in
    scenario 'x'`` (the ``source`` given to :func:`parse_scenario`), else its ``name``
    field. Where it came from is not part of its value: equal fields are equal scenarios."""

    name: str
    _source: str | None = PrivateAttr(None)

    @property
    def source(self) -> str:
        return self._source or f"scenario {self.name!r}"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__dict__ == other.__dict__


class Scenario(_Named):
    """One single-vehicle charging problem."""

    name: str = Field(min_length=1, description="identifier")
    description: str = Field("", description="what the scenario models and why")
    vehicle: Vehicle
    window: Window
    demand: Demand
    cost: Annotated[SeedCost | PhysicalCost, Field(discriminator="model")]
    prices: PriceSource | None = Field(None, description="energy prices (physical model only)")
    forecast_slots: int = Field(0, ge=0, description="observed prices after the current slot")
    v2g: VehicleToGrid | None = Field(None, description="vehicle-to-grid (discharging)")

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        physical = self.cost.model == "physical"
        if physical and self.prices is None:
            raise ValueError("cost.model 'physical' needs a prices section")
        if not physical and (self.prices is not None or self.forecast_slots):
            raise ValueError("cost.model 'seed' has no prices: remove prices and forecast_slots")
        if self.v2g is None and min(self.vehicle.power_levels_kw) < 0:
            raise ValueError(
                "vehicle.power_levels_kw has negative (discharging) levels: they need a v2g section"
            )
        if self.v2g is not None and not physical:
            raise ValueError("v2g needs cost.model 'physical' (exports are priced)")
        return self

    def to_config(self, **overrides: Any) -> ChargingConfig:
        """The validated configuration, with any parameter overridden."""
        window, vehicle = self.window, self.vehicle
        n_slots = round(window.minutes / window.slot_minutes)
        slot_hours = window.slot_minutes / 60
        params: dict[str, Any] = {
            "capacity_kwh": vehicle.capacity_kwh,
            "power_levels_kw": tuple(vehicle.power_levels_kw),
            "efficiency": vehicle.efficiency,
            "slot_hours": slot_hours,
            "n_slots": n_slots,
            "start_min_kwh": vehicle.start.min_kwh,
            "start_max_kwh": vehicle.start.max_kwh,
            "start_step_kwh": vehicle.start.step_kwh,
            "demand_mean_kwh": self.demand.mean_kwh,
            "demand_sd_kwh": self.demand.sd_kwh,
            "arrival_hour": window.arrival_hour,
            "cost_model": self.cost.model,
            "forecast_slots": self.forecast_slots,
        }
        if isinstance(self.cost, SeedCost):
            params["penalty_factor"] = self.cost.penalty_factor
        else:
            params["wear_cost_per_kw2h"] = self.cost.wear_cost_per_kw2h
            params["shortfall_cost_per_kwh"] = self.cost.shortfall_cost_per_kwh
            params["degradation_cost_per_kwh"] = self.cost.degradation_cost_per_kwh
            params["residual_value_per_kwh"] = self.cost.residual_value_per_kwh
        if self.v2g is not None:
            params.update(self.v2g.config_fields())
        try:
            params.update(self._prices(window.arrival_hour, slot_hours, n_slots))
        except PriceError as error:
            raise ScenarioError(f"{self.source}: prices: {error}") from None
        return ChargingConfig.from_kwargs(**{**params, **overrides})

    def _prices(self, arrival_hour: float, slot_hours: float, n_slots: int) -> dict[str, Any]:
        if self.prices is None:
            return {}
        return price_rows(self.prices, arrival_hour, slot_hours, n_slots)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


class Site(_Strict):
    chargers: int = Field(ge=1, description="chargers, one vehicle each per episode")
    power_levels_kw: list[float] = Field(
        min_length=1,
        description="charger power of each action (kW), increasing; negative levels "
        "discharge (only with a v2g section)",
    )
    grid_limit_kw: float = Field(gt=0, description="grid connection limit (kW)")
    allocation: Literal["proportional", "priority"] = Field(
        "proportional", description="how requests above the limit are cut"
    )
    efficiency: float = Field(1.0, gt=0, le=1, description="charging efficiency (0..1]")
    demand_charge_per_kw: float = Field(
        0.0, ge=0, description="charge on the episode's peak grid power (currency per kW)"
    )


class SolarPv(_Strict):
    """An idealised clear-sky PV profile: a half sine from sunrise to sunset."""

    peak_kw: float = Field(gt=0, description="PV power at solar noon (kW)")
    sunrise: str = Field("06:00", description="HH:MM")
    sunset: str = Field("20:00", description="HH:MM")

    def profile(self, arrival_hour: float, slot_hours: float, n_slots: int) -> list[float]:
        rise = Window._minute(self.sunrise) / 60
        length = Window._minute(self.sunset) / 60 - rise
        if length <= 0:
            raise ValueError(f"sunset={self.sunset!r} must be after sunrise={self.sunrise!r}")
        middle = (arrival_hour + (np.arange(n_slots) + 0.5) * slot_hours) % 24
        phase = (middle - rise) / length
        return (self.peak_kw * np.sin(np.pi * np.clip(phase, 0, 1))).tolist()


class ScheduleRow(_Strict):
    arrival_slot: int = Field(ge=0, description="slot of arrival (0 = window start)")
    departure_slot: int = Field(ge=1, description="slot at whose start the vehicle leaves")
    start_kwh: float = Field(ge=0, description="battery level at arrival (kWh)")
    capacity_kwh: float = Field(gt=0, description="usable capacity (kWh)")
    demand_mean_kwh: float = Field(ge=0, description="mean next-shift demand (kWh)")
    demand_sd_kwh: float = Field(gt=0, description="its standard deviation (kWh)")


class Fleet(_Strict):
    """A shift-schedule generator: every vehicle drawn from the same ranges."""

    capacity_kwh: float = Field(gt=0, description="usable capacity (kWh)")
    arrival_slots: tuple[int, int] = Field(description="arrival slot range (inclusive)")
    departure_slots: tuple[int, int] = Field(description="departure slot range (inclusive)")
    start_kwh: tuple[float, float] = Field(description="arrival level range (kWh)")
    start_step_kwh: float = Field(1.0, gt=0, description="spacing of arrival levels (kWh)")
    demand: Demand


class DepotScenario(_Named):
    """A depot: chargers on one grid connection, a fleet (or a schedule table), prices."""

    name: str = Field(min_length=1)
    kind: Literal["depot"]
    description: str = ""
    site: Site
    window: Window
    fleet: Fleet | None = None
    schedule: list[ScheduleRow] | None = Field(None, min_length=1)
    cost: PhysicalCost
    prices: PriceSource
    pv: SolarPv | None = None
    forecast_slots: int = Field(0, ge=0)
    v2g: DepotVehicleToGrid | None = Field(None, description="vehicle-to-grid (discharging)")

    @model_validator(mode="after")
    def _check(self) -> DepotScenario:
        if (self.fleet is None) == (self.schedule is None):
            raise ValueError("give exactly one of fleet (a generator) or schedule (a table)")
        if self.v2g is None and min(self.site.power_levels_kw) < 0:
            raise ValueError(
                "site.power_levels_kw has negative (discharging) levels: they need a v2g section"
            )
        return self

    def _vehicles(self) -> dict[str, Any]:
        n = self.site.chargers
        if self.fleet is not None:
            fleet = self.fleet
            return {
                "capacity_kwh": (fleet.capacity_kwh,) * n,
                "arrival_slots": (fleet.arrival_slots,) * n,
                "departure_slots": (fleet.departure_slots,) * n,
                "start_kwh": (fleet.start_kwh,) * n,
                "start_step_kwh": fleet.start_step_kwh,
                "demand_mean_kwh": (fleet.demand.mean_kwh,) * n,
                "demand_sd_kwh": (fleet.demand.sd_kwh,) * n,
            }
        rows = self.schedule or []
        return {
            "capacity_kwh": tuple(r.capacity_kwh for r in rows),
            "arrival_slots": tuple((r.arrival_slot, r.arrival_slot) for r in rows),
            "departure_slots": tuple((r.departure_slot, r.departure_slot) for r in rows),
            "start_kwh": tuple((r.start_kwh, r.start_kwh) for r in rows),
            "demand_mean_kwh": tuple(r.demand_mean_kwh for r in rows),
            "demand_sd_kwh": tuple(r.demand_sd_kwh for r in rows),
        }

    def to_config(self, **overrides: Any) -> DepotConfig:
        """The validated depot configuration, with any field overridden."""
        site, window = self.site, self.window
        n_slots = round(window.minutes / window.slot_minutes)
        slot_hours = window.slot_minutes / 60
        try:
            prices = price_rows(self.prices, window.arrival_hour, slot_hours, n_slots)
            pv = self.pv.profile(window.arrival_hour, slot_hours, n_slots) if self.pv else []
        except (PriceError, ValueError) as error:
            raise ScenarioError(f"{self.source}: {error}") from None
        params: dict[str, Any] = {
            "n_chargers": site.chargers,
            **_site_fields(site, self.cost),
            "slot_hours": slot_hours,
            "n_slots": n_slots,
            "arrival_hour": window.arrival_hour,
            **(self.v2g.config_fields() if self.v2g is not None else {}),
            "forecast_slots": self.forecast_slots,
            "pv_kw": tuple(pv),
            **self._vehicles(),
            **prices,
        }
        return _depot_config(self.source, params, overrides)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


class SessionSite(_Strict):
    """The site of a session scenario: its stations are those the sessions use."""

    power_levels_kw: list[float] = Field(
        min_length=1, description="station power of each action (kW), increasing, >= 0"
    )
    grid_limit_kw: float = Field(gt=0, description="grid connection limit (kW)")
    allocation: Literal["proportional", "priority"] = Field(
        "proportional",
        description="how requests above the limit are cut (priority: earliest stated "
        "departure first)",
    )
    efficiency: float = Field(1.0, gt=0, le=1, description="charging efficiency (0..1]")
    demand_charge_per_kw: float = Field(
        0.0, ge=0, description="charge on the day's peak grid power (currency per kW)"
    )


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a number or a string of one (which pydantic would read as a
    date in seconds since 1970)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return isinstance(value, int | float) and not isinstance(value, bool)


class SessionLog(_Strict):
    """Where the sessions come from and how they become days
    (:mod:`smartcharging.sessions.days`)."""

    files: list[str] = Field(
        min_length=1,
        description="session logs (relative paths: from the scenario file's folder; for "
        "built-in scenarios, the package's data)",
    )
    format: Literal["auto", "acn-csv", "acn-json", "csv"] = Field(
        "auto", description="the logs' layout (auto: from the extension and header)"
    )
    timezone: str = Field(description="the site's time zone (IANA name), for days and slots")
    day_start: str = Field("00:00", description="local clock time at which each day starts")
    slot_minutes: float = Field(15.0, gt=0, description="length of one slot (minutes)")
    exclude_stations: list[str] = Field(
        [], description="stations whose sessions are left out (e.g. a DC fast charger)"
    )
    first_date: dt.date | None = Field(None, description="first day kept (default: all)")
    last_date: dt.date | None = Field(None, description="last day kept (default: all)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        return FilePrice._known_zone(zone)

    @field_validator("day_start", mode="before")
    @classmethod
    def _quoted_clock(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f"day_start={value}: YAML reads an unquoted clock time such as 18:00 as a "
                f'number; quote it: day_start: "{value // 60:02d}:{value % 60:02d}"'
            )
        return value

    @field_validator("first_date", "last_date", mode="before")
    @classmethod
    def _written_date(cls, value: Any, info: ValidationInfo) -> Any:
        if _is_number(value):
            raise ValueError(
                f"{info.field_name}={shorten(repr(value))}: a date is written YYYY-MM-DD "
                "(e.g. 2019-05-01), not as a number (read as seconds since 1970)"
            )
        return value

    @field_validator("files")
    @classmethod
    def _each_once(cls, files: list[str]) -> list[str]:
        seen = {str(Path(f).resolve()) if f else f for f in files}
        if len(seen) != len(files):
            raise ValueError("lists a file twice: its sessions would be counted twice")
        return files

    @model_validator(mode="after")
    def _check(self) -> SessionLog:
        if not _CLOCK.match(self.day_start):
            raise ValueError(f"day_start={self.day_start!r} must be a clock time HH:MM")
        slots = 24 * 60 / self.slot_minutes
        if abs(slots - round(slots)) > 1e-9 or round(slots) > limits.MAX_SLOTS:
            raise ValueError(
                f"slot_minutes={self.slot_minutes:g} must divide a day (1440 minutes) into at "
                f"most {limits.MAX_SLOTS:,} slots"
            )
        if self.first_date and self.last_date and self.first_date > self.last_date:
            raise ValueError(f"first_date {self.first_date} is after last_date {self.last_date}")
        return self


class SessionScenario(_Named):
    """A depot replaying real charging sessions, one day per episode
    (:mod:`smartcharging.config.sessions`)."""

    name: str = Field(min_length=1)
    kind: Literal["sessions"]
    description: str = ""
    site: SessionSite
    sessions: SessionLog
    cost: PhysicalCost
    prices: PriceSource
    pv: SolarPv | None = None
    forecast_slots: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> SessionScenario:
        if min(self.site.power_levels_kw) < 0:
            raise ValueError(
                "site.power_levels_kw has negative (discharging) levels: drivers' cars do not "
                "discharge in session scenarios"
            )
        return self

    def layout(self) -> Any:
        """How the logs become days (:class:`smartcharging.sessions.days.DayLayout`)."""
        from smartcharging.sessions.days import DayLayout

        log = self.sessions
        return DayLayout(
            timezone=log.timezone,
            day_start_minute=Window._minute(log.day_start),
            slot_minutes=log.slot_minutes,
            top_power_kw=max(self.site.power_levels_kw),
            exclude_stations=tuple(log.exclude_stations),
            first_date=log.first_date,
            last_date=log.last_date,
        )

    def lay_out(self) -> Any:
        """The logs read and laid out as days
        (:class:`smartcharging.sessions.days.LaidOutDays`), with every cut row counted."""
        from smartcharging.sessions.days import SessionLayoutError, lay_out_days
        from smartcharging.sessions.reading import read_sessions
        from smartcharging.sessions.records import SessionFileError

        try:
            records = [
                record
                for path in self.sessions.files
                for record in read_sessions(
                    path, self.sessions.format, self.sessions.timezone
                ).records
            ]
            return lay_out_days(records, self.layout())
        except (SessionFileError, SessionLayoutError, ConfigError) as error:
            raise ScenarioError(f"{self.source}: {error}") from None

    def to_config(self, **overrides: Any) -> DepotConfig:
        """The validated depot of session days, with any field overridden but those the
        session days fix (their slots, stations, days and prices)."""
        fixed = sorted(set(overrides) & SESSION_FIXED)
        if fixed:
            raise ConfigError(
                f"parameter {fixed[0]!r} cannot be overridden in a session scenario: the "
                "sessions fix the slots, stations, days and prices (edit the scenario's "
                "sessions section instead)"
            )
        laid_out = self.lay_out()
        layout, site = self.layout(), self.site
        dates = [dt.date.fromisoformat(date) for date in laid_out.days.dates]
        hour = layout.day_start_minute / 60
        try:
            prices = session_price_rows(self.prices, dates, hour, layout.slot_hours, layout.n_slots)
            pv = self.pv.profile(hour, layout.slot_hours, layout.n_slots) if self.pv else []
        except (PriceError, ValueError) as error:
            raise ScenarioError(f"{self.source}: {error}") from None
        params: dict[str, Any] = {
            "n_chargers": len(laid_out.days.stations),
            **_site_fields(site, self.cost),
            "slot_hours": layout.slot_hours,
            "n_slots": layout.n_slots,
            "arrival_hour": hour,
            "forecast_slots": self.forecast_slots,
            "pv_kw": tuple(pv),
            **dict.fromkeys(SESSION_DERIVED, ()),
            "sessions": laid_out.days,
            **prices,
        }
        return _depot_config(self.source, params, overrides)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


#: Depot fields a session scenario's logs and days fix.
SESSION_FIXED = frozenset(
    {
        "n_chargers",
        "n_slots",
        "slot_hours",
        "arrival_hour",
        "sessions",
        "price_profiles",
        "profile_labels",
        "pv_kw",
        *SESSION_DERIVED,
    }
)


def _site_fields(site: Site | SessionSite, cost: PhysicalCost) -> dict[str, Any]:
    """The depot config fields of a scenario's site and costs."""
    return {
        "power_levels_kw": tuple(site.power_levels_kw),
        "grid_limit_kw": site.grid_limit_kw,
        "allocation": site.allocation,
        "efficiency": site.efficiency,
        "demand_charge_per_kw": site.demand_charge_per_kw,
        "wear_cost_per_kw2h": cost.wear_cost_per_kw2h,
        "shortfall_cost_per_kwh": cost.shortfall_cost_per_kwh,
        "degradation_cost_per_kwh": cost.degradation_cost_per_kwh,
        "residual_value_per_kwh": cost.residual_value_per_kwh,
    }


def _depot_config(source: str, params: dict[str, Any], overrides: dict[str, Any]) -> DepotConfig:
    """``DepotConfig(**params)`` with ``overrides``, errors naming ``source``."""
    unknown = sorted(set(overrides) - set(DepotConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(
            f"unknown parameter {unknown[0]!r}: allowed parameters are "
            f"{sorted(DepotConfig.__dataclass_fields__)}"
        )
    try:
        return DepotConfig(**{**params, **overrides})
    except ConfigError as error:
        raise ScenarioError(f"{source}: {error}") from None


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files("smartcharging.builtin_scenarios")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _describe(error: ValidationError, source: str, data: Any) -> str:
    first = error.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    if first["type"] == "missing":
        detail = f"{path}: missing (required)"
    elif first["type"] == "extra_forbidden":
        detail = f"{path}: unknown key (not a field of this section)"
    elif first["type"] == "value_error":  # our checks' messages name the value themselves
        detail = f"{path}: {message}" if first["loc"] else message
    else:
        detail = f"{path}={value!r}: {message}"
    more = len(error.errors()) - 1
    return f"{source}: {detail}" + (f" (and {more} more problems)" if more else "")


def _check_expanded_size(data: Any, source: str) -> None:
    """Refuse YAML data with more than :data:`~limits.MAX_SCENARIO_VALUES` values once its
    aliases are expanded (as validation would expand them), counting no further."""
    count, pending = 0, [data]
    while pending:
        item = pending.pop()
        count += 1
        if count > limits.MAX_SCENARIO_VALUES:
            raise ScenarioError(
                f"{source}: holds more than {limits.MAX_SCENARIO_VALUES:,} values once its "
                "YAML aliases are expanded (MAX_SCENARIO_VALUES in smartcharging.config.limits)"
            )
        if isinstance(item, dict):
            pending.extend(item.values())
            count += len(item)
        elif isinstance(item, list):
            pending.extend(item)


#: Where the session logs of built-in scenarios are (package data).
BUILTIN_SESSIONS = "acn"

#: The kinds of depot scenario: drawn fleets, and real sessions.
DEPOT_KINDS = ("depot", "sessions")


def _with_session_files_from(folder: Path | None, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with relative session-log paths taken from ``folder`` (the scenario file's;
    the package's data for a built-in scenario), as absolute paths: ``scenario show``
    prints them so, and a copy of it saved anywhere still finds the logs."""
    log = data.get("sessions")
    if data.get("kind") != "sessions" or not isinstance(log, dict):
        return data
    files = log.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        return data
    base = folder or Path(str(resources.files("smartcharging.data").joinpath(BUILTIN_SESSIONS)))
    return {**data, "sessions": {**log, "files": [str(base.resolve() / f) for f in files]}}


def _with_price_file_from(folder: Path | None, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with a relative price-file path taken from ``folder`` (the scenario file's),
    so that a scenario and its prices travel together, as an absolute path (see
    :func:`_with_session_files_from`)."""
    prices = data.get("prices")
    if folder is None or not isinstance(prices, dict) or prices.get("kind") != "file":
        return data
    path = prices.get("path")
    if not isinstance(path, str) or not path:
        return data
    return {**data, "prices": {**prices, "path": str(folder.resolve() / path)}}


def _parse(text: str, source: str, model: type[BaseModel], folder: Path | None = None) -> Any:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid syntax"
        raise ScenarioError(f"{source}: not valid YAML: {problem}{where}") from None
    if data is None:
        raise ScenarioError(f"{source}: is empty: a scenario is a YAML mapping of its fields")
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        raise ScenarioError(f"{source}: must be a YAML mapping of scenario fields, not {found}")
    _check_expanded_size(data, source)
    data = _with_session_files_from(folder, _with_price_file_from(folder, data))
    wanted = "vehicle" if model is Scenario else "depot"
    found = "depot" if data.get("kind") in DEPOT_KINDS else "vehicle"
    if model is not Scenario:
        model = SessionScenario if data.get("kind") == "sessions" else DepotScenario
    if wanted != found:
        env_id = "SmartChargingDepot-v0" if found == "depot" else "SmartCharging-v0"
        raise ScenarioError(
            f"{source}: is a {found} scenario where a {wanted} scenario is needed ({env_id})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_describe(error, source, data)) from None


def parse_scenario(text: str, source: str, folder: Path | None = None) -> Scenario:
    """Validate single-vehicle scenario YAML text; ``source`` names it in errors, and a
    relative price-file path is taken from ``folder`` (default: the working folder)."""
    scenario: Scenario = _parse(text, source, Scenario, folder)
    scenario._source = source
    return scenario


def parse_depot_scenario(
    text: str, source: str, folder: Path | None = None
) -> DepotScenario | SessionScenario:
    """Validate depot scenario YAML text, drawn fleet or session days (see
    :func:`parse_scenario`)."""
    scenario: DepotScenario | SessionScenario = _parse(text, source, DepotScenario, folder)
    scenario._source = source
    return scenario


def _folder(name_or_path: str | Path) -> Path | None:
    """The folder of a scenario file (None for a built-in scenario)."""
    return None if str(name_or_path) in builtin_names() else Path(name_or_path).parent


def _scenario_text(name_or_path: str | Path) -> tuple[str, str]:
    text = str(name_or_path)
    if text in builtin_names():
        resource = resources.files("smartcharging.builtin_scenarios").joinpath(f"{text}.yaml")
        return resource.read_text(), f"built-in scenario {text!r}"
    path = Path(text)
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a name too long for the file system
        is_file = False
    if not is_file:
        raise ScenarioError(
            f"unknown scenario {shorten(repr(text))}: not a file, and not one of "
            f"{', '.join(builtin_names())}"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {error.start}): save the scenario as UTF-8 YAML"
        ) from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read: {error.strerror or error}") from None


def is_depot_scenario(name_or_path: str | Path) -> bool:
    """Whether a scenario describes a depot (``kind: depot`` or ``sessions``)."""
    return scenario_kind(name_or_path) in DEPOT_KINDS


def scenario_kind(name_or_path: str | Path) -> str:
    """``"vehicle"``, ``"depot"`` or ``"sessions"``: what a scenario describes."""
    text, _ = _scenario_text(name_or_path)
    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        return "vehicle"
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if kind in DEPOT_KINDS else "vehicle"


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in single-vehicle scenario by name, or a scenario file by path."""
    return parse_scenario(*_scenario_text(name_or_path), _folder(name_or_path))


def load_depot_scenario(name_or_path: str | Path) -> DepotScenario | SessionScenario:
    """A built-in depot scenario by name, or a depot scenario file by path."""
    return parse_depot_scenario(*_scenario_text(name_or_path), _folder(name_or_path))


def scenario_config(name_or_path: str | Path, **overrides: Any) -> ChargingConfig:
    """The configuration of a scenario, with overrides validated like any parameter."""
    scenario = load_scenario(name_or_path)
    try:
        return scenario.to_config(**overrides)
    except ConfigError as error:
        raise ScenarioError(f"{name_or_path}: {error}") from None
