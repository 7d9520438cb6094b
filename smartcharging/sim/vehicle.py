"""One vehicle's slot — charge, pay, and in the last slot depart — written once.

:func:`vehicle_stepper` binds the step that ``SmartCharging-v0`` and its batch version
both call. Like :mod:`smartcharging.sim.dynamics` it works unchanged on Python floats (one
vehicle, where NumPy call overhead would dominate) and on NumPy arrays (a batch of
vehicles), and selects with arithmetic rather than branches, so the two agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smartcharging.config.v2g import export_price_terms
from smartcharging.sim import dynamics
from smartcharging.sim.dynamics import Number

if TYPE_CHECKING:
    from smartcharging.config.vehicle import ChargingConfig

#: Info keys that every step reports (``price`` onwards only in the physical model; the
#: last three only with the bidirectional physics of V2G and cycle ageing).
STEP_KEYS = (
    "power_kw",
    "energy_kwh",
    "charging_hours",
    "cost",
    "price",
    "energy_cost",
    "wear_cost",
    "export_price",
    "export_revenue",
    "degradation_cost",
)
#: Info keys that only the departing step reports.
DEPARTURE_KEYS = ("demand_kwh", "shortfall_kwh", "ran_out", "penalty")


@dataclass
class VehicleState:
    """What changes during an episode, for one vehicle (floats) or a batch (arrays).

    Attributes:
        battery_kwh: the battery level.
        demand_kwh: the next shift's demand, drawn at arrival and revealed at departure.
        time: slots elapsed.
        profile: the episode's price row.
    """

    battery_kwh: Any
    demand_kwh: Any
    time: Any
    profile: Any


def slot_cost(
    config: ChargingConfig,
    energy_kwh: Number,
    power_kw: Number,
    charging_hours: Number,
    cost_rate: Number,
    price: Number,
) -> tuple[Number, Number, Number, Number, Number]:
    """``(cost, energy_cost, wear_cost, export_revenue, degradation_cost)`` of a slot under
    the config's cost model: the seed's ``hours * exp(kW)`` (whose physical parts are the
    scalar 0.0), the physical model's grid energy at ``price`` plus battery wear, or, with
    V2G or cycle ageing, :func:`~smartcharging.sim.dynamics.bidirectional_costs` (energy
    cost net of export revenue)."""
    if config.v2g_physics:
        share, offset = export_price_terms(config)
        return dynamics.bidirectional_costs(
            energy_kwh,
            power_kw,
            charging_hours,
            price,
            price * share + offset,
            config.efficiency,
            config.discharge_efficiency,
            config.wear_cost_per_kw2h,
            config.degradation_cost_per_kwh,
        )
    if config.physical:
        total, energy_cost, wear_cost = dynamics.physical_costs(
            energy_kwh,
            power_kw,
            charging_hours,
            price,
            config.efficiency,
            config.wear_cost_per_kw2h,
        )
        return total, energy_cost, wear_cost, 0.0, 0.0
    return dynamics.charging_cost(charging_hours, cost_rate), 0.0, 0.0, 0.0, 0.0


VehicleStep = Callable[[Any, Any, Any, Any, Any, Any], tuple[Any, Any, dict[str, Any]]]


def vehicle_stepper(config: ChargingConfig) -> VehicleStep:
    """The slot function of one configuration, its parameters bound once (in the scalar
    step, attribute look-ups would cost more than the physics of one vehicle).

    ``step(battery_kwh, demand_kwh, power_kw, cost_rate, price, departing)`` charges at
    ``power_kw`` from ``battery_kwh`` and returns ``(battery, reward, info)``. ``cost_rate``
    is the action's seed rate (``config.cost_rates``) and ``price`` the slot's price
    (physical model); each caller looks both up its own fastest way. ``departing`` (a bool,
    or a bool array) marks the vehicles whose last slot this is: they leave for their shift
    afterwards, the battery pays for ``demand_kwh`` and the departure cost enters the
    reward. ``info`` holds :data:`STEP_KEYS` and, when any vehicle departs,
    :data:`DEPARTURE_KEYS` (computed for every vehicle of a batch). Floats and arrays alike.
    """
    capacity, slot_hours = config.capacity_kwh, config.slot_hours
    penalty, per_kwh = config.fixed_shortfall_penalty, config.shortfall_cost_kwh
    physical, efficiency, wear = config.physical, config.efficiency, config.wear_cost_per_kw2h
    charge_slot = dynamics.charge_slot
    departure = (penalty, per_kwh, config.residual_value_per_kwh)
    if config.v2g_physics:
        return _bidirectional_stepper(config)

    def step(
        battery_kwh: Number,
        demand_kwh: Number,
        power_kw: Number,
        cost_rate: Number,
        price: Number,
        departing: Any,
    ) -> tuple[Number, Number, dict[str, Any]]:
        battery, energy, hours = charge_slot(battery_kwh, power_kw, capacity, slot_hours)
        info: dict[str, Any]
        if physical:
            cost, energy_cost, wear_cost = dynamics.physical_costs(
                energy, power_kw, hours, price, efficiency, wear
            )
            info = {
                "power_kw": power_kw,
                "energy_kwh": energy,
                "charging_hours": hours,
                "price": price,
                "energy_cost": energy_cost,
                "wear_cost": wear_cost,
                "cost": cost,
            }
        else:
            cost = dynamics.charging_cost(hours, cost_rate)
            info = {
                "power_kw": power_kw,
                "energy_kwh": energy,
                "charging_hours": hours,
                "cost": cost,
            }
        reward = 0.0 - cost  # 0.0 - 0.0 is +0.0, unlike -0.0
        if departing is True or (departing is not False and departing.any()):
            battery, reward = _depart(battery, demand_kwh, departing, reward, info, *departure)
        return battery, reward, info

    return step


def _depart(
    battery: Number,
    demand_kwh: Number,
    departing: Any,
    reward: Number,
    info: dict[str, Any],
    penalty: float,
    per_kwh: float,
    residual_value: float,
) -> tuple[Number, Number]:
    """The departure of the vehicles marked ``departing``: the battery pays for the
    demand, the departure cost (net of any credit for the energy left) enters the reward
    and :data:`DEPARTURE_KEYS` the info."""
    remaining, shortfall, ran_out, departure_cost = dynamics.depart(
        battery, demand_kwh, penalty, per_kwh, residual_value
    )
    leaves = departing * 1.0
    info["demand_kwh"] = demand_kwh
    info["shortfall_kwh"] = shortfall
    info["ran_out"] = ran_out
    info["penalty"] = departure_cost
    return remaining * leaves + battery * (1.0 - leaves), reward - departure_cost * leaves


def _bidirectional_stepper(config: ChargingConfig) -> VehicleStep:
    """:func:`vehicle_stepper` for V2G and cycle ageing: the slot moves the battery either
    way (:func:`~smartcharging.sim.dynamics.move_slot`) and its cost is
    :func:`slot_cost`'s bidirectional one; ``info`` adds the export price, the export
    revenue and the degradation cost. Departure is the same."""
    capacity, reserve, slot_hours = config.capacity_kwh, config.reserve_kwh, config.slot_hours
    penalty, per_kwh = config.fixed_shortfall_penalty, config.shortfall_cost_kwh
    move_slot = dynamics.move_slot
    departure = (penalty, per_kwh, config.residual_value_per_kwh)

    def step(
        battery_kwh: Number,
        demand_kwh: Number,
        power_kw: Number,
        cost_rate: Number,
        price: Number,
        departing: Any,
    ) -> tuple[Number, Number, dict[str, Any]]:
        battery, energy, hours = move_slot(battery_kwh, power_kw, capacity, reserve, slot_hours)
        cost, energy_cost, wear_cost, revenue, degradation = slot_cost(
            config, energy, power_kw, hours, cost_rate, price
        )
        share, offset = export_price_terms(config)
        info: dict[str, Any] = {
            "power_kw": power_kw,
            "energy_kwh": energy,
            "charging_hours": hours,
            "price": price,
            "energy_cost": energy_cost,
            "wear_cost": wear_cost,
            "export_price": price * share + offset,
            "export_revenue": revenue,
            "degradation_cost": degradation,
            "cost": cost,
        }
        reward = 0.0 - cost
        if departing is True or (departing is not False and departing.any()):
            battery, reward = _depart(battery, demand_kwh, departing, reward, info, *departure)
        return battery, reward, info

    return step
