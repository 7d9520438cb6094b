"""The chargers of many batch depots as one RLlib vector env: a shared charger policy.

Each charger is an agent that sees its own vehicle and the site
(:class:`~smartcharging.agents.scaling.ChargerView`), sets its own power and is rewarded with
its own costs (its wear and shortfall cost, its share of the energy cost and of the demand
charge, as in the PettingZoo view), scaled per charger by
:func:`~smartcharging.agents.scaling.depot_reward_scale`. Copy ``d * chargers + i`` of this
vector env is charger ``i`` of depot ``d``, so one RLlib policy trained on the single-agent
env runner learns from every charger's experience: parameter sharing, as in the SB3 depot
training (:mod:`smartcharging.agents.sb3_depot`), stepped as whole
:class:`~smartcharging.envs.depot_vector.DepotVectorEnv` arrays. The multi-agent view of the
same depot (one RLlib agent per charger) is :mod:`smartcharging.rllib.depot_multi_agent_env`;
it steps one depot at a time in Python dicts, which is why training uses this one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from smartcharging.agents.scaling import ChargerView, depot_reward_scale
from smartcharging.config import DepotConfig
from smartcharging.envs.depot_vector import DepotVectorEnv

#: Per-charger cost keys of a depot step's info (each charger pays its own) ...
_OWN_COST_KEYS = ("wear_cost", "shortfall_cost", "energy_cost_share")
#: ... and every key a charger's reward reads (the demand charge is shared equally).
COST_KEYS = (*_OWN_COST_KEYS, "demand_charge")


def charger_rewards(config: DepotConfig, info: dict[str, Any]) -> np.ndarray:
    """``(depots, chargers)`` rewards: minus each charger's own costs of a depot step."""
    own = sum(np.asarray(info[key], dtype=np.float64) for key in _OWN_COST_KEYS)
    return -(own + np.asarray(info["demand_charge"], dtype=np.float64)[:, None] / config.n_chargers)


class ChargerBatchVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``depots`` batch depots, as ``depots * chargers`` single-charger copies."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, config: DepotConfig, depots: int) -> None:
        self.env = DepotVectorEnv(num_envs=depots, config=config)
        self.config = config
        self.depots = depots
        self.view = ChargerView(config)
        self.num_envs = depots * config.n_chargers
        self.reward_scale = depot_reward_scale(config) / config.n_chargers
        self.single_observation_space = spaces.Box(
            -1.0, 1.0, shape=(self.view.size,), dtype=np.float32
        )
        self.single_action_space = spaces.Discrete(config.n_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        observations, _ = self.env.reset(seed=seed, options=options)
        return self.view.observations(observations), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.config.n_chargers
        levels = np.asarray(actions, dtype=np.int64).reshape(self.depots, n)
        observations, _, terminated, truncated, info = self.env.step(levels)
        if "wear_cost" in info:
            rewards = charger_rewards(self.config, info) / self.reward_scale
            stepped = np.asarray(info.get("_wear_cost", np.ones(self.depots, dtype=bool)))
            rewards[~stepped] = 0.0  # a depot restarting (next-step autoreset) earns nothing
        else:  # every depot restarted this step
            rewards = np.zeros((self.depots, n))
        return (
            self.view.observations(observations),
            rewards.astype(np.float32).reshape(-1),
            np.repeat(terminated, n),
            np.repeat(truncated, n),
            {},
        )
