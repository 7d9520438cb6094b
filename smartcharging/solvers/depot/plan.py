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

With ``method="milp"`` each first-slot energy equals one charger level's (binary
choices), so the plan's first slot is directly an action; later slots stay continuous.
Vehicles that leave after the planning horizon are credited with full power in their
slots beyond it.

**With V2G, cycle ageing or a credit for the energy left** (:func:`needs_bidirectional`)
each planned cell (vehicle, slot) charges ``e+`` and discharges ``e-`` (battery side), each
split into segments between the charger levels of its sign with the chord slope of the
wear, plus cycle ageing per kWh either way. The battery is a state per cell, kept within
``[min(arrival level, reserve), capacity]``. At departure each vehicle pays the expected
shortfall cost net of the credit for the energy left,
``short * E[(D - B)+] - residual * E[(B - D)+]``, replaced by the maximum of its tangents.
With ``method="milp"`` the first slot's energy each way equals the chosen charger level's.
With the site (``prices`` given) the slot's flows balance as in the depot step
(:mod:`smartcharging.sim.site`): ``grid - export = draw - supply - PV used``, grid at most
the limit, exports at most the export cap and at most the V2G supply (PV beyond the site's
use is curtailed), supply at most the export cap. Without the site (``buy`` and ``sell``
given, :func:`solve_bidirectional_plan`) every vehicle faces those prices per kWh drawn and
supplied, and the plan splits into one program per vehicle (used to price energy in the
Lagrangian bound). Its duals also give ``sell_price`` (one more kWh supplied) and
``energy_value[vehicle, slot]``, what one more kWh in the battery after that slot is worth.

