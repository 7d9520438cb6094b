"""Vehicle-to-grid parameters, validated once for a vehicle and for a depot.

Both :class:`~smartcharging.config.ChargingConfig` and
:class:`~smartcharging.config.DepotConfig` carry the same fields: ``v2g`` (discharging
allowed), ``discharge_efficiency``, ``reserve_kwh``, ``export_fee_per_kwh`` or
``export_tariff_per_kwh`` (what exports earn), and two costs that any physical
configuration may use, ``degradation_cost_per_kwh`` (cycle ageing) and
``residual_value_per_kwh`` (credit for energy left after the shift). A V2G field set
without ``v2g=True`` is an error, never silently ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smartcharging.config import limits
from smartcharging.config.validation import (
    finite_number,
    non_negative_number,
    reject,
    share,
)

#: Fields that only mean something with ``v2g=True``, and their defaults.
V2G_ONLY_DEFAULTS: dict[str, float | None] = {
    "discharge_efficiency": 1.0,
    "reserve_kwh": 0.0,
    "export_fee_per_kwh": 0.0,
    "export_tariff_per_kwh": None,
}


def v2g_flag(value: object) -> bool:
    """``v2g`` as a bool; anything but true or false is an error."""
    if not isinstance(value, bool | np.bool_):
        raise reject("v2g", value, "true or false")
    return bool(value)


def v2g_fields(
    config: Any, levels: tuple[float, ...], capacity_kwh: float, physical: bool
) -> dict[str, Any]:
    """The validated V2G fields of ``config`` (a vehicle or a depot config being built),
    whose power ``levels`` are validated and whose smallest capacity is ``capacity_kwh``."""
    v2g = v2g_flag(config.v2g)
    values: dict[str, Any] = {
        "v2g": v2g,
        "discharge_efficiency": share(
            "discharge_efficiency", config.discharge_efficiency, limits.MIN_EFFICIENCY
        ),
        "reserve_kwh": non_negative_number("reserve_kwh", config.reserve_kwh),
        "export_fee_per_kwh": finite_number("export_fee_per_kwh", config.export_fee_per_kwh),
        "export_tariff_per_kwh": None
        if config.export_tariff_per_kwh is None
        else finite_number("export_tariff_per_kwh", config.export_tariff_per_kwh),
    }
    for name in ("degradation_cost_per_kwh", "residual_value_per_kwh"):
        values[name] = non_negative_number(name, getattr(config, name))
        if values[name] and not physical:
            raise reject(name, values[name], "0 for cost_model='seed'")
    if values["residual_value_per_kwh"] > config.shortfall_cost_per_kwh:
        raise reject(
            "residual_value_per_kwh",
            values["residual_value_per_kwh"],
            f"<= shortfall_cost_per_kwh={config.shortfall_cost_per_kwh} (a kWh left over "
            "cannot be worth more than a kWh missing costs)",
        )
    if not v2g:
        for name, default in V2G_ONLY_DEFAULTS.items():
            if values[name] != default:
                raise reject(name, values[name], f"{default} unless v2g=True")
        return values
    if not physical:
        raise reject("v2g", True, "false for cost_model='seed' (V2G needs prices)")
    if 0.0 not in levels or levels[0] >= 0:
        raise reject(
            "power_levels_kw",
            levels,
            "levels that include 0 kW (idle) and at least one negative (discharging) level "
            "when v2g=True",
        )
    if values["reserve_kwh"] > capacity_kwh:
        raise reject("reserve_kwh", config.reserve_kwh, f"<= capacity_kwh={capacity_kwh}")
    if values["export_fee_per_kwh"] < 0:
        raise reject("export_fee_per_kwh", config.export_fee_per_kwh, "a finite number >= 0")
    if values["export_fee_per_kwh"] and values["export_tariff_per_kwh"] is not None:
        raise reject(
            "export_fee_per_kwh",
            values["export_fee_per_kwh"],
            "0 when export_tariff_per_kwh is given (exports earn the tariff or the slot's "
            "price minus the fee, not both)",
        )
    return values


def v2g_cost_terms(config: Any, hours: float, top_kw: float) -> dict[str, float]:
    """The largest cost each V2G field can add to one episode of ``hours`` at ``top_kw``
    (for the check that every episode's cost stays finite)."""
    energy = hours * top_kw
    return {
        "degradation_cost_per_kwh": energy * config.degradation_cost_per_kwh,
        "residual_value_per_kwh": config.residual_value_per_kwh
        * float(np.sum(config.capacity_kwh)),
        "export_fee_per_kwh": energy * abs(config.export_fee_per_kwh),
        "export_tariff_per_kwh": energy * abs(config.export_tariff_per_kwh or 0.0),
    }


def export_price_terms(config: Any) -> tuple[float, float]:
    """``(share, offset)`` with export price ``= share * price + offset``: the feed-in
    tariff (share 0), or the slot's price minus the export fee (share 1)."""
    if config.export_tariff_per_kwh is not None:
        return 0.0, config.export_tariff_per_kwh
    return 1.0, -config.export_fee_per_kwh


def export_price_table(config: Any, prices: np.ndarray) -> np.ndarray:
    """What a kWh fed into the grid earns in each slot of the price table ``prices``;
    zeros without V2G. Bit for bit :func:`export_price_terms` applied to each price."""
    if not config.v2g:
        return np.zeros_like(prices)
    share, offset = export_price_terms(config)
    return prices * share + offset
