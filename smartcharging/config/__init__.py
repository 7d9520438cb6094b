"""Validated parameters: one vehicle (``vehicle``), a depot (``depot``), the values derived
from them, scenario files (``scenarios``) and the price data they use (``prices``)."""

from smartcharging.config.depot import DepotConfig
from smartcharging.config.validation import ConfigError
from smartcharging.config.vehicle import ChargingConfig

__all__ = ["ChargingConfig", "ConfigError", "DepotConfig"]
