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
  vehicle's problem is the existing backward induction (:func:`smartcharging.solvers.dp.solve`
  on the vehicle's own capacity, window, demand and the price row ``mu``).
* When it can bind, the allocation may deliver any fraction of a request, so the vehicle's
  problem must allow any energy up to full power per slot (wear ``c e**2 / h`` is the least
  wear of delivering ``e`` in a slot). Nothing is revealed to the vehicle between its arrival
  and its departure, so its closed-loop optimum is an open-loop convex program; its value is
  computed from its one-dimensional dual, ``min over nu`` of a sum of closed-form terms.
  Every ``nu`` gives an upper bound, so the value is never understated by the search.

**The multipliers** minimise the bound (a convex function of ``mu`` and ``w``): the duals of
the expected-cost plan (:mod:`smartcharging.solvers.mpc`, an LP on HiGHS) are the first
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

from dataclasses import dataclass

import numpy as np
from scipy import special

from smartcharging.config import ChargingConfig
from smartcharging.config.depot import DepotConfig
from smartcharging.sim.depot import DepotSimulator
from smartcharging.solvers.dp import normal_shortfall, solve
from smartcharging.solvers.grid import slot_transitions
from smartcharging.solvers.hindsight import Episode, limit_can_bind
from smartcharging.solvers.mpc import PlanVehicles, solve_plan

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
    """

    value: float
    site_price: np.ndarray
    peak_weights: np.ndarray
    exact_levels: bool
    evaluations: int


def vehicle_config(
    config: DepotConfig, vehicle: int, departure: int, site_price: np.ndarray
) -> ChargingConfig:
    """Vehicle ``vehicle`` of the depot as a single-vehicle problem up to ``departure``, at
    the site prices ``site_price`` (per kWh drawn)."""
    return ChargingConfig(
        capacity_kwh=config.capacity_kwh[vehicle],
        power_levels_kw=config.power_levels_kw,
        slot_hours=config.slot_hours,
        n_slots=int(departure),
        start_min_kwh=config.start_kwh[vehicle][0],
        start_step_kwh=config.start_step_kwh,
        demand_mean_kwh=config.demand_mean_kwh[vehicle],
        demand_sd_kwh=config.demand_sd_kwh[vehicle],
        cost_model="physical",
        efficiency=config.efficiency,
        wear_cost_per_kw2h=config.wear_cost_per_kw2h,
        shortfall_cost_per_kwh=config.shortfall_cost_per_kwh,
        price_profiles=(tuple(float(p) for p in site_price[: int(departure)]),),
    )


def _level_values(
    config: DepotConfig, episode: Episode, site_price: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each vehicle's exact optimum on the charger levels (backward induction), and the
    energy per slot of its optimal trajectory."""
    n = config.n_chargers
    values = np.zeros(n)
    energy = np.zeros((n, config.n_slots))
    for i in range(n):
        departure, arrival = int(episode.departure[i]), int(episode.arrival[i])
        vcfg = vehicle_config(config, i, departure, site_price)
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
    top = float(config.power_kw[-1]) * h
    slot = np.arange(config.n_slots)
    window = (slot[None, :] >= episode.arrival[:, None]) & (
        slot[None, :] < episode.departure[:, None]
    )
    unit = site_price / config.efficiency  # cost of one delivered kWh
    start = np.asarray(episode.start_kwh, dtype=np.float64)
    room = np.maximum(np.asarray(config.capacity_kwh) - start, 0.0)
    mean, sd = np.asarray(config.demand_mean_kwh), np.asarray(config.demand_sd_kwh)

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


def dual_value(
    config: DepotConfig,
    episode: Episode,
    site_price: np.ndarray,
    peak_weights: np.ndarray,
    exact_levels: bool,
) -> tuple[float, np.ndarray, np.ndarray]:
    """The bound at multipliers ``(site_price, peak_weights)``, and its subgradients with
    respect to both."""
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
    return float(value), price_gradient, weight_gradient


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
        capacity_kwh=np.asarray(config.capacity_kwh),
        demand_mean_kwh=np.asarray(config.demand_mean_kwh),
        demand_sd_kwh=np.asarray(config.demand_sd_kwh),
        first=np.asarray(episode.arrival),
        last=np.asarray(episode.departure),
        extra_kwh=np.zeros(config.n_chargers),
    )


