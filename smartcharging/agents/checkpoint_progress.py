"""How far a run had come at its last checkpoint, read from ``checkpoint.json``: its
environment steps and training seconds, both checked (the file is user data: a list, a
string, a negative or a 300-digit number there used to reach ``int``/``float`` and the
curve as they were)."""

from __future__ import annotations

import math
from typing import Any

from smartcharging.config import limits
from smartcharging.config.validation import shorten

#: Most steps a checkpoint may record: a run stops within one update past its budget, at
#: most ``MAX_TRAINING_STEPS``; twice that covers any update.
MAX_CHECKPOINT_STEPS = 2 * limits.MAX_TRAINING_STEPS


def checkpoint_progress(checkpoint: dict[str, Any]) -> tuple[int, float]:
    """``steps`` (an integer in 0..:data:`MAX_CHECKPOINT_STEPS`) and ``wall_time_s`` (a
    finite number >= 0) of a ``checkpoint.json``; a ``ValueError`` naming the entry and its
    value otherwise (a missing entry is a ``KeyError``)."""
    steps, wall = checkpoint["steps"], checkpoint["wall_time_s"]
    if (
        isinstance(steps, bool)
        or not isinstance(steps, int)
        or not 0 <= steps <= MAX_CHECKPOINT_STEPS
    ):
        raise ValueError(
            f"its steps {shorten(repr(steps))} are not an integer in 0..{MAX_CHECKPOINT_STEPS:,}"
        )
    if (
        isinstance(wall, bool)
        or not isinstance(wall, int | float)
        or not math.isfinite(wall)
        or wall < 0
    ):
        raise ValueError(f"its wall_time_s {shorten(repr(wall))} is not a number of seconds >= 0")
    return steps, float(wall)
