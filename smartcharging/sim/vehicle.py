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

from smartcharging.sim import dynamics
from smartcharging.sim.dynamics import Number

if TYPE_CHECKING:
    from smartcharging.config.vehicle import ChargingConfig

#: Info keys that every step reports (the last three only in the physical model).
STEP_KEYS = (
    "power_kw",
    "energy_kwh",
    "charging_hours",
    "cost",
    "price",
    "energy_cost",
    "wear_cost",
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
) -> tuple[Number, Number, Number]:
    """``(cost, energy_cost, wear_cost)`` of a charged slot under the config's cost model:
    the seed's ``hours * exp(kW)`` (whose two physical parts are the scalar 0.0), or the
    physical model's grid energy at ``price`` plus battery wear."""
    if config.physical:
        return dynamics.physical_costs(
            energy_kwh,
            power_kw,
            charging_hours,
            price,
            config.efficiency,
            config.wear_cost_per_kw2h,
        )
    return dynamics.charging_cost(charging_hours, cost_rate), 0.0, 0.0


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
    charge_slot, depart = dynamics.charge_slot, dynamics.depart

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
            remaining, shortfall, ran_out, departure_cost = depart(
                battery, demand_kwh, penalty, per_kwh
            )
            leaves = departing * 1.0
            battery = remaining * leaves + battery * (1.0 - leaves)
            reward = reward - departure_cost * leaves
            info["demand_kwh"] = demand_kwh
            info["shortfall_kwh"] = shortfall
            info["ran_out"] = ran_out
            info["penalty"] = departure_cost
        return battery, reward, info

    return step
