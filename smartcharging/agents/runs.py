"""Single-vehicle training runs: checkpoints scored by exact evaluation, and resuming.

The run directory (:mod:`smartcharging.agents.run_directory`) holds in ``run.json`` the
algorithm, total steps, seed, number of copies, reward scale, checkpoints, the environment
configuration and the algorithm's hyperparameters (for SB3 agents read back on resume);
``curve.csv`` has one row per checkpoint: steps, wall time, the greedy policy's exact
expected return (unscaled), the optimum and the gap. Beside the last checkpoint's files it
keeps the model of the checkpoint with the best exact expected return so far
(``best-model-<steps>``).
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcharging.agents.checkpoint_progress import checkpoint_progress
from smartcharging.agents.checkpoint_scores import (
    VEHICLE_CURVE_FIELDS,
    CurvePoint,
    read_curve,
    vehicle_score,
)
from smartcharging.agents.hyperparameters import HyperparameterError, Hyperparameters, shipped
from smartcharging.agents.qlearning import QLearningAgent, QLearningParams, load_table_policy
from smartcharging.agents.run_directory import (
    CHECKPOINT_FILE,
    CURVE_FILE,
    DAMAGED_ADVICE,
    RUN_FILE,
    FileNames,
    RunDirectory,
    RunError,
    best_checkpoint,
    check_entries,
    check_new_run_folder,
    checkpoint_files,
    damaged,
    describe,
    local_run,
    resuming,
)
from smartcharging.agents.safe_loading import check_state_file
from smartcharging.agents.scaling import check_reward_scale
from smartcharging.agents.trained_on import check_same_vehicle
from smartcharging.config import limits
from smartcharging.config.limits import check_limit
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.policies.base import Policy
from smartcharging.solvers.vehicle.dp import Optimum, solve_all

ALGORITHMS = ("qlearning", "dqn", "ppo", "a2c")
CURVE_FIELDS = VEHICLE_CURVE_FIELDS
#: A checkpoint's files (``.pkl``: learner state of smartcharging 0.1, refused by name).
CHECKPOINT_NAMES = FileNames(
    tuple(
        f"{kind}-<steps>.{suffix}"
        for kind in ("model", "state", "replay")
        for suffix in ("npz", "zip", "pkl")
    )
)
#: The model of the best checkpoint.
BEST_NAMES = FileNames(("best-model-<steps>.npz", "best-model-<steps>.zip"))


@dataclass(frozen=True)
class RunSpec:
    """What a run trains, for how long, with which seed."""

    algo: str
    total_steps: int
    seed: int
    config: ChargingConfig
    num_envs: int
    checkpoints: int = 10
    reward_scale: float | None = None
    #: SB3 algorithms: an entry as in ``hyperparams/<algo>.yml`` (None: the shipped one).
    hyperparameters: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_algorithm(self.algo)
        if self.total_steps < 1:
            raise RunError(f"invalid total_steps={self.total_steps}: must be >= 1")
        check_limit("total_steps", self.total_steps, limits.MAX_TRAINING_STEPS)
        check_limit("checkpoints", self.checkpoints, limits.MAX_CHECKPOINTS)
        if not 1 <= self.num_envs <= limits.MAX_COPIES:
            raise RunError(f"invalid num_envs={self.num_envs}: must be in 1..{limits.MAX_COPIES:,}")
        if not 0 <= self.seed <= limits.MAX_SEED:
            raise RunError(f"invalid seed={self.seed}: must be in 0..{limits.MAX_SEED}")
        if self.checkpoints < 1:
            raise RunError(f"invalid checkpoints={self.checkpoints}: must be >= 1")
        if self.reward_scale is not None:
            try:
                check_reward_scale(self.reward_scale, self.config)
            except ValueError as error:
                raise RunError(str(error)) from None
        if self.hyperparameters is not None and self.algo == "qlearning":
            raise RunError("hyperparameters apply to dqn, ppo and a2c, not qlearning")
        if self.algo != "qlearning":
            try:
                self.sb3_hyperparameters()
            except HyperparameterError as error:
                raise RunError(str(error)) from None

    def sb3_hyperparameters(self) -> Hyperparameters:
        """The SB3 setup of this run: its own entry or the shipped one, with ``num_envs``."""
        if self.hyperparameters is None:
            default = shipped(self.algo, self.config)
            entry, source = default.to_dict(), default.source
        else:
            entry, source = dict(self.hyperparameters), "hyperparameters"
        entry["n_envs"] = self.num_envs
        batch, n_steps = entry.get("batch_size"), entry.get("n_steps", 2048)
        if self.algo == "ppo" and isinstance(batch, int) and isinstance(n_steps, int):
            # Fewer copies than the entry's: a minibatch is at most one rollout.
            entry["batch_size"] = min(batch, n_steps * self.num_envs)
        return Hyperparameters.from_dict(self.algo, entry, source)

    @property
    def checkpoint_every(self) -> int:
        return math.ceil(self.total_steps / self.checkpoints)

    def to_json(self) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "total_steps": self.total_steps,
            "seed": self.seed,
            "num_envs": self.num_envs,
            "checkpoints": self.checkpoints,
            "reward_scale": self.reward_scale,
            "env": self.config.to_dict(),
            "hyperparameters": _hyperparameters(self),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        check_entries(
            data,
            {
                "algo": "text",
                "total_steps": "integer",
                "seed": "integer",
                "num_envs": "integer",
                "checkpoints": "integer",
                "reward_scale": "number or null",
                "env": "mapping",
            },
            {"hyperparameters": "mapping or null"},
        )
        return cls(
            algo=data["algo"],
            total_steps=int(data["total_steps"]),
            seed=int(data["seed"]),
            config=ChargingConfig(**data["env"]),
            num_envs=int(data["num_envs"]),
            checkpoints=int(data["checkpoints"]),
            reward_scale=data["reward_scale"],
            hyperparameters=_stored_hyperparameters(data),
        )


def check_algorithm(algo: str) -> str:
    """``algo`` if it is one of :data:`ALGORITHMS`, else a :class:`RunError` naming them."""
    if algo not in ALGORITHMS:
        raise RunError(f"unknown algorithm {algo!r}: choose one of {', '.join(ALGORITHMS)}")
    return algo


def _stored_hyperparameters(data: dict[str, Any]) -> dict[str, Any] | None:
    """An SB3 run's entry from ``run.json``. Runs written before entries carried
    ``n_envs``, ``n_timesteps`` and ``expected_shortfall`` learned on the drawn penalty."""
    if data["algo"] == "qlearning":
        return None
    entry = dict(data["hyperparameters"])
    if "expected_shortfall" not in entry:
        entry.update(
            n_envs=int(data["num_envs"]),
            n_timesteps=int(data["total_steps"]),
            expected_shortfall=False,
        )
    return entry


def default_num_envs(algo: str, config: ChargingConfig) -> int:
    """Copies of the batch environment: Q-learning's default, or the shipped entry's."""
    if check_algorithm(algo) == "qlearning":
        return QLearningParams().num_envs
    return shipped(algo, config).n_envs


def default_steps(algo: str, config: ChargingConfig) -> int:
    """Training budget: 20M transitions for Q-learning, the shipped entry's otherwise."""
    if algo == "qlearning":
        return 20_000_000
    return shipped(algo, config).n_timesteps


