"""How a checkpoint is scored, the same way for every engine (local and RLlib).

One vehicle: the greedy policy's **exact** expected return against the optimum (curve
columns :data:`VEHICLE_CURVE_FIELDS`). A depot, as ``compare`` scores it: the greedy
policy's expected return given each episode's schedule (exact in the demand: the shortfall
cost as its expectation at departure, :func:`~smartcharging.evaluation.depot.run_policy`)
on fixed evaluation episodes, against the same episodes' Lagrangian bound (the best any
non-anticipative policy can expect), with MPC's expected return on those episodes beside it
(:data:`DEPOT_CURVE_FIELDS`). The bound and MPC are computed once per run
(:func:`evaluation_reference`, cached per configuration in the process and stored in a
depot run's ``run.json``). A run's ``curve.csv`` has one row of these per checkpoint.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smartcharging.agents.run_directory import read_curve_rows
from smartcharging.config import ChargingConfig, DepotConfig, limits
from smartcharging.evaluation.depot import run_policy
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.policies.base import Policy
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
#: A depot checkpoint's curve columns: the greedy policy's expected return on the evaluation
#: episodes, their mean Lagrangian bound, the gap (bound - expected return) and the gap as a
#: percentage of the bound's magnitude (as ``compare`` reports it), MPC's expected return and
#: gap % on the same episodes (the same in every row of a run), and the policy's realised
#: mean return. The first five keep the places of the older columns below.
DEPOT_CURVE_FIELDS = (
    "steps",
    "wall_time_s",
    "expected_return",
    "lagrangian_bound",
    "gap",
    "gap_percent",
    "mpc_expected_return",
    "mpc_gap_percent",
    "mean_return",
)
#: The curve columns of depot runs written before checkpoints were scored like ``compare``
#: (realised mean return against the hindsight bound): such runs still load, but do not
#: resume.
LEGACY_DEPOT_CURVE_FIELDS = ("steps", "wall_time_s", "mean_return", "hindsight_bound", "gap")
#: Fixed episodes every depot checkpoint is evaluated on: episode ``i`` is the first
#: episode of the depot reset with seed ``EVALUATION_SEED + i``. Training draws its
#: episodes from seeds below 2**32 plus a copy index (at most ``MAX_DEPOTS * MAX_CHARGERS``),
#: so no training episode is an evaluation episode.
EVALUATION_EPISODES = 16
EVALUATION_SEED = 2**40


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
class EvaluationReference:
    """What every checkpoint of a depot run is measured against, computed once per run:
    the evaluation episodes (``episodes`` from seed ``seed``), their mean Lagrangian bound
    and MPC's mean expected return on them."""

    episodes: int
    seed: int
    lagrangian_bound: float
    mpc_expected_return: float

    def gap_percent(self, expected_return: float) -> float:
        """The gap of ``expected_return`` to the bound, in percent of the bound (as
        ``compare`` reports it)."""
        return (
            100 * (self.lagrangian_bound - expected_return) / max(abs(self.lagrangian_bound), 1e-12)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "seed": self.seed,
            "lagrangian_bound": self.lagrangian_bound,
            "mpc_expected_return": self.mpc_expected_return,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvaluationReference:
        """The reference a run stored; a ``ValueError`` (or ``KeyError``) if it is not one."""
        if not isinstance(data, dict):
            raise ValueError(f"its evaluation {data!r} is not a JSON object")
        episodes, seed = data["episodes"], data["seed"]
        numbers = [data["lagrangian_bound"], data["mpc_expected_return"]]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (episodes, seed)):
            raise ValueError("its evaluation episodes and seed must be integers")
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in numbers
        ):
            raise ValueError("its evaluation bound and MPC return must be finite numbers")
        if not 1 <= episodes <= limits.MAX_DEPOT_EPISODES or seed < 0:
            raise ValueError(f"its evaluation episodes={episodes}, seed={seed} are out of range")
        return cls(episodes, seed, float(numbers[0]), float(numbers[1]))


@dataclass(frozen=True)
class DepotCheckpoint:
    """A depot checkpoint's curve row (:data:`DEPOT_CURVE_FIELDS`)."""

    steps: int
    wall_time_s: float
    expected_return: float
    lagrangian_bound: float
    gap: float
    gap_percent: float
    mpc_expected_return: float
    mpc_gap_percent: float
    mean_return: float

    def row(self) -> list[float | int]:
        """The values in the order of :data:`DEPOT_CURVE_FIELDS`."""
        return [getattr(self, name) for name in DEPOT_CURVE_FIELDS]


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
    policy: object,
    config: DepotConfig,
    reference: EvaluationReference,
    steps: int,
    wall_time_s: float,
) -> DepotCheckpoint:
    """The curve row of the depot ``policy`` after ``steps`` steps: its expected return on
    the evaluation episodes of ``reference`` (:func:`evaluation_reference`), its gap to their
    Lagrangian bound, and MPC's place on the same episodes."""
    result, _ = run_policy(policy, config, reference.episodes, reference.seed)
    expected = float(result.expected_returns.mean())
    return DepotCheckpoint(
        steps=steps,
        wall_time_s=wall_time_s,
        expected_return=expected,
        lagrangian_bound=reference.lagrangian_bound,
        gap=reference.lagrangian_bound - expected,
        gap_percent=reference.gap_percent(expected),
        mpc_expected_return=reference.mpc_expected_return,
        mpc_gap_percent=reference.gap_percent(reference.mpc_expected_return),
        mean_return=float(result.returns.mean()),
    )


_REFERENCES: dict[tuple[str, int, int], EvaluationReference] = {}


def evaluation_reference(
    config: DepotConfig, episodes: int = EVALUATION_EPISODES, seed: int = EVALUATION_SEED
) -> EvaluationReference:
    """The Lagrangian bound and MPC's expected return on the evaluation episodes (means
    over them), computed once per configuration in this process (seconds: 16 bounds and 16
    MPC episodes, each MPC slot an LP)."""
    from smartcharging.policies.depot_planning import MPCPolicy
    from smartcharging.solvers.depot.lagrangian import lagrangian_bound

    key = (json.dumps(config.to_dict(), sort_keys=True), episodes, seed)
    if key not in _REFERENCES:
        mpc, drawn = run_policy(MPCPolicy(config), config, episodes, seed)
        bound = float(np.mean([lagrangian_bound(config, episode).value for episode in drawn]))
        _REFERENCES[key] = EvaluationReference(
            episodes, seed, bound, float(mpc.expected_returns.mean())
        )
    return _REFERENCES[key]


#: The name RLlib runs call :func:`evaluation_reference` by.
evaluation_bound = evaluation_reference
