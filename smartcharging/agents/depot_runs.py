"""Depot training runs: a shared charger policy trained on the batch depot, checkpointed.

The run directory (:mod:`smartcharging.agents.run_directory`) holds in ``run.json`` the
algorithm, steps, seed, the depot configuration and the number of batch depots;
``curve.csv`` has, at each checkpoint, the mean return of the deterministic policy on fixed
evaluation episodes and its gap to their hindsight bound. The learning itself is
Stable-Baselines3's (:mod:`smartcharging.agents.sb3_depot`), imported only when a run
trains or loads a model, so that inspecting runs needs no ``rl`` extra.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smartcharging.agents.run_directory import (
    CHECKPOINT_FILE,
    DAMAGED_ADVICE,
    RUN_FILE,
    FileNames,
    RunDirectory,
    RunError,
    check_new_run_folder,
    describe,
    run_file_name,
)
from smartcharging.agents.scaling import ChargerView, depot_reward_scale
from smartcharging.config import DepotConfig, limits
from smartcharging.config.limits import check_limit
from smartcharging.evaluation.depot import run_policy
from smartcharging.solvers.hindsight import hindsight_bound

if TYPE_CHECKING:
    from smartcharging.agents.sb3_depot import DepotAgentPolicy
    from smartcharging.rllib.policies import RLlibDepotPolicy

#: Algorithms a shared charger policy trains with.
DEPOT_ALGORITHMS = ("ppo", "a2c")
#: Fixed episodes every checkpoint is evaluated on (seeds EVALUATION_SEED + i).
EVALUATION_EPISODES = 16
EVALUATION_SEED = 10_000
CURVE_FIELDS = ("steps", "wall_time_s", "mean_return", "hindsight_bound", "gap")
#: The model file of a checkpoint.
MODEL_NAMES = FileNames(("model-<steps>.zip",))


@dataclass(frozen=True)
class DepotCheckpoint:
    steps: int
    wall_time_s: float
    mean_return: float
    hindsight_bound: float
    gap: float


def train_depot(
    config: DepotConfig,
    algo: str,
    steps: int,
    seed: int,
    out: Path,
    num_envs: int = 8,
    checkpoints: int = 10,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None = None,
) -> DepotCheckpoint:
    """Train a depot agent into a new run directory."""
    if algo not in DEPOT_ALGORITHMS:
        raise RunError(f"--algo {algo!r}: depot agents train with {', '.join(DEPOT_ALGORITHMS)}")
    if steps < 1 or num_envs < 1 or checkpoints < 1:
        raise RunError("--steps, --num-envs and --checkpoints must be >= 1")
    check_limit("--steps", steps, limits.MAX_TRAINING_STEPS)
    check_limit("--checkpoints", checkpoints, limits.MAX_CHECKPOINTS)
    if num_envs > limits.MAX_DEPOTS:
        raise RunError(f"--num-envs {num_envs}: depots train on at most {limits.MAX_DEPOTS:,}")
    if not 0 <= seed <= limits.MAX_SEED:
        raise RunError(f"--seed {seed}: must be in 0..{limits.MAX_SEED}")
    check_new_run_folder(out)
    from smartcharging.agents.sb3_depot import DEPOT_HYPERPARAMETERS, make_depot_model

    spec = {
        "algo": algo,
        "total_steps": steps,
        "seed": seed,
        "depot": config.to_dict(),
        "num_envs": num_envs,
        "checkpoints": checkpoints,
        "hyperparameters": DEPOT_HYPERPARAMETERS[algo],
        "reward_scale": depot_reward_scale(config),
        "steps_count": "charger transitions (depot steps x chargers)",
        "policy": "one network shared by all chargers",
    }
    model = make_depot_model(algo, config, num_envs, seed)
    directory = RunDirectory.create(out, spec, CURVE_FIELDS)
    try:
        return _train(directory, spec, config, model, 0.0, on_checkpoint)
    except BaseException:
        directory.abandon()  # only while no checkpoint has been written
        raise
    finally:
        directory.release()


def resume_depot(
    out: Path, on_checkpoint: Callable[[DepotCheckpoint], None] | None = None
) -> DepotCheckpoint:
    """Continue an interrupted depot run from its last checkpoint; curve rows written after
    that checkpoint are dropped, so none is lost or duplicated."""
    from smartcharging.agents.sb3_depot import load_depot_model

    directory = RunDirectory(out, CURVE_FIELDS)
    try:
        spec = directory.read(RUN_FILE)
        algo, config, num_envs = directory.parse(RUN_FILE, _trained_on)
        directory.parse(RUN_FILE, _schedule)
        checkpoint = directory.read(CHECKPOINT_FILE)
        model_file = directory.parse(CHECKPOINT_FILE, _model_file)
        wall_time_s = directory.parse(CHECKPOINT_FILE, lambda data: float(data["wall_time_s"]))
        model = load_depot_model(algo, out / model_file, config, num_envs)
    except FileNotFoundError as error:
        raise RunError(
            f"cannot resume {out}: it has no {Path(error.filename).name} (not a run directory, "
            f"or a damaged one: {DAMAGED_ADVICE})"
        ) from None
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise RunError(f"cannot resume {out}: {describe(error)}: {DAMAGED_ADVICE}") from None
    directory.resume_from(checkpoint, [model_file])
    try:
        return _train(directory, spec, config, model, wall_time_s, on_checkpoint)
    finally:
        directory.release()


def _train(
    directory: RunDirectory,
    spec: dict[str, Any],
    config: DepotConfig,
    model: Any,
    wall_offset: float,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None,
) -> DepotCheckpoint:
    """Learn to ``spec["total_steps"]``, checkpointing by the run directory's protocol."""
    from smartcharging.agents.sb3_agents import CheckpointEvery
    from smartcharging.agents.sb3_depot import DepotAgentPolicy

    steps, algo = int(spec["total_steps"]), spec["algo"]
    bound = evaluation_bound(config)
    started = time.perf_counter()
    every = max(steps // int(spec["checkpoints"]), 1)
    point: DepotCheckpoint | None = None

    def checkpoint() -> None:
        nonlocal point
        run, _ = run_policy(
            DepotAgentPolicy(model, config, algo), config, EVALUATION_EPISODES, EVALUATION_SEED
        )
        mean = float(run.returns.mean())
        wall = wall_offset + time.perf_counter() - started
        point = DepotCheckpoint(int(model.num_timesteps), wall, mean, bound, bound - mean)
        model_file = f"model-{point.steps}.zip"
        model.save(directory.folder / model_file)
        directory.commit(
            [point.steps, round(point.wall_time_s, 3), mean, bound, point.gap],
            {"steps": point.steps, "wall_time_s": round(wall, 3), "file": model_file},
            [model_file],
            [],
        )
        if on_checkpoint is not None:
            on_checkpoint(point)

    if model.num_timesteps < steps:  # one learn call, as vehicle runs (runs.py) take
        model.learn(
            total_timesteps=steps - model.num_timesteps,
            reset_num_timesteps=False,
            callback=CheckpointEvery(int(model.num_timesteps), every, checkpoint),
        )
        checkpoint()
    if point is None:
        raise RunError(f"{directory.folder} has already trained its {steps:,} steps")
    return point


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


def load_depot_policy(folder: Path, config: DepotConfig) -> DepotAgentPolicy | RLlibDepotPolicy:
    """The trained agent of a depot run directory (its last checkpoint), SB3's or RLlib's."""
    from smartcharging.rllib.runs import is_rllib_run, load_rllib_depot_policy

    if is_rllib_run(folder):
        return load_rllib_depot_policy(folder, config)
    from smartcharging.agents.sb3_depot import DepotAgentPolicy, load_depot_model

    if not folder.is_dir():
        raise RunError(f"--model {folder}: not a depot run directory")
    directory = RunDirectory(folder, CURVE_FIELDS)
    try:
        if "depot" not in directory.read(RUN_FILE):
            raise RunError(
                f"--model {folder} is a single-vehicle run, not a depot run: use it without "
                "a depot scenario"
            )
        # The model is rebuilt on the depot it was trained on, then checked against this one.
        algo, trained_on, num_envs = directory.parse(RUN_FILE, _trained_on)
        model_file = directory.parse(CHECKPOINT_FILE, _model_file)
        model = load_depot_model(algo, folder / model_file, trained_on, num_envs)
    except FileNotFoundError as error:
        raise RunError(
            f"--model {folder}: not a depot run directory (missing {Path(error.filename).name})"
        ) from None
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise RunError(
            f"--model {folder}: cannot load the agent: {describe(error)}: {DAMAGED_ADVICE}"
        ) from None
    expected = ChargerView(config).size
    if model.observation_space.shape != (expected,):
        raise RunError(
            f"--model {folder} was trained on another depot (observation size "
            f"{model.observation_space.shape}, this scenario has {expected})"
        )
    if trained_on.power_levels_kw != config.power_levels_kw:
        raise RunError(
            f"--model {folder} was trained with power levels {list(trained_on.power_levels_kw)} "
            f"kW, this scenario has {list(config.power_levels_kw)}: its actions would mean "
            "other powers"
        )
    return DepotAgentPolicy(model, config, f"{algo}:{folder.name}")


def _trained_on(spec: dict[str, Any]) -> tuple[str, DepotConfig, int]:
    """The algorithm, depot and batch size of a depot run's ``run.json``."""
    algo = spec["algo"]
    if algo not in DEPOT_ALGORITHMS:
        raise ValueError(f"unknown algo {algo!r}: depot runs train {', '.join(DEPOT_ALGORITHMS)}")
    num_envs = int(spec["num_envs"])
    if not 1 <= num_envs <= limits.MAX_DEPOTS:
        raise ValueError(f"invalid num_envs={num_envs}: must be in 1..{limits.MAX_DEPOTS:,}")
    return algo, DepotConfig(**spec["depot"]), num_envs


def _schedule(spec: dict[str, Any]) -> tuple[int, int]:
    """The total steps and checkpoints of a depot run's ``run.json``, both at least 1."""
    steps, checkpoints = int(spec["total_steps"]), int(spec["checkpoints"])
    if steps < 1 or checkpoints < 1:
        raise ValueError(f"total_steps={steps} and checkpoints={checkpoints} must be >= 1")
    return steps, checkpoints


def _model_file(checkpoint: dict[str, Any]) -> str:
    """The model file a depot run's ``checkpoint.json`` names."""
    return run_file_name(checkpoint["file"], MODEL_NAMES)


def planned_steps(folder: Path) -> int:
    """The total steps a depot run directory was started to train."""
    try:
        return RunDirectory(folder, CURVE_FIELDS).parse(
            RUN_FILE, lambda spec: int(spec["total_steps"])
        )
    except FileNotFoundError as error:
        raise RunError(f"cannot resume {folder}: missing {Path(error.filename).name}") from None


def is_depot_run(folder: Path) -> bool:
    """Whether a run directory holds a depot agent (False for a damaged one, which the
    loader then reports)."""
    try:
        return "depot" in RunDirectory(folder, CURVE_FIELDS).read(RUN_FILE)
    except (OSError, RunError):
        return False
