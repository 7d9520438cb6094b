"""What perfect foresight knows of one depot episode, vehicle by vehicle.

A vehicle is a drawn fleet vehicle (one per charger) or, on a session day, one session
(several per station). The exact solvers work on these vehicles and never on the
simulator's arrays, so that both kinds of depot share every bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from smartcharging.config.depot import DepotConfig


@dataclass(frozen=True)
class Episode:
    """One depot episode (per vehicle unless noted).

    Attributes:
        arrival, departure: the slot each vehicle arrives in and the slot it has left by.
        start_kwh, demand_kwh: its arrival level and its realised demand.
        profile: the episode's price row.
        capacity_kwh, demand_mean_kwh, demand_sd_kwh: its capacity and demand distribution;
            None: the configuration's, one vehicle per charger.
        charger: the charger (station) each vehicle uses; None: vehicle ``i`` on charger
            ``i``.
    """

    arrival: np.ndarray
    departure: np.ndarray
    start_kwh: np.ndarray
    demand_kwh: np.ndarray
    profile: int
    capacity_kwh: np.ndarray | None = None
    demand_mean_kwh: np.ndarray | None = None
    demand_sd_kwh: np.ndarray | None = None
    charger: np.ndarray | None = None

    def capacity(self, config: DepotConfig) -> np.ndarray:
        """Each vehicle's capacity (kWh)."""
        chosen = config.capacity_kwh if self.capacity_kwh is None else self.capacity_kwh
        return np.asarray(chosen, dtype=np.float64)

    def demand_mean(self, config: DepotConfig) -> np.ndarray:
        """The mean of each vehicle's demand (kWh)."""
        chosen = config.demand_mean_kwh if self.demand_mean_kwh is None else self.demand_mean_kwh
        return np.asarray(chosen, dtype=np.float64)

    def demand_sd(self, config: DepotConfig) -> np.ndarray:
        """The standard deviation of each vehicle's demand (kWh)."""
        chosen = config.demand_sd_kwh if self.demand_sd_kwh is None else self.demand_sd_kwh
        return np.asarray(chosen, dtype=np.float64)

    @property
    def n_vehicles(self) -> int:
        return len(self.arrival)
