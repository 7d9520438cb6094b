"""Policies that ignore the state: idle, constant power, uniformly random."""

from __future__ import annotations

import numpy as np

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.policies.base import Policy


class ConstantPolicy(Policy):
    """Always the same power level (``action=0`` is idling)."""

    def __init__(self, config: ChargingConfig, action: int) -> None:
        if not 0 <= action < config.n_actions:
            raise ValueError(f"invalid action {action}: must be in 0..{config.n_actions - 1}")
        self.n_actions = config.n_actions
        self.action = action
        power = config.power_levels_kw[action]
        self.name = "idle" if power == 0 else f"constant-{power:g}kW"
        if power < 0:
            self.name = f"discharge-{-power:g}kW"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return np.full(len(observations), self.action, dtype=np.int64)


class RandomPolicy(Policy):
    """Uniformly random power levels from its own seeded generator."""

    name = "random"

    def __init__(self, config: ChargingConfig, seed: int | None = None) -> None:
        self.n_actions = config.n_actions
        self.rng = np.random.default_rng(seed)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return self.rng.integers(0, self.n_actions, len(observations))

    def act(self, observation: np.ndarray) -> int:
        return int(self.rng.integers(0, self.n_actions))

    def probabilities(self, observations: np.ndarray) -> np.ndarray:
        return np.full((len(observations), self.n_actions), 1.0 / self.n_actions)

    @property
    def deterministic(self) -> bool:
        return False
