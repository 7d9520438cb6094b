"""RLlib training runs with the run-directory contract of the SB3 runs.

``run.json`` (``"engine": "rllib"``, the algorithm, steps, seed, env runners, the settings
of :mod:`smartcharging.rllib.algorithms` and the configuration: ``env`` for one vehicle,
``depot`` for a depot with its charger ``recipe`` and ``imitation`` of MPC, as the SB3
depot runs ship them: a new depot run clones MPC first and checkpoints that clone at step
0), ``versions.json``, ``curve.csv`` (single vehicle: the greedy
policy's **exact** expected return and gap, the columns of
:mod:`smartcharging.agents.runs`; depot: the greedy policy's E[return] on the fixed
evaluation episodes against their Lagrangian bound, with MPC's beside it, the columns of
:mod:`smartcharging.agents.checkpoint_scores`),
``checkpoint.json``, and per checkpoint the policy weights ``policy-<steps>.npz`` (read
back without pickle, :mod:`smartcharging.rllib.policies`) beside RLlib's own checkpoint
``rllib-<steps>/`` (pickles: written for RLlib's tools, never read here). Single-vehicle
runs keep the weights of their best checkpoint as ``best-policy-<steps>.npz``.

``--resume`` rebuilds the algorithm from ``run.json`` and loads the last weights from the
archive; the optimizer's moment estimates restart (they live only in RLlib's pickled
checkpoint), and schedules (DQN's epsilon) continue from the steps already done.
"""

from __future__ import annotations

import copy
import itertools
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcharging.agents.checkpoint_progress import checkpoint_progress
from smartcharging.agents.checkpoint_scores import (
    DEPOT_CURVE_FIELDS,
    VEHICLE_CURVE_FIELDS,
    depot_score,
    evaluation_bound,
    vehicle_score,
)
from smartcharging.agents.depot_hyperparameters import (
    HyperparameterError,
    check_imitation,
    shipped_depot,
)
from smartcharging.agents.run_directory import (
    CHECKPOINT_FILE,
    RUN_FILE,
    FileNames,
    RunDirectory,
    RunError,
    best_checkpoint,
    check_entries,
    check_new_run_folder,
    check_run_contents,
    checkpoint_files,
    resuming,
    run_file_name,
)
from smartcharging.agents.trained_on import check_same_depot, check_same_vehicle
from smartcharging.agents.training_adapter import OWN_VIEW, SHIPPED_RECIPE, ChargerRecipe
from smartcharging.agents.validated_best import VALIDATED_KEY, ValidatedBest, improves
from smartcharging.config import ChargingConfig, ConfigError, DepotConfig, limits
from smartcharging.config.data_files import load_json
from smartcharging.rllib.algorithms import (
    algorithm_config,
    check_rllib_algorithm,
    default_settings,
)
from smartcharging.rllib.policies import (
    RLlibChargerNetwork,
    RLlibDepotPolicy,
    RLlibPolicy,
    charger_spaces,
    load_module,
    save_weights,
)
from smartcharging.rllib.settings import check_settings
from smartcharging.solvers.vehicle.dp import solve_all

ENGINE = "rllib"
#: The most env runners a run may ask for (a cluster of a few hundred nodes).
MAX_ENV_RUNNERS = 10_000
#: A checkpoint's policy weights, the best checkpoint's, and RLlib's checkpoint folder.
WEIGHTS_NAMES = FileNames(("policy-<steps>.npz",))
BEST_NAMES = FileNames(("best-policy-<steps>.npz",))
RLLIB_CHECKPOINT_NAMES = FileNames(("rllib-<steps>",))


