"""The physics of one charging window, written once for every caller.

Each function is pure and works unchanged on Python floats (the scalar environment, where
NumPy call overhead would dominate a step) and on NumPy arrays of any shape (the batch
environment and the exact solver, which broadcast over copies, battery grids and actions).
To serve both without two code paths the functions branch with arithmetic instead of
``if``/``np.where``: a comparison times 1.0 gives a ``flag`` of 1.0 or 0.0 (a float or a
float array) and ``a * flag + b * (1.0 - flag)`` selects ``a`` or ``b``. For finite numbers
that selection is exact (``x * 1 == x`` and ``x + 0.0 == x``), so the scalar and batch
environments agree bit for bit.

Units: kWh for energy, kW for power, hours for time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: A Python float or a NumPy array; every function below accepts and returns either.
Number = Any


def charge_slot(
    battery_kwh: Number, power_kw: Number, capacity_kwh: Number, slot_hours: float
) -> tuple[Number, Number, Number]:
    """Charge for one slot; returns ``(battery_after_kwh, energy_kwh, charging_hours)``.

    A full slot adds ``power_kw * slot_hours``. If that would pass capacity, the battery is
    filled exactly to capacity and ``charging_hours`` is the time the charger actually drew
    power, ``energy / power`` (the notebook's "time coefficient"). Idling (0 kW) counts as
    a full slot of charging time, and a request on a full battery as zero hours, exactly as
    the notebook computes them.
    """
    requested = power_kw * slot_hours
    room = capacity_kwh - battery_kwh
    fills = (requested > room) * 1.0  # 1.0 or 0.0: float flags keep array maths unmixed
    fits = 1.0 - fills
    # Divide by the power only where the battery fills (then room / power < slot_hours);
    # elsewhere divide by 1, so a discarded branch never holds inf or raises on 0 kW.
    divisor = power_kw * fills + fits
    energy = room * fills + requested * fits
    hours = (room / divisor) * fills + slot_hours * fits
    battery_after = capacity_kwh * fills + (battery_kwh + requested) * fits
    return battery_after, energy, hours


def discharge_slot(
    battery_kwh: Number, power_kw: Number, reserve_kwh: Number, slot_hours: float
) -> tuple[Number, Number, Number]:
    """Discharge at ``power_kw`` (< 0) for one slot; returns
    ``(battery_after_kwh, energy_kwh, discharging_hours)``, the energy negative.

    The mirror of :func:`charge_slot`: a full slot removes ``|power_kw| * slot_hours``; if
    that would pass the reserve, the battery stops exactly at the reserve after
    ``energy / power`` hours. A battery at or below the reserve does not discharge at all
    (zero energy, zero hours).
    """
    requested = power_kw * slot_hours
    above = battery_kwh - reserve_kwh
    over = (above > 0) * 1.0
    room = 0.0 - above * over  # <= 0: what may still leave the battery
    empties = (requested < room) * 1.0
    fits = 1.0 - empties
    divisor = power_kw * empties + fits
    energy = room * empties + requested * fits
    hours = (room / divisor) * empties + slot_hours * fits + 0.0
    # Stopping at the reserve lands on it exactly; at or below it the level is kept.
    stopped = reserve_kwh * over + battery_kwh * (1.0 - over)
    battery_after = stopped * empties + (battery_kwh + requested) * fits
    return battery_after, energy, hours


def move_slot(
    battery_kwh: Number,
    power_kw: Number,
    capacity_kwh: Number,
    reserve_kwh: Number,
    slot_hours: float,
) -> tuple[Number, Number, Number]:
    """One slot of a bidirectional charger: :func:`charge_slot` for ``power_kw >= 0``,
    :func:`discharge_slot` below; returns ``(battery_after_kwh, energy_kwh, hours)`` with
    the energy negative while discharging. The battery stays within
    ``[min(level, reserve), capacity]``."""
    up = charge_slot(battery_kwh, power_kw, capacity_kwh, slot_hours)
    down = discharge_slot(battery_kwh, power_kw, reserve_kwh, slot_hours)
    discharging = (power_kw < 0) * 1.0
    charging = 1.0 - discharging
    return (
        up[0] * charging + down[0] * discharging,
        up[1] * charging + down[1] * discharging,
        up[2] * charging + down[2] * discharging,
    )


def grid_energy(energy_kwh: Number, efficiency: float, discharge_efficiency: float) -> Number:
    """Energy the grid supplies (> 0) or receives (< 0) for a battery change of
    ``energy_kwh``: charging draws ``energy / efficiency``, discharging delivers
    ``|energy| * discharge_efficiency``."""
    charging = (energy_kwh > 0) * 1.0
    return energy_kwh / efficiency * charging + energy_kwh * discharge_efficiency * (1.0 - charging)


def bidirectional_costs(
    energy_kwh: Number,
    power_kw: Number,
    hours: Number,
    import_price: Number,
    export_price: Number,
    efficiency: float,
    discharge_efficiency: float,
    wear_cost_per_kw2h: float,
    degradation_cost_per_kwh: float,
) -> tuple[Number, Number, Number, Number, Number]:
    """Physical cost of a slot that may discharge; returns
    ``(total, net_energy_cost, wear_cost, export_revenue, degradation_cost)``.

    Imported energy is paid at ``import_price``, exported energy earns ``export_price``
    (``net_energy_cost`` is the bill minus that revenue). On top of the power-dependent
    :func:`wear_cost`, cycle ageing costs ``degradation_cost_per_kwh`` per kWh of battery
    throughput in either direction.
    """
    grid = grid_energy(energy_kwh, efficiency, discharge_efficiency)
    importing = (grid > 0) * 1.0
    bill = import_price * grid * importing
    revenue = 0.0 - export_price * grid * (1.0 - importing)
    wear = wear_cost(power_kw, hours, wear_cost_per_kw2h)
    degradation = degradation_cost_per_kwh * abs(energy_kwh)
    net = bill - revenue
    return net + wear + degradation, net, wear, revenue, degradation


def charging_cost(charging_hours: Number, rate: Number) -> Number:
    """Seed cost of a slot: hours actually charging times the power's :func:`cost_rate`."""
    return charging_hours * rate


def physical_costs(
    energy_kwh: Number,
    power_kw: Number,
    charging_hours: Number,
    price_per_kwh: Number,
    efficiency: float,
    wear_cost_per_kw2h: float,
) -> tuple[Number, Number, Number]:
    """Physical cost of a slot; returns ``(total, energy_cost, wear_cost)``.

    The grid supplies ``energy / efficiency`` at the slot's price. Battery wear grows with
    the square of the charging power (resistive heating, lithium plating at high C-rates),
    so it is modelled as ``coefficient * kW**2 * hours``: a convex term like the seed's
    ``exp(kW)``, with a coefficient in currency per kW² per hour from the scenario.
    """
    energy_cost = price_per_kwh * (energy_kwh / efficiency)
    wear = wear_cost(power_kw, charging_hours, wear_cost_per_kw2h)
    return energy_cost + wear, energy_cost, wear


def wear_cost(power_kw: Number, charging_hours: Number, wear_cost_per_kw2h: float) -> Number:
    """Battery wear of charging at ``power_kw`` for ``charging_hours``: convex in the power,
    ``coefficient * kW**2 * hours`` (see :func:`physical_costs`)."""
    return wear_cost_per_kw2h * (power_kw * power_kw) * charging_hours


def depart(
    battery_kwh: Number,
    demand_kwh: Number,
    penalty: float,
    cost_per_kwh: float = 0.0,
    residual_value_per_kwh: float = 0.0,
) -> tuple[Number, Number, Number, Number]:
    """Leave for the next shift; returns ``(remaining_kwh, shortfall_kwh, ran_out, cost)``.

    If the shift needs more energy than the battery holds, the vehicle runs out: the
    battery ends empty, ``shortfall_kwh`` is the missing energy and the cost is the fixed
    ``penalty`` (the seed model) plus ``cost_per_kwh`` per missing kWh (the physical model:
    an emergency fast charge and lost service). Otherwise the demand is taken from the
    battery at no cost, and the energy that remains is credited at
    ``residual_value_per_kwh`` (a negative cost; 0 by default: leftover energy is worth
    nothing, as in the seed).
    """
    ran_out = demand_kwh > battery_kwh
    lost = ran_out * 1.0
    served = 1.0 - lost
    # ``+ 0.0`` turns the -0.0 that a negative difference times zero gives into +0.0.
    shortfall = (demand_kwh - battery_kwh) * lost + 0.0
    remaining = (battery_kwh - demand_kwh) * served + 0.0
    cost = penalty * lost + shortfall * cost_per_kwh - remaining * residual_value_per_kwh
    return remaining, shortfall, ran_out, cost


def allocate_power(
    requested_kw: np.ndarray,
    available_kw: np.ndarray,
    efficiency: float,
    priority: np.ndarray | None = None,
) -> np.ndarray:
    """Power delivered to each charger (last axis) when the site can supply ``available_kw``
    (grid limit plus on-site PV; one value per site, broadcast over the leading axes).

    Chargers draw ``power / efficiency`` from the site. If the requests fit, each gets what
    it asked for. Otherwise, without ``priority``, every request is scaled by the same
    factor (proportional sharing); with ``priority`` (smaller is served first, e.g. the
    departure slot), requests are granted in that order and the first one that no longer
    fits gets the remainder. Either way the chargers draw at most ``available_kw``.
    """
    draw = requested_kw / efficiency
    available = np.asarray(available_kw, dtype=np.float64)[..., None]
    if priority is None:
        total = draw.sum(axis=-1, keepdims=True)
        scale = np.minimum(1.0, available / np.maximum(total, 1e-300))
        return requested_kw * scale
    order = np.argsort(priority, axis=-1, kind="stable")
    ordered = np.take_along_axis(draw, order, axis=-1)
    before = np.cumsum(ordered, axis=-1) - ordered
    granted = np.clip(available - before, 0.0, ordered)
    delivered = np.empty_like(draw)
    np.put_along_axis(delivered, order, granted * efficiency, axis=-1)
    return delivered
