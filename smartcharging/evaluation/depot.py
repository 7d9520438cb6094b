"""Depot policies against two bounds, episode by episode.

Every policy runs on the same seeded episodes (episode ``i`` is the first episode of
``DepotEnv`` reset with ``seed + i``; on session days, day ``(seed + i) mod days``). Each
episode's hindsight bound (:mod:`smartcharging.solvers.depot.hindsight`) is an upper bound
on any policy's return there; its Lagrangian bound
(:mod:`smartcharging.solvers.depot.lagrangian`) bounds the expected return of any
non-anticipative policy given the episode's schedule, so its mean over the episodes
estimates a bound on the best policy that does not know the demands. On session days both
bounds know every session's actual departure and need: they bound what any controller
achieves, one told only what the drivers stated included.

No depot policy sees a demand before it is realised (the observation holds only the
expected demand), so a policy's trajectory does not depend on the episode's demands, and its
expected return given the schedule is exact from one run: the realised shortfall cost is
replaced by its expectation at the battery each vehicle leaves with. That expected return is
what the Lagrangian bound bounds, episode by episode; gaps to it carry no demand noise. The
hindsight bound is compared with the realised return. The table's main gap is to the tighter
bound (the one with the lower mean).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smartcharging.config import limits
from smartcharging.config.depot import DepotConfig
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.policies.depot import DepotPolicy
from smartcharging.sim.depot_episode import Episode
from smartcharging.solvers.depot.hindsight import hindsight_bound
from smartcharging.solvers.depot.lagrangian import lagrangian_bound
from smartcharging.solvers.vehicle.dp import normal_shortfall, normal_surplus


@dataclass(frozen=True)
class DepotRun:
    """One policy over the episodes: per-episode returns and cost parts (sums per episode)."""

    name: str
    returns: np.ndarray
    expected_returns: np.ndarray  # given the schedule: shortfall cost as its expectation
    energy_cost: np.ndarray
    wear_cost: np.ndarray
    shortfall_cost: np.ndarray
    demand_charge: np.ndarray
    shortfall_kwh: np.ndarray
    peak_grid_kw: np.ndarray
    ignored_actions: np.ndarray
    delivered_kwh: np.ndarray  # energy into the batteries
    requested_kwh: np.ndarray  # on session days: what the drivers asked for; else NaN
    seconds_per_step: float  # the policy's mean decision time per depot and slot
    site_load_kw: np.ndarray = field(repr=False)  # (episodes, slots) grid power
    departure_kwh: np.ndarray = field(repr=False)  # every episode's vehicles: level leaving
    demand_kwh: np.ndarray = field(repr=False)  # and realised demand, episode after episode
    policy_stats: dict[str, Any] = field(default_factory=dict)  # e.g. MPC solves, failures


def run_policy(
    policy: DepotPolicy | Any, config: DepotConfig, episodes: int, seed: int = 0
) -> tuple[DepotRun, list[Episode]]:
    """Run ``policy`` (anything with ``actions(observations)``) on ``episodes`` episodes:
    the first episodes of the depot reset with ``seed + i``, or on session days the days
    ``(seed + i) mod days``, so that as many episodes as days replay every day once."""
    env = DepotVectorEnv(num_envs=episodes, config=config)
    if hasattr(policy, "reset_stats"):
        policy.reset_stats()
    if config.sessions is not None:
        env.simulator.replayed_days = (seed + np.arange(episodes)) % config.sessions.n_days
    observations, _ = env.reset(seed=[seed + i for i in range(episodes)])
    sim = env.simulator
    drawn = [sim.episode_of(i) for i in range(episodes)]
    sums = {
        key: np.zeros(episodes)
        for key in ("energy_cost", "site_wear_cost", "site_shortfall_cost", "demand_charge")
    }
    returns, shortfall_kwh, ignored = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes)
    load = np.zeros((episodes, config.n_slots))
    delivered_kwh = np.zeros(episodes)
    leaving_kwh = np.zeros((episodes, config.n_slots + 1, config.n_chargers))
    deciding = 0.0
    for t in range(config.n_slots):
        start = time.perf_counter()
        actions = np.asarray(policy.actions(observations), dtype=np.int64)
        deciding += time.perf_counter() - start
        observations, reward, _, _, info = env.step(actions)
        returns += reward
        for key in sums:
            sums[key] += info[key]
        shortfall_kwh += info["shortfall_kwh"].sum(axis=1)
        ignored += info["ignored_action"].sum(axis=1)
        load[:, t] = info["grid_kw"]
        delivered_kwh += info["energy_kwh"].sum(axis=1)
        leaving_kwh[:, t + 1] = info["departure_battery_kwh"]
    departure_kwh = [
        leaving_kwh[i, episode.departure, _chargers(episode)] for i, episode in enumerate(drawn)
    ]
    expected_shortfall = np.array(
        [
            _expected_departure_cost(config, episode, level)
            for episode, level in zip(drawn, departure_kwh, strict=True)
        ]
    )
    run = DepotRun(
        name=policy.name,
        returns=returns,
        expected_returns=returns + sums["site_shortfall_cost"] - expected_shortfall,
        energy_cost=sums["energy_cost"],
        wear_cost=sums["site_wear_cost"],
        shortfall_cost=sums["site_shortfall_cost"],
        demand_charge=sums["demand_charge"],
        shortfall_kwh=shortfall_kwh,
        peak_grid_kw=load.max(axis=1),
        ignored_actions=ignored,
        delivered_kwh=delivered_kwh,
        requested_kwh=np.array(
            [
                episode.capacity(config).sum() if config.sessions is not None else np.nan
                for episode in drawn
            ]
        ),
        seconds_per_step=deciding / (config.n_slots * episodes),
        site_load_kw=load,
        departure_kwh=np.concatenate(departure_kwh),
        demand_kwh=np.concatenate([episode.demand_kwh for episode in drawn]),
        policy_stats=policy.stats() if hasattr(policy, "stats") else {},
    )
    return run, drawn


def _chargers(episode: Episode) -> np.ndarray:
    return np.arange(episode.n_vehicles) if episode.charger is None else episode.charger


def _expected_departure_cost(config: DepotConfig, episode: Episode, level: np.ndarray) -> float:
    """The expected shortfall cost (net of any credit for the energy left) of the
    episode's vehicles leaving with ``level``, over their demand distributions."""
    mean, sd = episode.demand_mean(config), episode.demand_sd(config)
    missing = normal_shortfall(level, mean, sd)[1]
    cost = config.shortfall_cost_per_kwh * float(missing.sum())
    if config.residual_value_per_kwh:
        left = normal_surplus(level, mean, sd, missing)
        cost -= config.residual_value_per_kwh * float(left.sum())
    return cost