def _hyperparameters(spec: RunSpec) -> dict[str, Any]:
    if spec.algo == "qlearning":
        params = QLearningParams(num_envs=spec.num_envs, reward_scale=spec.reward_scale)
        return {k: v for k, v in params.__dict__.items() if k not in ("num_envs", "reward_scale")}
    return spec.sb3_hyperparameters().to_dict()


class Trainer(ABC):
    """One algorithm's training state behind a common interface."""

    spec: RunSpec

    @property
    @abstractmethod
    def steps_done(self) -> int: ...

    @abstractmethod
    def train(self, total_steps: int, every: int, checkpoint: Callable[[], None]) -> None:
        """Learn until ``total_steps`` steps are done, calling ``checkpoint`` each time at
        least ``every`` steps have passed since the last call (or the start), and at the
        end."""

    @abstractmethod
    def policy(self) -> Policy: ...

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the checkpoint's files (named by step count); return their names."""

    @abstractmethod
    def save_model(self, folder: Path, stem: str) -> str:
        """Write only what acting needs, as ``stem`` plus the model's suffix; return the name."""


class QLearningTrainer(Trainer):
    def __init__(self, spec: RunSpec, agent: QLearningAgent | None = None) -> None:
        self.spec = spec
        params = QLearningParams(num_envs=spec.num_envs, reward_scale=spec.reward_scale)
        self.agent = agent or QLearningAgent(spec.config, params, spec.seed, spec.total_steps)

    @property
    def steps_done(self) -> int:
        return self.agent.steps_done

    def train(self, total_steps: int, every: int, checkpoint: Callable[[], None]) -> None:
        while self.steps_done < total_steps:
            self.agent.learn(min(every, total_steps - self.steps_done))
            checkpoint()

    def policy(self) -> Policy:
        return self.agent.policy()

    def save(self, folder: Path) -> list[str]:
        model, state = f"model-{self.steps_done}.npz", f"state-{self.steps_done}.npz"
        self.agent.save_model(folder / model)
        self.agent.save_state(folder / state)
        return [model, state]

    def save_model(self, folder: Path, stem: str) -> str:
        self.agent.save_model(folder / f"{stem}.npz")
        return f"{stem}.npz"

    @classmethod
    def load(cls, spec: RunSpec, folder: Path, files: list[str]) -> QLearningTrainer:
        state = check_state_file(folder, files[1])
        return cls(spec, QLearningAgent.load_state(state, spec.config))


