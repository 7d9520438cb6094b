"""How good is a policy? Exact expected return, Monte-Carlo confirmation, optimality gap.

The exact figures come from :func:`smartcharging.solvers.vehicle.dp.evaluate_table`, with the policy
queried on every grid state; the Monte-Carlo figures come from running the batch environment
(the same physics and draws as ``SmartCharging-v0``) for N seeded episodes, with a 95%
confidence interval, so the two can be checked against each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from smartcharging import observations
from smartcharging.config import ChargingConfig, limits
from smartcharging.envs.smart_charging_vector import SmartChargingVectorEnv
from smartcharging.policies.base import Policy
from smartcharging.solvers.vehicle.dp import Optimum, PolicyValue, evaluate_policy_rows
from smartcharging.solvers.vehicle.grid import BatteryGrid

#: Price rows evaluated together (bounds the observations built at once).
_ROWS_AT_ONCE = 64

#: Episodes simulated at once by the Monte-Carlo estimate.
_CHUNK = 16_384

#: Relative differences below this are floating-point rounding, reported as a zero gap.
ROUNDING = 1e-12


@dataclass(frozen=True)
class MonteCarloEstimate:
    """Sample figures over ``episodes`` seeded episodes of the environment."""

    episodes: int
    mean_return: float
    ci_low: float
    ci_high: float
    shortfall_rate: float
    mean_energy_kwh: float
    mean_charging_cost: float


@dataclass(frozen=True)
class PolicyReport:
    """Everything the comparison table shows for one policy."""

    name: str
    exact: PolicyValue
    gap: float
    relative_gap: float
    monte_carlo: MonteCarloEstimate | None = None
    profile_returns: np.ndarray | None = None
    bidirectional: bool = False  # V2G terms: discharge, export, ageing, energy left

    def as_dict(self) -> dict[str, object]:
        value = self.exact
        row: dict[str, object] = {
            "policy": self.name,
            "expected_return": value.expected_return,
            "gap_to_optimum": self.gap,
            "relative_gap": self.relative_gap,
            "shortfall_probability": value.shortfall_probability,
            "expected_shortfall_kwh": value.expected_shortfall_kwh,
            "expected_energy_kwh": value.expected_energy_kwh,
            "expected_charging_cost": value.expected_charging_cost,
            "expected_energy_cost": value.expected_energy_cost,
            "expected_wear_cost": value.expected_wear_cost,
            "expected_shortfall_cost": value.expected_shortfall_cost,
            "exact": value.exact,
        }
        if self.bidirectional:
            row.update(
                expected_discharged_kwh=value.expected_discharged_kwh,
                expected_export_revenue=value.expected_export_revenue,
                expected_degradation_cost=value.expected_degradation_cost,
                expected_residual_value=value.expected_residual_value,
            )
        if self.monte_carlo is not None:
            mc = self.monte_carlo
            row.update(
                mc_episodes=mc.episodes,
                mc_mean_return=mc.mean_return,
                mc_ci_low=mc.ci_low,
                mc_ci_high=mc.ci_high,
                mc_shortfall_rate=mc.shortfall_rate,
            )
        return row


def grid_observations(config: ChargingConfig, grid: BatteryGrid, profile: int = 0) -> np.ndarray:
    """Observation of every (t, level) grid state on one price row, t-major, float32."""
    time, level = np.meshgrid(np.arange(config.n_slots), np.arange(grid.size), indexing="ij")
    return observations.vehicle_observations(
        config, grid.levels_kwh[level.ravel()], time.ravel(), profile
    )


def exact_values(policy: Policy, config: ChargingConfig, grid: BatteryGrid) -> list[PolicyValue]:
    """Exact figures of a Markov policy on each price row, the policy being queried on the
    observation of every state it can reach (price rows a chunk at a time)."""

    def probabilities(t: int, rows: np.ndarray, levels: np.ndarray) -> np.ndarray:
        time = np.full(len(levels), t)
        battery = grid.levels_kwh[levels]
        return policy.probabilities(observations.vehicle_observations(config, battery, time, rows))

    values: list[PolicyValue] = []
    for start in range(0, config.n_profiles, _ROWS_AT_ONCE):
        rows = range(start, min(start + _ROWS_AT_ONCE, config.n_profiles))
        values += evaluate_policy_rows(config, probabilities, rows, grid)
    return values


def exact_value(policy: Policy, config: ChargingConfig, grid: BatteryGrid) -> PolicyValue:
    """Exact expected return, shortfall, energy and costs of a Markov policy, averaged over
    the (equally likely) price rows."""
    return PolicyValue.mean(exact_values(policy, config, grid))


def monte_carlo(
    policy: Policy, config: ChargingConfig, episodes: int, seed: int = 0
) -> MonteCarloEstimate:
    """Run ``episodes`` episodes of the batch environment, episode ``i`` seeded ``seed + i``
    (so it is the first episode of ``SmartChargingEnv`` reset with that seed)."""
    if episodes < 2:
        raise ValueError(f"invalid episodes={episodes}: must be >= 2 for a confidence interval")
    if episodes > limits.MAX_EPISODES:
        raise ValueError(f"invalid episodes={episodes}: must be at most {limits.MAX_EPISODES:,}")
    returns, ran_out, energy, cost = (np.empty(episodes) for _ in range(4))
    for start in range(0, episodes, _CHUNK):
        size = min(_CHUNK, episodes - start)
        env = SmartChargingVectorEnv(num_envs=size, config=config)
        observations, _ = env.reset(seed=[seed + start + i for i in range(size)])
        chunk = slice(start, start + size)
        returns[chunk] = energy[chunk] = cost[chunk] = 0.0
        for _ in range(config.n_slots):
            observations, reward, _, _, info = env.step(policy.actions(observations))
            returns[chunk] += reward
            energy[chunk] += info["energy_kwh"]
            cost[chunk] += info["cost"]
        ran_out[chunk] = info["ran_out"]
    mean = float(returns.mean())
    half_width = float(stats.t.ppf(0.975, episodes - 1) * returns.std(ddof=1) / math.sqrt(episodes))
    return MonteCarloEstimate(
        episodes=episodes,
        mean_return=mean,
        ci_low=mean - half_width,
        ci_high=mean + half_width,
        shortfall_rate=float(ran_out.mean()),
        mean_energy_kwh=float(energy.mean()),
        mean_charging_cost=float(cost.mean()),
    )


def report(
    policy: Policy,
    optimum: Optimum,
    episodes: int = 0,
    seed: int = 0,
) -> PolicyReport:
    """Exact figures, optimality gap and (if ``episodes``) a Monte-Carlo check of a policy."""
    per_profile = exact_values(policy, optimum.config, optimum.grid)
    value = PolicyValue.mean(per_profile)
    scale = abs(optimum.expected_return)
    gap = optimum.expected_return - value.expected_return
    # Backward (DP) and forward (evaluation) sums of the same numbers differ by rounding.
    gap = 0.0 if abs(gap) <= ROUNDING * max(scale, 1.0) else gap
    return PolicyReport(
        name=policy.name,
        exact=value,
        gap=gap,
        relative_gap=gap / scale if scale > 0 else 0.0,
        monte_carlo=monte_carlo(policy, optimum.config, episodes, seed) if episodes else None,
        profile_returns=np.array([v.expected_return for v in per_profile]),
        bidirectional=optimum.config.v2g_physics or optimum.config.residual_value_per_kwh > 0,
    )


def compare(
    policies: Iterable[Policy],
    optimum: Optimum,
    episodes: int = 0,
    seed: int = 0,
    on_done: Callable[[str], None] | None = None,
) -> list[PolicyReport]:
    """Reports of several policies, best expected return first."""
    reports = []
    for policy in policies:
        reports.append(report(policy, optimum, episodes, seed))
        if on_done is not None:
            on_done(policy.name)
    return sorted(reports, key=lambda r: r.exact.expected_return, reverse=True)