@dataclass(frozen=True)
class RLlibRunSpec:
    """What an RLlib run trains (one vehicle or a depot), how long, on how many runners."""

    algo: str
    total_steps: int
    seed: int
    num_env_runners: int
    checkpoints: int
    settings: dict[str, Any]
    config: ChargingConfig | None = None
    depot: DepotConfig | None = None
    #: A depot's chargers: what each sees, asks and is paid, and how levels are picked.
    recipe: ChargerRecipe = OWN_VIEW
    #: A depot run's imitation of MPC before RL (None: from scratch).
    imitation: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.config is None) == (self.depot is None):
            raise ValueError("an RLlib run trains either one vehicle (config) or a depot")
        if self.depot is None and (self.recipe != OWN_VIEW or self.imitation is not None):
            raise ValueError("a recipe and imitation are for depot runs")
        if self.imitation is not None:
            try:
                check_imitation("imitation", self.imitation)
            except HyperparameterError as error:
                raise RunError(str(error)) from None
        check_rllib_algorithm(self.algo, self.depot is not None)
        check_settings(self.algo, self.depot is not None, self.settings)
        if self.total_steps < 1:
            raise RunError(f"invalid steps={self.total_steps} for --steps: must be >= 1")
        if not 0 <= self.num_env_runners <= MAX_ENV_RUNNERS:
            raise RunError(
                f"invalid num_env_runners={self.num_env_runners} for --num-env-runners: "
                f"must be in 0..{MAX_ENV_RUNNERS}"
            )
        if not 0 <= self.seed <= limits.MAX_SEED:
            raise RunError(f"invalid seed={self.seed} for --seed: must be in 0..{limits.MAX_SEED}")
        if self.checkpoints < 1:
            raise RunError(
                f"invalid checkpoints={self.checkpoints} for --checkpoints: must be >= 1"
            )

    @property
    def checkpoint_every(self) -> int:
        return math.ceil(self.total_steps / self.checkpoints)

    @property
    def curve_fields(self) -> tuple[str, ...]:
        """The columns of the run's curve: the vehicle's or the depot's."""
        return VEHICLE_CURVE_FIELDS if self.config is not None else DEPOT_CURVE_FIELDS

    def env(self) -> tuple[str, dict[str, Any]]:
        """The registered env name and its env_config."""
        from smartcharging.rllib.registration import DEPOT_CHARGERS, VEHICLE

        if self.depot is not None:
            return DEPOT_CHARGERS, {"config": self.depot.to_dict(), "recipe": self.recipe.to_json()}
        assert self.config is not None
        return VEHICLE, {"config": self.config.to_dict()}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "engine": ENGINE,
            "algo": self.algo,
            "total_steps": self.total_steps,
            "seed": self.seed,
            "num_env_runners": self.num_env_runners,
            "checkpoints": self.checkpoints,
            "settings": self.settings,
        }
        if self.depot is not None:
            data["depot"] = self.depot.to_dict()
            data["steps_count"] = "charger transitions (depot steps x chargers)"
            data["policy"] = "one network shared by all chargers"
            data["recipe"] = self.recipe.to_json()
            data["imitation"] = self.imitation
        else:
            assert self.config is not None
            data["env"] = self.config.to_dict()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RLlibRunSpec:
        if data.get("engine") != ENGINE:
            raise ValueError(f"run.json is not an RLlib run's (engine {data.get('engine')!r})")
        check_entries(
            data,
            {
                "engine": "text",
                "algo": "text",
                "total_steps": "integer",
                "seed": "integer",
                "num_env_runners": "integer",
                "checkpoints": "integer",
                "settings": "mapping",
            },
            {
                "env": "mapping",
                "depot": "mapping",
                "steps_count": "text",
                "policy": "text",
                "recipe": "mapping",
                "imitation": "mapping or null",
            },
        )
        return cls(
            algo=str(data["algo"]),
            total_steps=int(data["total_steps"]),
            seed=int(data["seed"]),
            num_env_runners=int(data["num_env_runners"]),
            checkpoints=int(data["checkpoints"]),
            settings=data["settings"],
            config=ChargingConfig(**data["env"]) if "env" in data else None,
            depot=DepotConfig(**data["depot"]) if "depot" in data else None,
            # runs from before recipes trained each charger's own view and costs
            recipe=ChargerRecipe.from_json(data["recipe"]) if "recipe" in data else OWN_VIEW,
            imitation=data.get("imitation"),
        )