class SB3Trainer(Trainer):
    def __init__(self, spec: RunSpec, model: Any = None) -> None:
        from smartcharging.agents.sb3_agents import make_model

        self.spec = spec
        self.model: Any = model or make_model(
            spec.config, spec.seed, spec.reward_scale, spec.sb3_hyperparameters()
        )

    @property
    def steps_done(self) -> int:
        return int(self.model.num_timesteps)

    def train(self, total_steps: int, every: int, checkpoint: Callable[[], None]) -> None:
        """One ``learn`` call for the rest of the run, checkpointing from a callback: SB3
        measures a schedule's progress against the end of the current call, so learning
        in chunks would restart every schedule (learning rate, DQN's exploration) at each
        checkpoint; one call, also after a resume, spans exactly the run's steps."""
        from smartcharging.agents.sb3_agents import CheckpointEvery

        if self.steps_done >= total_steps:
            return
        self.model.learn(
            total_timesteps=total_steps - self.steps_done,
            reset_num_timesteps=False,
            callback=CheckpointEvery(self.steps_done, every, checkpoint),
        )
        checkpoint()

    def policy(self) -> Policy:
        from smartcharging.agents.sb3_agents import SB3Policy

        return SB3Policy(self.model, self.spec.config, self.spec.algo)

    def save(self, folder: Path) -> list[str]:
        files = [f"model-{self.steps_done}.zip"]
        self.model.save(folder / files[0])
        if self.spec.algo == "dqn":
            from smartcharging.agents.sb3_loading import save_replay_buffer

            files.append(f"replay-{self.steps_done}.npz")
            save_replay_buffer(self.model, folder / files[1])
        return files

    def save_model(self, folder: Path, stem: str) -> str:
        self.model.save(folder / f"{stem}.zip")
        return f"{stem}.zip"

    @classmethod
    def load(cls, spec: RunSpec, folder: Path, files: list[str]) -> SB3Trainer:
        from smartcharging.agents.sb3_agents import load_model
        from smartcharging.agents.sb3_loading import load_replay_buffer

        replay = check_state_file(folder, files[1]) if spec.algo == "dqn" else None
        model: Any = load_model(
            spec.algo, folder / files[0], spec.config, spec.reward_scale, spec.sb3_hyperparameters()
        )
        if replay is not None:
            load_replay_buffer(model, replay)  # DQN is off-policy: it has one
        return cls(spec, model)


def _trainer_class(algo: str) -> type[QLearningTrainer] | type[SB3Trainer]:
    return QLearningTrainer if algo == "qlearning" else SB3Trainer


class Run:
    """A run directory and the trainer that writes to it."""

    def __init__(
        self, directory: RunDirectory, spec: RunSpec, trainer: Trainer, wall_time_s: float
    ) -> None:
        self.directory = directory
        self.spec = spec
        self.trainer = trainer
        self.solution: Optimum = solve_all(spec.config)
        self._wall_offset = wall_time_s
        self._started = time.perf_counter()
        self.best: dict[str, Any] | None = None

    @property
    def folder(self) -> Path:
        return self.directory.folder

    @classmethod
    def start(cls, folder: Path, spec: RunSpec) -> Run:
        """A new run in an empty (or new) directory, with its step-0 checkpoint. The
        learner is built before anything is written, and an interruption before the first
        checkpoint leaves nothing behind."""
        check_new_run_folder(folder)
        trainer = _trainer_class(spec.algo)(spec)

        def begin(directory: RunDirectory) -> Run:
            run = cls(directory, spec, trainer, 0.0)
            run.checkpoint()
            return run

        return RunDirectory.start(folder, spec.to_json(), CURVE_FIELDS, begin)

    @classmethod
    def resume(cls, folder: Path) -> Run:
        """Continue a run from its last complete checkpoint."""
        directory = RunDirectory(folder, CURVE_FIELDS)
        with resuming(folder):
            spec = directory.parse(RUN_FILE, RunSpec.from_json)
            checkpoint = directory.read(CHECKPOINT_FILE)
            steps, files = directory.parse(CHECKPOINT_FILE, _checkpoint_files)
            wall_time_s, best = directory.parse(CHECKPOINT_FILE, _resumed_progress)
            trainer = _trainer_class(spec.algo).load(spec, folder, files)
        if trainer.steps_done != steps:
            raise damaged(
                folder / CHECKPOINT_FILE,
                f"it says {steps} steps, the model has {trainer.steps_done}",
            )
        directory.resume_from(checkpoint, files)
        run = cls(directory, spec, trainer, wall_time_s)
        run.best = best
        return run

    @property
    def wall_time_s(self) -> float:
        return self._wall_offset + time.perf_counter() - self._started

    def checkpoint(self) -> CurvePoint:
        """Evaluate the current policy exactly and write a checkpoint."""
        point = vehicle_score(
            self.trainer.policy(),
            self.spec.config,
            self.solution,
            self.trainer.steps_done,
            round(self.wall_time_s, 3),
        )
        files = self.trainer.save(self.folder)
        previous_best = self.best
        if self.best is None or point.expected_return > self.best["expected_return"]:
            stem = f"best-model-{point.steps}"
            self.best = {
                "steps": point.steps,
                "expected_return": point.expected_return,
                "relative_gap": point.relative_gap,
                "file": self.trainer.save_model(self.folder, stem),
            }
        stale = []
        if previous_best is not None and previous_best["file"] != self.best["file"]:
            stale.append(previous_best["file"])
        self.directory.commit(
            [getattr(point, name) for name in CURVE_FIELDS],
            {
                "steps": point.steps,
                "wall_time_s": point.wall_time_s,
                "files": files,
                "best": self.best,
            },
            files,
            stale,
        )
        return point

    def train(self, on_checkpoint: Callable[[CurvePoint], None] | None = None) -> CurvePoint:
        """Train to the total number of steps, checkpointing at regular intervals."""
        point = None

        def checkpoint() -> None:
            nonlocal point
            point = self.checkpoint()
            if on_checkpoint is not None:
                on_checkpoint(point)

        try:
            self.trainer.train(self.spec.total_steps, self.spec.checkpoint_every, checkpoint)
        finally:
            self.directory.release()
        return point if point is not None else read_curve(self.folder / CURVE_FILE)[-1]


