"""The perfect-foresight bound of a depot episode, as a linear or mixed-integer program.

Knowing the episode's arrivals, departures, arrival levels, realised demands and prices, the
best achievable return is an optimisation over every vehicle's charging. It is solved with
HiGHS through ``scipy.optimize.milp``; no commercial solver is involved. Its value is an
upper bound on the return of any policy in that episode.

* When the site limit can bind, the depot may deliver powers between the charger levels
  (requests are scaled down), so the program lets each slot's energy take any value up to
  full power (a linear program) and bounds the wear ``c * kW**2 * hours`` from below by its
  tangents at the charger levels. Every policy's episode is feasible for it and costs at
  least as much, so the bound holds.
* When the limit cannot bind (all chargers at full power fit), only the charger levels
  occur, and a mixed-integer program keeps them exactly, with the battery filling part-way
  through a slot as the environment does. For a single vehicle this equals the exact
  dynamic programme's optimum with the demand known (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharging.config.depot import DepotConfig
from smartcharging.sim.depot_episode import Episode
from smartcharging.solvers.depot.model import (
    LinearModel,
    ModelSolution,
    add_cumulative_rows,
    add_group_sums,
    add_peak,
    add_wear_tangents,
    window_cells,
)


@dataclass(frozen=True)
class HindsightBound:
    value: float
    exact_levels: bool
    energy_kwh: np.ndarray  # (vehicles, slots) charged in the optimum


def limit_can_bind(config: DepotConfig) -> bool:
    """Whether all chargers at full power could exceed the grid limit plus PV."""
    full = config.n_chargers * config.power_kw[-1] / config.efficiency
    return bool(full > float(config.headroom_kw.min()) + 1e-9)


def _solved(model: LinearModel, mip_rel_gap: float | None = None) -> ModelSolution:
    """The optimum of ``model``, or a ``RuntimeError``."""
    solution = model.solve(mip_rel_gap=mip_rel_gap)
    if solution is None:
        raise RuntimeError("hindsight program not solved: HiGHS found no optimum")
    return solution


def _add_shortfall(
    model: LinearModel,
    vehicle_of: np.ndarray,
    columns: np.ndarray,
    values: np.ndarray,
    shortfall: np.ndarray,
    need: np.ndarray,
) -> None:
    """``shortfall >= demand - final level`` per vehicle, with ``need = demand - start``
    and the vehicle's cells' energies as in :func:`add_cumulative_rows`."""
    add_group_sums(
        model,
        "shortfall",
        vehicle_of,
        columns,
        values,
        len(shortfall),
        [(shortfall, 1.0)],
        need,
        np.inf,
    )


def hindsight_bound(
    config: DepotConfig, episode: Episode, exact_levels: bool | None = None
) -> HindsightBound:
    """Best return of the episode with everything known in advance (see module docs)."""
    if config.v2g_physics:
        if exact_levels:
            raise ValueError("with V2G or cycle ageing the hindsight bound is a linear program")
        return bidirectional_bound(config, episode)
    exact = not limit_can_bind(config) if exact_levels is None else exact_levels
    if exact and limit_can_bind(config):
        raise ValueError("exact charger levels are only a valid bound when the limit cannot bind")
    h, n_slots, n = config.slot_hours, config.n_slots, episode.n_vehicles
    levels = config.power_kw[config.power_kw > 0]
    wear, k = config.wear_cost_per_kw2h, len(levels)
    _, vehicle_of, slot_of = window_cells(episode.arrival, episode.departure, n_slots)
    n_pairs = len(vehicle_of)
    start = np.asarray(episode.start_kwh, dtype=np.float64)
    capacity = episode.capacity(config)
    model = LinearModel()
    if not exact:  # any energy up to full power, wear above its tangents at the levels
        energy = model.variables("energy", n_pairs, high=levels[-1] * h)
        wear_cost = model.variables("wear", n_pairs, cost=1.0)
        columns, values = energy[:, None], np.ones((n_pairs, 1))
        add_wear_tangents(model, "wear", energy, wear_cost, levels, h, wear)
    else:  # one level per pair (binary z), less the energy u unused once the battery is full
        chosen = model.variables("chosen", n_pairs * k, high=1.0, integer=True).reshape(-1, k)
        unused = model.variables("unused", n_pairs * k, high=np.tile(levels * h, n_pairs))
        unused = unused.reshape(-1, k)
        full = model.variables("full", n_pairs, high=1.0, integer=True)
        wear_cost = model.variables("wear", n_pairs, cost=1.0)
        columns = np.hstack([chosen, unused])
        values = np.tile(np.concatenate([levels * h, -np.ones(k)]), (n_pairs, 1))
        pair = np.arange(n_pairs)
        model.rows("one level", np.repeat(pair, k), chosen.ravel(), 1.0, high=np.ones(n_pairs))
        index = np.arange(n_pairs * k)
        model.rows(  # unused energy only at the chosen level
            "unused at the level",
            np.concatenate([index, index]),
            np.concatenate([unused.ravel(), chosen.ravel()]),
            np.concatenate([np.ones(n_pairs * k), -np.tile(levels * h, n_pairs)]),
            high=np.zeros(n_pairs * k),
        )
        model.rows(  # energy is left unused only in the slot the battery fills
            "unused when full",
            np.concatenate([np.repeat(pair, k), pair]),
            np.concatenate([unused.ravel(), full]),
            np.concatenate([np.ones(n_pairs * k), np.full(n_pairs, -levels[-1] * h)]),
            high=np.zeros(n_pairs),
        )
        model.rows(  # wear = sum_k c p_k**2 h z_k - c p_k u_k, the environment's exactly
            "wear",
            np.concatenate([np.repeat(pair, 2 * k), pair]),
            np.concatenate([columns.ravel(), wear_cost]),
            np.concatenate(
                [
                    np.tile(np.concatenate([wear * levels**2 * h, -wear * levels]), n_pairs),
                    -np.ones(n_pairs),
                ]
            ),
            low=np.zeros(n_pairs),
            high=np.zeros(n_pairs),
        )
    shortfall = model.variables("shortfall", n, cost=config.shortfall_cost_per_kwh)
    grid = model.variables(
        "grid", n_slots, high=config.grid_limit_kw * h, cost=config.prices[episode.profile]
    )
    peak = int(model.variables("peak", 1, cost=config.demand_charge_per_kw)[0])
    add_cumulative_rows(
        model, "capacity", vehicle_of, columns, values, np.full(n, -np.inf), capacity - start
    )
    if exact:  # "full" after a slot means the battery is at capacity after it
        add_cumulative_rows(
            model,
            "full",
            vehicle_of,
            columns,
            values,
            -start,
            np.full(n, np.inf),
            own=(full, -capacity[vehicle_of]),
        )
    _add_shortfall(model, vehicle_of, columns, values, shortfall, episode.demand_kwh - start)
    pv_kwh = config.pv * h
    # grid >= draw - PV; with no PV, the grid energy is the draw exactly
    add_group_sums(
        model,
        "site",
        slot_of,
        columns,
        values / config.efficiency,
        n_slots,
        [(grid, -1.0)],
        low=np.where(pv_kwh > 0, -np.inf, 0.0),
        high=pv_kwh,
    )
    if config.demand_charge_per_kw > 0:
        add_peak(model, grid, peak, h)
    solution = _solved(model, mip_rel_gap=1e-9)
    energy_kwh = np.zeros((n, n_slots))
    energy_kwh[vehicle_of, slot_of] = (solution.x[columns] * values).sum(axis=1)
    return HindsightBound(value=-solution.objective, exact_levels=exact, energy_kwh=energy_kwh)


def bidirectional_bound(config: DepotConfig, episode: Episode) -> HindsightBound:
    """The perfect-foresight bound with V2G (or cycle ageing), always a linear program.

    Per vehicle and slot present, the charged energy ``e+`` and the discharged energy
    ``e-`` take any value up to full power (both may be positive: a relaxation), wear is
    bounded below by the tangents of ``c * e**2 / h`` at the level magnitudes on either
    side, and cycle ageing costs ``e+ + e-``. Each vehicle's level stays in
    ``[min(start, reserve), capacity]``; its shortfall ``s >= demand - final`` and the
    energy it leaves, ``final - demand + s`` (credited; exact at the optimum, where ``s`` is
    the shortfall, since a missing kWh costs more than a leftover one earns), follow from
    its final level. Per slot the site imports ``g`` (at most the limit) and
    exports ``x`` (at most the export cap, and only discharged energy: PV surplus is
    curtailed) with ``g - x = draw - supply - PV used``; the chargers' supply is at most
    the export cap, as the environment caps it. Every environment episode is feasible
    and costs at least as much, so the value is an upper bound on every policy's return.
    """
    h, eff, n_slots, n = config.slot_hours, config.efficiency, config.n_slots, episode.n_vehicles
    deff, wear = config.discharge_efficiency, config.wear_cost_per_kw2h
    up = config.power_kw[config.power_kw > 0]
    down = np.sort(-config.power_kw[config.power_kw < 0])
    _, vehicle_of, slot_of = window_cells(episode.arrival, episode.departure, n_slots)
    n_pairs = len(vehicle_of)
    start = np.asarray(episode.start_kwh, dtype=np.float64)
    demand = np.asarray(episode.demand_kwh, dtype=np.float64)
    residual, ageing = config.residual_value_per_kwh, config.degradation_cost_per_kwh
    model = LinearModel()
    charge = model.variables("charge", n_pairs, high=(up[-1] if len(up) else 0.0) * h, cost=ageing)
    discharge = model.variables(
        "discharge", n_pairs, high=(down[-1] if len(down) else 0.0) * h, cost=ageing
    )
    wear_cost = model.variables("wear", n_pairs, cost=1.0)
    shortfall = model.variables("shortfall", n, cost=config.shortfall_cost_per_kwh - residual)
    grid = model.variables(
        "grid", n_slots, high=config.grid_limit_kw * h, cost=config.prices[episode.profile]
    )
    export = model.variables(
        "export",
        n_slots,
        high=config.export_cap_kw * h,
        cost=-config.export_prices[episode.profile],
    )
    pv_used = model.variables("pv used", n_slots, high=config.pv * h)
    peak = int(model.variables("peak", 1, cost=config.demand_charge_per_kw)[0])
    # the credit of final - demand: residual * (start - demand) + residual * energies
    model.add_cost(charge, -residual)
    model.add_cost(discharge, residual)
    credit = residual * float((start - demand).sum())
    add_wear_tangents(model, "wear in", charge, wear_cost, up, h, wear)
    add_wear_tangents(model, "wear out", discharge, wear_cost, down, h, wear)
    columns = np.column_stack([charge, discharge])
    values = np.tile([1.0, -1.0], (n_pairs, 1))
    floor = np.minimum(start, config.reserve_kwh)
    capacity = episode.capacity(config)
    add_cumulative_rows(
        model, "battery", vehicle_of, columns, values, floor - start, capacity - start
    )
    _add_shortfall(model, vehicle_of, columns, values, shortfall, demand - start)
    flows = np.tile([-1.0 / eff, deff], (n_pairs, 1))
    add_group_sums(  # grid - export + PV used = draw - supply
        model,
        "site",
        slot_of,
        columns,
        flows,
        n_slots,
        [(grid, 1.0), (export, -1.0), (pv_used, 1.0)],
        0.0,
        0.0,
    )
    supply, supplies = discharge[:, None], np.full((n_pairs, 1), deff)
    add_group_sums(  # export <= supply
        model, "export", slot_of, supply, -supplies, n_slots, [(export, 1.0)], -np.inf, 0.0
    )
    add_group_sums(  # supply <= export cap
        model,
        "export cap",
        slot_of,
        supply,
        supplies,
        n_slots,
        [],
        -np.inf,
        config.export_cap_kw * h,
    )
    if config.demand_charge_per_kw > 0:
        add_peak(model, grid, peak, h)
    solution = _solved(model)
    energy_kwh = np.zeros((n, n_slots))
    energy_kwh[vehicle_of, slot_of] = solution.value("charge") - solution.value("discharge")
    return HindsightBound(
        value=credit - solution.objective, exact_levels=False, energy_kwh=energy_kwh
    )
