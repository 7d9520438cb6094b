"""Compiled loops behind a shared charger policy's view of a depot and its site rounding.

A trained depot policy decides one site per call when it runs a real depot, and there the
time was the fixed cost of some forty NumPy calls on arrays of a few dozen numbers (0.6-0.9
ms a step, a twelfth to a twentieth of an MPC solve). These loops compute the same
quantities depot by depot in one compiled call each, for a single depot as for the
thousands a training batch holds; they are the only implementation, so the policy acts on
exactly what it was trained on. :func:`~smartcharging.agents.training_adapter.fleet_features`,
:func:`~smartcharging.agents.training_adapter.queue_features` and
:func:`~smartcharging.agents.site_rounding.site_rounded_levels` document what they compute.

Compiled with numba on first use (:func:`compiled`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

try:
    from numba import njit
except ImportError as error:  # pragma: no cover - exercised only without the rl extra
    raise ImportError(
        "a learned depot policy's compiled loops need numba, part of the rl and scale "
        "extras: pip install 'smartcharging[rl]'"
    ) from error

Function = TypeVar("Function", bound=Callable[..., Any])


def compiled(function: Function) -> Function:
    """``function`` compiled by numba on first use, its machine code cached on disk where
    numba finds a writable place (beside this file, or numba's user cache), compiled afresh
    in each process where it finds none (a read-only install with no writable home), where
    numba's own ``cache=True`` would fail the import."""
    try:
        return njit(cache=True)(function)  # type: ignore[return-value]
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return njit(function)  # type: ignore[return-value]


#: Columns of :func:`fleet_columns`.
FLEET_COLUMNS = 8


@compiled
def _bounded(value: float) -> float:
    """``value`` clipped to ``[-1, 1]``, as every feature of a view is."""
    return min(max(value, -1.0), 1.0)


@compiled
def price_row(observation: np.ndarray, n: int, prices: np.ndarray, width: int) -> int:
    """The price row of ``prices`` ``(rows, slots)`` whose prices are nearest (least
    squares) to those a raw depot ``observation`` of ``n`` chargers shows (now and
    ``width - 1`` forecast slots, 0 past the episode's end): the row MPC recognises
    (:func:`~smartcharging.policies.depot_planning.profile_of`)."""
    count, n_slots = prices.shape
    if count == 1:
        return 0
    start = min(int(observation[4 * n]), n_slots)
    best, nearest = 0, np.inf
    for row in range(count):
        distance = 0.0
        for k in range(width):
            price = prices[row, start + k] if start + k < n_slots else 0.0
            distance += (price - observation[4 * n + 1 + k]) ** 2
        if distance < nearest:
            best, nearest = row, distance
    return best


@compiled
def fleet_columns(
    observations: np.ndarray,
    prices: np.ndarray,
    width: int,
    sd: np.ndarray,
    capacity: np.ndarray,
    slot_kwh_top: float,
    site_kwh: float,
    price_scale: float,
) -> np.ndarray:
    """``(depots, chargers, FLEET_COLUMNS)`` float32 fleet and price features of raw depot
    ``observations`` (layout in :mod:`smartcharging.sim.depot`; each depot on its price
    row of ``prices``, :func:`price_row`), per-charger demand ``sd`` and ``capacity``."""
    depots, n, n_slots = len(observations), len(capacity), prices.shape[1]
    out = np.zeros((depots, n, FLEET_COLUMNS), dtype=np.float32)
    need_high = np.zeros(n)
    for d in range(depots):
        present = observations[d, :n] > 0
        battery, left, mean = (
            observations[d, n : 2 * n],
            observations[d, 2 * n : 3 * n],
            observations[d, 3 * n : 4 * n],
        )
        total, last, occupied = 0.0, 0.0, 0
        for i in range(n):
            need_high[i] = 0.0
            if present[i]:
                target = min(mean[i] + 2.0 * sd[i], capacity[i])
                need_high[i] = max(target - battery[i], 0.0)
                total += need_high[i]
                last = max(last, float(left[i]))
                occupied += 1
        fleet = _bounded(total / (site_kwh * max(last, 1.0)) / 4.0)
        t = int(observations[d, 4 * n])
        row = prices[price_row(observations[d], n, prices, width)]
        now = row[min(t, n_slots - 1)]
        for i in range(n):
            out[d, i, 4] = fleet
            out[d, i, 7] = occupied / n
            if not present[i]:
                continue
            out[d, i, 0] = _bounded(max(mean[i] - battery[i], 0.0) / capacity[i])
            out[d, i, 1] = _bounded(need_high[i] / capacity[i])
            out[d, i, 2] = _bounded((left[i] - need_high[i] / slot_kwh_top) / n_slots)
            ahead = 0.0
            for j in range(n):
                if present[j] and left[j] <= left[i]:
                    ahead += need_high[j]
            out[d, i, 3] = _bounded(ahead / (site_kwh * max(left[i], 1.0)) / 4.0)
            cheaper, cheapest, s = 0, np.inf, t
            while s < n_slots and s < t + left[i]:
                if row[s] < now - 1e-12:
                    cheaper += 1
                cheapest = min(cheapest, row[s])
                s += 1
            if cheapest == np.inf:  # no slot left in the episode
                cheapest = now
            out[d, i, 5] = _bounded(cheaper / max(left[i], 1.0))
            out[d, i, 6] = _bounded((now - cheapest) / price_scale)
    return out


@compiled
def queue_columns(
    observations: np.ndarray, sd: np.ndarray, capacity: np.ndarray, n_slots: int
) -> np.ndarray:
    """``(depots, chargers, 2 * chargers)`` float32 queue features of raw depot
    ``observations``: the vehicles present in the order they leave (ties by need, then by
    charger; the empty chargers last), first each one's need to mean + 2 sd (capped at
    capacity) per capacity, then the slots it leaves after the row's own vehicle per
    ``n_slots`` (0 where either charger is empty)."""
    depots, n = len(observations), len(capacity)
    out = np.zeros((depots, n, 2 * n), dtype=np.float32)
    need, left, key = np.zeros(n), np.zeros(n), np.empty(n)
    for d in range(depots):
        present = observations[d, :n] > 0
        for i in range(n):
            need[i], left[i], key[i] = 0.0, 0.0, np.inf
            if present[i]:
                target = min(observations[d, 3 * n + i] + 2.0 * sd[i], capacity[i])
                need[i] = max(target - observations[d, n + i], 0.0) / capacity[i]
                left[i] = observations[d, 2 * n + i] / n_slots
                key[i] = left[i]
        by_need = np.argsort(need, kind="mergesort")
        order = by_need[np.argsort(key[by_need], kind="mergesort")]
        for k in range(n):
            j = order[k]
            for i in range(n):
                out[d, i, k] = _bounded(need[j])
                if present[i] and present[j]:
                    out[d, i, n + k] = _bounded(left[j] - left[i])
    return out


@compiled
def rounded_levels(
    levels: np.ndarray,
    probabilities: np.ndarray,
    occupied: np.ndarray,
    highest: np.ndarray,
    idle: int,
) -> np.ndarray:
    """``(depots, chargers)`` levels by largest-remainder rounding of the expected powers
    (kW) of ``probabilities`` (one row per ``occupied`` charger, depot by depot) under each
    charger's ``highest`` level (probability above it counts as it): every charger the
    level below its expected power, then one level up at a time, furthest above its level
    first (ties by charger), while the depot's total stays within half a step of its
    expected total. Empty chargers get ``idle`` and no share of the total."""
    depots, n = occupied.shape
    top = len(levels) - 1
    out = np.zeros((depots, n), dtype=np.int64)
    step = np.empty(n)
    remainder = np.empty(n)
    row = 0
    for d in range(depots):
        to_give = 0.0
        for i in range(n):
            step[i], remainder[i], out[d, i] = np.inf, -np.inf, idle
            if not occupied[d, i]:
                continue
            expected = 0.0
            for level in range(probabilities.shape[1]):
                expected += probabilities[row, level] * levels[min(level, highest[d, i])]
            row += 1
            found = int(np.searchsorted(levels, expected + 1e-9, side="right")) - 1
            below = min(max(found, 0), int(highest[d, i]))
            out[d, i] = below
            to_give += expected - levels[below]
            if below < highest[d, i]:
                step[i] = levels[min(below + 1, top)] - levels[below]
                remainder[i] = (expected - levels[below]) / step[i]
        given = 0.0
        for i in np.argsort(-remainder, kind="mergesort"):
            if step[i] == np.inf:
                continue
            given += step[i]
            if given - step[i] / 2 <= to_give + 1e-9:
                out[d, i] += 1
    return out
