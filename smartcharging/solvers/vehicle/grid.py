"""Battery-level grids for the exact solver, and how states move on them.

When the arrival levels, the capacity and every per-slot charge increment are multiples of a
common step, every reachable battery level lies on the grid ``0, step, ..., capacity`` and
the dynamic programme on that grid is exact. Otherwise the solver falls back to a fine uniform
grid with linear interpolation of the value function and reports a bound on the error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from smartcharging.config import ChargingConfig, ConfigError, limits
from smartcharging.sim import dynamics
from smartcharging.sim.vehicle import slot_cost

MAX_EXACT_LEVELS = 2_000_001
FALLBACK_LEVELS = 4_001


@dataclass(frozen=True)
class BatteryGrid:
    """Battery levels (kWh) the solver works on.

    Attributes:
        levels_kwh: the grid, uniform from 0 to capacity.
        exact: True when every reachable level lies on the grid (no approximation).
        step_kwh: the grid spacing.
    """

    levels_kwh: np.ndarray
    exact: bool
    step_kwh: float

    @property
    def size(self) -> int:
        return len(self.levels_kwh)

    def describe(self) -> str:
        kind = "exact" if self.exact else "interpolated (approximate)"
        return f"{self.size} levels, step {self.step_kwh:g} kWh, {kind}"

    def locate(self, levels_kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Linear-interpolation weights of ``levels_kwh``: ``(lower, upper, weight_upper)``.

        On an exact grid every level is a grid point, so the weight is 0 and
        ``lower == upper`` is its index.
        """
        position = np.asarray(levels_kwh, dtype=np.float64) / self.step_kwh
        if self.exact:
            index = np.rint(position).astype(np.intp)
            return index, index, np.zeros(index.shape)
        lower = np.clip(np.floor(position).astype(np.intp), 0, self.size - 2)
        weight = np.clip(position - lower, 0.0, 1.0)
        return lower, lower + 1, weight


def _as_fraction(value: float) -> Fraction | None:
    fraction = Fraction(value).limit_denominator(10**6)
    return fraction if math.isclose(float(fraction), value, rel_tol=0, abs_tol=1e-12) else None


