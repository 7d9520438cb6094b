"""The depot's expected-cost charging plan, a linear program on HiGHS.

One program serves two callers: model-predictive control re-plans it every slot for the
vehicles present (:class:`smartcharging.policies.depot_planning.MPCPolicy`), and the
Lagrangian bound takes its duals as a first guess of the site's per-slot prices
(:mod:`smartcharging.solvers.depot.lagrangian`).

Over the planned slots the program chooses each vehicle's delivered energy per slot (any
amount up to full power: the site may cut requests to any fraction) and minimises

* the site's energy cost, ``price * grid energy`` with grid energy at least the chargers'
  draw minus PV, at most the grid limit;
* battery wear ``c * kW**2 * hours``, piecewise linear through the charger levels: each
  slot's energy is split into one segment per step between levels, priced at the chord
  slope of the wear (rising, so the segments fill in order); exact at every level, slightly
  above the true wear between them;
* the demand charge on the planned peak grid power;
* each vehicle's **expected shortfall cost** at departure,
  ``cost per kWh * E[(demand - battery)+]`` for its Normal demand: a convex function of the
  energy it leaves with, replaced by the maximum of its tangents at ``SHORTFALL_POINTS``
  demand quantiles (a piecewise-linear under-estimate, exact at those points).

The shortfall model is therefore an expectation, not a quantile target: the plan trades the
price of one more kWh against the probability that the shift needs it. The program is an
approximation; the Lagrangian bound takes only its duals as a starting point and evaluates
every bound exactly.

With ``method="milp"`` the first slot's energies are restricted to the charger levels
(binary choices), so the plan's first slot is directly an action; later slots stay
continuous. Vehicles that leave after the planning horizon are credited with full power in
their slots beyond it.

A depot with V2G, cycle ageing or a credit for the energy left is planned by
:mod:`smartcharging.solvers.depot.bidirectional_plan` (discharging, export prices and limit,
reserve, ageing and the credit), through the same :func:`solve_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from smartcharging.config.depot import DepotConfig
from smartcharging.solvers.depot.bidirectional_plan import (
    needs_bidirectional,
    solve_bidirectional_plan,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall

#: Demand quantiles (standard-normal z) at which the expected shortfall is linearised.
SHORTFALL_POINTS = np.linspace(-3.0, 4.0, 15)

PLAN_METHODS = ("lp", "milp")


@dataclass(frozen=True)
class PlanVehicles:
    """The vehicles a plan covers; slot offsets count from the plan's first slot.

    Attributes:
        battery_kwh: level at the plan's start (or at arrival, if it arrives later).
        capacity_kwh, demand_mean_kwh, demand_sd_kwh: per vehicle.
        first: first slot in which it can charge.
        last: slot after its last planned one (its departure, or the horizon's end).
        extra_kwh: energy it can still take after the horizon (0 if it leaves within).
    """

    battery_kwh: np.ndarray
    capacity_kwh: np.ndarray
    demand_mean_kwh: np.ndarray
    demand_sd_kwh: np.ndarray
    first: np.ndarray
    last: np.ndarray
    extra_kwh: np.ndarray

    @property
    def size(self) -> int:
        return len(self.battery_kwh)


@dataclass(frozen=True)
class Plan:
    """A solved plan: ``energy_kwh[vehicle, slot]`` delivered (negative: discharged), the
    duals of the site rows (``site_price[t]``: value of one more kWh of draw in slot ``t``;
    ``peak_price[t]``: the demand charge's weight on slot ``t``; with V2G ``sell_price[t]``:
    value of one more kWh supplied), and the first slot's chosen levels (milp)."""

    energy_kwh: np.ndarray
    site_price: np.ndarray
    peak_price: np.ndarray
    first_levels: np.ndarray | None
    objective: float
    sell_price: np.ndarray | None = None


def _check_method(method: str) -> str:
    if method not in PLAN_METHODS:
        raise ValueError(f"invalid method={method!r}: must be one of {list(PLAN_METHODS)}")
    return method


def solve_plan(
    config: DepotConfig,
    vehicles: PlanVehicles,
    prices: np.ndarray,
    pv_kw: np.ndarray,
    method: str = "lp",
    time_limit_s: float | None = None,
    site_scale: float = 1.0,
    peak_kw: float = 0.0,
) -> Plan | None:
    """Solve the plan over ``len(prices)`` slots; None if HiGHS finds no optimum.

    ``site_scale`` multiplies the grid limit and PV: a plan over several sampled fleets at
    once shares one site row per slot (used for the decomposition policy's prices).
    ``peak_kw`` is the peak import already reached: the demand charge is planned on the
    peak above it.
    """
    _check_method(method)
    if needs_bidirectional(config):
        both = solve_bidirectional_plan(
            config, vehicles, prices, pv_kw, method, time_limit_s, site_scale, peak_kw=peak_kw
        )
        if both is None:
            return None
        return Plan(
            energy_kwh=both.energy_kwh,
            site_price=both.site_price,
            peak_price=both.peak_price,
            first_levels=both.first_levels,
            objective=both.objective,
            sell_price=both.sell_price,
        )
    m, n_slots = vehicles.size, len(prices)
    h, eff = config.slot_hours, config.efficiency
    wear, dc = config.wear_cost_per_kw2h, config.demand_charge_per_kw
    short = config.shortfall_cost_per_kwh
    slot = np.arange(n_slots)
    window = (slot[None, :] >= vehicles.first[:, None]) & (slot[None, :] < vehicles.last[:, None])
    cells = np.flatnonzero(window.ravel())
    n_cells = len(cells)
    vehicle_of, slot_of = np.divmod(cells, n_slots)
    # Each cell's energy is split into one segment per step between charger levels, with
    # the chord slope of the wear c * e**2 / h on it: rising slopes, so segments fill in order.
    edges = np.concatenate([[0.0], config.power_kw[config.power_kw > 0]]) * h
    width = np.diff(edges)
    slope = wear / h * (edges[1:] + edges[:-1])
    k = len(width)
    first_cells = np.flatnonzero(slot_of == 0) if method == "milp" else np.zeros(0, np.intp)
    n_levels = len(config.power_kw)
    # Columns: energy segments, total energy and shortfall per vehicle, grid per slot, peak,
    # binaries.
    e0 = 0
    t0 = e0 + n_cells * k
    z0 = t0 + m
    g0 = z0 + m
    p0 = g0 + n_slots
    y0 = p0 + 1
    n_vars = y0 + len(first_cells) * n_levels
    cost = np.zeros(n_vars)
    low = np.zeros(n_vars)
    high = np.full(n_vars, np.inf)
    high[e0:t0] = np.tile(width, n_cells)
    cost[e0:t0] = np.tile(slope, n_cells)
    # capacity: a vehicle's total energy <= capacity - battery
    high[t0:z0] = np.maximum(vehicles.capacity_kwh - vehicles.battery_kwh, 0.0)
    cost[z0:g0] = 1.0
    cost[g0:p0] = prices
    high[g0:p0] = config.grid_limit_kw * h * site_scale
    cost[p0] = dc
    low[p0] = peak_kw
    high[y0:] = 1.0
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    n_rows = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, ub: np.ndarray, count: int) -> None:
        nonlocal n_rows
        rows.append(r + n_rows)
        cols.append(c)
        vals.append(v)
        upper.append(ub)
        n_rows += count

    segment = (e0 + k * np.arange(n_cells)[:, None] + np.arange(k)[None, :]).ravel()
    segment_vehicle = np.repeat(vehicle_of, k)
    segment_slot = np.repeat(slot_of, k)
    # total energy = sum of the vehicle's segments (equality rows, apart from the others)
    total = sparse.csr_array(
        (
            np.concatenate([np.ones(len(segment)), -np.ones(m)]),
            (
                np.concatenate([segment_vehicle, np.arange(m)]),
                np.concatenate([segment, t0 + np.arange(m)]),
            ),
        ),
        shape=(m, n_vars),
    )
    if short > 0:  # z >= tangents of short * E[(D - B)+], B = battery + extra + energies
        points = np.clip(
            vehicles.demand_mean_kwh[:, None]
            + vehicles.demand_sd_kwh[:, None] * SHORTFALL_POINTS[None, :],
            0.0,
            vehicles.capacity_kwh[:, None],
        )
        survival, missing = normal_shortfall(
            points, vehicles.demand_mean_kwh[:, None], vehicles.demand_sd_kwh[:, None]
        )
        start = (vehicles.battery_kwh + vehicles.extra_kwh)[:, None]
        bound = -short * missing - short * survival * points + short * survival * start
        for point in range(points.shape[1]):
            add(
                np.concatenate([np.arange(m), np.arange(m)]),
                np.concatenate([t0 + np.arange(m), z0 + np.arange(m)]),
                np.concatenate([-short * survival[:, point], -np.ones(m)]),
                bound[:, point],
                m,
            )
    site_row = n_rows
    add(  # draw - grid <= PV
        np.concatenate([segment_slot, slot]),
        np.concatenate([segment, g0 + slot]),
        np.concatenate([np.full(len(segment), 1.0 / eff), -np.ones(n_slots)]),
        np.asarray(pv_kw, dtype=np.float64) * h * site_scale,
        n_slots,
    )
    peak_row = n_rows
    if dc > 0:  # grid power <= peak
        add(
            np.concatenate([slot, slot]),
            np.concatenate([g0 + slot, np.full(n_slots, p0)]),
            np.concatenate([np.full(n_slots, 1.0 / h), -np.ones(n_slots)]),
            np.zeros(n_slots),
            n_slots,
        )
    integrality = np.zeros(n_vars)
    if len(first_cells):
        count = len(first_cells)
        choice = y0 + np.arange(count * n_levels)
        index = np.arange(count)
        slot_energy = np.tile(config.power_kw * h, count)
        first_segments = (e0 + k * first_cells[:, None] + np.arange(k)[None, :]).ravel()
        # energy <= chosen level's slot energy; one level per vehicle
        add(
            np.concatenate([np.repeat(index, k), np.repeat(index, n_levels)]),
            np.concatenate([first_segments, choice]),
            np.concatenate([np.ones(count * k), -slot_energy]),
            np.zeros(count),
            count,
        )
        add(np.repeat(index, n_levels), choice, np.ones(len(choice)), np.ones(count), count)
        integrality[y0:] = 1
    matrix = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_vars),
    )
    ub = np.concatenate(upper)
    options = {} if time_limit_s is None else {"time_limit": float(time_limit_s)}
    if method == "milp":
        result = optimize.milp(
            cost,
            constraints=[
                optimize.LinearConstraint(matrix, -np.inf, ub),
                optimize.LinearConstraint(total, 0.0, 0.0),
            ],
            integrality=integrality,
            bounds=optimize.Bounds(low, high),
            options=options,
        )
        if result.status != 0 or result.x is None:
            return None
        x = result.x
        site_price = np.zeros(n_slots)
        peak_price = np.zeros(n_slots)
        chosen = x[y0:].reshape(len(first_cells), n_levels).argmax(axis=1)
        first_levels = np.zeros(m, dtype=np.int64)
        first_levels[vehicle_of[first_cells]] = chosen
    else:
        result = optimize.linprog(
            cost,
            A_ub=matrix,
            b_ub=ub,
            A_eq=total,
            b_eq=np.zeros(m),
            bounds=np.column_stack([low, high]),
            method="highs",
            options=options,
        )
        if result.status != 0 or result.x is None:
            return None
        x = result.x
        marginals = -np.asarray(result.ineqlin.marginals)
        site_price = np.maximum(marginals[site_row : site_row + n_slots], 0.0)
        peak_price = (
            np.maximum(marginals[peak_row : peak_row + n_slots], 0.0)
            if dc > 0
            else np.zeros(n_slots)
        )
        first_levels = None
    energy = np.zeros(m * n_slots)
    energy[cells] = x[e0:t0].reshape(n_cells, k).sum(axis=1)
    return Plan(
        energy_kwh=energy.reshape(m, n_slots),
        site_price=site_price,
        peak_price=peak_price,
        first_levels=first_levels,
        objective=float(result.fun),
    )
