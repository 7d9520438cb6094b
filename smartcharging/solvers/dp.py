"""Exact dynamic programming: the optimal policy and the exact value of any Markov policy.

The single-vehicle problem is a finite-horizon MDP. Backward induction over the battery grid
gives the optimal value ``V[t, b]``, the action values ``Q[t, b, a]`` and an optimal policy;
the departure term is an expectation computed from the demand distribution's survival
function (``scipy.stats``), not from samples. The same recursion with a fixed policy, plus a
forward pass of the state distribution, gives that policy's exact expected return, shortfall
probability, energy and charging cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from smartcharging import dynamics
from smartcharging.config import ChargingConfig
from smartcharging.solvers.grid import (
    BatteryGrid,
    SlotTransitions,
    departure_penalty,
    make_grid,
    slot_transitions,
)


@dataclass(frozen=True)
class Solution:
    """Result of backward induction.

    Attributes:
        values: ``V[t, b]``, shape ``(n_slots + 1, levels)``; ``V[n_slots]`` is the expected
            departure reward.
        action_values: ``Q[t, b, a]``, shape ``(n_slots, levels, actions)``.
        policy: optimal action index ``[t, b]`` (ties go to the lowest power).
        expected_return: optimal expected return over the arrival distribution.
        grid: the battery grid used.
        error_bound: bound on ``|expected_return - true optimum|``; 0 on an exact grid.
    """

    config: ChargingConfig
    grid: BatteryGrid
    values: np.ndarray
    action_values: np.ndarray
    policy: np.ndarray
    expected_return: float
    error_bound: float


@dataclass(frozen=True)
class PolicyValue:
    """Exact (or, on an interpolated grid, approximate) figures of one policy."""

    expected_return: float
    shortfall_probability: float
    expected_energy_kwh: float
    expected_charging_cost: float
    exact: bool


def _demand(config: ChargingConfig) -> stats.rv_continuous:
    return stats.norm(loc=config.demand_mean_kwh, scale=config.demand_sd_kwh)


def shortfall_probabilities(config: ChargingConfig, levels_kwh: np.ndarray) -> np.ndarray:
    """P(demand > level) for each battery level, from the demand's survival function."""
    return np.asarray(_demand(config).sf(levels_kwh), dtype=np.float64)


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


def _error_bound(config: ChargingConfig, grid: BatteryGrid, penalty: float) -> float:
    """A priori bound on the interpolation error of the optimal value.

    ``V[t]`` is Lipschitz with constant ``L[t]``: at departure ``penalty * max pdf``, and
    each slot adds at most ``max exp(kW)/kW`` (a slot that fills the battery early charges
    for ``(capacity - b) / kW`` hours). Linear interpolation of an L-Lipschitz function errs
    by at most ``L * step / 2``; max and shifts do not enlarge errors, so the stage errors add.
    """
    if grid.exact:
        return 0.0
    lipschitz = penalty * _demand(config).pdf(config.demand_mean_kwh)
    rates = dynamics.cost_rate(config.power_kw)
    slope = max((r / p for r, p in zip(rates, config.power_kw, strict=True) if p > 0), default=0)
    total = 0.0
    for _ in range(config.n_slots):
        total += lipschitz * grid.step_kwh / 2
        lipschitz += slope
    return float(total + lipschitz * grid.step_kwh / 2)


def solve(config: ChargingConfig, grid: BatteryGrid | None = None) -> Solution:
    """Optimal values and policy of ``config`` by backward induction."""
    grid = grid if grid is not None else make_grid(config)
    moves = slot_transitions(config, grid)
    penalty = departure_penalty(config)
    n_slots = config.n_slots
    values = np.empty((n_slots + 1, grid.size))
    action_values = np.empty((n_slots, grid.size, config.n_actions))
    values[n_slots] = -penalty * shortfall_probabilities(config, grid.levels_kwh)
    for t in range(n_slots - 1, -1, -1):
        action_values[t] = _next_values(values[t + 1], moves) - moves.cost
        values[t] = action_values[t].max(axis=1)
    policy = action_values.argmax(axis=2)
    start = _start_weights(config, grid)
    return Solution(
        config=config,
        grid=grid,
        values=values,
        action_values=action_values,
        policy=policy,
        expected_return=float(start @ values[0]),
        error_bound=_error_bound(config, grid, penalty),
    )


def evaluate_table(
    config: ChargingConfig, probabilities: np.ndarray, grid: BatteryGrid | None = None
) -> PolicyValue:
    """Exact figures of a Markov policy given as action probabilities ``[t, b, a]``.

    A deterministic policy is a one-hot table. Exact on an exact grid; on an interpolated
    grid the figures are approximate and ``exact`` is False.
    """
    grid = grid if grid is not None else make_grid(config)
    expected_shape = (config.n_slots, grid.size, config.n_actions)
    if probabilities.shape != expected_shape:
        raise ValueError(
            f"policy table has shape {probabilities.shape}: must be {expected_shape} "
            "(slots, battery levels, actions)"
        )
    moves = slot_transitions(config, grid)
    penalty = departure_penalty(config)
    mass = _start_weights(config, grid)
    energy = cost = 0.0
    for t in range(config.n_slots):
        flow = mass[:, None] * probabilities[t]
        energy += float((flow * moves.energy_kwh).sum())
        cost += float((flow * moves.cost).sum())
        mass = np.zeros(grid.size)
        np.add.at(mass, moves.lower.ravel(), (flow * (1 - moves.weight)).ravel())
        np.add.at(mass, moves.upper.ravel(), (flow * moves.weight).ravel())
    shortfall = float(mass @ shortfall_probabilities(config, grid.levels_kwh))
    return PolicyValue(
        expected_return=-cost - penalty * shortfall,
        shortfall_probability=shortfall,
        expected_energy_kwh=energy,
        expected_charging_cost=cost,
        exact=grid.exact,
    )


def one_hot(actions: np.ndarray, n_actions: int) -> np.ndarray:
    """Probability table of a deterministic policy given as action indices."""
    return np.eye(n_actions)[actions]