def shifted_settings(settings: dict[str, Any], steps_done: int) -> dict[str, Any]:
    """The settings for an algorithm rebuilt after ``steps_done`` steps: a piecewise-linear
    epsilon schedule (DQN) continues where it was instead of restarting."""
    schedule = settings["training"].get("epsilon")
    if not steps_done or not isinstance(schedule, list):
        return settings
    points = [(int(t), float(v)) for t, v in schedule]
    now = points[-1][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= steps_done < t1:
            now = v0 + (v1 - v0) * (steps_done - t0) / (t1 - t0)
            break
    later = [[t - steps_done, v] for t, v in points if t > steps_done]
    training = {**settings["training"], "epsilon": [[0, now], *later]}
    return {**settings, "training": training}


class RLlibRun:
    """A run directory and the RLlib algorithm that writes to it."""

    def __init__(
        self,
        directory: RunDirectory,
        spec: RLlibRunSpec,
        steps_done: int,
        wall_time_s: float,
        weights: Path | None = None,
    ) -> None:
        import torch

        # One thread: the driver samples and learns on small batches of a 64-64 network,
        # where torch's thread pool only contends with the env runners (measured on 2
        # cores: a PPO iteration of 4,096 steps took 4-9 s with the default, 0.7-1.3 s).
        torch.set_num_threads(1)
        self.directory = directory
        self.spec = spec
        name, env_config = spec.env()
        settings = shifted_settings(spec.settings, steps_done)
        chargers = 1 if spec.depot is None else spec.depot.n_chargers
        config = algorithm_config(
            spec.algo, name, env_config, settings, spec.num_env_runners, spec.seed, chargers
        )
        self.algo = config.build_algo()
        if weights is not None:
            self._load_weights(weights)
        self._steps_offset = steps_done
        self._sampled = 0
        self._wall_offset = wall_time_s
        self._started = time.perf_counter()
        self.rllib_checkpoint: str | None = None
        self.best: dict[str, Any] | None = None
        self.validated: ValidatedBest | None = None
        if spec.config is not None:
            self.solution = solve_all(spec.config)
        else:
            assert spec.depot is not None
            self.bound = evaluation_bound(spec.depot)

    @property
    def folder(self) -> Path:
        return self.directory.folder

    @property
    def steps_done(self) -> int:
        return self._steps_offset + self._sampled

    def _iterate(self) -> None:
        """One RLlib training iteration; counts the env steps it sampled."""
        result = self.algo.train()
        self._sampled = int(result["num_env_steps_sampled_lifetime"])

    @property
    def wall_time_s(self) -> float:
        return self._wall_offset + time.perf_counter() - self._started

    def _learner_module(self) -> Any:
        """The learner's module (the env runners' copies lack the value network)."""
        from ray.rllib.core import DEFAULT_MODULE_ID

        return self.algo.learner_group._learner.module[DEFAULT_MODULE_ID]

    def _load_weights(self, path: Path) -> None:
        module = self._learner_module()
        loaded = load_module(
            path,
            self.spec.algo,
            self.spec.settings["model"],
            module.observation_space,
            module.action_space,
        )
        self._set_weights(loaded.get_state())

    def _set_weights(self, state: dict[str, Any]) -> None:
        """Give the learner's module ``state`` and the env runners its acting part."""
        from ray.rllib.core import DEFAULT_MODULE_ID

        self.algo.learner_group.set_weights({DEFAULT_MODULE_ID: state})
        # set directly: a sync skips env runners whose weights' sequence number is not
        # older than the learner's, which set_weights does not advance
        acting = self._learner_module().get_state(inference_only=True)
        self.algo.env_runner_group.foreach_env_runner(
            lambda runner: runner.module.set_state(acting)
        )

    def _imitate(self) -> None:
        """A new depot run's start: clone MPC into the learner's module as the SB3 runs do
        (:func:`~smartcharging.agents.depot_imitation.imitate_mpc`), then hand the clone
        to the env runners."""
        plan, depot = self.spec.imitation, self.spec.depot
        if depot is None or plan is None or not plan["rounds"]:
            return
        from smartcharging.agents.depot_imitation import imitate_mpc

        module = self._learner_module()
        training = module.training
        imitate_mpc(RLlibChargerNetwork(module), depot, self.spec.recipe, self.spec.seed, plan)
        module.train(training)
        # APPO keeps an old policy as the target of its importance ratios: it starts as the
        # clone too, or the first updates would pull towards the random network
        if hasattr(module, "get_target_network_pairs"):
            for main, target in module.get_target_network_pairs():
                target.load_state_dict(main.state_dict())
        self._set_weights(module.get_state())

    @classmethod
    def start(cls, folder: Path, spec: RLlibRunSpec) -> RLlibRun:
        """A new run with its step-0 checkpoint; nothing is left behind if it fails first."""
        check_new_run_folder(folder)

        def begin(directory: RunDirectory) -> RLlibRun:
            run = cls(directory, spec, 0, 0.0)
            run._imitate()
            run.checkpoint()
            return run

        return RunDirectory.start(folder, spec.to_json(), spec.curve_fields, begin)

    @classmethod
    def resume(cls, folder: Path) -> RLlibRun:
        """Continue a run from its last checkpoint's weights (module docstring)."""
        with resuming(folder):
            spec = RunDirectory(folder, ()).parse(RUN_FILE, RLlibRunSpec.from_json)
            directory = RunDirectory(folder, spec.curve_fields)
            checkpoint = directory.read(CHECKPOINT_FILE)
            steps, wall = directory.parse(CHECKPOINT_FILE, checkpoint_progress)
            files, rllib_checkpoint, best = directory.parse(CHECKPOINT_FILE, _checkpoint_names)
            validated = directory.parse(
                CHECKPOINT_FILE, lambda data: ValidatedBest.from_checkpoint(data, BEST_NAMES)
            )
            if validated is not None and spec.depot is not None:  # refused now, not at the end
                load_module(
                    directory.path(validated.file, BEST_NAMES),
                    spec.algo,
                    spec.settings["model"],
                    *charger_spaces(spec.depot, spec.recipe),
                )
        directory.resume_from(checkpoint, files)
        try:
            with resuming(folder):
                run = cls(directory, spec, steps, wall, weights=directory.path(files[0]))
            run.rllib_checkpoint = rllib_checkpoint
            run.best = best
            run.validated = validated
            if spec.depot is not None and validated is None:  # a run from before the
                run._validate()  # record: its checkpoint competes
        except BaseException:
            directory.release()
            raise
        return run

    def _evaluate(self) -> list[float]:
        """The curve row of the current policy (without steps and wall time)."""
        module, name = self._learner_module(), f"{self.spec.algo}:{self.folder.name}"
        steps, wall = self.steps_done, round(self.wall_time_s, 3)
        if self.spec.config is not None:
            config = self.spec.config
            policy = RLlibPolicy(module, config, name)
            point: Any = vehicle_score(policy, config, self.solution, steps, wall)
        else:
            assert self.spec.depot is not None
            policy_ = RLlibDepotPolicy(module, self.spec.depot, name, self.spec.recipe)
            point = depot_score(policy_, self.spec.depot, self.bound, steps, wall)
        return [getattr(point, field) for field in self.spec.curve_fields[2:]]

    def _validate(self) -> list[str]:
        """A depot run's checkpoint scored on the validation episodes: the best so far is
        kept as ``best-policy-<steps>.npz``, and the last checkpoint (the run's end) takes
        its weights (:mod:`smartcharging.agents.validated_best`). Returns stale files."""
        from smartcharging.agents.depot_imitation import validation_return

        assert self.spec.depot is not None
        steps, module = self.steps_done, self._learner_module()
        policy = RLlibDepotPolicy(module, self.spec.depot, "validation", self.spec.recipe)
        score = validation_return(policy, self.spec.depot)
        previous = self.validated
        if improves(previous, score):
            self.validated = ValidatedBest(steps, score, f"best-policy-{steps}.npz")
            save_weights(self.folder / self.validated.file, module, self.spec.algo)
            return [] if previous is None else [previous.file]
        if previous is not None and steps >= self.spec.total_steps:
            self._load_weights(self.directory.path(previous.file, BEST_NAMES))
        return []

    def checkpoint(self) -> list[Any]:
        """Evaluate the current policy and write a checkpoint; return its curve row."""
        steps = self.steps_done
        stale: list[str] = [] if self.spec.depot is None else self._validate()
        row = [steps, round(self.wall_time_s, 3), *self._evaluate()]
        weights = f"policy-{steps}.npz"
        save_weights(self.folder / weights, self._learner_module(), self.spec.algo)
        rllib_dir = f"rllib-{steps}"
        self.directory.remove(rllib_dir)
        self.algo.save_to_path(str((self.folder / rllib_dir).resolve()))
        if self.spec.config is not None:
            previous = self.best
            if previous is None or row[2] > previous["expected_return"]:
                best_file = f"best-policy-{steps}.npz"
                shutil.copyfile(self.folder / weights, self.folder / best_file)
                self.best = {
                    "steps": steps,
                    "expected_return": row[2],
                    "relative_gap": row[5],
                    "file": best_file,
                }
                if previous is not None and previous["file"] != best_file:
                    stale.append(previous["file"])
        record = {
            "steps": steps,
            "wall_time_s": row[1],
            "files": [weights],
            "rllib_checkpoint": rllib_dir,
            "best": self.best,
        }
        if self.validated is not None:
            record[VALIDATED_KEY] = self.validated.to_json()
        old_rllib = self.rllib_checkpoint
        self.directory.commit(row, record, [weights], stale)
        if old_rllib is not None and old_rllib != rllib_dir:
            self.directory.remove(old_rllib)
        self.rllib_checkpoint = rllib_dir
        return row

    def train(self, on_checkpoint: Callable[[list[Any]], None] | None = None) -> list[Any]:
        """Train to the total steps (RLlib iterations), checkpointing at regular intervals."""
        row: list[Any] | None = None
        try:
            while self.steps_done < self.spec.total_steps:
                target = min(
                    self.spec.total_steps,
                    (self.steps_done // self.spec.checkpoint_every + 1)
                    * self.spec.checkpoint_every,
                )
                while self.steps_done < target:
                    self._iterate()
                row = self.checkpoint()
                if on_checkpoint is not None:
                    on_checkpoint(row)
        finally:
            self.directory.release()
            self.algo.stop()
        if row is None:
            raise RunError(f"{self.folder} has already trained its {self.spec.total_steps:,} steps")
        return row


def load_rllib_policy(
    folder: Path, config: ChargingConfig | None, which: str = "best"
) -> RLlibPolicy:
    """The policy of a single-vehicle RLlib run at its best (or ``which="last"``)
    checkpoint; no pickle is read."""
    spec, checkpoint = _read(folder)
    if spec.config is None:
        raise RunError(f"--model {folder} is a depot run: pass its --scenario")
    if config is not None:
        check_same_vehicle(folder, spec.config, config)
    files, _, best = _checkpoint_names(checkpoint)
    file = best["file"] if which == "best" and best else files[0]
    try:
        return RLlibPolicy.load(
            folder / file,
            spec.algo,
            spec.settings["model"],
            spec.config,
            f"{spec.algo}:{folder.name}",
        )
    except (OSError, ValueError, KeyError) as error:
        raise RunError(f"--model {folder}: cannot load the policy: {error}") from None


def load_rllib_depot_policy(folder: Path, depot: DepotConfig) -> RLlibDepotPolicy:
    """The last checkpoint's shared charger policy of a depot RLlib run, for ``depot``."""
    spec, checkpoint = _read(folder)
    if spec.depot is None:
        raise RunError(f"--model {folder} is a single-vehicle run, not a depot run")
    check_same_depot(folder, spec.depot, depot)
    try:
        return RLlibDepotPolicy.load(
            folder / _checkpoint_names(checkpoint)[0][0],
            spec.algo,
            spec.settings["model"],
            depot,
            f"{spec.algo}:{folder.name}",
            spec.recipe,
        )
    except (OSError, ValueError, KeyError) as error:
        raise RunError(f"--model {folder}: cannot load the policy: {error}") from None


def _read(folder: Path) -> tuple[RLlibRunSpec, dict[str, Any]]:
    """The spec and last checkpoint of an RLlib run, once RLlib is known to be installed."""
    check_run_contents(folder)
    try:
        import ray.rllib  # noqa: F401  (rebuilding the network needs RLlib's module class)
    except ImportError:
        raise RunError(
            f"--model {folder} is an RLlib run: loading it needs the scale extra "
            "(pip install 'smartcharging[scale]')"
        ) from None
    try:
        spec = RLlibRunSpec.from_json(load_json((folder / RUN_FILE).read_text()))
        checkpoint = load_json((folder / CHECKPOINT_FILE).read_text())
        if not isinstance(checkpoint, dict) or not checkpoint.get("files"):
            raise ValueError("checkpoint.json names no files")
        _checkpoint_names(checkpoint)
    except FileNotFoundError as error:
        raise RunError(
            f"--model {folder}: not a run directory (missing {Path(error.filename).name})"
        ) from None
    except (ConfigError, KeyError, ValueError, TypeError, RunError) as error:
        raise RunError(f"--model {folder}: corrupt run files: {error}") from None
    return spec, checkpoint


def _checkpoint_names(
    checkpoint: dict[str, Any],
) -> tuple[list[str], str | None, dict[str, Any] | None]:
    """The weights files, RLlib checkpoint folder and best checkpoint of an RLlib run's
    ``checkpoint.json``, every name checked by :func:`run_file_name`."""
    names = checkpoint_files(checkpoint, WEIGHTS_NAMES)
    rllib_checkpoint = checkpoint.get("rllib_checkpoint")
    if rllib_checkpoint is not None:
        run_file_name(rllib_checkpoint, RLLIB_CHECKPOINT_NAMES)
    best = best_checkpoint(checkpoint, BEST_NAMES)
    return names, rllib_checkpoint, best


def new_spec(
    algo: str,
    steps: int,
    seed: int,
    num_env_runners: int,
    checkpoints: int,
    config: ChargingConfig | None = None,
    depot: DepotConfig | None = None,
) -> RLlibRunSpec:
    """A run's spec with the shipped settings of ``algo``; a depot's with the recipe and
    the imitation of MPC the SB3 depot runs ship (:func:`depot_settings`)."""
    settings = default_settings(algo, depot is not None)
    if depot is None:
        return RLlibRunSpec(algo, steps, seed, num_env_runners, checkpoints, settings, config)
    shipped = shipped_depot("ppo", depot)
    return RLlibRunSpec(
        algo,
        steps,
        seed,
        num_env_runners,
        checkpoints,
        depot_settings(settings, shipped.kwargs),
        depot=depot,
        recipe=SHIPPED_RECIPE,
        imitation=shipped.imitation,
    )


def depot_settings(settings: dict[str, Any], sb3: dict[str, Any]) -> dict[str, Any]:
    """RLlib depot ``settings`` with the SB3 depot entry's network widths, starting learning
    rate and GAE lambda (``sb3``: its PPO keyword arguments), so that both engines start
    from the same clone and fine-tune it alike."""
    settings = copy.deepcopy(settings)
    widths = sb3.get("policy_kwargs", {}).get("net_arch")
    if isinstance(widths, list):
        settings["model"]["fcnet_hiddens"] = list(widths)
    rate = sb3.get("learning_rate")
    if rate is not None:
        text = str(rate)
        settings["training"]["lr"] = float(text.removeprefix("lin_"))
    if "gae_lambda" in sb3 and "lambda_" in settings["training"]:
        settings["training"]["lambda_"] = float(sb3["gae_lambda"])
    return settings