def _delivered_percent(run: DepotRun) -> float | None:
    """Energy delivered as a percentage of the energy requested (session days only), over
    all episodes: what the field reports beside costs."""
    requested = float(run.requested_kwh.sum())
    if not np.isfinite(requested) or requested <= 0:
        return None
    return 100 * float(run.delivered_kwh.sum()) / requested


@dataclass(frozen=True)
class DepotComparison:
    """Runs and per-episode bounds: ``bounds`` (hindsight), ``lagrangian`` (its value),
    ``site_prices`` (its multipliers, ``(episodes, slots)``) and each episode's price row."""

    bounds: np.ndarray
    exact_levels: bool
    runs: list[DepotRun]
    lagrangian: np.ndarray
    site_prices: np.ndarray
    profiles: np.ndarray
    charge_only_bounds: np.ndarray | None = None

    @property
    def v2g_hindsight_value(self) -> float | None:
        """With V2G: the mean hindsight bound minus that of the same episodes with
        charge-only chargers, what V2G adds under perfect foresight."""
        if self.charge_only_bounds is None:
            return None
        return float(self.bounds.mean() - self.charge_only_bounds.mean())

    @property
    def tighter(self) -> str:
        """``"lagrangian"`` or ``"hindsight"``: the bound with the lower mean."""
        return "lagrangian" if self.lagrangian.mean() <= self.bounds.mean() else "hindsight"

    @property
    def tighter_bounds(self) -> np.ndarray:
        return self.lagrangian if self.tighter == "lagrangian" else self.bounds

    def rows(self) -> list[dict[str, Any]]:
        """Per policy: mean return, mean and worst gap to each bound, the gap to the tighter
        one in currency and as a percentage of it, costs, and the policy's own statistics."""
        out = []
        tight = self.tighter_bounds
        scale = max(abs(float(tight.mean())), 1e-12)
        for run in sorted(self.runs, key=lambda r: -r.expected_returns.mean()):
            gap = self.bounds - run.returns
            to_lagrangian = self.lagrangian - run.expected_returns
            gap_tight = to_lagrangian if self.tighter == "lagrangian" else gap
            out.append(
                {
                    "policy": run.name,
                    "mean_return": float(run.returns.mean()),
                    "mean_expected_return": float(run.expected_returns.mean()),
                    "mean_gap": float(gap_tight.mean()),
                    "gap_percent": float(100 * gap_tight.mean() / scale),
                    "mean_gap_to_lagrangian": float(to_lagrangian.mean()),
                    "mean_gap_to_hindsight": float(gap.mean()),
                    "max_gap_to_hindsight": float(gap.max()),
                    "relative_gap": float(gap.mean() / max(abs(self.bounds.mean()), 1e-12)),
                    "energy_cost": float(run.energy_cost.mean()),
                    "wear_cost": float(run.wear_cost.mean()),
                    "shortfall_cost": float(run.shortfall_cost.mean()),
                    "demand_charge": float(run.demand_charge.mean()),
                    "shortfall_kwh": float(run.shortfall_kwh.mean()),
                    "peak_grid_kw": float(run.peak_grid_kw.mean()),
                    "solves": run.policy_stats.get("solves", 0),
                    "failed_solves": run.policy_stats.get("failed_solves", 0),
                    "mean_solve_ms": run.policy_stats.get("mean_solve_ms", 0.0),
                    "ms_per_step": 1e3 * run.seconds_per_step,
                    "delivered_kwh": float(run.delivered_kwh.mean()),
                    "delivered_percent": _delivered_percent(run),
                    "per_episode_gap": gap.tolist(),
                    "per_episode_gap_to_lagrangian": to_lagrangian.tolist(),
                }
            )
        return out


