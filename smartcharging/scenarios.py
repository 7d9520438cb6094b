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

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from smartcharging.config import ChargingConfig, ConfigError
from smartcharging.prices import NL_MARKET, PriceError, day_ahead_slot_prices, tou_slot_prices

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScenarioError(ValueError):
    """A scenario name or file that cannot be used; the message is one line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    power_levels_kw: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=1, description="charger power of each action (kW), increasing"
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


class FlatPrice(_Strict):
    kind: Literal["flat"]
    price_per_kwh: float = Field(description="energy price (currency per kWh)")
    currency: str = Field("EUR", description="currency of the price and of all costs")


class TouPrice(_Strict):
    kind: Literal["tou"]
    tariff: Literal["sce-tou-ev-8", "sce-tou-ev-4", "pge-a-10"]
    period: str = Field(description="tariff period, e.g. summer-weekday or winter")


class DayAheadPrice(_Strict):
    kind: Literal["day_ahead"]
    market: Literal["nl-2024"]
    timezone: str = Field("Europe/Amsterdam", description="time zone of the window's clock")
    dates: list[dt.date] | None = Field(
        None,
        min_length=1,
        description="dates drawn per episode; default: every date the series covers",
    )


class Scenario(_Strict):
    """One single-vehicle charging problem."""

    name: str = Field(min_length=1, description="identifier")
    description: str = Field("", description="what the scenario models and why")
    vehicle: Vehicle
    window: Window
    demand: Demand
    cost: Annotated[SeedCost | PhysicalCost, Field(discriminator="model")]
    prices: Annotated[FlatPrice | TouPrice | DayAheadPrice, Field(discriminator="kind")] | None = (
        Field(None, description="energy prices (physical cost model only)")
    )
    forecast_slots: int = Field(0, ge=0, description="observed prices after the current slot")

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        physical = self.cost.model == "physical"
        if physical and self.prices is None:
            raise ValueError("cost.model 'physical' needs a prices section")
        if not physical and (self.prices is not None or self.forecast_slots):
            raise ValueError("cost.model 'seed' has no prices: remove prices and forecast_slots")
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
        try:
            params.update(self._prices(window.arrival_hour, slot_hours, n_slots))
        except PriceError as error:
            raise ScenarioError(f"scenario {self.name!r}: prices: {error}") from None
        return ChargingConfig.from_kwargs(**{**params, **overrides})

    def _prices(self, arrival_hour: float, slot_hours: float, n_slots: int) -> dict[str, Any]:
        source = self.prices
        if source is None:
            return {}
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
        assert source.market == NL_MARKET
        rows, labels = day_ahead_slot_prices(
            arrival_hour, slot_hours, n_slots, source.timezone, source.dates
        )
        return {
            "price_profiles": tuple(map(tuple, rows)),
            "profile_labels": tuple(labels),
            "currency": "EUR",
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=True), sort_keys=False)


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
    else:
        detail = f"{path}={value!r}: {message}"
    more = len(error.errors()) - 1
    return f"{source}: {detail}" + (f" (and {more} more problems)" if more else "")


def parse_scenario(text: str, source: str) -> Scenario:
    """Validate scenario YAML text; ``source`` names it in errors."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "invalid syntax"
        raise ScenarioError(f"{source}: not valid YAML: {problem}{where}") from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: must be a YAML mapping of scenario fields, not {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_describe(error, source, data)) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a scenario file by path."""
    text = str(name_or_path)
    if text in builtin_names():
        resource = resources.files("smartcharging.builtin_scenarios").joinpath(f"{text}.yaml")
        return parse_scenario(resource.read_text(), f"built-in scenario {text!r}")
    path = Path(text)
    if not path.is_file():
        raise ScenarioError(
            f"unknown scenario {text!r}: not a file, and not one of {', '.join(builtin_names())}"
        )
    return parse_scenario(path.read_text(), str(path))


def scenario_config(name_or_path: str | Path, **overrides: Any) -> ChargingConfig:
    """The configuration of a scenario, with overrides validated like any parameter."""
    scenario = load_scenario(name_or_path)
    try:
        return scenario.to_config(**overrides)
    except ConfigError as error:
        raise ScenarioError(f"{name_or_path}: {error}") from None
