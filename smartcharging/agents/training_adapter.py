"""What every learner's view of a native batch environment shares, whatever the engine.

Stable-Baselines3 (:mod:`smartcharging.agents.sb3_vec_env`, :mod:`smartcharging.agents.sb3_depot`)
and RLlib (:mod:`smartcharging.rllib.vehicle_env`, :mod:`smartcharging.rllib.charger_batch_env`)
each want their own vector-env interface, but must see the same problem: a learner trained on
one engine must mean the same as one trained on the other. The interfaces differ; what the
learner sees is built here once:

* one vehicle (:class:`VehicleAdapter`): the departure cost in expectation (unless
  ``expected_shortfall=False``), observations in ``[0, 1]``, rewards divided by a reward
  scale checked against the configuration (the scaled worst episode stays finite);
* a depot's chargers (:class:`ChargerAdapter`): each charger's own view and its own reward
  (:func:`~smartcharging.envs.charger_rewards.charger_rewards`), scaled per charger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from smartcharging.agents.expected_shortfall import expected_shortfall_rewards
from smartcharging.agents.scaling import (
    ChargerView,
    check_reward_scale,
    default_reward_scale,
    depot_reward_scale,
)
from smartcharging.config import ChargingConfig, DepotConfig
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.envs.smart_charging_vector import SmartChargingVectorEnv
from smartcharging.observations import normalize_observations, vehicle_normalized_space


def declare_spaces(
    env: Any, num_envs: int, observation_space: spaces.Space, action_space: spaces.Space
) -> None:
    """Give the Gymnasium ``VectorEnv`` ``env`` its ``num_envs`` copies and their single and
    batched spaces."""
    env.num_envs = num_envs
    env.single_observation_space = observation_space
    env.single_action_space = action_space
    env.observation_space = batch_space(observation_space, num_envs)
    env.action_space = batch_space(action_space, num_envs)


class VehicleAdapter:
    """``num_envs`` copies of one vehicle as every learner sees them."""

    def __init__(
        self,
        config: ChargingConfig,
        num_envs: int,
        reward_scale: float | None,
        expected_shortfall: bool,
        autoreset_mode: AutoresetMode,
    ) -> None:
        self.env = SmartChargingVectorEnv(
            num_envs=num_envs, config=config, autoreset_mode=autoreset_mode
        )
        self.config = config
        self.reward_scale = check_reward_scale(
            default_reward_scale(config) if reward_scale is None else reward_scale, config
        )
        self.expected_shortfall = expected_shortfall
        self.learner_observation_space = vehicle_normalized_space(config)

    def learner_observations(self, observations: np.ndarray) -> np.ndarray:
        """The copies' observations scaled to ``[0, 1]``."""
        return normalize_observations(observations, self.config)

    def learner_rewards(
        self, reward: np.ndarray, battery_after: np.ndarray | None, info: dict[str, Any]
    ) -> np.ndarray:
        """float32 rewards: with the departing copies' drawn penalty replaced by its
        expectation given ``battery_after`` (None: no copy departed), then scaled."""
        if self.expected_shortfall and battery_after is not None:
            reward = expected_shortfall_rewards(self.config, reward, battery_after, info)
        return (reward / self.reward_scale).astype(np.float32)


class ChargerAdapter:
    """The chargers of ``depots`` batch depots as ``depots * chargers`` learner copies: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, so one shared policy learns from
    every charger's experience."""

    def __init__(self, config: DepotConfig, depots: int) -> None:
        self.env = DepotVectorEnv(num_envs=depots, config=config)
        self.config = config
        self.depots = depots
        self.view = ChargerView(config)
        self.reward_scale = depot_reward_scale(config) / config.n_chargers
        self.learner_observation_space = spaces.Box(
            -1.0, 1.0, shape=(self.view.size,), dtype=np.float32
        )
        self.learner_action_space: spaces.Discrete = spaces.Discrete(config.n_actions)

    def learner_actions(self, actions: np.ndarray) -> np.ndarray:
        """The copies' actions as ``(depots, chargers)`` power levels."""
        return np.asarray(actions, dtype=np.int64).reshape(self.depots, self.config.n_chargers)

    def learner_rewards(self, info: dict[str, Any]) -> np.ndarray:
        """float32 per-copy rewards of a depot step: each charger's own, scaled; nothing for
        a depot that restarted in this step (next-step autoreset)."""
        if "wear_cost" not in info:  # every depot restarted
            return np.zeros(self.depots * self.config.n_chargers, dtype=np.float32)
        rewards = charger_rewards(self.config, info) / self.reward_scale
        stepped = np.asarray(info.get("_wear_cost", np.ones(self.depots, dtype=bool)))
        rewards[~stepped] = 0.0
        return rewards.astype(np.float32).reshape(-1)
