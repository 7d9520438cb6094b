"""Hyperparameter search with Optuna, scored by the exact final gap.

``smartcharging tune --algo ppo --trials 20 --out tunes/ppo`` samples hyperparameters with
Optuna's TPE sampler, trains one run directory per trial (``trial-000`` ...) with the
sampled entry, and minimises the exact relative gap of the run's **last** checkpoint: the
score a user gets, noise-free (no evaluation episodes), and never the best checkpoint, which
only the exact optimum could pick.

A tuning directory holds ``tune.json`` (algorithm, trials, steps per trial, seed, the
environment), ``study.db`` (Optuna's SQLite storage: trial parameters and values as JSON
and numbers, no pickles), the trial run directories and, when done, ``best.yml``: the best
trial's entry in the format of ``smartcharging/agents/hyperparams/<algo>.yml``. Resuming
(``--resume DIR``) reopens the study, refused unless tune could have written it
(:func:`~smartcharging.agents.search_space.check_study`); a trial cut off by the
interruption is marked failed and its parameters are queued again, once, so the study ends
with ``trials`` finished trials, each counted once. Trials run one at a time by
``ask``/``tell``: a Ctrl-C cuts training at once but waits while the study is written
(:class:`~smartcharging.agents.interrupt_gate.InterruptGate`), so a finished trial is never
lost or queued twice. The sampler restarts from the study's trials (its random state is not
saved).

On a depot (``config`` a :class:`~smartcharging.config.DepotConfig`) each trial is a depot
run (:func:`~smartcharging.agents.depot_runs.train_depot`: MPC imitated as shipped, then
the sampled RL settings) scored by its last checkpoint's gap to the Lagrangian bound of the
evaluation episodes (relative, as a fraction); ``best.yml`` is then an entry for
``hyperparams/depot-<algo>.yml``.

Optuna is part of the ``rl`` extra and imported only inside functions.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from smartcharging.agents.depot_hyperparameters import (
    DEPOT_ALGORITHMS,
    DepotHyperparameters,
    depot_scenario_name,
    shipped_depot,
)
from smartcharging.agents.hyperparameters import SB3_ALGORITHMS, scenario_name, shipped
from smartcharging.agents.interrupt_gate import InterruptGate
from smartcharging.agents.run_directory import LOCK_FILE, RunDirectory, check_entries
from smartcharging.agents.runs import Run, RunError, RunSpec
from smartcharging.agents.search_space import REQUEUED_FROM, check_study, search_space
from smartcharging.atomic_files import write_json, write_text
from smartcharging.config import ChargingConfig, DepotConfig, limits
from smartcharging.config.limits import check_limit
from smartcharging.config.validation import shorten

STUDY_NAME = "smartcharging"
TUNE_FILE = "tune.json"


@dataclass(frozen=True)
class TuneSpec:
    """What a tuning study searches: an algorithm, its budget, the vehicle or depot."""

    algo: str
    trials: int
    steps: int
    seed: int
    config: ChargingConfig | DepotConfig
    checkpoints: int = 5

    @property
    def depot(self) -> bool:
        """Whether the study tunes a depot agent."""
        return isinstance(self.config, DepotConfig)

    def __post_init__(self) -> None:
        algorithms = DEPOT_ALGORITHMS if self.depot else SB3_ALGORITHMS
        if self.algo not in algorithms:
            where = "on a depot " if self.depot else ""
            raise RunError(
                f"invalid algo={self.algo!r}: tuning {where}covers {', '.join(algorithms)}"
            )
        for name in ("trials", "steps", "checkpoints"):
            if getattr(self, name) < 1:
                raise RunError(f"invalid {name}={getattr(self, name)}: must be >= 1")
        if not 0 <= self.seed <= limits.MAX_SEED:
            raise RunError(f"invalid seed={self.seed}: must be in 0..{limits.MAX_SEED}")
        check_limit("trials", self.trials, limits.MAX_TRIALS)
        check_limit("steps", self.steps, limits.MAX_TRAINING_STEPS)
        check_limit("checkpoints", self.checkpoints, limits.MAX_CHECKPOINTS)

    def to_json(self) -> dict[str, Any]:
        return {
            "algo": self.algo,
            "trials": self.trials,
            "steps": self.steps,
            "seed": self.seed,
            "checkpoints": self.checkpoints,
            ("depot" if self.depot else "env"): self.config.to_dict(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TuneSpec:
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        counts = ("trials", "steps", "seed", "checkpoints")
        check_entries(
            data,
            {"algo": "text", **dict.fromkeys(counts, "integer")},
            {"env": "mapping", "depot": "mapping", "interrupted": "list"},
        )
        if ("env" in data) == ("depot" in data):
            raise ValueError("it must describe either a vehicle (env) or a depot (depot)")
        config = DepotConfig(**data["depot"]) if "depot" in data else ChargingConfig(**data["env"])
        return cls(
            algo=data["algo"],
            trials=data["trials"],
            steps=data["steps"],
            seed=data["seed"],
            config=config,
            checkpoints=data["checkpoints"],
        )

    def fingerprint(self) -> str:
        """A digest of what the study's trials are: the algorithm, the vehicle or depot,
        each trial's budget and checkpoints, and the seed (everything but the number of
        trials), kept in the study so that a ``tune.json`` edited to other trials is
        refused."""
        problem = [self.algo, self.config.to_dict(), self.steps, self.checkpoints, self.seed]
        text = json.dumps(problem, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


#: The study's user attribute holding :meth:`TuneSpec.fingerprint`, and its form.
PROBLEM_ATTRIBUTE = "problem"
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def check_same_problem(study: Any, spec: TuneSpec, folder: Path) -> None:
    """Record what a new study tunes on (:meth:`TuneSpec.fingerprint`); refuse a study
    whose ``tune.json`` now describes other trials than it ran (their scores would be
    compared with new ones, and ``best.yml`` named for the wrong scenario or budget).
    Studies from before the record are taken as they are."""
    recorded = study.user_attrs.get(PROBLEM_ATTRIBUTE)
    if recorded is None:
        if not study.trials:
            study.set_user_attr(PROBLEM_ATTRIBUTE, spec.fingerprint())
        return
    if not isinstance(recorded, str) or not FINGERPRINT.fullmatch(recorded):
        raise RunError(
            f"{folder / 'study.db'}: its record of what it tunes ({shorten(repr(recorded))}) "
            "is not a SHA-256 digest: restore it from a copy, or start a new tuning with --out"
        )
    if recorded != spec.fingerprint():
        kind = "depot" if spec.depot else "vehicle"
        raise RunError(
            f"{folder / TUNE_FILE}: its algorithm, {kind}, steps, checkpoints or seed are not "
            "those the study's trials ran with (edited?): restore it from a copy, or start a "
            "new tuning with --out (only --trials may change on --resume)"
        )


def _interrupted(data: dict[str, Any]) -> list[int]:
    """The trial numbers a ``tune.json`` lists as cut by an interruption."""
    numbers = data.get("interrupted", [])
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        raise ValueError(
            f"its interrupted {shorten(repr(numbers))} is not a list of trial numbers (>= 0)"
        )
    return list(numbers)


def entry_of(params: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters of a trial's parameters: the network width as ``net_arch``, a
    linear learning rate as its ``lin_`` schedule, the rest as they are."""
    entry = dict(params)
    width = entry.pop("net_width", None)
    if width is not None:
        entry["policy_kwargs"] = {"net_arch": [width, width]}
    if entry.pop("learning_rate_schedule", "constant") == "linear":
        entry["learning_rate"] = f"lin_{entry['learning_rate']:.6g}"
    return entry


