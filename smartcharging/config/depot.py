"""Validated parameters of a depot: chargers, a shared grid connection, prices, a fleet.

Each charger hosts one vehicle per episode. Vehicle ``i`` arrives in a slot drawn uniformly
from ``arrival_slots[i]`` (inclusive range), leaves at the start of a slot drawn from
``departure_slots[i]``, arrives with a level drawn uniformly from its start range, and its
next shift needs Normal(``demand_mean_kwh[i]``, ``demand_sd_kwh[i]``) kWh. A schedule table
is the special case of ranges of one value.

A depot of **session days** (``sessions``, :mod:`smartcharging.config.sessions`) replays
real charging sessions instead: each episode is one day, each charger a station that hosts
that day's sessions one after another, and the price row is the day's own. Its per-vehicle
fleet fields are then derived envelopes (pass them empty): each station's largest request as
capacity and expected demand, any slot as arrival and departure range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats

from smartcharging.config import limits
from smartcharging.config.limits import check_limit, check_minimum
from smartcharging.config.sessions import NEED_SD_KWH, SessionDays, session_days
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

ALLOCATION_RULES = ("proportional", "priority")


def _vector(name: str, values: Any, n: int, check: Any) -> tuple[float, ...]:
    items = tuple(values)
    if len(items) != n:
        raise ConfigError(
            f"invalid parameter {name}: {len(items)} values, must be one per vehicle ({n})"
        )
    return tuple(check(name, v) for v in items)


@dataclass(frozen=True)
class DepotConfig:
    """Static parameters of a depot (see the module docstring for the fleet's draws).

    Attributes:
        n_chargers: chargers, each hosting one vehicle per episode.
        power_levels_kw: power of each charger action (battery side), increasing.
        grid_limit_kw: the site's grid connection; chargers never draw more (plus PV).
        allocation: how requests above the limit are cut: ``"proportional"`` (every
            request scaled by the same factor) or ``"priority"`` (earliest departure first,
            the last served vehicle gets the remainder).
        slot_hours, n_slots, arrival_hour: the slots of the episode and the clock time of
            slot 0.
        capacity_kwh, demand_mean_kwh, demand_sd_kwh: per vehicle.
        arrival_slots, departure_slots: per vehicle, (low, high) inclusive slot ranges.
        start_kwh, start_step_kwh: per vehicle (low, high) arrival levels; their spacing.
        efficiency, wear_cost_per_kw2h, shortfall_cost_per_kwh: as for one vehicle.
        price_profiles, profile_labels, forecast_slots, currency: prices per slot, one row
            drawn per episode.
        pv_kw: on-site solar power per slot (offsets grid draw); empty for none.
        demand_charge_per_kw: charged on the episode's peak grid power.
        v2g, discharge_efficiency, reserve_kwh: vehicle-to-grid, as for one vehicle
            (:mod:`smartcharging.config.v2g`); the reserve holds for every vehicle.
        export_fee_per_kwh, export_tariff_per_kwh: what an exported kWh earns.
        degradation_cost_per_kwh, residual_value_per_kwh: cycle ageing; energy left.
        export_limit_kw: the most the chargers may discharge together (site side); the
            grid limit when not given.
        sessions: session days replayed instead of drawn vehicles (module docstring), or
            None.
    """

    n_chargers: int
    power_levels_kw: tuple[float, ...]
    grid_limit_kw: float
    slot_hours: float
    n_slots: int
    capacity_kwh: tuple[float, ...]
    arrival_slots: tuple[tuple[int, int], ...]
    departure_slots: tuple[tuple[int, int], ...]
    start_kwh: tuple[tuple[float, float], ...]
    demand_mean_kwh: tuple[float, ...]
    demand_sd_kwh: tuple[float, ...]
    price_profiles: tuple[tuple[float, ...], ...]
    start_step_kwh: float = 1.0
    allocation: str = "proportional"
    arrival_hour: float = 0.0
    efficiency: float = 1.0
    wear_cost_per_kw2h: float = 0.0
    shortfall_cost_per_kwh: float = 0.0
    profile_labels: tuple[str, ...] = ()
    forecast_slots: int = 0
    currency: str = ""
    pv_kw: tuple[float, ...] = ()
    demand_charge_per_kw: float = 0.0
    v2g: bool = False
    discharge_efficiency: float = 1.0
    reserve_kwh: float = 0.0
    export_limit_kw: float | None = None
    export_fee_per_kwh: float = 0.0
    export_tariff_per_kwh: float | None = None
    degradation_cost_per_kwh: float = 0.0
    residual_value_per_kwh: float = 0.0
    sessions: SessionDays | None = None  # a mapping of its fields is accepted too

    def __post_init__(self) -> None:
        if self.sessions is not None:
            self._derive_session_fleet()
        n = integer("n_chargers", self.n_chargers, 1)
        check_limit("n_chargers", n, limits.MAX_CHARGERS)
        slots = integer("n_slots", self.n_slots, 1)
        check_limit("n_slots", slots, limits.MAX_SLOTS)
        check_limit("n_slots", n * slots, limits.MAX_CHARGER_SLOTS, "times n_chargers")
        if self.allocation not in ALLOCATION_RULES:
            raise ConfigError(
                f"invalid parameter allocation={self.allocation!r}: must be one "
                f"of {list(ALLOCATION_RULES)}"
            )
        values: dict[str, Any] = {
            "power_levels_kw": power_levels(self.power_levels_kw, v2g_flag(self.v2g)),
            "grid_limit_kw": positive_number("grid_limit_kw", self.grid_limit_kw),
            "slot_hours": positive_number("slot_hours", self.slot_hours),
            "capacity_kwh": _vector("capacity_kwh", self.capacity_kwh, n, positive_number),
            "demand_mean_kwh": _vector(
                "demand_mean_kwh", self.demand_mean_kwh, n, non_negative_number
            ),
            "demand_sd_kwh": _vector("demand_sd_kwh", self.demand_sd_kwh, n, positive_number),
            "start_step_kwh": positive_number("start_step_kwh", self.start_step_kwh),
            "arrival_hour": finite_number("arrival_hour", self.arrival_hour),
            "efficiency": share("efficiency", self.efficiency, limits.MIN_EFFICIENCY),
            "wear_cost_per_kw2h": non_negative_number(
                "wear_cost_per_kw2h", self.wear_cost_per_kw2h
            ),
            "shortfall_cost_per_kwh": non_negative_number(
                "shortfall_cost_per_kwh", self.shortfall_cost_per_kwh
            ),
            "demand_charge_per_kw": non_negative_number(
                "demand_charge_per_kw", self.demand_charge_per_kw
            ),
            "pv_kw": tuple(non_negative_number("pv_kw", p) for p in self.pv_kw),
            "currency": str(self.currency),
        }
        if values["pv_kw"] and len(values["pv_kw"]) != slots:
            raise ConfigError(
                f"invalid parameter pv_kw: {len(values['pv_kw'])} values, must be "
                f"one per slot ({slots}) or none"
            )
        check_limit("power_levels_kw", len(values["power_levels_kw"]), limits.MAX_ACTIONS)
        check_limit("grid_limit_kw", values["grid_limit_kw"], limits.MAX_POWER_KW, "kW")
        top_kw = max(abs(p) for p in values["power_levels_kw"])
        check_limit("power_levels_kw", top_kw, limits.MAX_POWER_KW, "kW in magnitude")
        check_limit("capacity_kwh", max(values["capacity_kwh"]), limits.MAX_ENERGY_KWH, "kWh")
        check_limit("slot_hours", values["slot_hours"], limits.MAX_SLOT_HOURS, "hours")
        for name in ("demand_mean_kwh", "demand_sd_kwh"):
            check_limit(name, max(values[name]), limits.MAX_ENERGY_KWH, "kWh")
        check_minimum("demand_sd_kwh", min(values["demand_sd_kwh"]), limits.MIN_DEMAND_SD_KWH)
        if self.sessions is None:
            values.update(self._schedule(n, slots, values["capacity_kwh"]))
        values.update(self._prices(slots))
        values.update(
            v2g_fields(self, values["power_levels_kw"], min(values["capacity_kwh"]), True)
        )
        values["export_limit_kw"] = self._export_limit(values)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        self._check_costs_are_finite()

    def _derive_session_fleet(self) -> None:
        """Check the session days and set the fleet fields they imply (class docstring)."""
        days = session_days(self.sessions)  # type: ignore[arg-type]
        slots = integer("n_slots", self.n_slots, 1)
        days.check(slots)
        n = len(days.stations)
        if self.n_chargers != n:
            raise reject("n_chargers", self.n_chargers, f"{n}, one per station of the sessions")
        for name in SESSION_DERIVED:
            if tuple(getattr(self, name)):
                raise reject(name, getattr(self, name), "empty with sessions (derived from them)")
        if v2g_flag(self.v2g):
            raise reject("v2g", self.v2g, "False with sessions (drivers' cars do not discharge)")
        if len(self.price_profiles) != days.n_days:
            raise reject(
                "price_profiles",
                f"{len(self.price_profiles)} rows",
                f"one row per session day ({days.n_days})",
            )
        largest = tuple(float(v) for v in np.maximum(days.station_maximum("requested_kwh"), 1e-3))
        derived = {
            "sessions": days,
            "capacity_kwh": largest,
            "demand_mean_kwh": largest,
            "demand_sd_kwh": (NEED_SD_KWH,) * n,
            "arrival_slots": ((0, slots - 1),) * n,
            "departure_slots": ((1, slots),) * n,
            "start_kwh": ((0.0, 0.0),) * n,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def _export_limit(self, values: dict[str, Any]) -> float | None:
        """The export limit: given only with V2G, the grid limit by default."""
        if self.export_limit_kw is None:
            return values["grid_limit_kw"] if values["v2g"] else None
        if not values["v2g"]:
            raise reject("export_limit_kw", self.export_limit_kw, "None unless v2g=True")
        limit = positive_number("export_limit_kw", self.export_limit_kw)
        if limit > values["grid_limit_kw"]:
            raise reject(
                "export_limit_kw",
                self.export_limit_kw,
                f"<= grid_limit_kw={values['grid_limit_kw']} (the connection limits both ways)",
            )
        return limit

    def _check_costs_are_finite(self) -> None:
        """Refuse a depot whose prices or costs per unit exceed ``MAX_DEPOT_RATE`` (its
        linear programs would pass HiGHS an infinite coefficient) or whose worst episode
        costs more than ``MAX_COST``, naming the parameter behind the largest term, so that
        no sum or expectation overflows."""
        top_kw = self.n_chargers * max(self.power_levels_kw[-1], -self.power_levels_kw[0])
        top_kw /= self.efficiency
        hours = self.n_slots * self.slot_hours
        demand = np.asarray(self.demand_mean_kwh) + 10 * np.asarray(self.demand_sd_kwh)
        if self.sessions is not None:
            demand = np.array([self.sessions.most_needed_in_a_day()])
        terms = {
            "price_profiles": hours * top_kw * float(np.abs(self.prices).max()),
            "wear_cost_per_kw2h": hours * self.wear_cost_per_kw2h * top_kw * top_kw,
            "demand_charge_per_kw": self.demand_charge_per_kw * top_kw,
            "shortfall_cost_per_kwh": self.shortfall_cost_per_kwh * float(demand.sum()),
            **v2g_cost_terms(self, hours, top_kw),
        }
        rates = {
            "price_profiles": float(np.abs(self.prices).max()),
            "wear_cost_per_kw2h": self.wear_cost_per_kw2h,
            "demand_charge_per_kw": self.demand_charge_per_kw,
            "shortfall_cost_per_kwh": self.shortfall_cost_per_kwh,
            "degradation_cost_per_kwh": self.degradation_cost_per_kwh,
            "residual_value_per_kwh": self.residual_value_per_kwh,
            "export_fee_per_kwh": abs(self.export_fee_per_kwh),
            "export_tariff_per_kwh": abs(self.export_tariff_per_kwh or 0.0),
        }
        for name, rate in rates.items():
            check_limit(name, rate, limits.MAX_DEPOT_RATE, "in magnitude, per unit")
        if not math.fsum(terms.values()) <= limits.MAX_COST:
            name = max(terms, key=lambda key: terms[key])
            raise reject(
                name, "too large", f"such that one episode costs at most {limits.MAX_COST:g}"
            )

    def _schedule(self, n: int, slots: int, capacity: tuple[float, ...]) -> dict[str, Any]:
        arrivals = tuple(tuple(int(v) for v in pair) for pair in self.arrival_slots)
        departures = tuple(tuple(int(v) for v in pair) for pair in self.departure_slots)
        starts = tuple(tuple(float(v) for v in pair) for pair in self.start_kwh)
        for name, ranges in (
            ("arrival_slots", arrivals),
            ("departure_slots", departures),
            ("start_kwh", starts),
        ):
            if len(ranges) != n:
                raise ConfigError(
                    f"invalid parameter {name}: {len(ranges)} vehicles for {n} chargers: each "
                    "charger hosts one vehicle per episode (queueing is not modelled)"
                )
            if any(len(pair) != 2 or pair[0] > pair[1] for pair in ranges):
                raise ConfigError(
                    f"invalid parameter {name}={ranges!r}: must be (low, high) "
                    "pairs with low <= high"
                )
        for i, ((a_lo, a_hi), (d_lo, d_hi)) in enumerate(zip(arrivals, departures, strict=True)):
            if a_lo < 0 or d_hi > slots:
                raise ConfigError(
                    f"invalid schedule of vehicle {i}: arrival {a_lo}..{a_hi}, departure "
                    f"{d_lo}..{d_hi}: slots must lie in 0..{slots}"
                )
            if d_lo <= a_hi:
                raise ConfigError(
                    f"invalid schedule of vehicle {i}: departure slot {d_lo} is not after "
                    f"arrival slot {a_hi}"
                )
        for i, (low, high) in enumerate(starts):
            if not (low >= 0 and high <= capacity[i] and math.isfinite(high)):
                raise ConfigError(
                    f"invalid start_kwh of vehicle {i}: ({low}, {high}) must lie in "
                    f"[0, capacity {capacity[i]}]"
                )
        return {"arrival_slots": arrivals, "departure_slots": departures, "start_kwh": starts}

    def _prices(self, slots: int) -> dict[str, Any]:
        check_limit("price_profiles", len(self.price_profiles), limits.MAX_PROFILES, "rows")
        rows = tuple(
            tuple(finite_number("price_profiles", p) for p in row) for row in self.price_profiles
        )
        if not rows:
            raise ConfigError(
                "invalid parameter price_profiles=(): must hold at least one row "
                "of prices (an empty price series)"
            )
        if any(len(row) != slots for row in rows):
            raise ConfigError(
                f"invalid parameter price_profiles: rows must hold n_slots={slots} prices"
            )
        labels = tuple(self.profile_labels) or tuple(str(i) for i in range(len(rows)))
        if len(labels) != len(rows):
            raise ConfigError("invalid parameter profile_labels: must be one per price row")
        forecast = integer("forecast_slots", self.forecast_slots, 0)
        return {"price_profiles": rows, "profile_labels": labels, "forecast_slots": forecast}

    @property
    def n_actions(self) -> int:
        return len(self.power_levels_kw)

    @property
    def n_profiles(self) -> int:
        return len(self.price_profiles)

    @cached_property
    def prices(self) -> np.ndarray:
        return np.asarray(self.price_profiles, dtype=np.float64)

    @cached_property
    def capacity(self) -> np.ndarray:
        """``capacity_kwh`` as an array (kWh per charger's vehicle)."""
        return np.asarray(self.capacity_kwh, dtype=np.float64)

    @cached_property
    def demand_sd(self) -> np.ndarray:
        """``demand_sd_kwh`` as an array."""
        return np.asarray(self.demand_sd_kwh, dtype=np.float64)

    @cached_property
    def price_scale(self) -> float:
        """The largest absolute price (1 if every price is 0): what scales prices to
        ``[-1, 1]``."""
        return float(np.abs(self.prices).max()) or 1.0

    @cached_property
    def export_prices(self) -> np.ndarray:
        """What a kWh exported earns ``(n_profiles, n_slots)``; zeros without V2G."""
        return export_price_table(self, self.prices)

    @cached_property
    def v2g_physics(self) -> bool:
        """True when a step needs the bidirectional physics: V2G, or any cycle-ageing cost.
        Every other depot keeps the original charge-only step, bit for bit."""
        return self.v2g or self.degradation_cost_per_kwh > 0

    @cached_property
    def idle_action(self) -> int:
        """Index of the lowest non-negative power level (0 kW with V2G; action 0 without)."""
        return int(np.searchsorted(self.power_kw, 0.0))

    @cached_property
    def pv(self) -> np.ndarray:
        """PV power per slot (kW), zeros without PV."""
        return np.asarray(self.pv_kw, dtype=np.float64) if self.pv_kw else np.zeros(self.n_slots)

    @cached_property
    def power_kw(self) -> np.ndarray:
        return np.asarray(self.power_levels_kw, dtype=np.float64)

    @cached_property
    def export_cap_kw(self) -> float:
        """The most the chargers may discharge together (site side): the export limit with
        V2G, 0 without."""
        return self.export_limit_kw if self.export_limit_kw is not None else 0.0

    @cached_property
    def headroom_kw(self) -> np.ndarray:
        """What the chargers may draw per slot before any V2G supply: the grid limit plus PV."""
        return self.grid_limit_kw + self.pv

    @cached_property
    def slot_energy_kwh(self) -> np.ndarray:
        """Energy each action adds in a full slot (index = action)."""
        return self.power_kw * self.slot_hours

    def demand_quantile_kwh(self, quantile: float) -> np.ndarray:
        """The ``quantile`` of each vehicle's next-shift demand, clipped to its capacity."""
        if not 0 < quantile < 1:
            raise ConfigError(f"invalid parameter quantile={quantile!r}: must be in (0, 1)")
        level = np.asarray(self.demand_mean_kwh) + stats.norm.ppf(quantile) * np.asarray(
            self.demand_sd_kwh
        )
        return np.minimum(level, np.asarray(self.capacity_kwh))

    def without_v2g(self) -> DepotConfig:
        """The same depot with charge-only chargers (its non-negative levels): the baseline
        that the value of V2G is measured against. Cycle ageing and the credit for the
        energy left are kept."""
        data = self.to_dict()
        data["power_levels_kw"] = tuple(p for p in self.power_levels_kw if p >= 0)
        data.update(V2G_ONLY_DEFAULTS, v2g=False, export_limit_kw=None)
        return DepotConfig(**data)

    def to_dict(self) -> dict[str, Any]:
        """The fields, such that ``DepotConfig(**to_dict())`` rebuilds the depot (session
        days as plain lists, the fleet fields they imply left out)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        if self.sessions is not None:
            data["sessions"] = self.sessions.to_dict()
            for name in SESSION_DERIVED:
                data[name] = ()
        return data


#: The fleet fields a depot of session days derives from them.
SESSION_DERIVED = (
    "capacity_kwh",
    "arrival_slots",
    "departure_slots",
    "start_kwh",
    "demand_mean_kwh",
    "demand_sd_kwh",
)