def _descend(
    config: DepotConfig,
    episodes: list[Episode],
    starts: list[tuple[np.ndarray, np.ndarray]],
    steps: int,
) -> tuple[float, np.ndarray, np.ndarray, int]:
    """Lowest mean bound over ``episodes`` found from the best of ``starts`` by projected
    subgradient steps (``mu >= 0``, ``w`` on the simplex, step length ``0.2 * mean price /
    sqrt(k)``); returns ``(value, mu, w, evaluations)``."""
    exact = not limit_can_bind(config)
    dc = config.demand_charge_per_kw

    def evaluate(mu: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        parts = [dual_value(config, episode, mu, w, exact) for episode in episodes]
        return (
            float(np.mean([p[0] for p in parts])),
            np.mean([p[1] for p in parts], axis=0),
            np.mean([p[2] for p in parts], axis=0),
        )

    scored = [(evaluate(mu, w)[0], mu, w) for mu, w in starts]
    value, mu, w = min(scored, key=lambda item: item[0])
    best = (value, mu, w)
    evaluations = len(starts)
    prices = config.prices[[episode.profile for episode in episodes]]
    scale = max(float(np.abs(prices).mean()), 1e-6)
    for step in range(steps):
        current, g_mu, g_w = evaluate(mu, w)
        evaluations += 1
        if current < best[0]:
            best = (current, mu, w)
        norm = float(np.sqrt(g_mu @ g_mu + (g_w @ g_w if dc > 0 else 0.0)))
        if norm == 0:
            break
        length = 0.2 * scale / np.sqrt(step + 1.0) / norm
        mu = np.maximum(mu - length * g_mu, 0.0)
        if dc > 0:
            w = _simplex(w - length * g_w)
    return best[0], best[1], best[2], evaluations


def _plan_start(
    config: DepotConfig, vehicles: PlanVehicles, profile: int, site_scale: float = 1.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Starting multipliers: the prices themselves, and the plan LP's duals if it solves."""
    prices = config.prices[profile]
    n_slots, dc = config.n_slots, config.demand_charge_per_kw
    flat = np.full(n_slots, 1.0 / n_slots)
    starts = [(np.maximum(prices, 0.0), flat)]
    plan = solve_plan(config, vehicles, prices, config.pv, site_scale=site_scale)
    if plan is not None:
        weights = _simplex(plan.peak_price / dc) if dc > 0 else flat
        starts.append((plan.site_price, weights))
    return starts


def lagrangian_bound(
    config: DepotConfig, episode: Episode, subgradient_steps: int = 40
) -> LagrangianBound:
    """The lowest bound found for ``episode`` (see the module docstring)."""
    if isinstance(subgradient_steps, bool) or subgradient_steps < 0:
        raise ValueError(f"invalid subgradient_steps={subgradient_steps!r}: must be >= 0")
    starts = _plan_start(config, plan_vehicles(config, episode), episode.profile)
    value, mu, w, evaluations = _descend(config, [episode], starts, subgradient_steps)
    return LagrangianBound(
        value=value,
        site_price=mu,
        peak_weights=w if config.demand_charge_per_kw > 0 else np.zeros(config.n_slots),
        exact_levels=not limit_can_bind(config),
        evaluations=evaluations,
    )


def sample_episodes(config: DepotConfig, samples: int, seed: int) -> list[Episode]:
    """``samples`` schedule draws of the depot from a stream of its own (not the
    evaluation episodes), as the decomposition policy's prices are fitted on them."""
    sim = DepotSimulator(config, samples)
    sim.keys[:] = np.uint64(seed) * np.uint64(2654435761) + np.arange(
        1, samples + 1, dtype=np.uint64
    )
    sim.start_episodes(slice(None))
    return [
        Episode(
            sim.arrival[k].copy(),
            sim.departure[k].copy(),
            sim.battery[k].copy(),
            sim.demand[k].copy(),
            int(sim.profile[k]),
        )
        for k in range(samples)
    ]


def expected_site_prices(
    config: DepotConfig, profile: int, episodes: list[Episode], subgradient_steps: int = 60
) -> np.ndarray:
    """Site prices for a price row that do not depend on the schedule: the multipliers that
    minimise the bound averaged over the schedule draws ``episodes`` (all given the price
    row ``profile``), so that no schedule knowledge enters them. The start is the dual of one
    plan over all the draws' fleets on a site scaled by their number."""
    draws = [Episode(e.arrival, e.departure, e.start_kwh, e.demand_kwh, profile) for e in episodes]
    fleets = [plan_vehicles(config, episode) for episode in draws]
    merged = PlanVehicles(
        *(
            np.concatenate([getattr(f, name) for f in fleets])
            for name in PlanVehicles.__dataclass_fields__
        )
    )
    starts = _plan_start(config, merged, profile, site_scale=float(len(draws)))
    return _descend(config, draws, starts, subgradient_steps)[1]