def common_step(values: list[float]) -> float | None:
    """The largest step that divides every value exactly, or None if there is none that is
    a ratio of integers below 10**6."""
    fractions = [_as_fraction(v) for v in values if v != 0]
    if any(f is None for f in fractions):
        return None
    exact = [f for f in fractions if f is not None]
    if not exact:
        return None
    denominator = math.lcm(*(f.denominator for f in exact))
    numerator = math.gcd(*(f.numerator * (denominator // f.denominator) for f in exact))
    return numerator / denominator


def solver_bytes(config: ChargingConfig, levels: int) -> int:
    """Peak memory of :func:`~smartcharging.solvers.vehicle.dp.solve_all` on ``levels``
    battery levels, in bytes, beyond the process itself.

    What it allocates: the action values ``Q[t, b, a]`` (float64, one price row at a time),
    ``V[t, b]`` and the row's policy, the policies of every price row, and per slot the
    transitions and costs of every (level, action): measured 6 (seed costs), 8 (physical)
    and 13 (V2G) float64 arrays of ``levels x actions`` at the peak, counted as 16.
    """
    cells = levels * config.n_actions
    policy_bytes = 1 if config.n_actions <= 127 else 8
    return (
        8 * cells * (config.n_slots + 16)
        + 8 * levels * (2 * config.n_slots + 1)
        + policy_bytes * config.n_profiles * config.n_slots * levels
    )


def make_grid(
    config: ChargingConfig,
    max_exact_levels: int = MAX_EXACT_LEVELS,
    fallback_levels: int = FALLBACK_LEVELS,
) -> BatteryGrid:
    """The exact grid of ``config`` if it has one of manageable size, else a fine grid.

    Raises a :class:`ConfigError` before allocating it if solving on it would exceed
    :data:`smartcharging.config.limits.MAX_SOLVER_WORK` or, by :func:`solver_bytes`,
    :data:`smartcharging.config.limits.MAX_SOLVER_BYTES`.
    """
    increments = [p * config.slot_hours for p in config.power_levels_kw]
    values = [config.capacity_kwh, config.start_min_kwh, config.start_step_kwh, *increments]
    if config.v2g:
        values.append(config.reserve_kwh)
    step = common_step(values)
    exact = step is not None and config.capacity_kwh / step + 1 <= max_exact_levels
    size = round(config.capacity_kwh / step) + 1 if exact and step else fallback_levels
    work = size * config.n_slots * config.n_actions * config.n_profiles
    if work > limits.MAX_SOLVER_WORK:
        raise ConfigError(
            f"the exact solver would need {size:,} battery levels x {config.n_slots:,} slots x "
            f"{config.n_actions} actions x {config.n_profiles} price rows = {work:.3g} steps: "
            f"must be at most {limits.MAX_SOLVER_WORK:.3g} (fewer slots, or a capacity and "
            "power levels with a coarser common step)"
        )
    memory = solver_bytes(config, size)
    if memory > limits.MAX_SOLVER_BYTES:
        raise ConfigError(
            f"the exact solver would need about {memory / 2**30:.3g} GiB of memory for "
            f"{size:,} battery levels x {config.n_slots:,} slots x {config.n_actions} "
            f"actions: must be at most {limits.MAX_SOLVER_BYTES / 2**30:.3g} GiB (fewer "
            "slots or power levels, or a capacity and power levels with a coarser common step)"
        )
    if exact and step:
        # The top level is the capacity itself: 188 * 0.01 is 1.8800000000000001, above a
        # 1.88 kWh battery, where an idle slot would "fill" it with a division by 0 kW.
        levels = np.minimum(np.arange(size) * step, config.capacity_kwh)
        return BatteryGrid(levels, exact=True, step_kwh=step)
    levels = np.linspace(0.0, config.capacity_kwh, fallback_levels)
    return BatteryGrid(levels, exact=False, step_kwh=float(levels[1] - levels[0]))


@dataclass(frozen=True)
class SlotTransitions:
    """One charging slot from every grid level under every action, via ``dynamics``.

    Arrays have shape ``(levels, actions)``; the next level is given as interpolation
    weights on the grid (``lower``, ``upper``, ``weight``). Costs depend on the slot's price
    in the physical model, so :meth:`costs` computes them per slot.
    """

    config: ChargingConfig
    energy_kwh: np.ndarray
    hours: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray

    def costs(
        self, price_per_kwh: float | np.ndarray, levels: np.ndarray | slice = slice(None)
    ) -> tuple[np.ndarray, ...]:
        """``(total, energy_cost, wear_cost, export_revenue, degradation_cost)`` of the slot
        from the grid ``levels`` (all by default) at ``price_per_kwh`` (one price, or one
        per level), each of shape ``(levels, actions)``, by
        :func:`smartcharging.sim.vehicle.slot_cost`."""
        cfg = self.config
        price = np.asarray(price_per_kwh, dtype=np.float64)
        parts = slot_cost(
            cfg,
            self.energy_kwh[levels],
            cfg.power_kw[None, :],
            self.hours[levels],
            cfg.cost_rates[None, :],
            price[:, None] if price.ndim else price,
        )
        shape = np.shape(parts[0])
        return tuple(np.broadcast_to(part, shape) for part in parts)


def slot_transitions(config: ChargingConfig, grid: BatteryGrid) -> SlotTransitions:
    levels = grid.levels_kwh[:, None]
    power = config.power_kw[None, :]
    if config.v2g_physics:
        after, energy, hours = dynamics.move_slot(
            levels, power, config.capacity_kwh, config.reserve_kwh, config.slot_hours
        )
    else:
        after, energy, hours = dynamics.charge_slot(
            levels, power, config.capacity_kwh, config.slot_hours
        )
    lower, upper, weight = grid.locate(after)
    return SlotTransitions(config, energy, hours, lower, upper, weight)
