"""The depot's expected-cost plan with discharging (V2G), cycle ageing or an energy-left
credit: the linear program of :mod:`smartcharging.solvers.depot.plan` with both directions.

Each planned cell (vehicle, slot) charges ``e+`` and discharges ``e-`` (battery side), each
split into segments between the charger levels of its sign with the chord slope of the wear
``c * e**2 / h``, plus cycle ageing per kWh either way. The battery is a state per cell,
kept within ``[min(arrival level, reserve), capacity]``. At departure each vehicle pays the
expected shortfall cost net of the credit for the energy left,
``short * E[(D - B)+] - residual * E[(B - D)+]``, replaced by the maximum of its tangents
at ``SHORTFALL_POINTS`` demand quantiles. With ``method="milp"`` the first slot's energy
each way equals the chosen charger level's, so the level chosen is the level applied.

With the site (``prices`` given) the slot's flows balance as in the depot step:
``grid - export = draw - supply - PV used``, grid at most the limit, exports at most the
export limit and at most the V2G supply (PV beyond the site's use is curtailed), supply at
most the export limit; imports pay the price, exports earn the export price, the demand
charge is on the planned peak import. Without the site (``buy`` and ``sell`` given) every
vehicle faces those prices per kWh drawn and supplied, and the plan splits into one
program per vehicle (used to price energy in the Lagrangian bound).

Duals reported: ``site_price`` (one more kWh drawn in a slot), ``sell_price`` (one more kWh
supplied), ``peak_price`` and ``energy_value[vehicle, slot]``, what one more kWh in the
battery after that slot is worth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, sparse

from smartcharging.config.depot import DepotConfig
from smartcharging.config.v2g import export_price_terms
from smartcharging.solvers.vehicle.dp import normal_shortfall, normal_surplus

if TYPE_CHECKING:
    from smartcharging.solvers.depot.plan import PlanVehicles

#: Demand quantiles (standard-normal z) at which the departure cost is linearised.
SHORTFALL_POINTS = np.linspace(-3.0, 4.0, 15)


def needs_bidirectional(config: DepotConfig) -> bool:
    """Whether the plan and the bound need this module: V2G, cycle ageing, or a credit
    for the energy left (the charge-only plan ignores all three)."""
    return bool(config.v2g_physics or config.residual_value_per_kwh > 0)


def departure_cost(
    config: DepotConfig, battery_kwh: np.ndarray, mean: np.ndarray, sd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected departure cost ``short * E[(D - B)+] - residual * E[(B - D)+]`` and its
    slope in ``B`` (both broadcast), for Normal demands floored at zero."""
    survival, missing = normal_shortfall(battery_kwh, mean, sd)
    short, residual = config.shortfall_cost_per_kwh, config.residual_value_per_kwh
    cost = short * missing
    if residual:
        cost = cost - residual * normal_surplus(battery_kwh, mean, sd, missing)
    slope = -short * survival - residual * (1.0 - survival)
    return cost, slope


def _segments(levels_kw: np.ndarray, h: float, wear: float) -> tuple[np.ndarray, np.ndarray]:
    """Widths and chord wear slopes of the energy segments between ``0`` and the levels."""
    edges = np.concatenate([[0.0], np.sort(levels_kw)]) * h
    return np.diff(edges), wear / h * (edges[1:] + edges[:-1])


@dataclass(frozen=True)
class BidirectionalPlan:
    """A solved plan: energies per cell (``charge_kwh``, ``discharge_kwh`` battery side,
    ``energy_kwh`` their difference), the duals (see the module docstring), the first
    slot's chosen levels (milp) and the objective."""

    energy_kwh: np.ndarray
    charge_kwh: np.ndarray
    discharge_kwh: np.ndarray
    site_price: np.ndarray
    sell_price: np.ndarray
    peak_price: np.ndarray
    energy_value: np.ndarray
    first_levels: np.ndarray | None
    objective: float


