"""The chargers of many batch depots as one RLlib vector env: a shared charger policy.

Each charger is an agent that sees, asks and is paid as its recipe says
(:class:`~smartcharging.agents.training_adapter.ChargerRecipe`: by default its own vehicle and
the site, its own power and its own costs, as in the PettingZoo view; new runs use the
recipe the SB3 runs ship), scaled per charger, as every engine's learner sees the chargers
(:class:`~smartcharging.agents.training_adapter.ChargerAdapter`). Copy ``d * chargers + i`` of this
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
from gymnasium.vector import AutoresetMode, VectorEnv

from smartcharging.agents.training_adapter import (
    OWN_VIEW,
    ChargerAdapter,
    ChargerRecipe,
    declare_spaces,
)
from smartcharging.config import DepotConfig


class ChargerBatchVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray], ChargerAdapter):
    """``depots`` batch depots, as ``depots * chargers`` single-charger copies."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(self, config: DepotConfig, depots: int, recipe: ChargerRecipe = OWN_VIEW) -> None:
        ChargerAdapter.__init__(self, config, depots, recipe)
        declare_spaces(
            self,
            depots * config.n_chargers,
            self.learner_observation_space,
            self.learner_action_space,
        )

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        observations, _ = self.env.reset(seed=seed, options=options)
        return self.observe(observations), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        n = self.config.n_chargers
        observations, reward, terminated, truncated, info = self.env.step(
            self.learner_actions(actions)
        )
        rewards = self.learner_rewards(info, reward)
        return (
            self.observe(observations),
            rewards,
            np.repeat(terminated, n),
            np.repeat(truncated, n),
            {},
        )
