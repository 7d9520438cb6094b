"""The single-vehicle batch environment as RLlib's env runners train on it.

RLlib's ``SingleAgentEnvRunner`` builds its environments with ``gymnasium.make_vec``; with
``gym_env_vectorize_mode="vector_entry_point"`` it calls the registered creator with
``num_envs`` and steps what it returns as one ``VectorEnv``. :class:`VehicleTrainingVectorEnv`
is that vector env: :class:`~smartcharging.envs.smart_charging_vector.SmartChargingVectorEnv`
(one NumPy step for every copy, Gymnasium's next-step autoreset, which RLlib's runner
expects) seen the way every learning agent of the project sees it
(:class:`smartcharging.agents.training_adapter.VehicleAdapter`): the departure cost in
expectation, observations in ``[0, 1]`` and rewards divided by a checked reward scale. Its
infos are empty: the runner turns every info into one dict per copy in Python, and training
reads none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from smartcharging.agents.training_adapter import VehicleAdapter, declare_spaces
from smartcharging.config import ChargingConfig
from smartcharging.observations import vehicle_battery


class VehicleTrainingVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray], VehicleAdapter):
    """``num_envs`` copies of the single-vehicle environment, as agents learn on them."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        config: ChargingConfig,
        num_envs: int,
        reward_scale: float | None = None,
        expected_shortfall: bool = True,
    ) -> None:
        VehicleAdapter.__init__(
            self, config, num_envs, reward_scale, expected_shortfall, AutoresetMode.NEXT_STEP
        )
        declare_spaces(
            self, self.env.num_envs, self.learner_observation_space, self.env.single_action_space
        )

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        observations, _ = self.env.reset(seed=seed, options=options)
        return self.learner_observations(observations), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        observations, reward, terminated, truncated, info = self.env.step(
            np.asarray(actions, dtype=np.int64).reshape(self.num_envs)
        )
        # Next-step autoreset: a departing copy's observation is its battery after departure.
        departed = vehicle_battery(observations) if "_penalty" in info else None
        rewards = self.learner_rewards(reward, departed, info)
        # copies: the wrapped env reuses its termination array on the next step
        return (
            self.learner_observations(observations),
            rewards,
            terminated.copy(),
            truncated.copy(),
            {},
        )
