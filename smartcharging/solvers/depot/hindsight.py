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
from scipy import optimize, sparse

from smartcharging.config.depot import DepotConfig


@dataclass(frozen=True)
class Episode:
    """What perfect foresight knows of one depot episode (per vehicle unless noted)."""

    arrival: np.ndarray
    departure: np.ndarray
    start_kwh: np.ndarray
    demand_kwh: np.ndarray
    profile: int


@dataclass(frozen=True)
class HindsightBound:
    value: float
    exact_levels: bool
    energy_kwh: np.ndarray  # (vehicles, slots) charged in the optimum


class _Program:
    """Sparse constraint rows built one at a time."""

    def __init__(self) -> None:
        self.rows: list[tuple[list[int], list[float], float, float]] = []

    def add(self, columns: list[int], values: list[float], low: float, high: float) -> None:
        self.rows.append((columns, values, low, high))

    def constraint(self, n_variables: int) -> optimize.LinearConstraint:
        data, row_index, col_index, low, high = [], [], [], [], []
        for r, (columns, values, lo, hi) in enumerate(self.rows):
            row_index += [r] * len(columns)
            col_index += columns
            data += values
            low.append(lo)
            high.append(hi)
        matrix = sparse.csr_array(
            (data, (row_index, col_index)), shape=(len(self.rows), n_variables)
        )
        return optimize.LinearConstraint(matrix, low, high)


