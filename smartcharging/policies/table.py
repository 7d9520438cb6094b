"""A policy given by a table over (time step, battery grid level), such as the DP optimum."""

from __future__ import annotations

import numpy as np

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.observations import (
    vehicle_battery,
    vehicle_price_window,
    vehicle_price_windows,
    vehicle_time_steps,
)
from smartcharging.policies.base import Policy
from smartcharging.solvers.vehicle.dp import Optimum
from smartcharging.solvers.vehicle.grid import BatteryGrid


class TablePolicy(Policy):
    """Looks up ``tables[row, t, b]`` at the grid level nearest the observed battery level.

    With one table per price row (the optimum of a day-ahead scenario), the row is
    recognised from the prices in the observation: two rows whose visible prices agree from
    ``t`` on share their optimal continuation whenever the observation shows every remaining
    slot (``forecast_slots >= n_slots - 1``); with a shorter forecast the first matching row
    is used.
    """

    def __init__(
        self, tables: np.ndarray, grid: BatteryGrid, config: ChargingConfig, name: str
    ) -> None:
        tables = tables[None] if tables.ndim == 2 else tables
        if tables.shape[1:] != (config.n_slots, grid.size):
            raise ValueError(
                f"table has shape {tables.shape[1:]}: must be (n_slots={config.n_slots}, "
                f"grid levels={grid.size})"
            )
        self.tables = tables
        self.grid = grid
        self.config = config
        self.n_actions = config.n_actions
        self.name = name
        if len(tables) > 1:
            self._multipliers = np.random.default_rng(0).integers(
                1, 2**63, config.forecast_slots + 1, dtype=np.uint64
            ) | np.uint64(1)
            self._windows = vehicle_price_windows(config)  # (rows, n_slots, width), float32
            self._keys = self._hash(self._windows)  # (rows, n_slots)
            self._order = np.argsort(self._keys, axis=0, kind="stable")

    @classmethod
    def optimal(cls, optimum: Optimum) -> TablePolicy:
        """The optimal policy of a DP solution."""
        return cls(optimum.policies, optimum.grid, optimum.config, "optimal")

    def _rows(self, observations: np.ndarray, time: np.ndarray) -> np.ndarray:
        if len(self.tables) == 1:
            return np.zeros(len(observations), dtype=np.intp)
        windows = np.ascontiguousarray(vehicle_price_window(observations), dtype=np.float32)
        keys = self._hash(windows)
        rows = np.empty(len(observations), dtype=np.intp)
        for t in np.unique(time):
            at = time == t
            order = self._order[:, t]
            sorted_keys = self._keys[order, t]
            position = np.clip(np.searchsorted(sorted_keys, keys[at]), 0, len(order) - 1)
            found = order[position]
            if not np.array_equal(self._windows[found, t], windows[at]):
                raise ValueError("observed prices match no price row of this configuration")
            rows[at] = found
        return rows

    def _hash(self, windows: np.ndarray) -> np.ndarray:
        """An exact, order-independent key of float32 price windows (last axis): their bit
        patterns times odd multipliers, summed modulo 2**64."""
        bits = np.ascontiguousarray(windows, dtype=np.float32).view(np.uint32).astype(np.uint64)
        return (bits * self._multipliers).sum(axis=-1, dtype=np.uint64)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        lower, upper, weight = self.grid.locate(vehicle_battery(observations))
        level = np.clip(np.where(weight > 0.5, upper, lower), 0, self.grid.size - 1)
        time = np.clip(vehicle_time_steps(self.config, observations), 0, self.config.n_slots - 1)
        return self.tables[self._rows(observations, time), time, level].astype(np.int64)
