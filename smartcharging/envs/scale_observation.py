"""A single-vehicle environment whose observations are mapped to ``[0, 1]``.

Learners see their observations scaled (:mod:`smartcharging.agents.scaling`), and exact
evaluation must know whether a policy expects them scaled, so the wrapper lives below both.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.observations import normalize_observations, vehicle_normalized_space


class ScaleObservation(gym.ObservationWrapper[np.ndarray, np.int64, np.ndarray]):
    """Maps SmartCharging observations to ``[0, 1]`` by the fixed bounds of the
    configuration (see :func:`~smartcharging.observations.normalize_observations`); unlike
    Gymnasium's ``NormalizeObservation`` it keeps no running statistics.
    """

    def __init__(self, env: gym.Env[np.ndarray, np.int64]) -> None:
        super().__init__(env)
        self.config: ChargingConfig = env.unwrapped.config  # type: ignore[attr-defined]
        self.observation_space = vehicle_normalized_space(self.config)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return normalize_observations(observation, self.config)
