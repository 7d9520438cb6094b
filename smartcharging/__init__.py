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
    "evaluate_policy",  # provided by __getattr__
]
__version__ = "0.3.0"


def __getattr__(name: str) -> object:
    """``evaluate_policy`` (:mod:`smartcharging.evaluation.scoring`), imported on first use
    so that ``import smartcharging`` stays light."""
    if name == "evaluate_policy":
        from smartcharging.evaluation.scoring import evaluate_policy

        return evaluate_policy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, with the lazily imported ``evaluate_policy``."""
    return sorted({*globals(), *__all__})
