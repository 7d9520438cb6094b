"""Depot policies that plan: the Lagrangian decomposition and model-predictive control.

Both read the depot observation (layout in :mod:`smartcharging.sim.depot`) and
need the episode's price row beyond the observed forecast: they take the row of the
configuration whose prices match the observed window (day-ahead prices are published the
day before, time-of-use tariffs are fixed), as the bound assumes them known too.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from smartcharging.config.depot import DepotConfig
from smartcharging.config.sessions import NEED_SD_KWH
from smartcharging.policies.depot import DepotPolicy, depot_baselines
from smartcharging.policies.stay_hedge import SESSION_STAY_SHARE, StayHedge
from smartcharging.sim import dynamics
from smartcharging.sim.site import site_slot
from smartcharging.solvers.depot.lagrangian import (
    expected_site_prices,
    fleet_vehicle,
    sample_episodes,
    vehicle_config,
)
from smartcharging.solvers.depot.plan import (
    PLAN_METHODS,
    PlanVehicles,
    needs_bidirectional,
    solve_plan,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, solve


def profile_of(config: DepotConfig, observations: np.ndarray) -> np.ndarray:
    """The price row of each depot: the one closest to the observed prices (now and the
    forecast) at the observed time step."""
    n, width = config.n_chargers, config.forecast_slots + 1
    if config.n_profiles == 1:
        return np.zeros(len(observations), dtype=np.int64)
    seen = observations[:, 4 * n + 1 : 4 * n + 1 + width].astype(np.float64)
    time_step = observations[:, 4 * n].astype(np.int64)
    padded = np.pad(config.prices, ((0, 0), (0, width + 1)))
    window = np.minimum(time_step, config.n_slots)[:, None] + np.arange(width)
    rows = padded[:, window]  # (profiles, depots, width)
    distance = ((rows - seen[None, :, :]) ** 2).sum(axis=2)
    return distance.argmin(axis=0).astype(np.int64)


class LagrangianDecomposition(DepotPolicy):
    """Every vehicle follows its own exact optimal policy (backward induction on the charger
    levels) at the site's prices: one price per slot and price row, the multipliers that
    minimise the Lagrangian bound averaged over ``samples`` schedule draws (so they do not
    depend on the episode's schedule). With V2G each vehicle may discharge, a kWh supplied
    earning the site price (its own optimum with reserve, ageing and the energy left). The
    allocation keeps each slot feasible. Table look-ups at run time; tables are built per
    price row when it first occurs. On session days each session gets its policy for its
    stated request and departure when it first occurs, at the day's own prices, planned for
    ``stay_share`` of the stay its driver stated (:mod:`smartcharging.policies.stay_hedge`;
    None: the share chosen on training days)."""

    name = "lagrangian"

    def __init__(
        self,
        config: DepotConfig,
        samples: int = 8,
        seed: int = 0,
        stay_share: float | None = None,
    ) -> None:
        super().__init__(config)
        self.hedge = StayHedge(default_stay_share(config, stay_share))
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise ValueError(f"invalid samples={samples!r}: must be an integer >= 1")
        self._episodes = (
            [] if config.sessions is not None else sample_episodes(config, samples, seed)
        )
        kinds = [fleet_vehicle(config, i) for i in range(self.n)]
        self._kinds = kinds
        unique = sorted(set(kinds))
        self._kind = np.array([unique.index(k) for k in kinds])
        self._representative = [kinds.index(k) for k in unique]
        self._first_departure = min(pair[0] for pair in config.departure_slots)
        self._departures = range(
            self._first_departure, max(pair[1] for pair in config.departure_slots) + 1
        )
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._session_tables: dict[tuple[int, float, int], tuple[np.ndarray, float]] = {}
        self.site_prices: dict[int, np.ndarray] = {}

    def _table(self, profile: int) -> tuple[np.ndarray, np.ndarray]:
        """Actions ``[kind, departure, t, level]`` at price row ``profile``, and each kind's
        grid step."""
        if profile in self._tables:
            return self._tables[profile]
        cfg = self.config
        prices = self._prices(profile)
        solutions = [
            [solve(vehicle_config(cfg, self._kinds[i], d, prices)) for d in self._departures]
            for i in self._representative
        ]
        size = max(s.grid.size for row in solutions for s in row)
        table = np.zeros((len(solutions), len(self._departures), cfg.n_slots, size), np.int8)
        steps = np.array([row[0].grid.step_kwh for row in solutions])
        for kind, row in enumerate(solutions):
            for j, solution in enumerate(row):
                policy = solution.policy
                table[kind, j, : policy.shape[0], : policy.shape[1]] = policy
        self._tables[profile] = (table, steps)
        return table, steps

    def _prices(self, profile: int) -> np.ndarray:
        """The site prices of price row ``profile``, fitted once. On session days they are
        the day's own prices: fitting them on sampled days would fit them on the very
        sessions being scored, whose outcomes no controller may know."""
        if profile not in self.site_prices:
            if self.config.sessions is not None:
                prices = np.maximum(self.config.prices[profile], 0.0)
            else:
                prices = expected_site_prices(self.config, profile, self._episodes)
            self.site_prices[profile] = prices
        return self.site_prices[profile]

    def _session_policy(
        self, profile: int, requested: float, departure: int
    ) -> tuple[np.ndarray, float]:
        """The exact policy ``[t, level]`` of a session that asked for ``requested`` kWh and
        is expected to leave at ``departure``, at the site prices of ``profile``, and its
        grid step. Solved when such a session first occurs."""
        key = (profile, round(requested, 9), departure)
        if key not in self._session_tables:
            vehicle = (requested, 0.0, requested, NEED_SD_KWH)
            solution = solve(vehicle_config(self.config, vehicle, departure, self._prices(profile)))
            self._session_tables[key] = (solution.policy, solution.grid.step_kwh)
        return self._session_tables[key]

    def _last_slot_action(self, battery_kwh: float, requested_kwh: float, price: float) -> int:
        """The level that minimises a session's cost of its last slot: the energy at the
        site price, the wear, and the expected shortfall of its request when it leaves."""
        cfg = self.config
        after, energy, hours = dynamics.charge_slot(
            battery_kwh, cfg.power_kw, requested_kwh, cfg.slot_hours
        )
        wear = dynamics.wear_cost(cfg.power_kw, hours, cfg.wear_cost_per_kw2h)
        missing = normal_shortfall(after, requested_kwh, NEED_SD_KWH)[1]
        cost = price * energy / cfg.efficiency + wear + cfg.shortfall_cost_per_kwh * missing
        return int(np.argmin(cost))

    def _session_actions(self, observations: np.ndarray) -> np.ndarray:
        """:meth:`actions` on session days: each present session follows its own exact
        policy for what it stated at arrival (request and estimated departure)."""
        cfg = self.config
        present, battery, slots_left, _ = self._split(observations)
        requested = observations[:, self.layout.expected_demand].astype(np.float64)
        time_step = np.minimum(observations[:, self.layout.time].astype(np.int64), cfg.n_slots - 1)
        slots_left = self.hedge.slots_left(present, slots_left, requested, time_step)
        profiles = profile_of(cfg, observations)
        out = np.full(present.shape, cfg.idle_action, dtype=np.int64)
        for row, lane in zip(*np.nonzero(present), strict=True):
            t = int(time_step[row])
            departure = min(t + max(int(slots_left[row, lane]), 1), cfg.n_slots)
            if departure == t + 1:  # the last slot (or overdue): the backward induction's
                # last stage, without solving it for a horizon ending now
                out[row, lane] = self._last_slot_action(
                    float(battery[row, lane]),
                    float(requested[row, lane]),
                    float(self._prices(int(profiles[row]))[t]),
                )
                continue
            policy, step = self._session_policy(
                int(profiles[row]), float(requested[row, lane]), departure
            )
            level = min(max(int(np.rint(battery[row, lane] / step)), 0), policy.shape[1] - 1)
            out[row, lane] = policy[t, level]
        return out

    def actions(self, observations: np.ndarray) -> np.ndarray:
        if self.config.sessions is not None:
            return self._session_actions(observations)
        present, battery, slots_left, _ = self._split(observations)
        n = self.n
        time_step = observations[:, 4 * n].astype(np.int64)
        profiles = profile_of(self.config, observations)
        idle = self.config.idle_action
        out = np.full(present.shape, idle, dtype=np.int64)
        for profile in np.unique(profiles):
            rows = profiles == profile
            table, steps = self._table(int(profile))
            t = np.minimum(time_step[rows], self.config.n_slots - 1)[:, None]
            departure = np.clip(
                t + slots_left[rows].astype(np.int64) - self._first_departure,
                0,
                len(self._departures) - 1,
            )
            level = np.clip(
                np.rint(battery[rows] / steps[self._kind][None, :]).astype(np.int64),
                0,
                table.shape[3] - 1,
            )
            chosen = table[self._kind[None, :], departure, t, level]
            out[rows] = np.where(present[rows], chosen, idle)
        return out


class MPCPolicy(DepotPolicy):
    """Model-predictive control: every slot, the expected-cost plan
    (:func:`smartcharging.solvers.depot.plan.solve_plan`, HiGHS) for the vehicles present over the
    next ``horizon`` slots (None: until the last of them leaves), of which the first slot is
    applied (with V2G, discharging where the plan discharges: the plan prices exports,
    the export limit, the reserve, ageing and the energy left). ``method="lp"`` rounds each
    planned power to the nearest charger level;
    ``"milp"`` chooses levels in the first slot exactly. When a solve fails (no optimum
    within ``time_limit_s``, or an error) the depot takes the ``fallback`` baseline's
    actions for that slot; :meth:`stats` counts solves, failures and solve times.

    With ``forecast_arrivals`` the plan also holds a charger's vehicle that has not arrived
    yet (absent before the end of its arrival range): it arrives in the middle of the
    arrival slots still possible, with the middle of its arrival levels, and leaves in the
    middle of its departure range, so that the plan keeps grid capacity for it.

    The past peak is not in the observation, so the demand charge is planned on the
    remaining slots' peak alone (conservative when an earlier peak was higher), unless
    ``past_peak``: then the policy keeps, per depot, the peak import its own actions caused
    since the episode's first slot (estimated from the actions, the batteries and the
    site's limits), and plans the demand charge on the peak above it. None turns it on for
    depots with V2G, cycle ageing or an energy-left credit, where discharging trades
    against the peak, and leaves charge-only depots as they were.

    On session days the plan holds the sessions present only (arrivals are not forecast),
    each with its request as capacity and need, leaving after ``stay_share`` of the stay
    its driver stated (:mod:`smartcharging.policies.stay_hedge`; None: the share chosen on
    training days)."""

    name = "mpc"

    def __init__(
        self,
        config: DepotConfig,
        horizon: int | None = None,
        method: str = "lp",
        fallback: str = "earliest-deadline-first",
        time_limit_s: float = 2.0,
        forecast_arrivals: bool = True,
        past_peak: bool | None = None,
        stay_share: float | None = None,
    ) -> None:
        super().__init__(config)
        self.hedge = StayHedge(default_stay_share(config, stay_share))
        if horizon is not None and (
            isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1
        ):
            raise ValueError(f"invalid horizon={horizon!r}: must be an integer >= 1 or None")
        if method not in PLAN_METHODS:
            raise ValueError(f"invalid method={method!r}: must be one of {list(PLAN_METHODS)}")
        baselines = depot_baselines(config)
        if fallback not in baselines:
            raise ValueError(f"invalid fallback={fallback!r}: must be one of {list(baselines)}")
        if not time_limit_s > 0:
            raise ValueError(f"invalid time_limit_s={time_limit_s!r}: must be > 0")
        self.horizon = horizon
        self.method = method
        self.fallback = baselines[fallback]
        self.time_limit_s = float(time_limit_s)
        self.forecast_arrivals = bool(forecast_arrivals) and config.sessions is None
        self.past_peak = needs_bidirectional(config) if past_peak is None else bool(past_peak)
        self._peaks = np.zeros(0)
        self._arrival_high = np.array([pair[1] for pair in config.arrival_slots])
        self._departure_mid = np.array([sum(pair) / 2 for pair in config.departure_slots])
        self._start_mid = np.array([sum(pair) / 2 for pair in config.start_kwh])
        if method == "milp":
            self.name = "mpc-milp"
        self.reset_stats()

    def reset_stats(self) -> None:
        self._solve_seconds: list[float] = []
        self._failures = 0

    def stats(self) -> dict[str, Any]:
        """Solves, failed solves (fallback used) and solve time per step, since the last
        :meth:`reset_stats`."""
        seconds = np.asarray(self._solve_seconds)
        return {
            "solves": len(seconds),
            "failed_solves": self._failures,
            "fallback": self.fallback.name,
            "mean_solve_ms": float(seconds.mean() * 1e3) if len(seconds) else 0.0,
            "max_solve_ms": float(seconds.max() * 1e3) if len(seconds) else 0.0,
        }

    def actions(self, observations: np.ndarray) -> np.ndarray:
        cfg = self.config
        present, battery, slots_left, _ = self._split(observations)
        requested = observations[:, self.layout.expected_demand].astype(np.float64)
        sessions = cfg.sessions is not None
        time_step = observations[:, 4 * self.n].astype(np.int64)
        if sessions:
            slots_left = self.hedge.slots_left(present, slots_left, requested, time_step)
        profiles = profile_of(cfg, observations)
        out = np.full(present.shape, cfg.idle_action, dtype=np.int64)
        if len(self._peaks) != len(observations):
            self._peaks = np.zeros(len(observations))
        self._peaks[time_step == 0] = 0.0
        for row in range(len(observations)):
            if not present[row].any():
                continue
            start = time.perf_counter()
            try:
                chosen = self._plan(
                    present[row],
                    battery[row],
                    slots_left[row],
                    int(time_step[row]),
                    profiles[row],
                    float(self._peaks[row]) if self.past_peak else 0.0,
                    requested[row] if sessions else None,
                )
            except (ValueError, RuntimeError, np.linalg.LinAlgError):
                chosen = None
            self._solve_seconds.append(time.perf_counter() - start)
            if chosen is None:
                self._failures += 1
                out[row] = self.fallback.actions(observations[row : row + 1])[0]
            else:
                out[row] = chosen
            if self.past_peak:
                grid_kw = estimated_import_kw(
                    cfg,
                    out[row],
                    present[row],
                    battery[row],
                    slots_left[row],
                    int(time_step[row]),
                    vehicle_beliefs(cfg, requested[row] if sessions else None)[0],
                )
                self._peaks[row] = max(self._peaks[row], grid_kw)
        return out

    def _plan(
        self,
        present: np.ndarray,
        battery: np.ndarray,
        slots_left: np.ndarray,
        time_step: int,
        profile: int,
        peak_kw: float = 0.0,
        requested: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Actions of one depot from its plan, or None if the plan failed. ``requested``:
        on a session day, each present vehicle's request (its capacity and expected need)."""
        cfg = self.config
        capacity, mean, sd = vehicle_beliefs(cfg, requested)
        here = np.flatnonzero(present)
        first = np.zeros(self.n, dtype=np.int64)
        left = slots_left.astype(np.int64)
        level = battery.copy()
        if self.forecast_arrivals:
            coming = np.flatnonzero(~present & (self._arrival_high > time_step))
            first[coming] = np.rint((time_step + 1 + self._arrival_high[coming]) / 2) - time_step
            left[coming] = np.rint(self._departure_mid[coming]).astype(np.int64) - time_step
            level[coming] = self._start_mid[coming]
            here = np.union1d(here, coming)
        left = left[here]
        length = int(left.max()) if self.horizon is None else min(self.horizon, int(left.max()))
        length = min(length, cfg.n_slots - time_step)
        last = np.minimum(left, length)
        top = float(cfg.slot_energy_kwh[-1])
        vehicles = PlanVehicles(
            battery_kwh=level[here],
            capacity_kwh=capacity[here],
            demand_mean_kwh=mean[here],
            demand_sd_kwh=sd[here],
            first=first[here],
            last=last,
            extra_kwh=top * (left - last),
        )
        window = slice(time_step, time_step + length)
        plan = solve_plan(
            cfg,
            vehicles,
            cfg.prices[profile, window],
            cfg.pv[window],
            self.method,
            self.time_limit_s,
            peak_kw=peak_kw,
        )
        if plan is None:
            return None
        actions = np.full(self.n, cfg.idle_action, dtype=np.int64)
        if plan.first_levels is not None:
            actions[here] = plan.first_levels
        elif cfg.v2g:
            actions[here] = round_both_ways(plan.energy_kwh[:, 0] / cfg.slot_hours, cfg.power_kw)
        else:
            actions[here] = round_to_levels(plan.energy_kwh[:, 0] / cfg.slot_hours, cfg.power_kw)
        return np.where(present, actions, cfg.idle_action)


def default_stay_share(config: DepotConfig, stay_share: float | None) -> float:
    """``stay_share``, or by default :data:`~smartcharging.policies.stay_hedge.SESSION_STAY_SHARE`
    on session days (1 elsewhere, where it plays no part)."""
    if stay_share is not None:
        return stay_share
    return SESSION_STAY_SHARE if config.sessions is not None else 1.0


def vehicle_beliefs(
    config: DepotConfig, requested: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a planner knows of each charger's vehicle: capacity, demand mean and sd. A
    fleet's come from the configuration; on a session day the observed request is both the
    capacity and the expected need (known to the metering spread), as the driver stated."""
    if requested is None:
        return (
            np.asarray(config.capacity_kwh, dtype=np.float64),
            np.asarray(config.demand_mean_kwh, dtype=np.float64),
            np.asarray(config.demand_sd_kwh, dtype=np.float64),
        )
    request = np.maximum(np.asarray(requested, dtype=np.float64), 0.0)
    return request, request, np.full(len(request), NEED_SD_KWH)


def round_to_levels(power_kw: np.ndarray, levels_kw: np.ndarray) -> np.ndarray:
    """Charger levels (indices) for planned powers, keeping their total: each vehicle gets
    the level at or below its plan, then the vehicles closest to the level above move up
    while the planned total has room for at least half of the step. Rounding each power to
    its nearest level instead would turn a plan that spreads a little power over many
    vehicles (PV, a shared limit) into no charging at all."""
    low = np.clip(np.searchsorted(levels_kw, power_kw + 1e-9, side="right") - 1, 0, None)
    high = np.minimum(low + 1, len(levels_kw) - 1)
    step = levels_kw[high] - levels_kw[low]
    fraction = np.where(step > 0, (power_kw - levels_kw[low]) / np.maximum(step, 1e-12), 0.0)
    budget = float(power_kw.sum() - levels_kw[low].sum())
    chosen = low.copy()
    for j in np.argsort(-fraction, kind="stable"):
        if step[j] > 0 and budget >= 0.5 * step[j]:
            chosen[j] = high[j]
            budget -= step[j]
    return chosen


def estimated_import_kw(
    config: DepotConfig,
    actions: np.ndarray,
    present: np.ndarray,
    battery_kwh: np.ndarray,
    slots_left: np.ndarray,
    time_step: int,
    capacity_kwh: np.ndarray | None = None,
) -> float:
    """The grid import that ``actions`` cause in one depot's slot: the site's own step
    (:func:`smartcharging.sim.site.site_slot`) from the observed batteries (and
    capacities: the configuration's when not given)."""
    t = min(time_step, config.n_slots - 1)
    capacity = config.capacity_kwh if capacity_kwh is None else capacity_kwh
    flows = site_slot(
        config,
        (config.power_kw[actions] * present)[None, :],
        np.asarray(battery_kwh, dtype=np.float64)[None, :],
        np.asarray(capacity, dtype=np.float64)[None, :],
        config.pv[t : t + 1],
        np.zeros(1),
        np.zeros(1),
        (time_step + slots_left.astype(np.int64))[None, :],
    )
    return float(flows.grid_kw[0])


def round_both_ways(power_kw: np.ndarray, levels_kw: np.ndarray) -> np.ndarray:
    """:func:`round_to_levels` for bidirectional chargers (``levels_kw`` holds 0 kW):
    planned charging rounded among the charging levels, planned discharging among the
    discharging ones, each keeping its own total, so that a vehicle planned to idle or to
    charge a little never discharges."""
    idle = int(np.searchsorted(levels_kw, 0.0))
    up = levels_kw[idle:]
    down = -levels_kw[idle::-1]
    charging = power_kw >= 0
    chosen = np.full(len(power_kw), idle, dtype=np.int64)
    chosen[charging] = idle + round_to_levels(power_kw[charging], up)
    chosen[~charging] = idle - round_to_levels(-power_kw[~charging], down)
    return chosen


def planning_policies(config: DepotConfig) -> dict[str, DepotPolicy]:
    """The planning policies with their defaults, keyed by name."""
    policies: list[DepotPolicy] = [LagrangianDecomposition(config), MPCPolicy(config)]
    return {policy.name: policy for policy in policies}


def depot_policy_names(config: DepotConfig) -> list[str]:
    """Names of every depot baseline and planning policy."""
    return [*depot_baselines(config), LagrangianDecomposition.name, MPCPolicy.name]


def depot_policy_by_name(name: str, config: DepotConfig) -> DepotPolicy:
    """The depot baseline or planning policy called ``name`` (only that one is built), or
    a ``ValueError`` listing them."""
    baselines = depot_baselines(config)
    planners: dict[str, type[DepotPolicy]] = {
        LagrangianDecomposition.name: LagrangianDecomposition,
        MPCPolicy.name: MPCPolicy,
    }
    if name in baselines:
        return baselines[name]
    if name in planners:
        return planners[name](config)
    names = ", ".join([*baselines, *planners])
    raise ValueError(f"--policy {name!r}: depot policies are {names}")