class _Rows:
    """Sparse rows of one kind (``<=`` or ``==``), added in blocks."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.rhs: list[np.ndarray] = []
        self.count = 0

    def add(self, r: np.ndarray, c: np.ndarray, v: np.ndarray, rhs: np.ndarray) -> int:
        """Rows ``r`` (0-based within the block) with right-hand sides ``rhs``; returns the
        index of the block's first row."""
        first = self.count
        self.rows.append(np.asarray(r) + first)
        self.cols.append(np.asarray(c))
        self.vals.append(np.asarray(v, dtype=np.float64))
        self.rhs.append(np.asarray(rhs, dtype=np.float64))
        self.count += len(rhs)
        return first

    def matrix(self, n_vars: int) -> tuple[sparse.csr_array | None, np.ndarray | None]:
        if not self.count:
            return None, None
        data = (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols)))
        return sparse.csr_array(data, shape=(self.count, n_vars)), np.concatenate(self.rhs)


def solve_bidirectional_plan(
    config: DepotConfig,
    vehicles: PlanVehicles,
    prices: np.ndarray | None,
    pv_kw: np.ndarray,
    method: str = "lp",
    time_limit_s: float | None = None,
    site_scale: float = 1.0,
    buy: np.ndarray | None = None,
    sell: np.ndarray | None = None,
    peak_kw: float = 0.0,
) -> BidirectionalPlan | None:
    """Solve the plan over ``len(pv_kw)`` slots; None if HiGHS finds no optimum.

    With ``prices`` the site is planned (``site_scale`` multiplies its limits and PV);
    with ``buy`` and ``sell`` instead, the vehicles face those prices alone. ``peak_kw``
    is the peak import already reached, below which the planned peak costs nothing more.
    """
    v = vehicles
    m, n_slots = len(v.battery_kwh), len(pv_kw)
    h, eff, eff_out = config.slot_hours, config.efficiency, config.discharge_efficiency
    wear, ageing = config.wear_cost_per_kw2h, config.degradation_cost_per_kwh
    dc = config.demand_charge_per_kw
    with_site = prices is not None
    slot = np.arange(n_slots)
    window = (slot[None, :] >= v.first[:, None]) & (slot[None, :] < v.last[:, None])
    cells = np.flatnonzero(window.ravel())
    n_cells = len(cells)
    vehicle_of, slot_of = np.divmod(cells, n_slots)
    power = config.power_kw
    width_in, slope_in = _segments(power[power > 0], h, wear)
    width_out, slope_out = _segments(-power[power < 0], h, wear)
    k_in, k_out = len(width_in), len(width_out)
    k = k_in + k_out
    first_cells = np.flatnonzero(slot_of == 0) if method == "milp" else np.zeros(0, np.intp)
    n_levels = len(power)
    # Columns: segments per cell (charging, then discharging), battery per cell, departure
    # cost per vehicle, then grid, export, PV used per slot and the peak (with the site),
    # then the first slot's level choices (milp).
    b0 = n_cells * k
    z0 = b0 + n_cells
    g0 = z0 + m
    x0 = g0 + n_slots
    u0 = x0 + n_slots
    p0 = u0 + n_slots
    y0 = p0 + 1 if with_site else g0
    n_vars = y0 + len(first_cells) * n_levels
    cost = np.zeros(n_vars)
    low = np.zeros(n_vars)
    high = np.full(n_vars, np.inf)
    segment = (k * np.arange(n_cells)[:, None] + np.arange(k)[None, :]).ravel()
    segment_slot = np.repeat(slot_of, k)
    direction = np.tile(np.concatenate([np.ones(k_in), -np.ones(k_out)]), n_cells)
    high[:b0] = np.tile(np.concatenate([width_in, width_out]), n_cells)
    cost[:b0] = np.tile(np.concatenate([slope_in, slope_out]), n_cells) + ageing
    if not with_site:
        assert buy is not None and sell is not None
        charging = direction > 0
        cost[segment[charging]] += buy[segment_slot[charging]] / eff
        cost[segment[~charging]] -= sell[segment_slot[~charging]] * eff_out
    battery = np.asarray(v.battery_kwh, dtype=np.float64)
    capacity = np.asarray(v.capacity_kwh, dtype=np.float64)
    floor = np.minimum(battery, config.reserve_kwh)
    low[b0:z0] = floor[vehicle_of]
    high[b0:z0] = np.maximum(capacity, battery)[vehicle_of]
    low[z0:g0] = -np.inf
    cost[z0:g0] = 1.0
    equal, below = _Rows(), _Rows()
    # battery balance per cell: b - b_before - charge + discharge = arrival level or 0
    starts = np.ones(n_cells, dtype=bool)
    starts[1:] = vehicle_of[1:] != vehicle_of[:-1]
    previous = np.flatnonzero(~starts)
    cell_rows = np.arange(n_cells)
    balance = equal.add(
        np.concatenate([cell_rows, previous, np.repeat(cell_rows, k)]),
        np.concatenate([b0 + cell_rows, b0 + previous - 1, segment]),
        np.concatenate([np.ones(n_cells), -np.ones(len(previous)), -direction]),
        np.where(starts, battery[vehicle_of], 0.0),
    )
    # departure cost >= its tangents at the demand quantiles, B = last battery + extra
    mean = np.asarray(v.demand_mean_kwh)[:, None]
    sd = np.asarray(v.demand_sd_kwh)[:, None]
    points = np.clip(mean + sd * SHORTFALL_POINTS[None, :], 0.0, capacity[:, None])
    value, slope = departure_cost(config, points, mean, sd)
    last_cell = np.full(m, -1)
    last_cell[vehicle_of] = np.arange(n_cells)  # the last write per vehicle wins
    planned = last_cell >= 0
    extra = np.asarray(v.extra_kwh)
    end = np.where(planned, 0.0, battery) + extra
    # slope * (B - point) + value <= z  <=>  slope * b_last - z <= slope * (point - end) - value
    for j in range(points.shape[1]):
        rows = np.arange(m)
        has = np.flatnonzero(planned)
        below.add(
            np.concatenate([has, rows]),
            np.concatenate([b0 + last_cell[has], z0 + rows]),
            np.concatenate([slope[has, j], -np.ones(m)]),
            slope[:, j] * (points[:, j] - end) - value[:, j],
        )
    site_row = export_row = cap_row = peak_row = -1
    if with_site:
        assert prices is not None
        cost[g0:x0] = prices
        if config.v2g:
            share, offset = export_price_terms(config)
            cost[x0:u0] = -(prices * share + offset)
        high[g0:x0] = config.grid_limit_kw * h * site_scale
        export_limit = config.export_limit_kw if config.export_limit_kw is not None else 0.0
        high[x0:u0] = export_limit * h * site_scale if k_out else 0.0
        high[u0:p0] = np.asarray(pv_kw, dtype=np.float64) * h * site_scale
        cost[p0] = dc
        low[p0] = peak_kw
        flow = np.where(direction > 0, 1.0 / eff, -eff_out)
        # draw - supply - grid + export - PV used = 0
        site_row = equal.add(
            np.concatenate([segment_slot, slot, slot, slot]),
            np.concatenate([segment, g0 + slot, x0 + slot, u0 + slot]),
            np.concatenate([flow, -np.ones(n_slots), np.ones(n_slots), -np.ones(n_slots)]),
            np.zeros(n_slots),
        )
        out = direction < 0
        # export <= supply, and supply <= export limit
        export_row = below.add(
            np.concatenate([segment_slot[out], slot]),
            np.concatenate([segment[out], x0 + slot]),
            np.concatenate([np.full(out.sum(), -eff_out), np.ones(n_slots)]),
            np.zeros(n_slots),
        )
        cap_row = below.add(
            segment_slot[out],
            segment[out],
            np.full(out.sum(), eff_out),
            np.full(n_slots, export_limit * h * site_scale),
        )
        if dc > 0:  # grid power <= peak
            peak_row = below.add(
                np.concatenate([slot, slot]),
                np.concatenate([g0 + slot, np.full(n_slots, p0)]),
                np.concatenate([np.full(n_slots, 1.0 / h), -np.ones(n_slots)]),
                np.zeros(n_slots),
            )
    integrality = np.zeros(n_vars)
    if len(first_cells):
        count = len(first_cells)
        choice = y0 + np.arange(count * n_levels)
        index = np.arange(count)
        high[y0:] = 1.0
        integrality[y0:] = 1
        in_cols = (k * first_cells[:, None] + np.arange(k_in)[None, :]).ravel()
        out_cols = (k * first_cells[:, None] + k_in + np.arange(k_out)[None, :]).ravel()
        for columns, kk, energy in (
            (in_cols, k_in, np.maximum(power, 0.0) * h),
            (out_cols, k_out, np.maximum(-power, 0.0) * h),
        ):  # energy each way = the chosen level's: a level chosen is a level delivered
            equal.add(
                np.concatenate([np.repeat(index, kk), np.repeat(index, n_levels)]),
                np.concatenate([columns, choice]),
                np.concatenate([np.ones(count * kk), -np.tile(energy, count)]),
                np.zeros(count),
            )
        equal.add(np.repeat(index, n_levels), choice, np.ones(len(choice)), np.ones(count))
    a_eq, b_eq = equal.matrix(n_vars)
    a_ub, b_ub = below.matrix(n_vars)
    options = {} if time_limit_s is None else {"time_limit": float(time_limit_s)}
    site_price = np.zeros(n_slots)
    sell_price = np.zeros(n_slots)
    peak_price = np.zeros(n_slots)
    energy_value = np.zeros((m, n_slots))
    first_levels = None
    if len(first_cells):
        constraints = [optimize.LinearConstraint(a_eq, b_eq, b_eq)]
        if a_ub is not None:
            constraints.append(optimize.LinearConstraint(a_ub, -np.inf, b_ub))
        result = optimize.milp(
            cost,
            constraints=constraints,
            integrality=integrality,
            bounds=optimize.Bounds(low, high),
            options=options,
        )
        if result.status != 0 or result.x is None:
            return None
        x = result.x
        chosen = x[y0:].reshape(len(first_cells), n_levels).argmax(axis=1)
        first_levels = np.full(m, config.idle_action, dtype=np.int64)
        first_levels[vehicle_of[first_cells]] = chosen
    else:
        result = optimize.linprog(
            cost,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=np.column_stack([low, high]),
            method="highs",
            options=options,
        )
        if result.status != 0 or result.x is None:
            return None
        x = result.x
        eq_duals = -np.asarray(result.eqlin.marginals)
        ub_duals = -np.asarray(result.ineqlin.marginals) if a_ub is not None else np.zeros(0)
        energy_value.ravel()[cells] = eq_duals[balance : balance + n_cells]
        if with_site:
            site_price = eq_duals[site_row : site_row + n_slots]
            sell_price = (
                site_price
                + np.maximum(ub_duals[export_row : export_row + n_slots], 0.0)
                - np.maximum(ub_duals[cap_row : cap_row + n_slots], 0.0)
            )
            if dc > 0:
                peak_price = np.maximum(ub_duals[peak_row : peak_row + n_slots], 0.0)
    parts = x[:b0].reshape(n_cells, k)
    charge = np.zeros((m, n_slots))
    discharge = np.zeros((m, n_slots))
    charge.ravel()[cells] = parts[:, :k_in].sum(axis=1)
    discharge.ravel()[cells] = parts[:, k_in:].sum(axis=1)
    return BidirectionalPlan(
        energy_kwh=charge - discharge,
        charge_kwh=charge,
        discharge_kwh=discharge,
        site_price=site_price,
        sell_price=sell_price,
        peak_price=peak_price,
        energy_value=energy_value,
        first_levels=first_levels,
        objective=float(result.fun),
    )