Both programs are compositions of the rules of :mod:`smartcharging.solvers.depot.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharging.config.depot import DepotConfig
from smartcharging.config.v2g import export_price_terms
from smartcharging.solvers.depot.model import (
    LinearModel,
    ModelSolution,
    add_departure_tangents,
    add_peak,
    segments,
    window_cells,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, normal_surplus

#: Demand quantiles (standard-normal z) at which the departure cost is linearised.
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

    def cells(self, n_slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The planned cells, vehicle by vehicle: their flat index ``vehicle * n_slots +
        slot``, their vehicle and their slot."""
        return window_cells(self.first, self.last, n_slots)


@dataclass(frozen=True)
class Plan:
    """A solved plan: ``energy_kwh[vehicle, slot]`` delivered (negative: discharged), the
    duals of the site rows (``site_price[t]``: value of one more kWh of draw in slot ``t``;
    ``peak_price[t]``: the demand charge's weight on slot ``t``; with V2G ``sell_price[t]``:
    value of one more kWh supplied, and ``energy_value``), and the first slot's chosen
    levels (milp)."""

    energy_kwh: np.ndarray
    site_price: np.ndarray
    peak_price: np.ndarray
    first_levels: np.ndarray | None
    objective: float
    sell_price: np.ndarray | None = None
    energy_value: np.ndarray | None = None


def _check_method(method: str) -> str:
    if method not in PLAN_METHODS:
        raise ValueError(f"invalid method={method!r}: must be one of {list(PLAN_METHODS)}")
    return method


def needs_bidirectional(config: DepotConfig) -> bool:
    """Whether the plan and the bound need both directions: V2G, cycle ageing, or a
    credit for the energy left (the charge-only plan ignores all three)."""
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

    ``site_scale`` multiplies the grid limit, the export cap and PV: a plan over several
    sampled fleets at once shares one site row per slot (used for the decomposition
    policy's prices). ``peak_kw`` is the peak import already reached: the demand charge is
    planned on the peak above it.
    """
    _check_method(method)
    if needs_bidirectional(config):
        return solve_bidirectional_plan(
            config, vehicles, prices, pv_kw, method, time_limit_s, site_scale, peak_kw=peak_kw
        )
    return _charge_only_plan(
        config, vehicles, prices, pv_kw, method, time_limit_s, site_scale, peak_kw
    )


#: Cost per kW of the level a first-slot cell chooses (per currency unit: negligible): of
#: levels that deliver the same energy (a full battery takes none) the smallest is chosen,
#: as a request on a full battery still takes its share of the site's limit.
LEVEL_TIE_BREAK = 1e-6


def _level_choice(
    model: LinearModel, first_cells: np.ndarray, power_kw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Binary level choices of the first slot's cells; returns their columns and the
    index of each cell's row."""
    count = len(first_cells)
    cost = np.tile(LEVEL_TIE_BREAK * np.abs(power_kw), count)
    choice = model.variables("choice", count * len(power_kw), high=1.0, cost=cost, integer=True)
    return choice, np.arange(count)


def _chosen_levels(solution: ModelSolution, n_levels: int) -> np.ndarray:
    """The level chosen for each of the first slot's cells."""
    return solution.value("choice").reshape(-1, n_levels).argmax(axis=1)


def add_chosen_level_rows(
    model: LinearModel,
    name: str,
    index: np.ndarray,
    columns: np.ndarray,
    per_cell: int,
    choice: np.ndarray,
    energy: np.ndarray,
    room: np.ndarray,
) -> None:
    """Tie each first-slot cell's energy one way (its ``per_cell`` segment ``columns``) to
    the level it chooses (``choice``, one row of ``len(energy)`` binaries per cell): at
    most the level's slot ``energy``, at least as much of it as the battery has ``room``
    for. A level chosen is a level delivered, as the depot's step delivers it: with an
    upper bound alone the costless choice of full power was free for a cell planned to
    idle, and with equality a nearly full battery could take no level at all."""
    count = len(room)
    rows = np.concatenate([np.repeat(index, per_cell), np.repeat(index, len(energy))])
    columns = np.concatenate([columns, choice])
    ones = np.ones(count * per_cell)
    delivered = np.minimum(energy[None, :], room[:, None]).ravel()
    model.rows(
        f"{name} at most", rows, columns, np.concatenate([ones, -np.tile(energy, count)]),
        high=np.zeros(count),
    )  # fmt: skip
    model.rows(
        f"{name} at least", rows, columns, np.concatenate([ones, -delivered]), low=np.zeros(count)
    )


def _charge_only_plan(
    config: DepotConfig,
    vehicles: PlanVehicles,
    prices: np.ndarray,
    pv_kw: np.ndarray,
    method: str,
    time_limit_s: float | None,
    site_scale: float,
    peak_kw: float,
) -> Plan | None:
    """The charge-only plan: segments, each vehicle's total, its shortfall tangents, the
    site row ``draw - grid <= PV`` and the peak."""
    m, n_slots = vehicles.size, len(prices)
    h, eff = config.slot_hours, config.efficiency
    dc, short = config.demand_charge_per_kw, config.shortfall_cost_per_kwh
    cells, vehicle_of, slot_of = vehicles.cells(n_slots)
    n_cells = len(cells)
    width, slope = segments(config.power_kw[config.power_kw > 0], h, config.wear_cost_per_kw2h)
    k = len(width)
    first_cells = np.flatnonzero(slot_of == 0) if method == "milp" else np.zeros(0, np.intp)
    n_levels = len(config.power_kw)
    model = LinearModel()
    segment = model.variables(
        "segment", n_cells * k, high=np.tile(width, n_cells), cost=np.tile(slope, n_cells)
    )
    # capacity: a vehicle's total energy <= capacity - battery
    total = model.variables(
        "total", m, high=np.maximum(vehicles.capacity_kwh - vehicles.battery_kwh, 0.0)
    )
    shortfall = model.variables("shortfall", m, cost=1.0)
    grid = model.variables("grid", n_slots, high=config.grid_limit_kw * h * site_scale, cost=prices)
    peak = int(model.variables("peak", 1, low=peak_kw, cost=dc)[0])
    if len(first_cells):
        choice, index = _level_choice(model, first_cells, config.power_kw)
    segment_vehicle = np.repeat(vehicle_of, k)
    segment_slot = np.repeat(slot_of, k)
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
        high = -short * missing - short * survival * points + short * survival * start
        add_departure_tangents(
            model, "shortfall", [total[[i]] for i in range(m)], shortfall, -short * survival, high
        )
    slot = np.arange(n_slots)
    model.rows(  # draw - grid <= PV
        "site",
        np.concatenate([segment_slot, slot]),
        np.concatenate([segment, grid]),
        np.concatenate([np.full(len(segment), 1.0 / eff), -np.ones(n_slots)]),
        high=np.asarray(pv_kw, dtype=np.float64) * h * site_scale,
    )
    if dc > 0:
        add_peak(model, grid, peak, h)
    if len(first_cells):
        count = len(first_cells)
        first_segments = segment[(k * first_cells[:, None] + np.arange(k)[None, :]).ravel()]
        room = np.maximum(vehicles.capacity_kwh - vehicles.battery_kwh, 0.0)
        add_chosen_level_rows(
            model, "level", index, first_segments, k, choice, config.slot_energy_kwh,
            room[vehicle_of[first_cells]],
        )  # fmt: skip
        model.rows(
            "one level", np.repeat(index, n_levels), choice, 1.0, low=np.ones(count), high=1.0
        )
    model.rows(  # total energy = sum of the vehicle's segments
        "total",
        np.concatenate([segment_vehicle, np.arange(m)]),
        np.concatenate([segment, total]),
        np.concatenate([np.ones(len(segment)), -np.ones(m)]),
        low=np.zeros(m),
        high=np.zeros(m),
    )
    solution = model.solve(duals=method == "lp", time_limit_s=time_limit_s)
    if solution is None:
        return None
    site_price = np.zeros(n_slots)
    peak_price = np.zeros(n_slots)
    first_levels = None
    if method == "milp":
        first_levels = np.zeros(m, dtype=np.int64)
        if len(first_cells):
            first_levels[vehicle_of[first_cells]] = _chosen_levels(solution, n_levels)
    else:
        site_price = np.maximum(solution.shadow_prices["site"], 0.0)
        if dc > 0:
            peak_price = np.maximum(solution.shadow_prices["peak"], 0.0)
    energy = np.zeros(m * n_slots)
    energy[cells] = solution.value("segment").reshape(n_cells, k).sum(axis=1)
    return Plan(
        energy_kwh=energy.reshape(m, n_slots),
        site_price=site_price,
        peak_price=peak_price,
        first_levels=first_levels,
        objective=solution.objective,
    )


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
) -> Plan | None:
    """The plan in both directions over ``len(pv_kw)`` slots (module docstring); None if
    HiGHS finds no optimum.

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
    cells, vehicle_of, slot_of = v.cells(n_slots)
    n_cells = len(cells)
    power = config.power_kw
    width_in, slope_in = segments(power[power > 0], h, wear)
    width_out, slope_out = segments(-power[power < 0], h, wear)
    k_in, k_out = len(width_in), len(width_out)
    k = k_in + k_out
    first_cells = np.flatnonzero(slot_of == 0) if method == "milp" else np.zeros(0, np.intp)
    n_levels = len(power)
    direction = np.tile(np.concatenate([np.ones(k_in), -np.ones(k_out)]), n_cells)
    cost = np.tile(np.concatenate([slope_in, slope_out]), n_cells) + ageing
    segment_slot = np.repeat(slot_of, k)
    if not with_site:
        assert buy is not None and sell is not None
        charging = direction > 0
        cost[charging] += buy[segment_slot[charging]] / eff
        cost[~charging] -= sell[segment_slot[~charging]] * eff_out
    battery = np.asarray(v.battery_kwh, dtype=np.float64)
    capacity = np.asarray(v.capacity_kwh, dtype=np.float64)
    floor = np.minimum(battery, config.reserve_kwh)
    model = LinearModel()
    segment = model.variables(
        "segment", n_cells * k, high=np.tile(np.concatenate([width_in, width_out]), n_cells)
    )
    model.add_cost(segment, cost)
    level = model.variables(
        "level", n_cells, low=floor[vehicle_of], high=np.maximum(capacity, battery)[vehicle_of]
    )
    departure = model.variables("departure", m, low=-np.inf, cost=1.0)
    if with_site:
        assert prices is not None
        export_price = np.zeros(n_slots)
        if config.v2g:
            share, offset = export_price_terms(config)
            export_price = prices * share + offset
        grid = model.variables(
            "grid", n_slots, high=config.grid_limit_kw * h * site_scale, cost=prices
        )
        export = model.variables(
            "export",
            n_slots,
            high=config.export_cap_kw * h * site_scale if k_out else 0.0,
            cost=-export_price,
        )
        pv_used = model.variables(
            "pv used", n_slots, high=np.asarray(pv_kw, dtype=np.float64) * h * site_scale
        )
        peak = int(model.variables("peak", 1, low=peak_kw, cost=dc)[0])
    if len(first_cells):
        choice, index = _level_choice(model, first_cells, config.power_kw)
    # battery balance per cell: b - b_before - charge + discharge = arrival level or 0
    starts = np.ones(n_cells, dtype=bool)
    starts[1:] = vehicle_of[1:] != vehicle_of[:-1]
    previous = np.flatnonzero(~starts)
    cell_rows = np.arange(n_cells)
    start_level = np.where(starts, battery[vehicle_of], 0.0)
    model.rows(
        "balance",
        np.concatenate([cell_rows, previous, np.repeat(cell_rows, k)]),
        np.concatenate([level, level[previous - 1], segment]),
        np.concatenate([np.ones(n_cells), -np.ones(len(previous)), -direction]),
        low=start_level,
        high=start_level,
    )
    # departure cost >= its tangents at the demand quantiles, B = last battery + extra
    mean = np.asarray(v.demand_mean_kwh)[:, None]
    sd = np.asarray(v.demand_sd_kwh)[:, None]
    points = np.clip(mean + sd * SHORTFALL_POINTS[None, :], 0.0, capacity[:, None])
    value, slope = departure_cost(config, points, mean, sd)
    last_cell = np.full(m, -1)
    last_cell[vehicle_of] = np.arange(n_cells)  # the last write per vehicle wins
    planned = last_cell >= 0
    end = np.where(planned, 0.0, battery) + np.asarray(v.extra_kwh)
    # slope * (B - point) + value <= z  <=>  slope * b_last - z <= slope * (point - end) - value
    add_departure_tangents(
        model,
        "departure",
        [level[[last_cell[i]]] if planned[i] else np.zeros(0, np.int64) for i in range(m)],
        departure,
        slope,
        slope * (points - end[:, None]) - value,
    )
    if with_site:
        slot = np.arange(n_slots)
        flow = np.where(direction > 0, 1.0 / eff, -eff_out)
        model.rows(  # draw - supply - grid + export - PV used = 0
            "site",
            np.concatenate([segment_slot, slot, slot, slot]),
            np.concatenate([segment, grid, export, pv_used]),
            np.concatenate([flow, -np.ones(n_slots), np.ones(n_slots), -np.ones(n_slots)]),
            low=np.zeros(n_slots),
            high=np.zeros(n_slots),
        )
        out = direction < 0
        model.rows(  # export <= supply
            "export",
            np.concatenate([segment_slot[out], slot]),
            np.concatenate([segment[out], export]),
            np.concatenate([np.full(out.sum(), -eff_out), np.ones(n_slots)]),
            high=np.zeros(n_slots),
        )
        model.rows(  # supply <= export cap
            "export cap",
            segment_slot[out],
            segment[out],
            eff_out,
            high=np.full(n_slots, config.export_cap_kw * h * site_scale),
        )
        if dc > 0:
            add_peak(model, grid, peak, h)
    if len(first_cells):
        count = len(first_cells)
        in_cols = segment[(k * first_cells[:, None] + np.arange(k_in)[None, :]).ravel()]
        out_cols = segment[(k * first_cells[:, None] + k_in + np.arange(k_out)[None, :]).ravel()]
        here = vehicle_of[first_cells]
        for name, columns, kk, energy, room in (
            (
                "charge level",
                in_cols,
                k_in,
                np.maximum(config.slot_energy_kwh, 0.0),
                np.maximum(capacity - battery, 0.0)[here],
            ),
            (
                "discharge level",
                out_cols,
                k_out,
                np.maximum(-config.slot_energy_kwh, 0.0),
                (battery - floor)[here],
            ),
        ):
            add_chosen_level_rows(model, name, index, columns, kk, choice, energy, room)
        model.rows(
            "one level", np.repeat(index, n_levels), choice, 1.0, low=np.ones(count), high=1.0
        )
    solution = model.solve(duals=not len(first_cells), time_limit_s=time_limit_s)
    if solution is None:
        return None
    site_price = np.zeros(n_slots)
    sell_price = np.zeros(n_slots)
    peak_price = np.zeros(n_slots)
    energy_value = np.zeros((m, n_slots))
    first_levels = None
    if len(first_cells):
        first_levels = np.full(m, config.idle_action, dtype=np.int64)
        first_levels[vehicle_of[first_cells]] = _chosen_levels(solution, n_levels)
    else:
        duals = solution.shadow_prices
        energy_value.ravel()[cells] = duals["balance"]
        if with_site:
            site_price = duals["site"]
            sell_price = (
                site_price + np.maximum(duals["export"], 0.0) - np.maximum(duals["export cap"], 0.0)
            )
            if dc > 0:
                peak_price = np.maximum(duals["peak"], 0.0)
    parts = solution.value("segment").reshape(n_cells, k)
    charge = np.zeros((m, n_slots))
    discharge = np.zeros((m, n_slots))
    charge.ravel()[cells] = parts[:, :k_in].sum(axis=1)
    discharge.ravel()[cells] = parts[:, k_in:].sum(axis=1)
    return Plan(
        energy_kwh=charge - discharge,
        site_price=site_price,
        peak_price=peak_price,
        first_levels=first_levels,
        objective=solution.objective,
        sell_price=sell_price,
        energy_value=energy_value,
    )
