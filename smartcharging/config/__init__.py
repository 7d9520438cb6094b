"""Validated parameters: one vehicle (``vehicle``), a depot (``depot``), the values derived
from them (``seed_costs``), the size limits (``limits``), scenario files (``scenarios``), the
price data they use (``prices``, a user's own in ``price_files``) and the strict YAML and
JSON readers of every file a user sends (``data_files``)."""

from smartcharging.config.depot import DepotConfig
from smartcharging.config.validation import ConfigError
from smartcharging.config.vehicle import ChargingConfig

__all__ = ["ChargingConfig", "ConfigError", "DepotConfig"]
