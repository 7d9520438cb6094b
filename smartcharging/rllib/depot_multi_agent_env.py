"""The depot as an RLlib multi-agent environment: one agent per charger.

Agent ``charger_<i>`` observes its own vehicle and the site
(:class:`~smartcharging.agents.scaling.ChargerView`, normalised), sets its power level and
is rewarded with its own costs (:func:`~smartcharging.envs.charger_rewards.charger_rewards`,
scaled as in training), exactly what the PettingZoo view (``DepotParallelEnv``) gives each
agent in raw units. Map every agent to one module id for a shared policy. Written against
RLlib's ``MultiAgentEnv`` directly because it samples faster than RLlib's PettingZoo wrapper
around ``DepotParallelEnv`` (``benchmarks/rllib.py`` measures both).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.rllib.utils.typing import MultiAgentDict

from smartcharging.agents.scaling import ChargerView, depot_reward_scale
from smartcharging.config import DepotConfig
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot import DepotEnv


class DepotMultiAgentEnv(MultiAgentEnv):
    """One ``DepotEnv``; every charger an agent; all agents end together."""

    def __init__(self, config: DepotConfig) -> None:
        super().__init__()
        self.depot = DepotEnv(config=config)
        self.config = config
        self.view = ChargerView(config)
        self.reward_scale = depot_reward_scale(config) / config.n_chargers
        self.names = [f"charger_{i}" for i in range(config.n_chargers)]
        self.possible_agents = list(self.names)
        self.agents = list(self.names)
        own = spaces.Box(-1.0, 1.0, shape=(self.view.size,), dtype=np.float32)
        self.observation_spaces = dict.fromkeys(self.names, own)
        self.action_spaces = dict.fromkeys(self.names, spaces.Discrete(config.n_actions))

    def _split(self, observation: np.ndarray) -> MultiAgentDict:
        views = self.view.observations(observation[None])
        return dict(zip(self.names, views, strict=True))

    def reset(  # type: ignore[override, unused-ignore]
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[MultiAgentDict, MultiAgentDict]:
        observation, _ = self.depot.reset(seed=seed, options=options)
        self.agents = list(self.names)
        return self._split(observation), {}

    def step(  # type: ignore[override, unused-ignore]
        self, action_dict: MultiAgentDict
    ) -> tuple[MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict, MultiAgentDict]:
        levels = np.array([action_dict.get(agent, 0) for agent in self.names])
        observation, _, terminated, truncated, info = self.depot.step(levels)
        rewards = charger_rewards(self.config, info) / self.reward_scale
        done = bool(terminated or truncated)
        if done:
            self.agents = []
        return (
            self._split(observation),
            dict(zip(self.names, rewards.tolist(), strict=True)),
            {**dict.fromkeys(self.names, bool(terminated)), "__all__": bool(terminated)},
            {**dict.fromkeys(self.names, bool(truncated)), "__all__": bool(truncated)},
            {},
        )


#: The module id every charger maps to: one policy shared by all chargers.
SHARED_POLICY = "charger"


def shared_policy(agent_id: str, *args: Any, **kwargs: Any) -> str:
    """RLlib's ``policy_mapping_fn`` for parameter sharing: every charger, one policy."""
    return SHARED_POLICY


def with_shared_policy(config: Any) -> Any:
    """``config`` (an RLlib ``AlgorithmConfig`` on ``smartcharging-depot``) with every
    charger mapped to the one module :data:`SHARED_POLICY`."""
    return config.multi_agent(policies={SHARED_POLICY}, policy_mapping_fn=shared_policy)
