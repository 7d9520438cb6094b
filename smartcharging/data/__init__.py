"""Data shipped with the package: time-of-use tariffs and the NL 2024 day-ahead prices
(attribution in the README and in :mod:`smartcharging.config.prices`)."""