def _checkpoint_files(checkpoint: dict[str, Any]) -> tuple[int, list[str]]:
    """The steps of a ``checkpoint.json`` and the names of its files."""
    return checkpoint_progress(checkpoint)[0], checkpoint_files(checkpoint, CHECKPOINT_NAMES)


def _resumed_progress(checkpoint: dict[str, Any]) -> tuple[float, dict[str, Any] | None]:
    """The wall time of a ``checkpoint.json`` and its best checkpoint (if any), checked."""
    return checkpoint_progress(checkpoint)[1], best_checkpoint(checkpoint, BEST_NAMES)


def _model_file(checkpoint: dict[str, Any], which: str) -> str:
    """The model file of a ``checkpoint.json``: its best checkpoint's or its last's."""
    best = best_checkpoint(checkpoint, BEST_NAMES)
    if which == "best" and best:
        return str(best["file"])
    return checkpoint_files(checkpoint, CHECKPOINT_NAMES)[0]


def load_policy(
    folder: Path, config: ChargingConfig | None = None, which: str = "best"
) -> tuple[Policy, RunSpec | None]:
    """The trained policy of a run directory: its checkpoint with the best exact expected
    return (``which="best"``, what evaluation tools use, like SB3's ``EvalCallback`` keeps
    its best model) or its last checkpoint (``which="last"``).

    With ``config``, the run must have been trained on that configuration. Runs of every
    engine load through :func:`smartcharging.cli.routing.load_vehicle_agent`.
    """
    if which not in ("best", "last"):
        raise ValueError(f"invalid which={which!r}: must be 'best' or 'last'")
    directory = local_run(folder, CURVE_FIELDS, "run", "load_vehicle_agent")
    try:
        if "depot" in directory.read(RUN_FILE):
            raise RunError(
                f"--model {folder} is a depot run: use it with its depot scenario (--scenario)"
            )
        spec = directory.parse(RUN_FILE, RunSpec.from_json)
        model_file = directory.parse(CHECKPOINT_FILE, lambda data: _model_file(data, which))
    except FileNotFoundError as error:
        raise RunError(
            f"--model {folder}: not a run directory (missing {Path(error.filename).name})"
        ) from None
    if config is not None:
        check_same_vehicle(folder, spec.config, config)
    name = f"{spec.algo}:{folder.name}"
    try:
        if spec.algo == "qlearning":
            return load_table_policy(folder / model_file, spec.config, name), spec
        from smartcharging.agents.sb3_agents import SB3Policy, load_model

        model = load_model(
            spec.algo,
            folder / model_file,
            spec.config,
            spec.reward_scale,
            spec.sb3_hyperparameters(),
        )
        return SB3Policy(model, spec.config, name), spec
    except (OSError, ValueError, KeyError) as error:
        raise RunError(
            f"--model {folder}: cannot load its model: {describe(error)}: {DAMAGED_ADVICE}"
        ) from None
