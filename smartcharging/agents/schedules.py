"""Hyperparameter schedules written as data, as in rl-baselines3-zoo: ``lin_<start>``.

An entry may give ``learning_rate``, ``clip_range`` or ``clip_range_vf`` as a number in
``[1e-12, 1]`` (a constant) or as the string ``lin_<start>`` (e.g. ``lin_0.0003``): a value
falling linearly from ``start`` at the first step to 0 at the run's last. Annealing the
step size to 0 is what lets a run's *last* checkpoint settle instead of flipping between
near-optimal policies (see the README's training section); runs learn in one ``learn``
call, so SB3's progress spans the whole run
(:class:`~smartcharging.agents.runs.SB3Trainer`).

On-policy algorithms (PPO, A2C) update after each rollout at the progress reached by then,
so their last update runs at 0: a run of a single rollout learns nothing with a ``lin_``
rate, and a run of a few rollouts learns little. Give short runs a constant rate.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Keys whose value may be a ``lin_<start>`` schedule.
SCHEDULE_KEYS = ("learning_rate", "clip_range", "clip_range_vf")
PREFIX = "lin_"
#: ``lin_`` and a plain decimal number (ASCII digits, optional exponent).
PATTERN = re.compile(r"lin_(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
#: Smallest and largest start or constant: below, a step size is no step at all; above
#: 1, a learning rate or a clip range of the policy ratio makes no sense.
SMALLEST, LARGEST = 1e-12, 1.0


def _allowed(key: str) -> str:
    constant = f"a number in [{SMALLEST:g}, {LARGEST:g}]"
    none = " or null (no clipping)" if key == "clip_range_vf" else ""
    return (
        f"must be {constant}{none} or {PREFIX}<start> (a linear schedule from start, "
        f"in the same range, to 0; e.g. lin_0.0003)"
    )


def _in_range(value: float) -> bool:
    return math.isfinite(value) and SMALLEST <= value <= LARGEST


def schedule_value(source: str, key: str, value: Any) -> float | None:
    """The constant or the start of a schedule key's ``value``, None for a null
    ``clip_range_vf``; a ``ValueError`` naming ``source``, the key, the value and what is
    allowed otherwise."""
    if value is None and key == "clip_range_vf":
        return None
    if isinstance(value, str) and PATTERN.fullmatch(value):
        start = float(value[len(PREFIX) :])
        if _in_range(start):
            return start
    if isinstance(value, int | float) and not isinstance(value, bool) and _in_range(value):
        return float(value)
    hint = ""
    if isinstance(value, str):
        try:
            float(value)
            hint = " (YAML reads 3e-4 as text: write 3.0e-4)"
        except ValueError:
            pass
    raise ValueError(f"{source}: invalid {key}={value!r}: {_allowed(key)}{hint}")


def check_schedules(source: str, kwargs: dict[str, Any]) -> None:
    """Check every schedule key (:func:`schedule_value`), and that no other key is given a
    ``lin_`` schedule."""
    for key, value in kwargs.items():
        if key in SCHEDULE_KEYS:
            schedule_value(source, key, value)
        elif isinstance(value, str) and value.startswith(PREFIX):
            raise ValueError(
                f"{source}: invalid {key}={value!r}: {PREFIX} schedules apply to "
                f"{', '.join(SCHEDULE_KEYS)} only"
            )


def resolve_schedules(source: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with each ``lin_<start>`` string replaced by SB3's linear schedule."""
    from stable_baselines3.common.utils import LinearSchedule

    resolved = dict(kwargs)
    for key in SCHEDULE_KEYS:
        if isinstance(resolved.get(key), str):
            start = schedule_value(source, key, resolved[key])
            resolved[key] = LinearSchedule(start, 0.0, 1.0)  # type: ignore[arg-type]
    return resolved
