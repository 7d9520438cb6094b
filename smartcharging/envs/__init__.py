"""Gymnasium environments of smartcharging and their registration: one vehicle (scalar and
batch), the depot (scalar, batch and the PettingZoo view), and the wrappers and per-charger
rewards that learners use."""

from gymnasium.envs.registration import register

from smartcharging.envs.depot import DepotEnv
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.envs.smart_charging import SmartChargingEnv
from smartcharging.envs.smart_charging_vector import SmartChargingVectorEnv

__all__ = ["DepotEnv", "DepotVectorEnv", "SmartChargingEnv", "SmartChargingVectorEnv"]

register(
    id="SmartCharging-v0",
    entry_point="smartcharging.envs.smart_charging:SmartChargingEnv",
    vector_entry_point="smartcharging.envs.smart_charging_vector:SmartChargingVectorEnv",
    # The env raises ResetNeeded itself on a step before reset or after the end, so
    # Gymnasium's OrderEnforcing wrapper would only repeat that check on every step.
    order_enforce=False,
)

register(
    id="SmartChargingDepot-v0",
    entry_point="smartcharging.envs.depot:DepotEnv",
    vector_entry_point="smartcharging.envs.depot_vector:DepotVectorEnv",
    order_enforce=False,  # DepotEnv raises ResetNeeded itself
)
