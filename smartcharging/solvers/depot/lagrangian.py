"""An upper bound on the best non-anticipative depot policy: Lagrangian relaxation of the
site's coupling, solved vehicle by vehicle.

**The relaxation.** What couples the vehicles is the site: in slot ``t`` the chargers draw
``D_t = sum_i e_it / efficiency`` (kWh), the grid supplies ``g_t = max(D_t - PV_t, 0)``,
at most the limit ``L * h``; the episode pays ``price_t * g_t`` and the demand charge
``dc * max_t g_t / h``. For any multipliers ``mu_t >= 0`` (one per slot, for the episode's
price row) and weights ``w`` on the simplex over slots, every episode of every policy
satisfies, path by path,

    return <= sum_i [-wear_i - mu . draw_i - shortfall cost_i]
              + sum_t [mu_t * PV_t + L h * (mu_t - price_t - dc w_t / h)+],

because ``mu_t (g_t + PV_t - D_t) >= 0`` was added, ``max_t g_t >= sum_t w_t g_t``, and
``g_t`` in ``[0, L h]`` was replaced by its best value. The right side is a sum of
single-vehicle terms plus a constant, so its expectation is at most the sum of each
vehicle's optimum in a problem of its own: charge at the site price ``mu_t``, pay wear and
the expected shortfall cost of a demand revealed only at departure. A policy that sees the
other vehicles, or the whole depot, gains nothing there: that information is independent of
the vehicle's demand and does not enter its costs.

**The single-vehicle problems**, solved exactly:

* When the limit cannot bind, the depot delivers exactly the charger levels, and each
  vehicle's problem is the existing backward induction
  (:func:`smartcharging.solvers.vehicle.dp.solve`
  on the vehicle's own capacity, window, demand and the price row ``mu``).
* When it can bind, the allocation may deliver any fraction of a request, so the vehicle's
  problem must allow any energy up to full power per slot (wear ``c e**2 / h`` is the least
  wear of delivering ``e`` in a slot). Nothing is revealed to the vehicle between its arrival
  and its departure, so its closed-loop optimum is an open-loop convex program; its value is
  computed from its one-dimensional dual, ``min over nu`` of a sum of closed-form terms.
  Every ``nu`` gives an upper bound, so the value is never understated by the search.

**With V2G** (also cycle ageing or a credit for the energy left), each vehicle charges
``e+`` or discharges ``e-`` per slot; the site's draw is ``D_t = sum e+ / efficiency``, its
supply ``S_t = sum e- * discharge efficiency``, and the depot step gives, path by path,
``g_t - x_t = D_t - S_t - u_t`` with imports ``g_t`` in ``[0, L h]``, exports ``x_t`` in
``[0, X h]`` and ``x_t <= S_t`` (PV beyond the site's use is curtailed, not exported), PV
used ``u_t`` in ``[0, PV_t h]``, and ``S_t <= X h`` (the export limit caps the discharge
requests). The episode pays ``price_t g_t - export price_t x_t``, the demand charge, wear,
ageing ``a |e|`` and the departure cost net of the credit. Adding ``mu_t`` times the balance
(zero), ``kappa_t (S_t - x_t) >= 0`` and ``lambda_t (X h - S_t) >= 0`` and maximising
``g``, ``x`` and ``u`` over their ranges gives

    return <= sum_i [-wear_i - ageing_i - mu . draw_i + sigma . supply_i - departure_i]
              + sum_t [mu_t+ PV_t h + L h (mu_t - price_t - dc w_t / h)+
                       + X h (max(export price_t, mu_t) - sigma_t)+],

with ``sigma = mu + kappa - lambda`` (any ``sigma`` is reached; the last term is the least
``lambda_t X h + X h (export price_t - mu_t - kappa_t)+`` over ``kappa, lambda >= 0``): a
vehicle buys at ``mu`` and sells at ``sigma``, and the site is paid for the exports the
relaxation may not make. ``mu >= 0`` is kept (any sign would be valid), ``sigma`` is free.

Each vehicle's problem: with exact levels (neither limit can bind: all chargers at full
power fit under the limit plus PV, and all discharging fit under the export limit), the
backward induction with discharge levels, the reserve, ageing and the credit, selling at
``sigma = mu`` (its config has no export fee), so the export term is
``X h (export price - mu)+``. Otherwise the continuous problem: any ``e+`` up to full
charging power and ``e-`` up to full discharging power per slot (both at once allowed, a
relaxation; wear ``c e**2 / h`` each way, the least for that energy), the battery within
``[min(arrival level, reserve), capacity]`` after every slot. Its dual, for path
multipliers (the value ``pi_t`` of one more kWh after slot ``t``; up-jumps priced at the
room to capacity, down-jumps at the room to the floor) and the final value ``pi_last``,
is a sum of closed-form slot maxima plus the exact maximum over the departure level of
``-departure cost(B) - pi_last B``; any ``pi`` gives an upper bound, and ``pi`` is taken
from the vehicles' piecewise-linear plan
(:func:`smartcharging.solvers.depot.plan.solve_bidirectional_plan`)
at the same prices, so the value is never understated by the LP's approximations.

**The multipliers** minimise the bound (a convex function of ``mu`` and ``w``): the duals of
the expected-cost plan (:mod:`smartcharging.solvers.depot.plan`, an LP on HiGHS) are the first
guess, then projected subgradient steps, keeping the lowest bound met. Any multipliers give a
valid bound; the search only makes it tighter.

**What it bounds when schedules are random.** Each episode's bound is computed for its own
schedule draw (arrival and departure slots, arrival levels, price row) with ``mu`` chosen
for that draw. It bounds the *conditional expected* return of any policy given that draw
(its demands still unknown), even of a policy told the schedule in advance; it does not bound
the return realised in that episode, which lucky demands can exceed. Its mean over episodes
is an unbiased estimate of a bound on the expected return of every non-anticipative policy.
Within one draw, the vehicles share no random variable but the price row, which is fixed, so
the relaxed problem is exact per vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import special

from smartcharging.config import ChargingConfig
from smartcharging.config.depot import DepotConfig
from smartcharging.sim.depot import DepotSimulator
from smartcharging.sim.depot_episode import Episode
from smartcharging.solvers.depot.hindsight import limit_can_bind
from smartcharging.solvers.depot.plan import (
    PlanVehicles,
    departure_cost,
    needs_bidirectional,
    solve_bidirectional_plan,
    solve_plan,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, solve
from smartcharging.solvers.vehicle.grid import slot_transitions

#: Bisection steps of the single-vehicle dual (halves the interval each time).
DUAL_STEPS = 60


@dataclass(frozen=True)
class LagrangianBound:
    """The bound of one episode and the multipliers that give it.

    Attributes:
        value: the bound on the expected return given the episode's schedule.
        site_price: ``mu_t``, the price of one kWh drawn by the chargers in slot ``t``.
        peak_weights: ``w_t``, the demand charge's weights (zeros without demand charge).
        exact_levels: True when vehicles are limited to the charger levels (the limit
            cannot bind), False for the continuous relaxation.
        evaluations: how many multiplier vectors were evaluated.
        sell_price: with V2G, ``sigma_t``, the price of one kWh supplied by the chargers.
    """

    value: float
    site_price: np.ndarray
    peak_weights: np.ndarray
    exact_levels: bool
    evaluations: int
    sell_price: np.ndarray | None = None


def vehicle_config(
    config: DepotConfig,
    vehicle: tuple[float, float, float, float],
    departure: int,
    site_price: np.ndarray,
) -> ChargingConfig:
    """A vehicle of the depot, ``(capacity, lowest arrival level, demand mean, demand
    sd)``, as a single-vehicle problem up to ``departure``, at the site prices
    ``site_price`` (per kWh drawn)."""
    capacity, start_min, mean, sd = vehicle
    return ChargingConfig(
        capacity_kwh=float(capacity),
        power_levels_kw=config.power_levels_kw,
        slot_hours=config.slot_hours,
        n_slots=int(departure),
        start_min_kwh=float(start_min),
        start_step_kwh=config.start_step_kwh,
        demand_mean_kwh=float(mean),
        demand_sd_kwh=float(sd),
        cost_model="physical",
        efficiency=config.efficiency,
        wear_cost_per_kw2h=config.wear_cost_per_kw2h,
        shortfall_cost_per_kwh=config.shortfall_cost_per_kwh,
        price_profiles=(tuple(float(p) for p in site_price[: int(departure)]),),
        **_v2g_fields(config),
    )


def fleet_vehicle(config: DepotConfig, charger: int) -> tuple[float, float, float, float]:
    """The drawn vehicle of ``charger`` as :func:`vehicle_config` takes it."""
    return (
        config.capacity_kwh[charger],
        config.start_kwh[charger][0],
        config.demand_mean_kwh[charger],
        config.demand_sd_kwh[charger],
    )


def _v2g_fields(config: DepotConfig) -> dict[str, Any]:
    """The depot's V2G and ageing fields for one vehicle, none when they are the defaults
    (so that charge-only vehicles are built exactly as before). Exports are priced at the
    site price itself (no fee): one kWh supplied is worth what one kWh drawn costs."""
    fields: dict[str, Any] = {
        name: getattr(config, name)
        for name in ("degradation_cost_per_kwh", "residual_value_per_kwh")
        if getattr(config, name)
    }
    if config.v2g:
        fields.update(
            v2g=True,
            discharge_efficiency=config.discharge_efficiency,
            reserve_kwh=config.reserve_kwh,
        )
    return fields


def _level_values(
    config: DepotConfig, episode: Episode, site_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each vehicle's exact optimum on the charger levels (backward induction), and the
    energy per slot of its optimal trajectory."""
    n = episode.n_vehicles
    values = np.zeros(n)
    energy = np.zeros((n, config.n_slots))
    capacity, mean, sd = (
        episode.capacity(config),
        episode.demand_mean(config),
        episode.demand_sd(config),
    )
    chargers = np.arange(n) if episode.charger is None else episode.charger
    for i in range(n):
        departure, arrival = int(episode.departure[i]), int(episode.arrival[i])
        vehicle = (capacity[i], config.start_kwh[chargers[i]][0], mean[i], sd[i])
        vcfg = vehicle_config(config, vehicle, departure, site_price)
        solution = solve(vcfg)
        grid = solution.grid
        level = int(grid.locate(np.array([episode.start_kwh[i]]))[0][0])
        values[i] = solution.values[arrival, level] + solution.error_bound
        moves = slot_transitions(vcfg, grid)
        for t in range(arrival, departure):
            action = solution.policy[t, level]
            energy[i, t] = moves.energy_kwh[level, action]
            level = int(moves.lower[level, action])
    return values, energy


