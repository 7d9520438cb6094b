"""Seeds of an environment and of the copies of a batch environment, checked the same way
by every view (a scalar env, a batch env, a PettingZoo env)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

from smartcharging.config.validation import shorten
from smartcharging.sim.episode_draws import new_key


def check_seed(seed: object) -> int | None:
    """``seed`` as a Python integer (a NumPy integer or 0-d integer array included), or
    None; a ``ValueError`` naming the value for anything else, before the env changes."""
    seed = _unwrapped(seed)
    if seed is None:
        return None
    if _is_seed(seed):
        return int(seed)  # type: ignore[call-overload]
    raise ValueError(f"invalid seed {shorten(repr(seed))}: must be None or an integer >= 0")


def copy_seeds(seed: object, num_envs: int) -> list[int] | None:
    """One seed per copy: ``seed + i`` for an integer seed, a sequence as given, or None.

    Every seed must be an integer >= 0 (NumPy's included); anything else is a ``ValueError``
    naming the value, raised before the environment changes.
    """
    seed = _unwrapped(seed)
    if seed is None:
        return None
    if _is_seed(seed):
        return [int(seed) + i for i in range(num_envs)]  # type: ignore[call-overload]
    if isinstance(seed, Sequence | np.ndarray) and not isinstance(seed, str | bytes):
        seeds = list(seed)
        bad = [s for s in seeds if not _is_seed(s)]
        if bad:
            raise ValueError(f"invalid seed {shorten(repr(bad[0]))}: seeds must be integers >= 0")
        if len(seeds) != num_envs:
            raise ValueError(f"reset got {len(seeds)} seeds: must be one per copy ({num_envs})")
        return [int(s) for s in seeds]
    raise ValueError(
        f"invalid seed {shorten(repr(seed))}: must be None, an integer >= 0 or one such "
        "integer per copy"
    )


def _unwrapped(seed: object) -> object:
    """A 0-d array's value (``np.array(5)`` is the seed 5, not a list of seeds)."""
    return seed.item() if isinstance(seed, np.ndarray) and seed.ndim == 0 else seed


def _is_seed(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(value >= 0)


def copy_keys(seeds: list[int] | None, rng: np.random.Generator, num_envs: int) -> np.ndarray:
    """The stream key of each copy: from its seed (so copy ``i`` sees what a scalar
    environment reset with ``seeds[i]`` sees), or drawn from ``rng`` without seeds."""
    if seeds is None:
        return rng.integers(0, 2**63, num_envs, dtype=np.int64).astype(np.uint64)
    return np.array([new_key(seeding.np_random(s)[0]) for s in seeds], dtype=np.uint64)
