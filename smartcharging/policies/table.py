"""A policy given by a table over (time step, battery grid level), such as the DP optimum."""

from __future__ import annotations

import numpy as np

from smartcharging.policies.base import Policy
from smartcharging.solvers.dp import Solution
from smartcharging.solvers.grid import BatteryGrid


class TablePolicy(Policy):
    """Looks up ``table[t, b]`` at the grid level nearest the observed battery level."""

    def __init__(self, table: np.ndarray, grid: BatteryGrid, n_actions: int, name: str) -> None:
        if table.shape[1] != grid.size:
            raise ValueError(f"table has {table.shape[1]} levels: the grid has {grid.size}")
        self.table = table
        self.grid = grid
        self.n_actions = n_actions
        self.name = name

    @classmethod
    def optimal(cls, solution: Solution) -> TablePolicy:
        """The optimal policy of a DP solution."""
        return cls(solution.policy, solution.grid, solution.config.n_actions, "optimal")

    def actions(self, observations: np.ndarray) -> np.ndarray:
        lower, upper, weight = self.grid.locate(observations[:, 0])
        level = np.where(weight > 0.5, upper, lower)
        level = np.clip(level, 0, self.grid.size - 1)
        time = np.clip(observations[:, 1].astype(np.int64), 0, self.table.shape[0] - 1)
        return self.table[time, level].astype(np.int64)
