"""The one interface every policy implements: observations in, actions out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Policy(ABC):
    """A Markov policy on ``SmartCharging-v0`` observations ``[battery_kwh, time_step]``.

    Subclasses implement :meth:`actions`, vectorised over a batch of observations, which
    lets the exact evaluator query the policy on every grid state in one call.
    Deterministic policies need nothing else; stochastic ones override
    :meth:`probabilities` and :meth:`act`.
    """

    name: str = "policy"
    n_actions: int

    @abstractmethod
    def actions(self, observations: np.ndarray) -> np.ndarray:
        """Action index for each row of ``observations`` (shape ``(N, 2)``)."""

    def act(self, observation: np.ndarray) -> int:
        """Action for a single observation."""
        return int(self.actions(np.asarray(observation, dtype=np.float32)[None, :])[0])

    def probabilities(self, observations: np.ndarray) -> np.ndarray:
        """Action probabilities, shape ``(N, n_actions)``; one-hot for deterministic ones."""
        return np.eye(self.n_actions)[self.actions(observations)]

    @property
    def deterministic(self) -> bool:
        return True
