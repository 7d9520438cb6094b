"""smartcharging: smart charging of electric-vehicle fleets, exact and fast.

Importing the package registers its Gymnasium environments: ``SmartCharging-v0`` (one
vehicle) and ``SmartChargingDepot-v0`` (a depot), each with a native batch version as its
vector entry point.
"""

from smartcharging.config import ChargingConfig, ConfigError, DepotConfig
from smartcharging.envs import DepotEnv, DepotVectorEnv, SmartChargingEnv, SmartChargingVectorEnv

__all__ = [
    "ChargingConfig",
    "ConfigError",
    "DepotConfig",
    "DepotEnv",
    "DepotVectorEnv",
    "SmartChargingEnv",
    "SmartChargingVectorEnv",
]
__version__ = "0.1.0"
