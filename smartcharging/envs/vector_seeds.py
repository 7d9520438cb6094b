"""Seeds of the copies of a batch environment, checked the same way by every batch env."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

from smartcharging.sim.episode_draws import new_key


def copy_seeds(seed: object, num_envs: int) -> list[int] | None:
    """One seed per copy: ``seed + i`` for an integer seed, a sequence as given, or None.

    Every seed must be an integer >= 0 (NumPy's included); anything else is a ``ValueError``
    naming the value, raised before the environment changes.
    """
    if seed is None:
        return None
    if _is_seed(seed):
        return [int(seed) + i for i in range(num_envs)]  # type: ignore[call-overload]
    if isinstance(seed, Sequence | np.ndarray) and not isinstance(seed, str | bytes):
        seeds = list(seed)
        bad = [s for s in seeds if not _is_seed(s)]
        if bad:
            raise ValueError(f"invalid seed {bad[0]!r}: seeds must be integers >= 0")
        if len(seeds) != num_envs:
            raise ValueError(f"reset got {len(seeds)} seeds: must be one per copy ({num_envs})")
        return [int(s) for s in seeds]
    raise ValueError(
        f"invalid seed {seed!r}: must be None, an integer >= 0 or one such integer per copy"
    )


def _is_seed(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(value >= 0)


def copy_keys(seeds: list[int] | None, rng: np.random.Generator, num_envs: int) -> np.ndarray:
    """The stream key of each copy: from its seed (so copy ``i`` sees what a scalar
    environment reset with ``seeds[i]`` sees), or drawn from ``rng`` without seeds."""
    if seeds is None:
        return rng.integers(0, 2**63, num_envs, dtype=np.int64).astype(np.uint64)
    return np.array([new_key(seeding.np_random(s)[0]) for s in seeds], dtype=np.uint64)
