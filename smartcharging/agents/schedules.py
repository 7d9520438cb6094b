"""Hyperparameter schedules written as data, as in rl-baselines3-zoo: ``lin_<start>``.

An entry may give ``learning_rate``, ``clip_range`` or ``clip_range_vf`` as a number (a
constant) or as the string ``lin_<start>`` (e.g. ``lin_0.0003``): a value falling linearly
from ``start`` at the first step to 0 at the run's last. Annealing the step size to 0 is
what lets a run's *last* checkpoint settle instead of flipping between near-optimal
policies (see the README's training section); runs learn in one ``learn`` call, so SB3's
progress spans the whole run (:class:`~smartcharging.agents.runs.SB3Trainer`).
"""

from __future__ import annotations

import math
from typing import Any

#: Keys whose value may be a ``lin_<start>`` schedule.
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
PREFIX = "lin_"


def linear_start(source: str, key: str, value: str) -> float:
    """The start of a ``lin_<start>`` string, a finite number > 0; a ``ValueError`` naming
    ``source``, the key and the value otherwise."""
    text = value[len(PREFIX) :] if value.startswith(PREFIX) else None
    try:
        start = float(text) if text is not None else math.nan
    except ValueError:
        start = math.nan
    if not math.isfinite(start) or start <= 0:
        raise ValueError(
            f"{source}: invalid {key}={value!r}: must be a number or {PREFIX}<start> "
            "(a linear schedule from start > 0 to 0, e.g. lin_0.0003)"
        )
    return start


def check_schedules(source: str, kwargs: dict[str, Any]) -> None:
    """Check every string value of a schedule key (:func:`linear_start`)."""
    for key in SCHEDULE_KEYS:
        if isinstance(kwargs.get(key), str):
            linear_start(source, key, kwargs[key])


def resolve_schedules(source: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with each ``lin_<start>`` string replaced by SB3's linear schedule."""
    from stable_baselines3.common.utils import LinearSchedule

    resolved = dict(kwargs)
    for key in SCHEDULE_KEYS:
        if isinstance(resolved.get(key), str):
            resolved[key] = LinearSchedule(linear_start(source, key, resolved[key]), 0.0, 1.0)
    return resolved
