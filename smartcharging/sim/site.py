"""One slot of a depot site, written once: what the chargers' requests become.

:func:`site_slot` maps one slot's requested powers (per depot and charger), the batteries,
the PV, the prices and the site's limits to the powers delivered, the batteries after the
slot, the energy imported and exported and every cost part. The depot simulator steps with
it, and a planner that needs to know what its actions will do (MPC's peak estimate) calls
it too, so that no caller re-derives the site's rules.

Two sets of rules, chosen by the configuration (:attr:`DepotConfig.v2g_physics`):

* **charge only**: requests above the grid limit plus PV are cut by the allocation rule
  (proportional or by priority); the grid supplies the draw beyond PV; PV beyond it is
  curtailed;
* **bidirectional** (V2G or cycle ageing): discharging chargers feed the site first, capped
  together at the export limit, so that the charging chargers may draw up to the grid limit
  plus PV plus that supply; imports pay the slot's price, exports earn the export price, PV
  is not exported, and cycle ageing is paid per kWh moved either way.

Arrays have shape ``(depots, chargers)``; per-site values (PV, prices) ``(depots,)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from smartcharging.sim import dynamics

if TYPE_CHECKING:
    from smartcharging.config.depot import DepotConfig


@dataclass(frozen=True)
class SlotFlows:
    """What one slot did at each site (per charger unless noted).

    Attributes:
        delivered_kw: power delivered to each battery (negative: discharged).
        battery_kwh: battery levels after the slot.
        energy_kwh: energy into each battery (negative: out of it).
        wear_cost: power wear plus cycle ageing of each charger.
        degradation_cost: the cycle-ageing part of ``wear_cost``.
        energy_cost_share: each charger's part of the site's net energy cost.
        grid_kw, export_kw: mean import and export power of each site.
        energy_cost, export_revenue: each site's bill net of its export revenue, and that
            revenue.
    """

    delivered_kw: np.ndarray
    battery_kwh: np.ndarray
    energy_kwh: np.ndarray
    wear_cost: np.ndarray
    degradation_cost: np.ndarray
    energy_cost_share: np.ndarray
    grid_kw: np.ndarray
    export_kw: np.ndarray
    energy_cost: np.ndarray
    export_revenue: np.ndarray


def site_slot(
    config: DepotConfig,
    requested_kw: np.ndarray,
    battery_kwh: np.ndarray,
    capacity_kwh: np.ndarray,
    pv_kw: np.ndarray,
    price: np.ndarray,
    export_price: np.ndarray,
    departure: np.ndarray,
) -> SlotFlows:
    """The slot's flows and costs at every site (module docstring). ``departure`` is each
    vehicle's departure slot, the order of service under ``allocation="priority"``."""
    priority = departure if config.allocation == "priority" else None
    if config.v2g_physics:
        return _bidirectional(
            config, requested_kw, battery_kwh, capacity_kwh, pv_kw, price, export_price, priority
        )
    h = config.slot_hours
    delivered = dynamics.allocate_power(
        requested_kw, config.grid_limit_kw + pv_kw, config.efficiency, priority
    )
    battery, energy, hours = dynamics.charge_slot(battery_kwh, delivered, capacity_kwh, h)
    wear = dynamics.wear_cost(delivered, hours, config.wear_cost_per_kw2h)
    draw_kwh = energy / config.efficiency
    site_draw = draw_kwh.sum(axis=1)
    grid_kwh = np.maximum(site_draw - pv_kw * h, 0.0)
    energy_cost = price * grid_kwh
    zeros = np.zeros_like(energy_cost)
    return SlotFlows(
        delivered_kw=delivered,
        battery_kwh=battery,
        energy_kwh=energy,
        wear_cost=wear,
        degradation_cost=np.zeros_like(wear),
        energy_cost_share=draw_kwh * (energy_cost / np.maximum(site_draw, 1e-300))[:, None],
        grid_kw=grid_kwh / h,
        export_kw=zeros,
        energy_cost=energy_cost,
        export_revenue=zeros,
    )


def _bidirectional(
    config: DepotConfig,
    requested_kw: np.ndarray,
    battery_kwh: np.ndarray,
    capacity_kwh: np.ndarray,
    pv_kw: np.ndarray,
    price: np.ndarray,
    export_price: np.ndarray,
    priority: np.ndarray | None,
) -> SlotFlows:
    """:func:`site_slot` with discharging, exports and cycle ageing."""
    cfg, h = config, config.slot_hours
    discharge = np.minimum(requested_kw, 0.0)
    asked_kw = -discharge.sum(axis=1) * cfg.discharge_efficiency
    cap = np.minimum(1.0, cfg.export_cap_kw / np.maximum(asked_kw, 1e-300))
    discharge = discharge * cap[:, None]
    _, out_kwh, _ = dynamics.discharge_slot(battery_kwh, discharge, cfg.reserve_kwh, h)
    supply_kw = -out_kwh.sum(axis=1) * cfg.discharge_efficiency / h
    charge = dynamics.allocate_power(
        np.maximum(requested_kw, 0.0),
        cfg.grid_limit_kw + pv_kw + supply_kw,
        cfg.efficiency,
        priority,
    )
    delivered = charge + discharge
    battery, energy, hours = dynamics.move_slot(
        battery_kwh, delivered, capacity_kwh, cfg.reserve_kwh, h
    )
    draw_kwh = np.maximum(energy, 0.0) / cfg.efficiency
    sold_kwh = np.maximum(-energy, 0.0) * cfg.discharge_efficiency
    site_draw, site_supply = draw_kwh.sum(axis=1), sold_kwh.sum(axis=1)
    use_kwh = site_draw - pv_kw * h
    grid_kwh = np.maximum(use_kwh - site_supply, 0.0)
    export_kwh = np.maximum(site_supply - np.maximum(use_kwh, 0.0), 0.0)
    bill, revenue = price * grid_kwh, export_price * export_kwh
    wear = dynamics.wear_cost(delivered, hours, cfg.wear_cost_per_kw2h)
    ageing = cfg.degradation_cost_per_kwh * np.abs(energy)
    share = draw_kwh * (bill / np.maximum(site_draw, 1e-300))[:, None]
    share -= sold_kwh * (revenue / np.maximum(site_supply, 1e-300))[:, None]
    return SlotFlows(
        delivered_kw=delivered,
        battery_kwh=battery,
        energy_kwh=energy,
        wear_cost=wear + ageing,
        degradation_cost=ageing,
        energy_cost_share=share,
        grid_kw=grid_kwh / h,
        export_kw=export_kwh / h,
        energy_cost=bill - revenue,
        export_revenue=revenue,
    )
