"""Depot baselines: a power level per charger from the depot observation.

Every policy maps a batch of observations ``(depots, observation size)`` to actions
``(depots, chargers)`` (layout in :mod:`smartcharging.sim.depot`). The "smart" ones
charge each vehicle towards a target level, the 99% quantile of its next-shift demand
(capped at its capacity), and share the site's headroom by their own rule; requests above
the headroom are still cut by the depot's allocation rule.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from smartcharging.config import DepotConfig
from smartcharging.observations import DepotLayout
from smartcharging.policies.targets import DEPOT_TARGET_QUANTILE


class DepotPolicy(ABC):
    """A Markov policy on depot observations."""

    name = "depot-policy"

    def __init__(self, config: DepotConfig) -> None:
        self.config = config
        self.n = config.n_chargers
        self.layout = DepotLayout.of(config)
        self.target_kwh = config.demand_quantile_kwh(DEPOT_TARGET_QUANTILE)
        self.slot_energy = config.slot_energy_kwh

    @abstractmethod
    def actions(self, observations: np.ndarray) -> np.ndarray:
        """Power level per charger, shape ``(depots, chargers)``."""

    def act(self, observation: np.ndarray) -> np.ndarray:
        return self.actions(np.asarray(observation)[None, :])[0]

    def _split(self, observations: np.ndarray) -> tuple[np.ndarray, ...]:
        layout = self.layout
        present = observations[:, layout.present] > 0.5
        battery = observations[:, layout.battery].astype(np.float64)
        slots_left = observations[:, layout.slots_left].astype(np.float64)
        headroom = observations[:, layout.headroom].astype(np.float64)
        return present, battery, slots_left, headroom

    def _targets(self, observations: np.ndarray) -> np.ndarray:
        """The level each vehicle is charged towards: its demand's quantile, or on a
        session day the request the observation shows (the most the vehicle takes)."""
        if self.config.sessions is not None:
            return observations[:, self.layout.expected_demand].astype(np.float64)
        return self.target_kwh

    def _need(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Energy each present vehicle still needs, its slots left, and the headroom."""
        present, battery, slots_left, headroom = self._split(observations)
        target = self._targets(observations)
        need = np.where(present, np.maximum(target - battery, 0.0), 0.0)
        return need, slots_left, headroom

    def _level_for(self, energy_kwh: np.ndarray) -> np.ndarray:
        """Lowest power level that adds ``energy_kwh`` in a slot (the highest if none);
        never a discharging one (V2G)."""
        index = np.searchsorted(self.slot_energy, np.maximum(energy_kwh, 0.0), side="left")
        return np.minimum(index, self.config.n_actions - 1).astype(np.int64)

    def _serve_in_order(
        self, need: np.ndarray, key: np.ndarray, headroom: np.ndarray
    ) -> np.ndarray:
        """Full power to needing vehicles in ``key`` order while the headroom lasts."""
        cfg = self.config
        top = cfg.power_kw[-1] / cfg.efficiency
        needing = need > 0
        order = np.argsort(np.where(needing, key, np.inf), axis=1, kind="stable")
        served = np.arange(self.n)[None, :] < np.floor(headroom / top)[:, None]
        chosen = np.zeros_like(needing)
        np.put_along_axis(chosen, order, served, axis=1)
        return np.where(chosen & needing, self._level_for(need), cfg.idle_action)


class Uncontrolled(DepotPolicy):
    """Full power to every present vehicle from arrival (what a dumb charger does)."""

    name = "uncontrolled"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        present = self._split(observations)[0]
        cfg = self.config
        return np.where(present, cfg.n_actions - 1, cfg.idle_action).astype(np.int64)


class EarliestDeadlineFirst(DepotPolicy):
    """Vehicles that leave soonest get full power first, as many as the headroom allows."""

    name = "earliest-deadline-first"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, slots_left, headroom = self._need(observations)
        return self._serve_in_order(need, slots_left, headroom)


