"""Vehicle-to-grid baselines: a price-threshold rule, and the best charge-only policy.

Both act on a V2G configuration's actions. The charge-only optimum is what the value of
V2G is measured against: the exact optimum of the same vehicle whose charger cannot
discharge (:meth:`~smartcharging.config.ChargingConfig.without_v2g`), replayed on the V2G
action indices so that one evaluator scores both.
"""

from __future__ import annotations

import numpy as np

from smartcharging.config import ChargingConfig
from smartcharging.config.v2g import export_price_terms
from smartcharging.observations import vehicle_price_window
from smartcharging.policies.base import Policy
from smartcharging.policies.table import TablePolicy
from smartcharging.policies.targets import CheapestSlotsFirst
from smartcharging.solvers.vehicle.dp import solve_all


def _require_v2g(config: ChargingConfig, what: str) -> None:
    if not config.v2g:
        raise ValueError(f"{what} needs a V2G configuration (v2g=True)")


class ChargeOnlyOptimum(Policy):
    """The exact optimum of the vehicle without discharging, on the V2G actions."""

    name = "optimal-without-v2g"

    def __init__(self, config: ChargingConfig) -> None:
        _require_v2g(config, self.name)
        self.n_actions = config.n_actions
        self.optimum = solve_all(config.without_v2g())
        self.charge_only = TablePolicy.optimal(self.optimum)
        self.first_charge_action = config.idle_action

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return self.charge_only.actions(observations) + self.first_charge_action


class PriceThreshold(Policy):
    """Buy low, sell high, and still leave with the demand's ``quantile``.

    Of the prices still to come (the observed window), the ``low`` and the ``high``
    quantile (nearest rank) are thresholds. The rule discharges at full power when the slot's
    export price is at or above the high threshold, a kWh sold now is worth more than
    one bought back at the cheapest price still to come (both conversions and cycle ageing
    counted), the battery is above the reserve and full-power charging in the remaining
    slots still reaches the target. Otherwise it charges at full power when the price is
    at or below the low threshold, and else charges as ``cheapest-slots`` does, towards
    the target. Needs the whole night's prices in the observation to see ahead.
    """

    def __init__(
        self, config: ChargingConfig, quantile: float, low: float = 0.25, high: float = 0.75
    ) -> None:
        _require_v2g(config, "the price-threshold rule")
        if not 0 <= low <= high <= 1:
            raise ValueError(
                f"invalid thresholds low={low}, high={high}: need 0 <= low <= high <= 1"
            )
        self.config = config
        self.n_actions = config.n_actions
        self.low, self.high = low, high
        self.towards_target = CheapestSlotsFirst(config, quantile)
        self.target_kwh = self.towards_target.target_kwh
        self.name = f"price-threshold-{quantile:g}"
        self._share, self._offset = export_price_terms(config)
        self._full_charge = float(config.slot_energy_kwh[-1])
        self._full_discharge = float(config.slot_energy_kwh[0])  # negative

    def actions(self, observations: np.ndarray) -> np.ndarray:
        cfg = self.config
        need, remaining = self.towards_target._need(observations)
        battery = self.target_kwh - need
        prices = vehicle_price_window(observations).astype(np.float64)
        visible = np.arange(prices.shape[1])[None, :] < remaining[:, None]
        ahead = np.sort(np.where(visible, prices, np.inf), axis=1)
        count = np.minimum(remaining, prices.shape[1])[:, None] - 1
        rows = np.arange(len(prices))[:, None]
        low = ahead[rows, np.floor(self.low * count).astype(np.intp)][:, 0]
        high = ahead[rows, np.ceil(self.high * count).astype(np.intp)][:, 0]
        now = prices[:, 0]
        later = np.where(visible[:, 1:], prices[:, 1:], np.inf).min(axis=1, initial=np.inf)
        degradation = cfg.degradation_cost_per_kwh
        sold = (now * self._share + self._offset) * cfg.discharge_efficiency - degradation
        bought_back = later / cfg.efficiency + degradation
        recoverable = (
            battery + self._full_discharge + (remaining - 1) * self._full_charge >= self.target_kwh
        )
        discharge = (now >= high) & (sold > bought_back) & (battery > cfg.reserve_kwh) & recoverable
        charge_low = (now <= low) & (battery < cfg.capacity_kwh) & ~discharge
        action = self.towards_target.actions(observations)
        action = np.where(charge_low, cfg.n_actions - 1, action)
        return np.where(discharge, 0, action).astype(np.int64)
