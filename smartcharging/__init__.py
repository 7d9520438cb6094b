"""smartcharging: smart charging of electric-vehicle fleets, exact and fast.

Importing the package registers its Gymnasium environments (``SmartCharging-v0``).
"""

from smartcharging.config import ChargingConfig, ConfigError
from smartcharging.envs import SmartChargingEnv

__all__ = ["ChargingConfig", "ConfigError", "SmartChargingEnv"]
__version__ = "0.1.0"
