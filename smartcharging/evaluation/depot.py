"""Depot policies against the perfect-foresight bound, episode by episode.

Every policy runs on the same seeded episodes (episode ``i`` is the first episode of
``DepotEnv`` reset with ``seed + i``); each episode's hindsight bound
(:mod:`smartcharging.solvers.hindsight`) is an upper bound on any policy's return there, so
the per-episode gap is a true distance to the best possible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smartcharging.config.depot import DepotConfig
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.policies.depot import DepotPolicy
from smartcharging.solvers.hindsight import Episode, hindsight_bound


@dataclass(frozen=True)
class DepotRun:
    """One policy over the episodes: per-episode returns and cost parts (sums per episode)."""

    name: str
    returns: np.ndarray
    energy_cost: np.ndarray
    wear_cost: np.ndarray
    shortfall_cost: np.ndarray
    demand_charge: np.ndarray
    shortfall_kwh: np.ndarray
    peak_grid_kw: np.ndarray
    ignored_actions: np.ndarray
    site_load_kw: np.ndarray = field(repr=False)  # (episodes, slots) grid power
    departure_kwh: np.ndarray = field(repr=False)  # (episodes, vehicles) battery when leaving
    demand_kwh: np.ndarray = field(repr=False)  # (episodes, vehicles) realised demand


def run_policy(
    policy: DepotPolicy | Any, config: DepotConfig, episodes: int, seed: int = 0
) -> tuple[DepotRun, list[Episode]]:
    """Run ``policy`` (anything with ``actions(observations)``) on ``episodes`` episodes."""
    env = DepotVectorEnv(num_envs=episodes, config=config)
    observations, _ = env.reset(seed=[seed + i for i in range(episodes)])
    sim = env.simulator
    drawn = [
        Episode(
            sim.arrival[i].copy(),
            sim.departure[i].copy(),
            sim.battery[i].copy(),
            sim.demand[i].copy(),
            int(sim.profile[i]),
        )
        for i in range(episodes)
    ]
    sums = {
        key: np.zeros(episodes)
        for key in ("energy_cost", "site_wear_cost", "site_shortfall_cost", "demand_charge")
    }
    returns, shortfall_kwh, ignored = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes)
    load = np.zeros((episodes, config.n_slots))
    departure_kwh = np.zeros((episodes, config.n_chargers))
    for t in range(config.n_slots):
        actions = np.asarray(policy.actions(observations), dtype=np.int64)
        observations, reward, _, _, info = env.step(actions)
        returns += reward
        for key in sums:
            sums[key] += info[key]
        shortfall_kwh += info["shortfall_kwh"].sum(axis=1)
        ignored += info["ignored_action"].sum(axis=1)
        load[:, t] = info["grid_kw"]
        departure_kwh += info["departure_battery_kwh"]
    run = DepotRun(
        name=policy.name,
        returns=returns,
        energy_cost=sums["energy_cost"],
        wear_cost=sums["site_wear_cost"],
        shortfall_cost=sums["site_shortfall_cost"],
        demand_charge=sums["demand_charge"],
        shortfall_kwh=shortfall_kwh,
        peak_grid_kw=load.max(axis=1),
        ignored_actions=ignored,
        site_load_kw=load,
        departure_kwh=departure_kwh,
        demand_kwh=np.array([episode.demand_kwh for episode in drawn]),
    )
    return run, drawn


@dataclass(frozen=True)
class DepotComparison:
    bounds: np.ndarray
    exact_levels: bool
    runs: list[DepotRun]

    def rows(self) -> list[dict[str, Any]]:
        """Per policy: mean return, mean and worst gap to the per-episode bound, costs."""
        out = []
        for run in sorted(self.runs, key=lambda r: -r.returns.mean()):
            gap = self.bounds - run.returns
            out.append(
                {
                    "policy": run.name,
                    "mean_return": float(run.returns.mean()),
                    "mean_gap_to_hindsight": float(gap.mean()),
                    "max_gap_to_hindsight": float(gap.max()),
                    "relative_gap": float(gap.mean() / max(abs(self.bounds.mean()), 1e-12)),
                    "energy_cost": float(run.energy_cost.mean()),
                    "wear_cost": float(run.wear_cost.mean()),
                    "shortfall_cost": float(run.shortfall_cost.mean()),
                    "demand_charge": float(run.demand_charge.mean()),
                    "shortfall_kwh": float(run.shortfall_kwh.mean()),
                    "peak_grid_kw": float(run.peak_grid_kw.mean()),
                    "per_episode_gap": gap.tolist(),
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
    """Every policy on the same episodes, and each episode's hindsight bound."""
    if episodes < 1:
        raise ValueError(f"invalid episodes={episodes}: must be >= 1")
    runs: list[DepotRun] = []
    drawn: list[Episode] = []
    for policy in policies:
        run, drawn = run_policy(policy, config, episodes, seed)
        runs.append(run)
        if on_done is not None:
            on_done(policy.name)
    bounds = [hindsight_bound(config, episode) for episode in drawn]
    if on_done is not None:
        on_done("hindsight bound")
    return DepotComparison(
        bounds=np.array([b.value for b in bounds]),
        exact_levels=bounds[0].exact_levels,
        runs=runs,
    )