def compare_depot(
    config: DepotConfig,
    policies: list[DepotPolicy | Any],
    episodes: int,
    seed: int = 0,
    on_done: Callable[[str], None] | None = None,
) -> DepotComparison:
    """Every policy on the same episodes, and each episode's hindsight and Lagrangian
    bounds."""
    if not 1 <= episodes <= limits.MAX_DEPOT_EPISODES:
        raise ValueError(
            f"invalid episodes={episodes}: must be in 1..{limits.MAX_DEPOT_EPISODES:,} "
            "(each depot episode solves its bounds)"
        )
    runs: list[DepotRun] = []
    drawn: list[Episode] = []
    for policy in policies:
        run, drawn = run_policy(policy, config, episodes, seed)
        runs.append(run)
        if on_done is not None:
            on_done(policy.name)
    bounds = [hindsight_bound(config, episode) for episode in drawn]
    charge_only = None
    if config.v2g:
        without = config.without_v2g()
        charge_only = np.array([hindsight_bound(without, e).value for e in drawn])
    if on_done is not None:
        on_done("hindsight bound")
    relaxed = [lagrangian_bound(config, episode) for episode in drawn]
    if on_done is not None:
        on_done("lagrangian bound")
    return DepotComparison(
        bounds=np.array([b.value for b in bounds]),
        exact_levels=bounds[0].exact_levels,
        runs=runs,
        lagrangian=np.array([b.value for b in relaxed]),
        site_prices=np.array([b.site_price for b in relaxed]),
        profiles=np.array([episode.profile for episode in drawn]),
        charge_only_bounds=charge_only,
    )
