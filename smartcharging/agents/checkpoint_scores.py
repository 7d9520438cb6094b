"""How a checkpoint is scored, the same way for every engine (local and RLlib).

One vehicle: the greedy policy's **exact** expected return against the optimum (curve
columns :data:`VEHICLE_CURVE_FIELDS`). A depot: the mean return of the deterministic policy
on fixed evaluation episodes against their mean hindsight bound
(:data:`DEPOT_CURVE_FIELDS`). A run's ``curve.csv`` has one row of these per checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smartcharging.agents.run_directory import read_curve_rows
from smartcharging.config import ChargingConfig, DepotConfig
from smartcharging.evaluation.depot import run_policy
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.policies.base import Policy
from smartcharging.solvers.depot.hindsight import hindsight_bound
from smartcharging.solvers.vehicle.dp import Optimum

VEHICLE_CURVE_FIELDS = (
    "steps",
    "wall_time_s",
    "expected_return",
    "optimal_return",
    "gap",
    "relative_gap",
    "shortfall_probability",
)
DEPOT_CURVE_FIELDS = ("steps", "wall_time_s", "mean_return", "hindsight_bound", "gap")
#: Fixed episodes every depot checkpoint is evaluated on (seeds EVALUATION_SEED + i).
EVALUATION_EPISODES = 16
EVALUATION_SEED = 10_000


@dataclass
class CurvePoint:
    """A single-vehicle checkpoint's curve row."""

    steps: int
    wall_time_s: float
    expected_return: float
    optimal_return: float
    gap: float
    relative_gap: float
    shortfall_probability: float


@dataclass(frozen=True)
class DepotCheckpoint:
    """A depot checkpoint's curve row."""

    steps: int
    wall_time_s: float
    mean_return: float
    hindsight_bound: float
    gap: float


def vehicle_score(
    policy: Policy, config: ChargingConfig, solution: Optimum, steps: int, wall_time_s: float
) -> CurvePoint:
    """The curve row of ``policy`` after ``steps`` steps: its exact expected return and gap."""
    value = exact_value(policy, config, solution.grid)
    optimum = solution.expected_return
    gap = optimum - value.expected_return
    return CurvePoint(
        steps=steps,
        wall_time_s=wall_time_s,
        expected_return=value.expected_return,
        optimal_return=optimum,
        gap=gap,
        relative_gap=gap / abs(optimum) if optimum else 0.0,
        shortfall_probability=value.shortfall_probability,
    )


def read_curve(path: Path) -> list[CurvePoint]:
    """The learning curve of a single-vehicle run's ``curve.csv``."""
    return [
        CurvePoint(
            steps=int(row["steps"]),
            **{name: float(row[name]) for name in VEHICLE_CURVE_FIELDS if name != "steps"},
        )
        for row in read_curve_rows(path)
    ]


def depot_score(
    policy: object, config: DepotConfig, bound: float, steps: int, wall_time_s: float
) -> DepotCheckpoint:
    """The curve row of the depot ``policy``: its mean return on the evaluation episodes
    and its gap to their mean hindsight ``bound`` (:func:`evaluation_bound`)."""
    result, _ = run_policy(policy, config, EVALUATION_EPISODES, EVALUATION_SEED)
    mean = float(result.returns.mean())
    return DepotCheckpoint(steps, wall_time_s, mean, bound, bound - mean)


def evaluation_bound(config: DepotConfig) -> float:
    """The mean hindsight bound of the fixed evaluation episodes of every checkpoint."""
    _, episodes = run_policy(_Idle(config), config, EVALUATION_EPISODES, EVALUATION_SEED)
    return float(np.mean([hindsight_bound(config, e).value for e in episodes]))


class _Idle:
    """Charges nothing; used only to draw the evaluation episodes."""

    name = "idle"

    def __init__(self, config: DepotConfig) -> None:
        self.config = config

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return np.zeros((len(observations), self.config.n_chargers), dtype=np.int64)