class LeastLaxityFirst(DepotPolicy):
    """Vehicles with the least slack (slots left minus slots needed at full power) first."""

    name = "least-laxity-first"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, slots_left, headroom = self._need(observations)
        laxity = slots_left - need / self.slot_energy[-1]
        return self._serve_in_order(need, laxity, headroom)


class RoundRobin(DepotPolicy):
    """The headroom's worth of full-power slots rotates over the needing vehicles, one
    charger position further each slot."""

    name = "round-robin"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, _, headroom = self._need(observations)
        time = observations[:, self.layout.time].astype(np.int64)
        rotation = (np.arange(self.n)[None, :] - time[:, None]) % self.n
        return self._serve_in_order(need, rotation.astype(np.float64), headroom)


class CheapestSlotsFirstDepot(DepotPolicy):
    """Each vehicle charges at full power in the cheapest of its remaining slots that the
    price forecast shows, as many slots as it needs (ties favour the earlier slot)."""

    name = "cheapest-slots-first"

    def actions(self, observations: np.ndarray) -> np.ndarray:
        need, slots_left, _ = self._need(observations)
        prices = observations[:, self.layout.prices].astype(np.float64)
        width = prices.shape[1]
        visible = np.arange(width)[None, None, :] < slots_left[:, :, None]
        cheaper = ((prices[:, None, :] < prices[:, None, :1]) & visible).sum(axis=2)
        slots_needed = np.ceil(need / self.slot_energy[-1])
        urgent = slots_needed >= slots_left
        charge = (need > 0) & ((cheaper < slots_needed) | urgent)
        return np.where(charge, self._level_for(need), self.config.idle_action)


class PriceThresholdDepot(CheapestSlotsFirstDepot):
    """V2G: a vehicle discharges at full power when the slot's price is in the top quarter
    of the prices its remaining slots show, it is above the reserve, and charging at its
    fair share of the grid limit (the limit over the chargers, at most full power) in its
    other remaining slots still reaches its target; otherwise it charges as
    ``cheapest-slots-first`` does."""

    name = "price-threshold"

    def __init__(self, config: DepotConfig, high: float = 0.75) -> None:
        if not config.v2g:
            raise ValueError("the depot price-threshold rule needs a V2G depot (v2g=True)")
        super().__init__(config)
        self.high = high

    def actions(self, observations: np.ndarray) -> np.ndarray:
        cfg = self.config
        present, battery, slots_left, _ = self._split(observations)
        prices = observations[:, self.layout.prices].astype(np.float64)
        width = prices.shape[1]
        visible = np.arange(width)[None, None, :] < slots_left[:, :, None]
        ahead = np.sort(np.where(visible, prices[:, None, :], np.inf), axis=2)
        count = np.clip(np.minimum(slots_left, width) - 1, 0, width - 1).astype(np.intp)
        rank = np.ceil(self.high * count).astype(np.intp)
        high = np.take_along_axis(ahead, rank[:, :, None], axis=2)[:, :, 0]
        share_kw = min(cfg.power_kw[-1], cfg.grid_limit_kw * cfg.efficiency / cfg.n_chargers)
        recoverable = (
            battery + self.slot_energy[0] + (slots_left - 1) * share_kw * cfg.slot_hours
            >= self.target_kwh
        )
        discharge = (
            present
            & (prices[:, :1] >= high)
            & (battery > cfg.reserve_kwh)
            & recoverable
            & (slots_left > 1)
        )
        return np.where(discharge, 0, super().actions(observations)).astype(np.int64)


def depot_baselines(config: DepotConfig) -> dict[str, DepotPolicy]:
    """Every depot baseline, keyed by name."""
    policies = [
        Uncontrolled(config),
        EarliestDeadlineFirst(config),
        LeastLaxityFirst(config),
        RoundRobin(config),
        CheapestSlotsFirstDepot(config),
    ]
    if config.v2g:
        policies.append(PriceThresholdDepot(config))
    return {policy.name: policy for policy in policies}
