"""Validation of configuration values: one error type, and checks that name the parameter,
the bad value and what is allowed."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np


class ConfigError(ValueError):
    """A configuration parameter has a value that is not allowed; ``field`` names it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


#: Characters of a value shown in an error message; longer ones are cut in the middle.
SHOWN_CHARACTERS = 60


def shorten(text: str, limit: int = SHOWN_CHARACTERS) -> str:
    """``text`` cut to about ``limit`` characters (its start and end kept), so that an
    error message quoting a value stays one readable line."""
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]}...{text[-keep:]} ({len(text):,} characters)"


def reject(name: str, value: object, allowed: str) -> ConfigError:
    """The error for parameter ``name`` set to ``value``, saying what is ``allowed``."""
    return ConfigError(
        f"invalid parameter {name}={shorten(repr(value))}: must be {allowed}", field=name
    )


def finite_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise reject(name, value, "a finite number")
    number = float(value)
    if not math.isfinite(number):
        raise reject(name, value, "a finite number")
    return number


def integer(name: str, value: object, minimum: int) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise reject(name, value, f"an integer >= {minimum}")
    return int(value)


def positive_number(name: str, value: object) -> float:
    number = finite_number(name, value)
    if number <= 0:
        raise reject(name, value, "a finite number > 0")
    return number


def share(name: str, value: object, smallest: float) -> float:
    """A share of energy that arrives: a number in ``[smallest, 1]``. The physics divides
    by a charging efficiency, so one near 0 would turn every draw into an overflow."""
    number = finite_number(name, value)
    if not smallest <= number <= 1:
        raise reject(name, value, f"in [{smallest:g}, 1]; see smartcharging.config.limits")
    return number


def non_negative_number(name: str, value: object) -> float:
    number = finite_number(name, value)
    if number < 0:
        raise reject(name, value, "a finite number >= 0")
    return number


def power_levels(value: object, discharging: bool = False) -> tuple[float, ...]:
    """Strictly increasing power levels (kW); negative (discharging) ones only if
    ``discharging`` (vehicle-to-grid)."""
    sign = "" if discharging else " >= 0"
    allowed = f"a non-empty, strictly increasing sequence of finite numbers{sign} (kW)"
    if not discharging:
        allowed += "; negative (discharging) levels need v2g=True"
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise reject("power_levels_kw", value, allowed)
    levels = tuple(value)
    if not levels:
        raise reject("power_levels_kw", value, allowed)
    check = finite_number if discharging else non_negative_number
    try:
        numbers = tuple(check("power_levels_kw", level) for level in levels)
    except ConfigError:
        raise reject("power_levels_kw", value, allowed) from None
    if any(b <= a for a, b in pairwise(numbers)):
        raise reject("power_levels_kw", value, allowed)
    return numbers