def limit_can_bind(config: DepotConfig) -> bool:
    """Whether all chargers at full power could exceed the grid limit plus PV."""
    full = config.n_chargers * config.power_kw[-1] / config.efficiency
    return bool(full > float(config.headroom_kw.min()) + 1e-9)


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
    h, eff, n_slots = config.slot_hours, config.efficiency, config.n_slots
    levels = config.power_kw[config.power_kw > 0]
    wear = config.wear_cost_per_kw2h
    prices = config.prices[episode.profile]
    pv = config.pv
    pairs = [
        (i, t)
        for i in range(config.n_chargers)
        for t in range(int(episode.arrival[i]), int(episode.departure[i]))
    ]
    n_pairs = len(pairs)
    k = len(levels)
    # Columns: per pair the energy e (LP) or, with exact levels, k binaries z, k unused
    # energies u and a "battery full" binary f; then per pair the wear w; per vehicle the
    # shortfall s; per slot the grid energy g; the peak power.
    per_pair = 1 if not exact else 2 * k + 1
    energy_base, wear_base = 0, n_pairs * per_pair
    shortfall_base = wear_base + n_pairs
    grid_base = shortfall_base + config.n_chargers
    peak = grid_base + n_slots
    n_variables = peak + 1
    cost = np.zeros(n_variables)
    low = np.zeros(n_variables)
    high = np.full(n_variables, np.inf)
    integrality = np.zeros(n_variables)
    program = _Program()

    def energy_terms(j: int) -> tuple[list[int], list[float]]:
        """Columns and coefficients of pair j's delivered energy."""
        if not exact:
            return [energy_base + j], [1.0]
        base = energy_base + j * per_pair
        columns = list(range(base, base + 2 * k))
        return columns, [*(levels * h), *([-1.0] * k)]

    for j, _pair in enumerate(pairs):
        w = wear_base + j
        cost[w] = 1.0
        if not exact:
            high[energy_base + j] = levels[-1] * h
            for energy_k in levels * h:  # tangents of c * e**2 / h at the levels
                program.add(
                    [energy_base + j, w],
                    [2 * wear * energy_k / h, -1.0],
                    -np.inf,
                    wear * energy_k**2 / h,
                )
            continue
        base = energy_base + j * per_pair
        z, u, f = base, base + k, base + 2 * k
        integrality[z : z + k] = 1
        integrality[f] = 1
        high[z : z + k] = 1
        high[f] = 1
        high[u : u + k] = levels * h
        program.add(list(range(z, z + k)), [1.0] * k, -np.inf, 1.0)
        for level in range(k):  # unused energy only at the chosen level
            program.add([u + level, z + level], [1.0, -levels[level] * h], -np.inf, 0.0)
        program.add([*range(u, u + k), f], [1.0] * k + [-levels[-1] * h], -np.inf, 0.0)
        # wear = sum_k c p_k**2 h z_k - c p_k u_k, exactly the environment's for that slot
        program.add(
            [*range(z, z + k), *range(u, u + k), w],
            [*(wear * levels**2 * h), *(-wear * levels), -1.0],
            0.0,
            0.0,
        )

    start_of: dict[int, list[int]] = {}
    for j, (i, _t) in enumerate(pairs):
        start_of.setdefault(i, []).append(j)
    for i in range(config.n_chargers):
        capacity = config.capacity_kwh[i]
        start = float(episode.start_kwh[i])
        columns: list[int] = []
        values: list[float] = []
        for j in start_of.get(i, []):
            c, v = energy_terms(j)
            columns += c
            values += v
            program.add(columns.copy(), values.copy(), -np.inf, capacity - start)
            if exact:  # "full" after this slot means the battery is at capacity
                f = energy_base + j * per_pair + 2 * k
                program.add([*columns, f], [*values, -capacity], -start, np.inf)
        s = shortfall_base + i
        cost[s] = config.shortfall_cost_per_kwh
        program.add([*columns, s], [*values, 1.0], float(episode.demand_kwh[i]) - start, np.inf)

    for t in range(n_slots):
        g = grid_base + t
        cost[g] = prices[t]
        high[g] = config.grid_limit_kw * h
        columns, values = [g], [-1.0]
        for j, (_i, slot) in enumerate(pairs):
            if slot == t:
                c, v = energy_terms(j)
                columns += c
                values += [x / eff for x in v]
        pv_kwh = float(pv[t]) * h
        # g >= draw - PV; with no PV, g is the draw exactly
        program.add(columns, values, -np.inf if pv_kwh > 0 else 0.0, pv_kwh)
        if config.demand_charge_per_kw > 0:
            program.add([g, peak], [1.0 / h, -1.0], -np.inf, 0.0)
    cost[peak] = config.demand_charge_per_kw

    result = optimize.milp(
        cost,
        constraints=program.constraint(n_variables),
        integrality=integrality,
        bounds=optimize.Bounds(low, high),
        options={"mip_rel_gap": 1e-9},
    )
    if not result.success:
        raise RuntimeError(f"hindsight program not solved: {result.message}")
    energy = np.zeros((config.n_chargers, n_slots))
    for j, (i, t) in enumerate(pairs):
        c, v = energy_terms(j)
        energy[i, t] = float(np.dot(result.x[c], v))
    return HindsightBound(value=-float(result.fun), exact_levels=exact, energy_kwh=energy)


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
    exports ``x`` (at most the export limit, and only discharged energy: PV surplus is
    curtailed) with ``g - x = draw - supply - PV used``; the chargers' supply is at most
    the export limit, as the environment caps it. Every environment episode is feasible
    and costs at least as much, so the value is an upper bound on every policy's return.
    """
    h, eff, n_slots = config.slot_hours, config.efficiency, config.n_slots
    deff, wear = config.discharge_efficiency, config.wear_cost_per_kw2h
    up = config.power_kw[config.power_kw > 0]
    down = np.sort(-config.power_kw[config.power_kw < 0])
    prices = config.prices[episode.profile]
    exports = config.export_prices[episode.profile]
    export_limit = config.export_limit_kw if config.export_limit_kw is not None else 0.0
    pairs = [
        (i, t)
        for i in range(config.n_chargers)
        for t in range(int(episode.arrival[i]), int(episode.departure[i]))
    ]
    n_pairs = len(pairs)
    # Columns: per pair e+, e-, wear; per vehicle shortfall; per slot import, export,
    # PV used; the peak import.
    charge, discharge, wear_base = 0, n_pairs, 2 * n_pairs
    shortfall_base = 3 * n_pairs
    import_base = shortfall_base + config.n_chargers
    export_base, pv_base = import_base + n_slots, import_base + 2 * n_slots
    peak = import_base + 3 * n_slots
    n_variables = peak + 1
    cost = np.zeros(n_variables)
    low = np.zeros(n_variables)
    high = np.full(n_variables, np.inf)
    program = _Program()
    high[charge:discharge] = (up[-1] if len(up) else 0.0) * h
    high[discharge:wear_base] = (down[-1] if len(down) else 0.0) * h
    cost[charge:wear_base] = config.degradation_cost_per_kwh
    cost[wear_base : wear_base + n_pairs] = 1.0
    for j in range(n_pairs):
        for column, magnitudes in ((charge + j, up), (discharge + j, down)):
            for energy_k in magnitudes * h:  # tangents of c * e**2 / h at the levels
                program.add(
                    [column, wear_base + j],
                    [2 * wear * energy_k / h, -1.0],
                    -np.inf,
                    wear * energy_k**2 / h,
                )
    slots_of: dict[int, list[int]] = {}
    for j, (i, _t) in enumerate(pairs):
        slots_of.setdefault(i, []).append(j)
    residual, credit = config.residual_value_per_kwh, 0.0
    for i in range(config.n_chargers):
        capacity, start = config.capacity_kwh[i], float(episode.start_kwh[i])
        floor = min(start, config.reserve_kwh)
        columns: list[int] = []
        values: list[float] = []
        for j in slots_of.get(i, []):
            columns += [charge + j, discharge + j]
            values += [1.0, -1.0]
            program.add(columns.copy(), values.copy(), floor - start, capacity - start)
        demand = float(episode.demand_kwh[i])
        s = shortfall_base + i
        cost[s] = config.shortfall_cost_per_kwh - residual
        program.add([*columns, s], [*values, 1.0], demand - start, np.inf)
        for column, value in zip(columns, values, strict=True):  # credit of final - demand
            cost[column] -= residual * value
        credit += residual * (start - demand)
    for t in range(n_slots):
        g, x, u = import_base + t, export_base + t, pv_base + t
        cost[g], cost[x] = prices[t], -exports[t]
        high[g], high[x], high[u] = config.grid_limit_kw * h, export_limit * h, config.pv[t] * h
        at = [j for j, (_i, slot) in enumerate(pairs) if slot == t]
        supply = [discharge + j for j in at]
        balance = [g, x, u, *(charge + j for j in at), *supply]
        program.add(balance, [1.0, -1.0, 1.0, *([-1.0 / eff] * len(at)), *([deff] * len(at))], 0, 0)
        program.add([x, *supply], [1.0, *([-deff] * len(at))], -np.inf, 0.0)
        program.add(supply, [deff] * len(at), -np.inf, export_limit * h)
        if config.demand_charge_per_kw > 0:
            program.add([g, peak], [1.0 / h, -1.0], -np.inf, 0.0)
    cost[peak] = config.demand_charge_per_kw
    result = optimize.milp(
        cost,
        constraints=program.constraint(n_variables),
        integrality=np.zeros(n_variables),
        bounds=optimize.Bounds(low, high),
    )
    if not result.success:
        raise RuntimeError(f"hindsight program not solved: {result.message}")
    energy = np.zeros((config.n_chargers, n_slots))
    for j, (i, t) in enumerate(pairs):
        energy[i, t] = result.x[charge + j] - result.x[discharge + j]
    return HindsightBound(value=credit - float(result.fun), exact_levels=False, energy_kwh=energy)
