"""Validated parameters of the single-vehicle charging problem.

Every number of the seed notebook is a field here, with the notebook's value as default.
Construction validates each field and raises :class:`ConfigError` naming the field, the bad
value and what is allowed, so no environment, solver or CLI ever runs on a broken config.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats

from smartcharging.config import limits
from smartcharging.config.limits import check_limit, check_minimum
from smartcharging.config.seed_costs import cost_rate, shortfall_penalty
from smartcharging.config.v2g import (
    V2G_ONLY_DEFAULTS,
    export_price_table,
    v2g_cost_terms,
    v2g_fields,
    v2g_flag,
)
from smartcharging.config.validation import (
    ConfigError,
    finite_number,
    integer,
    non_negative_number,
    positive_number,
    power_levels,
    reject,
    share,
)

#: The cost models a configuration can use.
COST_MODELS = ("seed", "physical")


@dataclass(frozen=True)
class ChargingConfig:
    """Static parameters of one vehicle's charging window (the seed notebook's numbers).

    Attributes:
        capacity_kwh: usable battery capacity (the notebook's 72 kWh average EV).
        power_levels_kw: charger power of each discrete action, strictly increasing.
        slot_hours: length of one decision slot in hours (15 minutes).
        n_slots: number of charging slots before departure (14:00 to 16:00).
        start_min_kwh, start_max_kwh, start_step_kwh: the battery level at arrival is drawn
            uniformly from ``start_min_kwh, start_min_kwh + step, ..., start_max_kwh``
            (the notebook's ``randint(0, capacity)``). ``start_max_kwh=None`` means the
            highest such level that does not exceed capacity.
        demand_mean_kwh, demand_sd_kwh: next-shift energy demand ~ Normal(mean, sd).
        penalty_factor: running out costs the worst possible charging bill (full power in
            every slot) times this factor.
        arrival_hour: clock time of the first slot, used for rendering and price mapping.
        cost_model: ``"seed"`` (the notebook's ``exp(kW)`` cost and fixed penalty) or
            ``"physical"`` (energy price, battery wear, cost per missing kWh).
        efficiency: charging efficiency; the grid supplies ``energy / efficiency`` (physical).
        wear_cost_per_kw2h: battery-wear cost ``coefficient * kW**2 * hours`` (physical).
        shortfall_cost_per_kwh: cost of each kWh missing at departure (physical).
        price_profiles: energy price per slot (currency per kWh), one row per price day;
            each episode uses one row, drawn uniformly (physical only).
        profile_labels: a name for each price row (for day-ahead prices, its date).
        forecast_slots: prices of this many slots after the current one are observed.
        currency: unit of prices and costs, for display.
        v2g: vehicle-to-grid: negative power levels discharge the battery into the grid
            (physical model only; the levels must include 0 kW).
        discharge_efficiency: share of the energy leaving the battery that reaches the grid.
        reserve_kwh: the vehicle never discharges below this level (V2G).
        export_fee_per_kwh: exported energy earns the slot's price minus this fee (V2G).
        export_tariff_per_kwh: a fixed feed-in tariff instead of the slot's price (V2G).
        degradation_cost_per_kwh: cycle ageing, per kWh of battery throughput in either
            direction, on top of the power-dependent wear (physical model).
        residual_value_per_kwh: credit per kWh left in the battery after the shift (physical
            model; 0: leftover energy is worth nothing). With V2G it keeps the optimum from
            selling energy that the next shift would have to buy back.
    """

    capacity_kwh: float = 72.0
    power_levels_kw: tuple[float, ...] = (0.0, 7.0, 14.0, 22.0)
    slot_hours: float = 0.25
    n_slots: int = 8
    start_min_kwh: float = 0.0
    start_max_kwh: float | None = None
    start_step_kwh: float = 1.0
    demand_mean_kwh: float = 30.0
    demand_sd_kwh: float = 5.0
    penalty_factor: float = 10.0
    arrival_hour: float = 14.0
    cost_model: str = "seed"
    efficiency: float = 1.0
    wear_cost_per_kw2h: float = 0.0
    shortfall_cost_per_kwh: float = 0.0
    price_profiles: tuple[tuple[float, ...], ...] = ()
    profile_labels: tuple[str, ...] = ()
    forecast_slots: int = 0
    currency: str = ""
    v2g: bool = False
    discharge_efficiency: float = 1.0
    reserve_kwh: float = 0.0
    export_fee_per_kwh: float = 0.0
    export_tariff_per_kwh: float | None = None
    degradation_cost_per_kwh: float = 0.0
    residual_value_per_kwh: float = 0.0

    def __post_init__(self) -> None:
        capacity = positive_number("capacity_kwh", self.capacity_kwh)
        check_limit("capacity_kwh", capacity, limits.MAX_ENERGY_KWH, "kWh")
        levels = power_levels(self.power_levels_kw, discharging=v2g_flag(self.v2g))
        check_limit("power_levels_kw", len(levels), limits.MAX_ACTIONS, "power levels")
        slot_hours = positive_number("slot_hours", self.slot_hours)
        check_limit("slot_hours", slot_hours, limits.MAX_SLOT_HOURS, "hours")
        n_slots = integer("n_slots", self.n_slots, 1)
        check_limit("n_slots", n_slots, limits.MAX_SLOTS)
        start_min = non_negative_number("start_min_kwh", self.start_min_kwh)
        if start_min > capacity:
            raise reject("start_min_kwh", self.start_min_kwh, f"<= capacity_kwh={capacity}")
        start_step = positive_number("start_step_kwh", self.start_step_kwh)
        if self.start_max_kwh is None:
            start_max = start_min + math.floor((capacity - start_min) / start_step) * start_step
        else:
            start_max = finite_number("start_max_kwh", self.start_max_kwh)
        if not start_min <= start_max <= capacity:
            raise reject(
                "start_max_kwh",
                self.start_max_kwh,
                f"between start_min_kwh={start_min} and capacity_kwh={capacity}",
            )
        span = (start_max - start_min) / start_step
        if span + 1 > limits.MAX_START_LEVELS:
            raise reject(
                "start_step_kwh",
                self.start_step_kwh,
                f"large enough for at most {limits.MAX_START_LEVELS:,} arrival levels "
                f"(this gives {span + 1:.4g})",
            )
        if abs(span - round(span)) > 1e-9 * max(1.0, span):
            raise reject(
                "start_step_kwh",
                self.start_step_kwh,
                f"a divisor of start_max_kwh - start_min_kwh = {start_max - start_min}",
            )
        demand_mean = non_negative_number("demand_mean_kwh", self.demand_mean_kwh)
        check_limit("demand_mean_kwh", demand_mean, limits.MAX_ENERGY_KWH, "kWh")
        demand_sd = positive_number("demand_sd_kwh", self.demand_sd_kwh)
        check_limit("demand_sd_kwh", demand_sd, limits.MAX_ENERGY_KWH, "kWh")
        check_minimum("demand_sd_kwh", demand_sd, limits.MIN_DEMAND_SD_KWH, "kWh")
        penalty_factor = non_negative_number("penalty_factor", self.penalty_factor)
        arrival_hour = finite_number("arrival_hour", self.arrival_hour)
        if not 0 <= arrival_hour < 24:
            raise reject("arrival_hour", self.arrival_hour, "a number in [0, 24)")
        normalised: dict[str, Any] = {
            "capacity_kwh": capacity,
            "power_levels_kw": levels,
            "slot_hours": slot_hours,
            "n_slots": n_slots,
            "start_min_kwh": start_min,
            "start_max_kwh": start_max,
            "start_step_kwh": start_step,
            "demand_mean_kwh": demand_mean,
            "demand_sd_kwh": demand_sd,
            "penalty_factor": penalty_factor,
            "arrival_hour": arrival_hour,
            **self._validate_costs(n_slots),
            **v2g_fields(self, levels, capacity, self.cost_model == "physical"),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)
        self._check_costs_are_finite()

    def _check_costs_are_finite(self) -> None:
        """Refuse a configuration whose worst episode costs more than ``MAX_COST``, naming
        the parameter behind the largest term, so that no sum or expectation overflows."""
        top_kw, hours = self.power_levels_kw[-1], self.n_slots * self.slot_hours
        allowed = f"such that one episode costs at most {limits.MAX_COST:g}"
        if not self.physical:
            if top_kw > math.log(limits.MAX_COST / hours):
                raise reject("power_levels_kw", self.power_levels_kw, f"{allowed} (exp(kW) cost)")
            if self.worst_episode_cost > limits.MAX_COST:
                raise reject("penalty_factor", self.penalty_factor, allowed)
            return
        terms = self._cost_terms()
        if not math.fsum(terms.values()) <= limits.MAX_COST:
            name = max(terms, key=lambda key: terms[key])
            price = float(np.abs(self.prices).max())
            raise reject(name, getattr(self, name) if name != "price_profiles" else price, allowed)

    def _cost_terms(self) -> dict[str, float]:
        """Upper bounds of the parts of one episode's cost, by the parameter behind each."""
        top_kw, hours = self.power_levels_kw[-1], self.n_slots * self.slot_hours
        if not self.physical:
            bill = hours * math.exp(top_kw)
            return {"power_levels_kw": bill, "penalty_factor": bill * self.penalty_factor}
        price = float(np.abs(self.prices).max()) if self.price_profiles else 0.0
        top_kw = max(top_kw, -self.power_levels_kw[0])
        return {
            "price_profiles": hours * price * top_kw / self.efficiency,
            "wear_cost_per_kw2h": hours * self.wear_cost_per_kw2h * top_kw * top_kw,
            **v2g_cost_terms(self, hours, top_kw),
            "shortfall_cost_per_kwh": self.shortfall_cost_per_kwh
            * (self.demand_mean_kwh + 10 * self.demand_sd_kwh),
        }

    @cached_property
    def worst_episode_cost(self) -> float:
        """An upper bound of one episode's cost: the worst charging bill plus the largest
        shortfall cost (demand up to 10 standard deviations above its mean)."""
        return math.fsum(self._cost_terms().values())

    def _validate_costs(self, n_slots: int) -> dict[str, Any]:
        if self.cost_model not in COST_MODELS:
            raise reject("cost_model", self.cost_model, f"one of {list(COST_MODELS)}")
        efficiency = share("efficiency", self.efficiency, limits.MIN_EFFICIENCY)
        wear = non_negative_number("wear_cost_per_kw2h", self.wear_cost_per_kw2h)
        shortfall = non_negative_number("shortfall_cost_per_kwh", self.shortfall_cost_per_kwh)
        forecast = integer("forecast_slots", self.forecast_slots, 0)
        check_limit("forecast_slots", forecast, n_slots, "n_slots")
        check_limit("price_profiles", len(self.price_profiles), limits.MAX_PROFILES, "rows")
        profiles = tuple(
            tuple(finite_number("price_profiles", p) for p in row) for row in self.price_profiles
        )
        physical = self.cost_model == "physical"
        if physical and not profiles:
            raise reject(
                "price_profiles",
                self.price_profiles,
                "at least one row of prices for cost_model='physical'",
            )
        if not physical and (profiles or forecast):
            raise reject("price_profiles", "given", "empty for cost_model='seed' (no prices)")
        for row in profiles:
            if len(row) != n_slots:
                raise reject(
                    "price_profiles",
                    f"a row of {len(row)} prices",
                    f"rows of n_slots={n_slots} prices",
                )
        labels = tuple(str(label) for label in self.profile_labels)
        if not labels:
            labels = tuple(str(i) for i in range(len(profiles)))
        if len(labels) != len(profiles):
            raise reject(
                "profile_labels", f"{len(labels)} labels", f"one per price row ({len(profiles)})"
            )
        return {
            "efficiency": efficiency,
            "wear_cost_per_kw2h": wear,
            "shortfall_cost_per_kwh": shortfall,
            "price_profiles": profiles,
            "profile_labels": labels,
            "forecast_slots": forecast,
            "currency": str(self.currency),
        }

    @cached_property
    def physical(self) -> bool:
        """True for the physical cost model (prices, wear, shortfall per kWh)."""
        return self.cost_model == "physical"

    @cached_property
    def v2g_physics(self) -> bool:
        """True when a slot needs the bidirectional physics (:func:`~smartcharging.sim.
        dynamics.move_slot`, export prices, cycle ageing): V2G, or any cycle-ageing cost.
        Every other configuration keeps the original charge-only step, bit for bit."""
        return self.v2g or self.degradation_cost_per_kwh > 0

    @cached_property
    def idle_action(self) -> int:
        """Index of the lowest non-negative power level (0 kW with V2G; action 0 without)."""
        return int(np.searchsorted(self.power_kw, 0.0))

    @cached_property
    def export_prices(self) -> np.ndarray:
        """What a kWh fed into the grid earns ``(n_profiles, n_slots)``: the feed-in tariff,
        or the slot's price minus the export fee; zeros without V2G."""
        return export_price_table(self, self.prices)

    def without_v2g(self) -> ChargingConfig:
        """The same vehicle with a charge-only charger (its non-negative levels): the
        baseline that the value of V2G is measured against. Cycle ageing is kept."""
        data = self.to_dict()
        data["power_levels_kw"] = [p for p in self.power_levels_kw if p >= 0]
        data.update(V2G_ONLY_DEFAULTS, v2g=False)
        return ChargingConfig(**data)

    @property
    def n_profiles(self) -> int:
        """Number of price rows (1 for the seed model, which has none)."""
        return max(len(self.price_profiles), 1)

    @cached_property
    def prices(self) -> np.ndarray:
        """Price table ``(n_profiles, n_slots)``; zeros for the seed model."""
        if not self.price_profiles:
            return np.zeros((1, self.n_slots))
        return np.asarray(self.price_profiles, dtype=np.float64)

    @cached_property
    def padded_prices(self) -> np.ndarray:
        """The price table followed by ``forecast_slots + 1`` zero columns (the prices an
        observation shows past departure); read-only."""
        padded = np.pad(self.prices, ((0, 0), (0, self.forecast_slots + 1)))
        padded.flags.writeable = False
        return padded

    @cached_property
    def cost_rates(self) -> np.ndarray:
        """The seed's cost per hour of each action's power, ``exp(kW)`` (index = action);
        zeros in the physical model, which prices energy instead."""
        if self.physical:
            return np.zeros(self.n_actions)
        return np.asarray(cost_rate(self.power_kw), dtype=np.float64)

    @cached_property
    def fixed_shortfall_penalty(self) -> float:
        """The fixed cost of running out: the seed's worst charging bill times the factor
        (``2 h * exp(22) * 10`` for the seed), 0 in the physical model."""
        if self.physical:
            return 0.0
        return shortfall_penalty(
            self.n_slots, self.slot_hours, float(self.cost_rates[-1]), self.penalty_factor
        )

    @cached_property
    def shortfall_cost_kwh(self) -> float:
        """The cost of each missing kWh at departure (physical model; 0 for the seed)."""
        return self.shortfall_cost_per_kwh if self.physical else 0.0

    @cached_property
    def slot_energy_kwh(self) -> np.ndarray:
        """Energy each action adds in a full slot (index = action)."""
        return self.power_kw * self.slot_hours

    def demand_quantile_kwh(self, quantile: float) -> float:
        """The ``quantile`` of the next-shift demand, clipped to ``[0, capacity]``."""
        if not 0 < quantile < 1:
            raise reject("quantile", quantile, "a number in (0, 1)")
        level = stats.norm(self.demand_mean_kwh, self.demand_sd_kwh).ppf(quantile)
        return float(np.clip(level, 0.0, self.capacity_kwh))

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> ChargingConfig:
        """Build a config, turning an unknown keyword into a :class:`ConfigError`."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ConfigError(
                f"unknown parameter {unknown[0]!r}: allowed parameters are {sorted(known)}"
            )
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view (JSON/YAML friendly) of every parameter."""
        data = asdict(self)
        data["power_levels_kw"] = list(self.power_levels_kw)
        data["price_profiles"] = [list(row) for row in self.price_profiles]
        data["profile_labels"] = list(self.profile_labels)
        return data

    @property
    def n_actions(self) -> int:
        return len(self.power_levels_kw)

    @property
    def n_start_levels(self) -> int:
        assert self.start_max_kwh is not None
        return round((self.start_max_kwh - self.start_min_kwh) / self.start_step_kwh) + 1

    @cached_property
    def start_levels_kwh(self) -> np.ndarray:
        """Every possible arrival level, each with probability ``1 / n_start_levels``."""
        return self.start_min_kwh + np.arange(self.n_start_levels) * self.start_step_kwh

    @cached_property
    def power_kw(self) -> np.ndarray:
        """Power of each action as a float64 array (index = action)."""
        return np.asarray(self.power_levels_kw, dtype=np.float64)