class Tuning:
    """A tuning directory and its Optuna study."""

    def __init__(
        self,
        folder: Path,
        spec: TuneSpec,
        interrupted: list[int],
        directory: RunDirectory | None = None,
    ) -> None:
        import optuna

        # One process at a time: the run directories' lock, held until :meth:`run` ends
        # (``directory``: already locked by :meth:`start`).
        if directory is None:
            directory = RunDirectory(folder, ())
            directory.lock()
        self.directory = directory
        self.folder = folder
        self.spec = spec
        self.interrupted = interrupted
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        path = folder / "study.db"
        try:
            try:
                self.study = optuna.create_study(
                    study_name=STUDY_NAME,
                    storage=f"sqlite:///{path}",
                    direction="minimize",
                    load_if_exists=True,
                )
                check_study(self.study, spec.algo, path, spec.depot)
                check_same_problem(self.study, spec, folder)
            except (RunError, KeyboardInterrupt):
                raise
            except Exception as error:  # not a database, or rows Optuna cannot read
                raise RunError(
                    f"{path}: not a readable Optuna study ({type(error).__name__}: "
                    f"{shorten(str(error))}): restore it from a copy, or start a new tuning "
                    "with --out"
                ) from None
        except BaseException:
            directory.release()
            raise
        # Seeded by the trials so far, so a resumed study does not redraw its first samples.
        self.study.sampler = optuna.samplers.TPESampler(seed=spec.seed + len(self.study.trials))

    @classmethod
    def start(cls, folder: Path, spec: TuneSpec) -> Tuning:
        """A new tuning directory, locked before anything is written into it, so that two
        starts on one folder cannot both write it."""
        taken = RunError(
            f"--out {folder} exists and is not empty: choose a new directory, or resume "
            f"it with --resume {folder}"
        )
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise taken
        folder.mkdir(parents=True, exist_ok=True)
        directory = RunDirectory(folder, ())
        directory.lock()
        if any(path.name != LOCK_FILE for path in folder.iterdir()):  # another start won
            directory.release()
            raise taken
        write_json(folder / TUNE_FILE, {**spec.to_json(), "interrupted": []})
        return cls(folder, spec, [], directory)

    @classmethod
    def resume(cls, folder: Path, trials: int | None = None) -> Tuning:
        """Reopen a study; trials left running by an interruption are failed and re-queued.
        ``trials`` raises (or lowers) the number of finished trials to reach."""
        import optuna

        directory = RunDirectory(folder, ())
        try:
            spec = directory.parse(TUNE_FILE, TuneSpec.from_json)
            interrupted = directory.parse(TUNE_FILE, _interrupted)
        except FileNotFoundError:
            raise RunError(f"--resume {folder}: not a tuning directory (no tune.json)") from None
        if not (folder / "study.db").is_file():
            raise RunError(
                f"--resume {folder}: its study.db is missing (a damaged tuning directory): "
                "restore it from a copy, or start a new tuning with --out"
            )
        if trials is not None:
            spec = TuneSpec(**{**spec.__dict__, "trials": trials})
        tuning = cls(folder, spec, interrupted)
        for trial in tuning.study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
            tuning.requeue(trial)
        write_json(folder / TUNE_FILE, {**spec.to_json(), "interrupted": tuning.interrupted})
        return tuning

    @property
    def finished(self) -> list[Any]:
        """Trials that ran to the end or failed by themselves (not by an interruption)."""
        import optuna

        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
        return [t for t in self.study.get_trials(states=states) if t.number not in self.interrupted]

    def entry(self, params: dict[str, Any]) -> dict[str, Any]:
        """The full hyperparameter entry of a trial's parameters."""
        config = self.spec.config
        if isinstance(config, DepotConfig):
            base = shipped_depot(self.spec.algo, config).to_dict()
        else:
            base = shipped(self.spec.algo, config).to_dict()
        return {**base, **entry_of(params), "n_timesteps": self.spec.steps}

    def requeue(self, trial: Any) -> None:
        """Fail ``trial``, cut off by an interruption, and queue its parameters again, so
        that it runs once more and is counted once. Every step is skipped when already
        done, so a resume after a kill in the middle of this completes it exactly once."""
        import optuna

        if trial.number not in self.interrupted:
            self.interrupted.append(trial.number)
            write_json(
                self.folder / TUNE_FILE, {**self.spec.to_json(), "interrupted": self.interrupted}
            )
        if not any(t.user_attrs.get(REQUEUED_FROM) == trial.number for t in self.study.trials):
            self.study.enqueue_trial(trial.params, user_attrs={REQUEUED_FROM: trial.number})
        if self.study.trials[trial.number].state == optuna.trial.TrialState.RUNNING:
            self.study.tell(trial.number, state=optuna.trial.TrialState.FAIL)

    def _train(self, trial: Any) -> tuple[float, float, float]:
        """Train ``trial``'s run directory: its final gap, best gap and wall time."""
        entry = self.entry(trial.params)
        folder = self.folder / f"trial-{trial.number:03d}"
        if isinstance(self.spec.config, DepotConfig):
            return self._train_depot(entry, folder, self.spec.config)
        run_spec = RunSpec(
            algo=self.spec.algo,
            total_steps=self.spec.steps,
            seed=self.spec.seed,
            config=self.spec.config,
            num_envs=entry["n_envs"],
            checkpoints=self.spec.checkpoints,
            hyperparameters=entry,
        )
        run = Run.start(folder, run_spec)
        final = run.train()
        assert run.best is not None
        return final.relative_gap, run.best["relative_gap"], final.wall_time_s

    def _train_depot(
        self, entry: dict[str, Any], folder: Path, config: DepotConfig
    ) -> tuple[float, float, float]:
        """A depot trial: its final and best gaps to the Lagrangian bound (fractions) and
        its wall time."""
        from smartcharging.agents.depot_runs import train_depot

        setup = DepotHyperparameters.from_dict(self.spec.algo, entry, "the trial's entry")
        gaps: list[float] = []
        final = train_depot(
            config,
            self.spec.algo,
            self.spec.steps,
            self.spec.seed,
            folder,
            checkpoints=self.spec.checkpoints,
            on_checkpoint=lambda point: gaps.append(point.gap_percent / 100),
            setup=setup,
        )
        return final.gap_percent / 100, min(gaps), final.wall_time_s

    def _run_trial(self, gate: InterruptGate) -> Any:
        """Ask for a trial, train it with Ctrl-C allowed, tell its result with Ctrl-C
        deferred (a finished trial is always told complete); the finished trial."""
        import optuna

        gate.check()  # a Ctrl-C during the last trial's bookkeeping: before a new trial
        trial = self.study.ask(search_space(self.spec.algo, self.spec.depot))
        try:
            with gate.open():
                gap, best_gap, wall_time_s = self._train(trial)
            if not math.isfinite(gap):
                raise ValueError(f"non-finite gap {gap}")
        except ValueError as error:  # failed by itself: counted, not run again
            trial.set_user_attr("error", shorten(str(error)))
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        except BaseException:  # Ctrl-C or a crash: the trial is run again on --resume
            self.requeue(trial)
            raise
        else:
            trial.set_user_attr("best_checkpoint_gap", best_gap)
            trial.set_user_attr("wall_time_s", wall_time_s)
            self.study.tell(trial, gap)
        return self.study.trials[trial.number]

    def run(self, on_trial: Callable[[Any], None] | None = None) -> dict[str, Any]:
        """Run trials until ``spec.trials`` have finished; write and return ``best.yml``'s
        entry. A Ctrl-C cuts the trial in training (run again on ``--resume``) and waits
        for the study's bookkeeping, then raises ``KeyboardInterrupt``."""
        try:
            with InterruptGate() as gate:
                while len(self.finished) < self.spec.trials:
                    finished = self._run_trial(gate)
                    if on_trial is not None:
                        on_trial(finished)
            return self.write_best()
        finally:
            self.directory.release()

    def write_best(self) -> dict[str, Any]:
        """``best.yml``: the best finished trial's entry under its scenario's name."""
        try:
            best = self.study.best_trial
        except ValueError:
            raise RunError(f"{self.folder}: no trial finished with a gap") from None
        assert best.value is not None  # a completed trial has its value
        entry = self.entry(best.params)
        config = self.spec.config
        if isinstance(config, DepotConfig):
            key = depot_scenario_name(config) or "default"
        else:
            key = scenario_name(config) or "default"
        gap = "gap to the Lagrangian bound" if self.spec.depot else "exact gap"
        header = (
            f"# smartcharging tune --algo {self.spec.algo}: trial {best.number} of "
            f"{len(self.finished)}, final {gap} {100 * best.value:.4f}% after "
            f"{self.spec.steps} steps (seed {self.spec.seed})\n"
        )
        text = header + yaml.safe_dump({key: entry}, sort_keys=False)
        write_text(self.folder / "best.yml", text)
        return entry
