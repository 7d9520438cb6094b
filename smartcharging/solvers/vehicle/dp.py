"""Exact dynamic programming: the optimal policy and the exact value of any Markov policy.

The single-vehicle problem is a finite-horizon MDP. Backward induction over the battery grid
gives the optimal value ``V[t, b]``, the action values ``Q[t, b, a]`` and an optimal policy;
the departure term is an expectation computed from the demand distribution (survival
function and partial expectation, ``scipy.stats``), not from samples. The same recursion with
a fixed policy, plus a forward pass of the state distribution, gives that policy's exact
expected return, shortfall probability, energy and costs.

Priced scenarios with several price rows (day-ahead prices: one row per date, drawn per
episode and known in advance) are solved row by row; the optimum over the row distribution
is the average of the rows' optima (:func:`solve_all`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.solvers.vehicle.grid import (
    BatteryGrid,
    SlotTransitions,
    make_grid,
    slot_transitions,
)


@dataclass(frozen=True)
class Solution:
    """Backward induction for one price row.

    Attributes:
        values: ``V[t, b]``, shape ``(n_slots + 1, levels)``; ``V[n_slots]`` is the expected
            departure reward.
        action_values: ``Q[t, b, a]``, shape ``(n_slots, levels, actions)``.
        policy: optimal action index ``[t, b]`` (ties go to the lowest power).
        expected_return: optimal expected return over the arrival distribution.
        grid: the battery grid used.
        error_bound: bound on ``|expected_return - true optimum|``; 0 on an exact grid.
        profile: the price row solved (0 without prices).
    """

    config: ChargingConfig
    grid: BatteryGrid
    values: np.ndarray
    action_values: np.ndarray
    policy: np.ndarray
    expected_return: float
    error_bound: float
    profile: int = 0


@dataclass(frozen=True)
class Optimum:
    """The optimum over every price row: per-row optimal policies and returns.

    Attributes:
        policies: optimal action ``[profile, t, b]``.
        profile_returns: optimal expected return of each price row.
        expected_return: their average (rows are drawn uniformly).
        error_bound: bound on the error of ``expected_return``; 0 on an exact grid.
    """

    config: ChargingConfig
    grid: BatteryGrid
    policies: np.ndarray
    profile_returns: np.ndarray
    expected_return: float
    error_bound: float


@dataclass(frozen=True)
class PolicyValue:
    """Exact (or, on an interpolated grid, approximate) figures of one policy.

    ``expected_charging_cost`` is the total of the slot costs (the seed's ``exp(kW)`` cost,
    or energy plus wear); ``expected_shortfall_cost`` is the expected departure cost (the
    seed's penalty times its probability, or the cost of the missing kWh). With V2G,
    ``expected_energy_kwh`` counts the energy charged, ``expected_discharged_kwh`` the
    energy discharged, ``expected_energy_cost`` is the bill net of
    ``expected_export_revenue``, and ``expected_degradation_cost`` is the cycle ageing
    (all part of ``expected_charging_cost``). ``expected_residual_value`` is the credit for
    the energy left after the shift (the return adds it; ``expected_shortfall_cost`` does
    not include it).
    """

    expected_return: float
    shortfall_probability: float
    expected_shortfall_kwh: float
    expected_energy_kwh: float
    expected_charging_cost: float
    expected_energy_cost: float
    expected_wear_cost: float
    expected_shortfall_cost: float
    exact: bool
    expected_discharged_kwh: float = 0.0
    expected_export_revenue: float = 0.0
    expected_degradation_cost: float = 0.0
    expected_residual_value: float = 0.0

    @staticmethod
    def mean(values: list[PolicyValue]) -> PolicyValue:
        """Average over equally likely price rows."""
        fields = {
            name: float(np.mean([getattr(v, name) for v in values]))
            for name in PolicyValue.__dataclass_fields__
            if name != "exact"
        }
        return PolicyValue(**fields, exact=all(v.exact for v in values))


def _demand(config: ChargingConfig) -> stats.rv_continuous:
    return stats.norm(loc=config.demand_mean_kwh, scale=config.demand_sd_kwh)


def departure_outcomes(
    config: ChargingConfig, levels_kwh: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per battery level: ``(expected departure cost, P(run out), E[missing kWh])``.

    ``P(demand > b)`` is the normal survival function and ``E[(demand - b)+]`` its partial
    expectation ``sd * pdf(z) + (mean - b) * sf(z)``; a negative demand counts as zero, which
    changes neither for ``b >= 0``. The cost is net of the credit for the energy left
    (:func:`expected_surplus`) when the config values it.
    """
    survival, missing = normal_shortfall(levels_kwh, config.demand_mean_kwh, config.demand_sd_kwh)
    penalty, per_kwh = config.fixed_shortfall_penalty, config.shortfall_cost_kwh
    cost = penalty * survival + per_kwh * missing
    if config.residual_value_per_kwh:
        cost = cost - config.residual_value_per_kwh * expected_surplus(config, levels_kwh, missing)
    return cost, survival, missing


def expected_surplus(
    config: ChargingConfig, levels_kwh: np.ndarray, missing: np.ndarray
) -> np.ndarray:
    """``E[(b - demand)+]``, the energy left after the shift, per battery level (see
    :func:`normal_surplus`)."""
    return normal_surplus(levels_kwh, config.demand_mean_kwh, config.demand_sd_kwh, missing)


def normal_surplus(
    levels_kwh: np.ndarray,
    mean_kwh: np.ndarray | float,
    sd_kwh: np.ndarray | float,
    missing: np.ndarray,
) -> np.ndarray:
    """``E[(b - demand)+]`` for levels ``b >= 0`` and their ``missing = E[(demand - b)+]``
    (:func:`normal_shortfall`): ``b - E[demand] + missing``, where the demand (a normal draw
    floored at 0) has mean ``E[(normal - 0)+]``."""
    _, mean_demand = normal_shortfall(np.zeros_like(levels_kwh), mean_kwh, sd_kwh)
    return np.maximum(levels_kwh - mean_demand + missing, 0.0)


def normal_shortfall(
    levels_kwh: np.ndarray, mean_kwh: np.ndarray | float, sd_kwh: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """``(P(demand > b), E[(demand - b)+])`` for demand ~ Normal(mean, sd), broadcast over
    levels ``b`` and the distribution's parameters; the depot's Lagrangian bound and MPC use
    it per vehicle."""
    z = (levels_kwh - mean_kwh) / sd_kwh
    survival = stats.norm.sf(z)
    missing = sd_kwh * stats.norm.pdf(z) - (levels_kwh - mean_kwh) * survival
    return survival, np.maximum(missing, 0.0)


def _next_values(values: np.ndarray, moves: SlotTransitions) -> np.ndarray:
    """Value of the level reached from each (level, action), interpolated if needed."""
    return values[moves.lower] * (1 - moves.weight) + values[moves.upper] * moves.weight


def _start_weights(config: ChargingConfig, grid: BatteryGrid) -> np.ndarray:
    """Probability of each grid level at arrival (split between neighbours if off-grid)."""
    lower, upper, weight = grid.locate(config.start_levels_kwh)
    mass = np.zeros(grid.size)
    share = 1.0 / config.n_start_levels
    np.add.at(mass, lower, share * (1 - weight))
    np.add.at(mass, upper, share * weight)
    return mass


def _error_bound(config: ChargingConfig, grid: BatteryGrid) -> float:
    """A priori bound on the interpolation error of the optimal value.

    ``V[t]`` is Lipschitz with constant ``L[t]``: at departure ``penalty * max pdf + cost per
    kWh``, and each slot adds at most the largest slope of a slot's cost in the battery level
    (a slot that fills the battery early charges for ``(capacity - b) / kW`` hours, and the
    physical energy cost is linear in the energy). Linear interpolation of an L-Lipschitz
    function errs by at most ``L * step / 2``; max and shifts do not enlarge errors, so the
    stage errors add.
    """
    if grid.exact:
        return 0.0
    penalty, per_kwh = config.fixed_shortfall_penalty, config.shortfall_cost_kwh
    lipschitz = penalty * float(_demand(config).pdf(config.demand_mean_kwh)) + per_kwh
    lipschitz += config.residual_value_per_kwh
    if config.physical:
        price = float(np.abs(config.prices).max()) / config.efficiency
        export = float(np.abs(config.export_prices).max()) * config.discharge_efficiency
        wear = config.wear_cost_per_kw2h * float(np.abs(config.power_kw).max())
        slope = max(price, export) + wear + config.degradation_cost_per_kwh
    else:
        slope = max(
            (r / p for r, p in zip(config.cost_rates, config.power_kw, strict=True) if p > 0),
            default=0,
        )
    total = 0.0
    for _ in range(config.n_slots):
        total += lipschitz * grid.step_kwh / 2
        lipschitz += slope
    return float(total + lipschitz * grid.step_kwh / 2)


def _best_actions(config: ChargingConfig, action_values: np.ndarray) -> np.ndarray:
    """The argmax over the last axis, ties going to the power closest to 0 kW (the lowest
    power without V2G; idling rather than a discharge that the reserve stops)."""
    order = np.argsort(np.abs(config.power_kw), kind="stable")
    if (order == np.arange(len(order))).all():
        return action_values.argmax(axis=-1)
    # slot by slot: reordering every slot at once copied all the action values (peak memory)
    return np.stack([order[slot[..., order].argmax(axis=-1)] for slot in action_values])


def solve(config: ChargingConfig, grid: BatteryGrid | None = None, profile: int = 0) -> Solution:
    """Optimal values and policy of ``config`` for one price row, by backward induction."""
    grid = grid if grid is not None else make_grid(config)
    moves = slot_transitions(config, grid)
    prices = config.prices[profile]
    n_slots = config.n_slots
    values = np.empty((n_slots + 1, grid.size))
    action_values = np.empty((n_slots, grid.size, config.n_actions))
    values[n_slots] = -departure_outcomes(config, grid.levels_kwh)[0]
    for t in range(n_slots - 1, -1, -1):
        action_values[t] = _next_values(values[t + 1], moves) - moves.costs(prices[t])[0]
        values[t] = action_values[t].max(axis=1)
    policy = _best_actions(config, action_values)
    return Solution(
        config=config,
        grid=grid,
        values=values,
        action_values=action_values,
        policy=policy,
        expected_return=float(_start_weights(config, grid) @ values[0]),
        error_bound=_error_bound(config, grid),
        profile=profile,
    )


def solve_all(config: ChargingConfig, grid: BatteryGrid | None = None) -> Optimum:
    """The optimum over every price row (one row for configurations without prices)."""
    grid = grid if grid is not None else make_grid(config)
    policy_type = np.int8 if config.n_actions <= 127 else np.int64
    policies = np.empty((config.n_profiles, config.n_slots, grid.size), dtype=policy_type)
    returns = np.empty(config.n_profiles)
    for profile in range(config.n_profiles):
        solution = solve(config, grid, profile)
        policies[profile] = solution.policy
        returns[profile] = solution.expected_return
        del solution  # its action values go before the next row's are made (peak memory)
    return Optimum(
        config=config,
        grid=grid,
        policies=policies,
        profile_returns=returns,
        expected_return=float(returns.mean()),
        error_bound=_error_bound(config, grid),
    )


def evaluate_policy_rows(
    config: ChargingConfig,
    probabilities: Callable[[int, np.ndarray, np.ndarray], np.ndarray],
    rows: Sequence[int],
    grid: BatteryGrid | None = None,
) -> list[PolicyValue]:
    """Exact figures of a Markov policy on several price rows at once, by a forward pass of
    the state distribution of every row.

    ``probabilities(t, rows, levels)`` gives the action probabilities ``(n, actions)`` at
    time ``t`` for ``n`` states, each a price row and a grid level (index); it is only asked
    about states the policy can reach. Exact on an exact grid; on an interpolated grid the
    figures are approximate and ``exact`` is False.
    """
    grid = grid if grid is not None else make_grid(config)
    moves = slot_transitions(config, grid)
    row_ids = np.asarray(rows, dtype=np.intp)
    n_rows, size = len(row_ids), grid.size
    mass = np.tile(_start_weights(config, grid), (n_rows, 1))
    charged = np.maximum(moves.energy_kwh, 0.0)
    discharged = charged - moves.energy_kwh
    # Expected charged and discharged energy, then the five parts of the slot cost.
    sums = np.zeros((7, n_rows))
    for t in range(config.n_slots):
        row, level = np.nonzero(mass)
        flow = mass[row, level][:, None] * probabilities(t, row_ids[row], level)
        parts = (
            charged[level],
            discharged[level],
            *moves.costs(config.prices[row_ids[row], t], level),
        )
        for total, part in zip(sums, parts, strict=True):
            total += np.bincount(row, (flow * part).sum(axis=1), n_rows)
        weight = moves.weight[level]
        base = (row * size)[:, None]
        new = np.bincount(
            (base + moves.lower[level]).ravel(), (flow * (1 - weight)).ravel(), n_rows * size
        )
        if not grid.exact:
            new += np.bincount(
                (base + moves.upper[level]).ravel(), (flow * weight).ravel(), n_rows * size
            )
        mass = new.reshape(n_rows, size)
    departure_cost, survival, missing = departure_outcomes(config, grid.levels_kwh)
    residual_value = np.zeros(n_rows)
    if config.residual_value_per_kwh:
        surplus = expected_surplus(config, grid.levels_kwh, missing)
        residual_value = mass @ (config.residual_value_per_kwh * surplus)
    shortfall_cost = mass @ departure_cost + residual_value
    shortfall = mass @ survival
    missing_kwh = mass @ missing
    energy, discharged_kwh, total, energy_cost, wear_cost, revenue, degradation = sums
    return [
        PolicyValue(
            expected_return=float(-total[i] - shortfall_cost[i] + residual_value[i]),
            shortfall_probability=float(shortfall[i]),
            expected_shortfall_kwh=float(missing_kwh[i]),
            expected_energy_kwh=float(energy[i]),
            expected_charging_cost=float(total[i]),
            expected_energy_cost=float(energy_cost[i]),
            expected_wear_cost=float(wear_cost[i]),
            expected_shortfall_cost=float(shortfall_cost[i]),
            exact=grid.exact,
            expected_discharged_kwh=float(discharged_kwh[i]),
            expected_export_revenue=float(revenue[i]),
            expected_degradation_cost=float(degradation[i]),
            expected_residual_value=float(residual_value[i]),
        )
        for i in range(n_rows)
    ]


def evaluate_policy(
    config: ChargingConfig,
    probabilities: Callable[[int, np.ndarray], np.ndarray],
    grid: BatteryGrid | None = None,
    profile: int = 0,
) -> PolicyValue:
    """Exact figures of a Markov policy on one price row; ``probabilities(t, levels)`` gives
    the action probabilities at time ``t`` and grid levels ``levels``
    (see :func:`evaluate_policy_rows`)."""
    return evaluate_policy_rows(
        config, lambda t, _rows, levels: probabilities(t, levels), [profile], grid
    )[0]


def evaluate_table(
    config: ChargingConfig,
    probabilities: np.ndarray,
    grid: BatteryGrid | None = None,
    profile: int = 0,
) -> PolicyValue:
    """Exact figures of a Markov policy given as a table of action probabilities
    ``[t, b, a]`` (a deterministic policy is one-hot), on one price row."""
    grid = grid if grid is not None else make_grid(config)
    expected_shape = (config.n_slots, grid.size, config.n_actions)
    if probabilities.shape != expected_shape:
        raise ValueError(
            f"policy table has shape {probabilities.shape}: must be {expected_shape} "
            "(slots, battery levels, actions)"
        )
    return evaluate_policy(config, lambda t, levels: probabilities[t, levels], grid, profile)


def one_hot(actions: np.ndarray, n_actions: int) -> np.ndarray:
    """Probability table of a deterministic policy given as action indices."""
    return np.eye(n_actions)[actions]


def hindsight_value(
    config: ChargingConfig, start_kwh: float, demand_kwh: float, profile: int = 0
) -> float:
    """Best return of one episode with its demand known in advance: the same backward
    induction with the departure cost of that demand instead of its expectation."""
    grid = make_grid(config)
    moves = slot_transitions(config, grid)
    penalty, per_kwh = config.fixed_shortfall_penalty, config.shortfall_cost_kwh
    missing = np.maximum(demand_kwh - grid.levels_kwh, 0.0)
    surplus = np.maximum(grid.levels_kwh - demand_kwh, 0.0)
    values = -(penalty * (missing > 0) + per_kwh * missing)
    if config.residual_value_per_kwh:
        values = values + config.residual_value_per_kwh * surplus
    prices = config.prices[profile]
    for t in range(config.n_slots - 1, -1, -1):
        values = (_next_values(values, moves) - moves.costs(prices[t])[0]).max(axis=1)
    lower, upper, weight = grid.locate(np.array([start_kwh]))
    return float(values[lower[0]] * (1 - weight[0]) + values[upper[0]] * weight[0])
