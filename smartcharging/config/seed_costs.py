"""The seed model's cost rates and running-out penalty, derived once per configuration.

The notebook prices a slot by ``exp(kW)`` per hour of charging and a shortfall by the worst
possible charging bill times a factor. Both are values of the configuration (one rate per
power level, one penalty), computed here and read by the environments and solvers through
:class:`smartcharging.config.ChargingConfig`; the per-slot physics that uses them lives in
:mod:`smartcharging.sim.dynamics`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def cost_rate(power_kw: Any) -> Any:
    """Seed cost per hour of charging at ``power_kw``: ``exp(kW)``.

    The notebook's stand-in for a steeply convex price of charging power (battery wear,
    demand charges). ``exp(0) == 1``, so idling costs 1 per hour: a literal quirk of the seed
    that is kept on purpose. Callers precompute it once per power level so that every
    environment multiplies by the very same float. ``math.exp`` (the notebook's) is used
    element by element, since NumPy's vectorised ``exp`` may differ from it in the last bit.
    """
    power = np.asarray(power_kw, dtype=np.float64)
    return np.array([math.exp(p) for p in power.ravel()]).reshape(power.shape)


def shortfall_penalty(
    n_slots: int, slot_hours: float, max_rate: float, penalty_factor: float
) -> float:
    """The seed's fixed penalty for running out: the worst possible charging bill (full
    power in every slot, ``n_slots * slot_hours`` hours at the top rate) times the factor.

    For the seed, ``2 h * exp(22) * 10``: the notebook's ``sum_of_time_coeffs = 2``.
    """
    return float(n_slots * slot_hours * max_rate * penalty_factor)
