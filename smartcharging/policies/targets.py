"""Policies that charge towards a target battery level before departure."""

from __future__ import annotations

import numpy as np

from smartcharging.config import ChargingConfig
from smartcharging.observations import (
    vehicle_battery,
    vehicle_price_window,
    vehicle_time_steps,
)
from smartcharging.policies.base import Policy

#: Demand quantile that the single-vehicle target baselines charge to (``asap``, ``alap``,
#: ``quantile-0.999`` and ``cheapest-slots-0.999``; ``quantile-0.99`` is shown beside them).
VEHICLE_TARGET_QUANTILE = 0.999
#: Demand quantile that the depot's smart baselines charge each vehicle to.
DEPOT_TARGET_QUANTILE = 0.99


class _TargetPolicy(Policy):
    def __init__(self, config: ChargingConfig, target_kwh: float) -> None:
        if not 0 <= target_kwh <= config.capacity_kwh:
            raise ValueError(
                f"invalid target_kwh={target_kwh}: must be in [0, capacity_kwh="
                f"{config.capacity_kwh}]"
            )
        self.config = config
        self.n_actions = config.n_actions
        self.n_slots = config.n_slots
        self.target_kwh = target_kwh
        self.slot_energy = config.slot_energy_kwh

    def _lowest_action_adding(self, energy_kwh: np.ndarray) -> np.ndarray:
        """Lowest power whose slot adds at least ``energy_kwh`` (the highest if none does);
        never a discharging one (V2G): these policies only charge."""
        index = np.searchsorted(self.slot_energy, np.maximum(energy_kwh, 0.0), side="left")
        return np.minimum(index, self.n_actions - 1).astype(np.int64)

    def _need(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        battery = vehicle_battery(observations).astype(np.float64)
        remaining = np.maximum(self.n_slots - vehicle_time_steps(self.config, observations), 1)
        return self.target_kwh - battery, remaining


class AsSoonAsPossible(_TargetPolicy):
    """Charge from arrival until the target is reached: full power, and in the slot that
    reaches the target the lowest power that does."""

    def __init__(self, config: ChargingConfig, target_kwh: float) -> None:
        super().__init__(config, target_kwh)
        self.name = f"asap-{target_kwh:.4g}kWh"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, _ = self._need(observations)
        return self._lowest_action_adding(need)


class AsLateAsPossible(_TargetPolicy):
    """Idle until the last slot from which full power still reaches the target, then charge
    with the lowest power that keeps the target reachable."""

    def __init__(self, config: ChargingConfig, target_kwh: float) -> None:
        super().__init__(config, target_kwh)
        self.name = f"alap-{target_kwh:.4g}kWh"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, remaining = self._need(observations)
        later = (remaining - 1) * self.slot_energy[-1]
        return self._lowest_action_adding(need - later)


class CheapestToQuantile(_TargetPolicy):
    """Aim for the ``quantile`` of the demand distribution, spreading the energy still
    needed evenly over the remaining slots at the lowest power that does it: with a convex
    power cost, the cheapest way to reach a level by departure."""

    def __init__(self, config: ChargingConfig, quantile: float = 0.99) -> None:
        super().__init__(config, config.demand_quantile_kwh(quantile))
        self.quantile = quantile
        self.name = f"quantile-{quantile:g}"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, remaining = self._need(observations)
        return self._lowest_action_adding(need / remaining)


class CheapestSlotsFirst(_TargetPolicy):
    """Reach the demand's ``quantile`` by charging at full power in the cheapest remaining
    slots of the price forecast: charge now if the current slot is among the cheapest slots
    still needed (ties favour the earlier slot), with the lowest power that covers the rest
    when less than a full slot is missing. Needs a priced configuration."""

    def __init__(self, config: ChargingConfig, quantile: float = 0.99) -> None:
        if not config.physical:
            raise ValueError("cheapest-slots-first needs prices: cost_model='physical'")
        super().__init__(config, config.demand_quantile_kwh(quantile))
        self.name = f"cheapest-slots-{quantile:g}"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, remaining = self._need(observations)
        prices = vehicle_price_window(observations).astype(np.float64)
        visible = np.arange(prices.shape[1])[None, :] < remaining[:, None]
        cheaper = ((prices < prices[:, :1]) & visible).sum(axis=1)
        full_slot = self.slot_energy[-1]
        slots_needed = np.ceil(np.maximum(need, 0.0) / full_slot)
        charge = (need > 0) & (cheaper < slots_needed)
        action = self._lowest_action_adding(np.minimum(need, full_slot))
        return np.where(charge, action, self.config.idle_action).astype(np.int64)
