"""Stable-Baselines3 ``VecEnv`` view of the native batch environment.

SB3 trains on many copies through its ``VecEnv`` interface, usually a ``DummyVecEnv`` that
loops over scalar environments in Python. This adapter hands SB3 the batch environment
directly: one NumPy step for all copies, same-step autoreset with the last observation in
``info["terminal_observation"]`` (SB3's convention), the departure cost in expectation
(:mod:`smartcharging.agents.expected_shortfall`, unless ``expected_shortfall=False``),
normalised observations and scaled rewards, as every engine's learner sees them
(:class:`smartcharging.agents.training_adapter.VehicleAdapter`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn

from smartcharging.agents.training_adapter import VehicleAdapter
from smartcharging.config import ChargingConfig
from smartcharging.observations import vehicle_battery


class NativeBatchVecEnv(VecEnv):
    """What every adapter of a native batch env shares: the copies are rows of one
    environment, so per-copy attributes and methods do not exist."""

    def close(self) -> None:
        """Nothing to release: a batch env holds only arrays."""

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.env, attr_name) for _ in self._indices(indices)]  # type: ignore[attr-defined]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(f"cannot set {attr_name!r}: the copies share one batch env")

    def env_method(
        self, method_name: str, *args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        raise AttributeError(f"cannot call {method_name!r} per copy on a batch env")

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def _indices(self, indices: VecEnvIndices) -> Sequence[int] | Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return indices

    def _seed_list(self) -> list[int] | None:
        """Seeds set through ``seed()``, one per copy, or None."""
        seeds = [s for s in self._seeds if s is not None]
        return [int(s) for s in seeds] if len(seeds) == self.num_envs else None


class SB3BatchVecEnv(NativeBatchVecEnv, VehicleAdapter):
    """``num_envs`` SmartCharging copies as one Stable-Baselines3 ``VecEnv``."""

    def __init__(
        self,
        config: ChargingConfig,
        num_envs: int,
        reward_scale: float | None = None,
        expected_shortfall: bool = True,
    ) -> None:
        VehicleAdapter.__init__(
            self, config, num_envs, reward_scale, expected_shortfall, AutoresetMode.SAME_STEP
        )
        NativeBatchVecEnv.__init__(
            self, num_envs, self.learner_observation_space, self.env.single_action_space
        )
        self._actions = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        observations, _ = self.env.reset(seed=self._seed_list())
        self._reset_seeds()
        return self.learner_observations(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64)

    def step_wait(self) -> VecEnvStepReturn:
        observations, reward, terminated, truncated, info = self.env.step(self._actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        final_battery = None
        if dones.any():
            final_obs = np.stack(info["final_obs"][dones])
            final = self.learner_observations(final_obs)
            for row, i in enumerate(np.flatnonzero(dones)):
                infos[i]["terminal_observation"] = final[row]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            final_battery = np.zeros(self.num_envs)
            final_battery[dones] = vehicle_battery(final_obs)
        step_info = info.get("final_info", info)  # the departing step's own info
        rewards = self.learner_rewards(reward, final_battery, step_info)
        return self.learner_observations(observations), rewards, dones, infos