def _continuous_values(
    config: DepotConfig, episode: Episode, site_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each vehicle's exact optimum with any energy up to full power per slot, from its
    dual, and the energy per slot at the dual's minimiser."""
    h, wear, short = config.slot_hours, config.wear_cost_per_kw2h, config.shortfall_cost_per_kwh
    top = float(config.slot_energy_kwh[-1])
    slot = np.arange(config.n_slots)
    window = (slot[None, :] >= episode.arrival[:, None]) & (
        slot[None, :] < episode.departure[:, None]
    )
    unit = site_price / config.efficiency  # cost of one delivered kWh
    start = np.asarray(episode.start_kwh, dtype=np.float64)
    room = np.maximum(episode.capacity(config) - start, 0.0)
    mean, sd = episode.demand_mean(config), episode.demand_sd(config)

    def slot_energy(nu: np.ndarray) -> np.ndarray:
        margin = nu[:, None] - unit[None, :]
        if wear > 0:
            e = np.clip(margin * h / (2 * wear), 0.0, top)
        else:
            e = np.where(margin > 0, top, 0.0)
        return e * window

    def total_energy(nu: np.ndarray) -> np.ndarray:
        if short == 0:
            return np.zeros_like(nu)
        target = mean - sd * special.ndtri(np.clip(nu / short, 1e-300, 1.0))
        return np.clip(target - start, 0.0, room)

    low, high = np.zeros(len(start)), np.full(len(start), short)
    for _ in range(DUAL_STEPS):
        nu = 0.5 * (low + high)
        rising = slot_energy(nu).sum(axis=1) > total_energy(nu)
        high = np.where(rising, nu, high)
        low = np.where(rising, low, nu)
    nu = 0.5 * (low + high)
    e = slot_energy(nu)
    total = total_energy(nu)
    margin = nu[:, None] - unit[None, :]
    charging = (margin * e - wear * e * e / h).sum(axis=1)
    missing = normal_shortfall(start + total, mean, sd)[1]
    values = charging - nu * total - short * missing
    return values, e


def exact_levels(config: DepotConfig) -> bool:
    """Whether the depot always delivers the requested charger levels: the grid limit
    cannot bind and, with V2G, neither can the export limit."""
    if limit_can_bind(config):
        return False
    if not config.v2g:
        return True
    out = config.n_chargers * -float(config.power_kw[0]) * config.discharge_efficiency
    return bool(out <= config.export_cap_kw + 1e-9)


def _best_energy(margin: np.ndarray, top: float, wear: float, h: float) -> np.ndarray:
    """The energy in ``[0, top]`` maximising ``margin * e - wear * e**2 / h``."""
    if wear > 0:
        return np.clip(margin * h / (2 * wear), 0.0, top)
    return np.where(margin > 0, top, 0.0)


def _bidirectional_values(
    config: DepotConfig, episode: Episode, site_price: np.ndarray, sell_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each vehicle's value with any charge or discharge up to full power per slot, buying
    at ``site_price`` and selling at ``sell_price``, as the dual bound of the module
    docstring at the energy values of the vehicles' plan; and the energy charged and
    discharged per slot at that bound's maximiser."""
    h, wear, ageing = config.slot_hours, config.wear_cost_per_kw2h, config.degradation_cost_per_kwh
    eff, eff_out = config.efficiency, config.discharge_efficiency
    n, n_slots = episode.n_vehicles, config.n_slots
    vehicles = plan_vehicles(config, episode)
    plan = solve_bidirectional_plan(
        config, vehicles, None, config.pv, buy=site_price, sell=sell_price
    )
    slot = np.arange(n_slots)
    arrival, departure = np.asarray(episode.arrival), np.asarray(episode.departure)
    window = (slot[None, :] >= arrival[:, None]) & (slot[None, :] < departure[:, None])
    # Any energy values give a bound; the plan's (exact for its piecewise-linear costs)
    # make it tight. Without a plan, zero values still give a valid, looser bound.
    value = np.zeros((n, n_slots))
    if plan is not None and plan.energy_value is not None:
        value = plan.energy_value * window
    top_in = max(float(config.slot_energy_kwh[-1]), 0.0)
    top_out = max(-float(config.slot_energy_kwh[0]), 0.0)
    margin_in = value - site_price[None, :] / eff - ageing
    margin_out = sell_price[None, :] * eff_out - ageing - value
    charge = _best_energy(margin_in, top_in, wear, h) * window
    discharge = _best_energy(margin_out, top_out, wear, h) * window
    slots = (
        margin_in * charge
        - wear * charge * charge / h
        + margin_out * discharge
        - wear * discharge * discharge / h
    ).sum(axis=1)
    start = np.asarray(episode.start_kwh, dtype=np.float64)
    capacity = episode.capacity(config)
    floor = np.minimum(start, config.reserve_kwh)
    # path multipliers: the value of energy rises where the battery is full, falls where
    # it is at its floor
    later = np.roll(value, -1, axis=1)
    inner = window & np.roll(window, -1, axis=1)
    inner[:, -1] = False
    jump = (later - value) * inner
    path = (np.maximum(jump, 0.0).sum(axis=1) * (capacity - start)) + (
        np.maximum(-jump, 0.0).sum(axis=1) * (start - floor)
    )
    final = value[np.arange(n), departure - 1]
    mean, sd = episode.demand_mean(config), episode.demand_sd(config)
    best = _best_departure(config, final, floor, capacity, mean, sd)
    values = slots + path + final * start + best
    return values, charge, discharge


def _best_departure(
    config: DepotConfig,
    price: np.ndarray,
    floor: np.ndarray,
    capacity: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
) -> np.ndarray:
    """``max over B in [floor, capacity]`` of ``-departure cost(B) - price * B``, exactly:
    the cost's slope ``-(residual + (short - residual) P(D > B))`` is monotone, so the
    maximum is at an end or where the slope meets ``-price``."""
    short, residual = config.shortfall_cost_per_kwh, config.residual_value_per_kwh
    candidates = [floor, capacity]
    if short != residual:
        chance = (price - residual) / (short - residual)
        inside = (chance > 0) & (chance < 1)
        level = mean - sd * special.ndtri(np.clip(chance, 1e-300, 1 - 1e-16))
        candidates.append(np.where(inside, np.clip(level, floor, capacity), floor))
    return np.max([-departure_cost(config, b, mean, sd)[0] - price * b for b in candidates], axis=0)


def dual_value(
    config: DepotConfig,
    episode: Episode,
    site_price: np.ndarray,
    peak_weights: np.ndarray,
    exact_levels: bool,
    sell_price: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The bound at multipliers ``(site_price, peak_weights)`` (and ``sell_price`` with
    V2G: the site price when not given, and always with exact levels), and its
    subgradients with respect to the three."""
    if needs_bidirectional(config):
        return _bidirectional_dual(
            config, episode, site_price, peak_weights, exact_levels, sell_price
        )
    h, limit = config.slot_hours, config.grid_limit_kw
    prices = config.prices[episode.profile]
    pv_kwh = config.pv * h
    solver = _level_values if exact_levels else _continuous_values
    values, energy = solver(config, episode, site_price)
    margin = site_price - prices - config.demand_charge_per_kw * peak_weights / h
    above = margin > 0
    value = values.sum() + float(site_price @ pv_kwh) + limit * h * float(margin[above].sum())
    draw = energy.sum(axis=0) / config.efficiency
    price_gradient = pv_kwh - draw + limit * h * above
    weight_gradient = -config.demand_charge_per_kw * limit * above
    return float(value), price_gradient, weight_gradient, np.zeros(config.n_slots)


def _bidirectional_dual(
    config: DepotConfig,
    episode: Episode,
    site_price: np.ndarray,
    peak_weights: np.ndarray,
    exact_levels: bool,
    sell_price: np.ndarray | None,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`dual_value` with discharging, export prices and limit, ageing and the
    credit for the energy left (the terms of the module docstring)."""
    h, limit, dc = config.slot_hours, config.grid_limit_kw, config.demand_charge_per_kw
    prices = config.prices[episode.profile]
    export_price = config.export_prices[episode.profile]
    export_limit = config.export_cap_kw
    pv_kwh = config.pv * h
    if exact_levels or sell_price is None:
        sell_price = site_price
    if exact_levels:
        values, energy = _level_values(config, episode, site_price)
        charge, discharge = np.maximum(energy, 0.0), np.maximum(-energy, 0.0)
    else:
        values, charge, discharge = _bidirectional_values(config, episode, site_price, sell_price)
    draw = charge.sum(axis=0) / config.efficiency
    supply = discharge.sum(axis=0) * config.discharge_efficiency
    margin = site_price - prices - dc * peak_weights / h
    above = margin > 0
    resale = np.maximum(export_price, site_price)
    unsold = resale - sell_price
    short = unsold > 0
    value = (
        values.sum()
        + float(np.maximum(site_price, 0.0) @ pv_kwh)
        + limit * h * float(margin[above].sum())
        + export_limit * h * float(unsold[short].sum())
    )
    price_gradient = pv_kwh * (site_price > 0) - draw + limit * h * above
    price_gradient = price_gradient + export_limit * h * (short & (site_price > export_price))
    sell_gradient = supply - export_limit * h * short
    if exact_levels:  # the sell price is the site price
        price_gradient = price_gradient + sell_gradient
        sell_gradient = np.zeros(config.n_slots)
    weight_gradient = -dc * limit * above
    return float(value), price_gradient, weight_gradient, sell_gradient


def _simplex(weights: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the probability simplex."""
    ordered = np.sort(weights)[::-1]
    cumulative = np.cumsum(ordered) - 1.0
    index = np.arange(1, len(weights) + 1)
    rho = np.flatnonzero(ordered - cumulative / index > 0)[-1]
    return np.maximum(weights - cumulative[rho] / (rho + 1), 0.0)


def plan_vehicles(config: DepotConfig, episode: Episode) -> PlanVehicles:
    """Every vehicle of the episode, from its arrival to its departure, for the plan LP."""
    return PlanVehicles(
        battery_kwh=np.asarray(episode.start_kwh, dtype=np.float64),
        capacity_kwh=episode.capacity(config),
        demand_mean_kwh=episode.demand_mean(config),
        demand_sd_kwh=episode.demand_sd(config),
        first=np.asarray(episode.arrival),
        last=np.asarray(episode.departure),
        extra_kwh=np.zeros(episode.n_vehicles),
    )


Multipliers = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(site price mu, sell price sigma, peak weights w)``; sigma only matters with V2G."""


def _descend(
    config: DepotConfig,
    episodes: list[Episode],
    starts: list[Multipliers],
    steps: int,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int]:
    """Lowest mean bound over ``episodes`` found from the best of ``starts`` by projected
    subgradient steps (``mu >= 0``, ``w`` on the simplex, ``sigma`` free, step length
    ``0.2 * mean price / sqrt(k)``); returns ``(value, mu, sigma, w, evaluations)``."""
    exact = exact_levels(config)
    dc = config.demand_charge_per_kw
    free_sell = needs_bidirectional(config) and config.v2g and not exact

    def evaluate(
        mu: np.ndarray, sigma: np.ndarray, w: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        parts = [dual_value(config, episode, mu, w, exact, sigma) for episode in episodes]
        return (
            float(np.mean([p[0] for p in parts])),
            np.mean([p[1] for p in parts], axis=0),
            np.mean([p[2] for p in parts], axis=0),
            np.mean([p[3] for p in parts], axis=0),
        )

    scored = [(evaluate(mu, sigma, w)[0], mu, sigma, w) for mu, sigma, w in starts]
    value, mu, sigma, w = min(scored, key=lambda item: item[0])
    best = (value, mu, sigma, w)
    evaluations = len(starts)
    prices = config.prices[[episode.profile for episode in episodes]]
    scale = max(float(np.abs(prices).mean()), 1e-6)
    for step in range(steps):
        current, g_mu, g_w, g_sigma = evaluate(mu, sigma, w)
        evaluations += 1
        if current < best[0]:
            best = (current, mu, sigma, w)
        square = g_mu @ g_mu + (g_w @ g_w if dc > 0 else 0.0)
        if free_sell:
            square = square + g_sigma @ g_sigma
        norm = float(np.sqrt(square))
        if norm == 0:
            break
        length = 0.2 * scale / np.sqrt(step + 1.0) / norm
        mu = np.maximum(mu - length * g_mu, 0.0)
        if free_sell:
            sigma = sigma - length * g_sigma
        if dc > 0:
            w = _simplex(w - length * g_w)
    return best[0], best[1], best[2], best[3], evaluations


def _plan_start(
    config: DepotConfig, vehicles: PlanVehicles, profile: int, site_scale: float = 1.0
) -> list[Multipliers]:
    """Starting multipliers: the prices themselves (selling at the better of the export
    price and the site price), and the plan LP's duals if it solves."""
    prices = config.prices[profile]
    n_slots, dc = config.n_slots, config.demand_charge_per_kw
    flat = np.full(n_slots, 1.0 / n_slots)
    mu = np.maximum(prices, 0.0)
    starts = [(mu, np.maximum(config.export_prices[profile], mu), flat)]
    plan = solve_plan(config, vehicles, prices, config.pv, site_scale=site_scale)
    if plan is not None:
        weights = _simplex(plan.peak_price / dc) if dc > 0 else flat
        sell = plan.sell_price if plan.sell_price is not None else plan.site_price
        starts.append((np.maximum(plan.site_price, 0.0), sell, weights))
    return starts


def lagrangian_bound(
    config: DepotConfig, episode: Episode, subgradient_steps: int = 40
) -> LagrangianBound:
    """The lowest bound found for ``episode`` (see the module docstring)."""
    if isinstance(subgradient_steps, bool) or subgradient_steps < 0:
        raise ValueError(f"invalid subgradient_steps={subgradient_steps!r}: must be >= 0")
    starts = _plan_start(config, plan_vehicles(config, episode), episode.profile)
    value, mu, sigma, w, evaluations = _descend(config, [episode], starts, subgradient_steps)
    exact = exact_levels(config)
    return LagrangianBound(
        value=value,
        site_price=mu,
        peak_weights=w if config.demand_charge_per_kw > 0 else np.zeros(config.n_slots),
        exact_levels=exact,
        evaluations=evaluations,
        sell_price=(mu if exact else sigma) if config.v2g else None,
    )


def sample_episodes(config: DepotConfig, samples: int, seed: int) -> list[Episode]:
    """``samples`` schedule draws of the depot from a stream of its own (not the
    evaluation episodes), as the decomposition policy's prices are fitted on them."""
    sim = DepotSimulator(config, samples)
    sim.keys[:] = np.uint64(seed) * np.uint64(2654435761) + np.arange(
        1, samples + 1, dtype=np.uint64
    )
    sim.start_episodes(slice(None))
    return [sim.episode_of(k) for k in range(samples)]


def expected_site_prices(
    config: DepotConfig, profile: int, episodes: list[Episode], subgradient_steps: int = 60
) -> np.ndarray:
    """Site prices for a price row that do not depend on the schedule: the multipliers that
    minimise the bound averaged over the schedule draws ``episodes`` (all given the price
    row ``profile``), so that no schedule knowledge enters them. The start is the dual of one
    plan over all the draws' fleets on a site scaled by their number."""
    draws = [replace(episode, profile=profile) for episode in episodes]
    fleets = [plan_vehicles(config, episode) for episode in draws]
    merged = PlanVehicles(
        *(
            np.concatenate([getattr(f, name) for f in fleets])
            for name in PlanVehicles.__dataclass_fields__
        )
    )
    starts = _plan_start(config, merged, profile, site_scale=float(len(draws)))
    return _descend(config, draws, starts, subgradient_steps)[1]
