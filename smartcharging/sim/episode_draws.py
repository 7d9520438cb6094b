"""Per-episode random draws from a counter-based stream.

Each episode needs three random numbers: the arrival battery level, the next-shift demand and
(for priced scenarios) which day's prices apply.
They are a pure function of ``(key, episode)``, where ``key`` is drawn once from the
environment's own seeded ``np_random`` at ``reset(seed=...)`` and ``episode`` counts the
episodes since. Because the draws are stateless, the scalar environment can compute a block
of future episodes in one call and the batch environment can compute the draws of thousands
of copies in one vectorised call, and copy ``i`` seeded with ``s`` still sees exactly the
episodes that a scalar environment seeded with ``s`` sees.

The uniform numbers come from the SplitMix64 mixing function (Steele, Lea & Flood, 2014)
applied to ``key + counter * golden_ratio``; the demand is ``mean + sd * ndtri(u)`` (the
normal inverse CDF from SciPy, evaluated element by element, so its result does not depend
on the array length).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

from smartcharging.config.vehicle import ChargingConfig

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_STREAMS = 3  # per episode: 0 = arrival level, 1 = demand, 2 = price profile


def new_key(rng: np.random.Generator) -> int:
    """Draw a stream key from an environment's ``np_random``."""
    return int(rng.integers(0, 2**63, dtype=np.int64))


def _uniform(
    keys: np.ndarray, episodes: np.ndarray, stream: Any, streams: int = _STREAMS
) -> np.ndarray:
    """Uniform numbers in the open interval (0, 1), one per (key, episode, stream); the
    arguments broadcast, and each episode owns ``streams`` consecutive counters."""
    counter = episodes.astype(np.uint64, copy=False) * np.uint64(streams)
    offset = np.asarray(stream, dtype=np.uint64) + np.uint64(1)
    z: np.ndarray = keys.astype(np.uint64, copy=False) + (counter + offset) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def arrival_levels(config: ChargingConfig, keys: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Battery level at arrival (kWh), uniform on ``config.start_levels_kwh``."""
    index = np.floor(_uniform(keys, episodes, 0) * config.n_start_levels)
    return config.start_min_kwh + index * config.start_step_kwh


def demands(config: ChargingConfig, keys: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Next-shift energy demand (kWh), Normal(demand_mean_kwh, demand_sd_kwh).

    A negative draw (probability about 1e-9 for the seed's Normal(30, 5)) means the shift
    used no energy and counts as 0; it changes no outcome, since no battery is below 0.
    """
    normal = ndtri(_uniform(keys, episodes, 1))
    return np.maximum(config.demand_mean_kwh + config.demand_sd_kwh * normal, 0.0)


def profiles(config: ChargingConfig, keys: np.ndarray, episodes: np.ndarray) -> np.ndarray:
    """Index of the episode's price row, uniform on ``0 .. n_profiles - 1``."""
    return np.floor(_uniform(keys, episodes, 2) * config.n_profiles).astype(np.int64)


def uniforms(keys: np.ndarray, episodes: np.ndarray, streams: int) -> np.ndarray:
    """``streams`` uniform numbers in (0, 1) per (key, episode): shape ``(len(keys), streams)``,
    for environments that need more draws per episode (a depot: several per vehicle)."""
    return _uniform(keys[:, None], episodes[:, None], np.arange(streams)[None, :], streams)


def normal_quantiles(uniform: np.ndarray) -> np.ndarray:
    """Standard normal values from uniforms in (0, 1), element by element."""
    return np.asarray(ndtri(uniform))
