"""Depot training runs: a shared charger policy trained on the batch depot, checkpointed.

The run directory (:mod:`smartcharging.agents.run_directory`) holds in ``run.json`` the
algorithm, steps, seed, the depot configuration, the number of batch depots, the
hyperparameters, the recipe (what each charger sees, may ask and is paid:
:class:`~smartcharging.agents.training_adapter.ChargerRecipe`; runs without one used each
charger's own view and costs), the imitation of MPC a new run starts from, and the run's
evaluation reference (the Lagrangian bound and MPC's expected return on the fixed
evaluation episodes, computed once when the run starts). ``curve.csv`` has, first, the
imitated policy at step 0, then, at each checkpoint, the greedy policy's expected return
on those episodes (exact in the demand, as ``compare`` reports it), its gap and gap % to
their Lagrangian bound, and MPC's expected return and gap % beside it
(:data:`~smartcharging.agents.checkpoint_scores.DEPOT_CURVE_FIELDS`); the last checkpoint
holds the weights of the checkpoint best on the validation episodes
(:mod:`smartcharging.agents.validated_best`). Runs written before
(realised returns against the hindsight bound) still load in ``compare --model`` but are
refused, in one line, by ``--resume``. The learning itself is Stable-Baselines3's
(:mod:`smartcharging.agents.sb3_depot`), imported only when a run
trains or loads a model, so that inspecting runs needs no ``rl`` extra.
"""

from __future__ import annotations

import copy
import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartcharging.agents.checkpoint_progress import checkpoint_progress
from smartcharging.agents.checkpoint_scores import (
    DEPOT_CURVE_FIELDS,
    LEGACY_DEPOT_CURVE_FIELDS,
    DepotCheckpoint,
    EvaluationReference,
    depot_score,
    evaluation_reference,
)
from smartcharging.agents.depot_hyperparameters import (
    DEPOT_ALGORITHMS,
    DepotHyperparameters,
    HyperparameterError,
    shipped_depot,
)
from smartcharging.agents.run_directory import (
    CHECKPOINT_FILE,
    CURVE_FILE,
    DAMAGED_ADVICE,
    RUN_FILE,
    FileNames,
    RunDirectory,
    RunError,
    check_entries,
    check_new_run_folder,
    describe,
    local_run,
    resuming,
    run_file_name,
)
from smartcharging.agents.scaling import depot_reward_scale
from smartcharging.agents.trained_on import check_same_depot
from smartcharging.agents.training_adapter import OWN_VIEW, SHIPPED_RECIPE, ChargerRecipe
from smartcharging.agents.validated_best import VALIDATED_KEY, ValidatedBest, improves
from smartcharging.config import DepotConfig, limits
from smartcharging.config.limits import check_limit

if TYPE_CHECKING:
    from smartcharging.agents.sb3_depot import DepotAgentPolicy

CURVE_FIELDS = DEPOT_CURVE_FIELDS
#: The model file of a checkpoint, and of the best checkpoint on the validation episodes.
MODEL_NAMES = FileNames(("model-<steps>.zip",))
BEST_NAMES = FileNames(("best-model-<steps>.zip",))


@dataclass(frozen=True)
class DurationEstimate:
    """How long a run still needs, from rates measured on this machine: ``steps_per_s``
    over the first ``measured_steps`` steps of training, and ``evaluation_s`` for one
    checkpoint's evaluation (measured on the untrained policy)."""

    seconds: float
    steps_per_s: float
    measured_steps: int
    evaluation_s: float


def train_depot(
    config: DepotConfig,
    algo: str,
    steps: int | None,
    seed: int,
    out: Path,
    num_envs: int | None = None,
    checkpoints: int = 10,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None = None,
    on_estimate: Callable[[DurationEstimate], None] | None = None,
    imitation: dict[str, Any] | None = None,
    setup: DepotHyperparameters | None = None,
) -> DepotCheckpoint:
    """Train a depot agent into a new run directory with ``setup`` (None: the depot's
    shipped hyperparameters, :func:`~smartcharging.agents.depot_hyperparameters.shipped_depot`;
    ``steps`` and ``num_envs`` None: its ``n_timesteps`` and ``n_envs``): imitate MPC
    (:func:`~smartcharging.agents.depot_imitation.imitate_mpc`, with ``imitation`` overriding
    the shipped settings; ``{"rounds": 0}``: start from scratch), checkpoint that policy at
    step 0, then fine-tune it with RL. ``on_estimate`` is told the expected duration once
    the first update has been timed."""
    if algo not in DEPOT_ALGORITHMS:
        raise RunError(f"--algo {algo!r}: depot agents train with {', '.join(DEPOT_ALGORITHMS)}")
    try:
        setup = (setup or shipped_depot(algo, config)).with_imitation(imitation)
    except HyperparameterError as error:
        raise RunError(str(error)) from None
    steps = setup.n_timesteps if steps is None else steps
    num_envs = setup.n_envs if num_envs is None else num_envs
    if steps < 1 or num_envs < 1 or checkpoints < 1:
        raise RunError("--steps, --num-envs and --checkpoints must be >= 1")
    check_limit("--steps", steps, limits.MAX_TRAINING_STEPS)
    check_limit("--checkpoints", checkpoints, limits.MAX_CHECKPOINTS)
    if num_envs > limits.MAX_DEPOTS:
        raise RunError(f"--num-envs {num_envs}: depots train on at most {limits.MAX_DEPOTS:,}")
    if not 0 <= seed <= limits.MAX_SEED:
        raise RunError(f"--seed {seed}: must be in 0..{limits.MAX_SEED}")
    check_new_run_folder(out)
    from smartcharging.agents.depot_imitation import imitate_mpc
    from smartcharging.agents.sb3_depot import SB3ChargerNetwork, make_depot_model

    reference = evaluation_reference(config)
    recipe = SHIPPED_RECIPE
    spec = {
        "algo": algo,
        "total_steps": steps,
        "seed": seed,
        "depot": config.to_dict(),
        "num_envs": num_envs,
        "checkpoints": checkpoints,
        "hyperparameters": setup.kwargs,
        "hyperparameters_source": setup.source,
        "reward_scale": depot_reward_scale(config),
        "steps_count": "charger transitions (depot steps x chargers)",
        "policy": "one network shared by all chargers",
        "evaluation": reference.to_json(),
        "recipe": recipe.to_json(),
        "imitation": setup.imitation,
    }
    try:
        model = make_depot_model(algo, config, num_envs, seed, recipe, setup.kwargs)
    except HyperparameterError as error:  # e.g. a rollout too large for these depots
        raise RunError(str(error)) from None

    def begin(directory: RunDirectory) -> DepotCheckpoint:
        try:
            started = time.perf_counter()
            if setup.imitation["rounds"] > 0:
                imitate_mpc(SB3ChargerNetwork(model.policy), config, recipe, seed, setup.imitation)
            imitating = time.perf_counter() - started  # part of the run's wall time
            return _train(
                directory,
                spec,
                config,
                model,
                reference,
                imitating,
                on_checkpoint,
                on_estimate,
                starting=True,
            )
        finally:
            directory.release()

    return RunDirectory.start(out, spec, CURVE_FIELDS, begin)


def resume_depot(
    out: Path,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None = None,
    on_estimate: Callable[[DurationEstimate], None] | None = None,
) -> DepotCheckpoint:
    """Continue an interrupted depot run from its last checkpoint; curve rows written after
    that checkpoint are dropped, so none is lost or duplicated."""
    from smartcharging.agents.sb3_depot import load_depot_model

    directory = RunDirectory(out, CURVE_FIELDS)
    with resuming(out):
        spec = directory.read(RUN_FILE)
        algo, config, num_envs = directory.parse(RUN_FILE, _trained_on)
        directory.parse(RUN_FILE, _schedule)
        checkpoint = directory.read(CHECKPOINT_FILE)
        model_file = directory.parse(CHECKPOINT_FILE, _model_file)
        validated = directory.parse(CHECKPOINT_FILE, _validated)
        _refuse_legacy_curve(out)
        reference = directory.parse(RUN_FILE, _reference)
        recipe, hyperparameters = directory.parse(RUN_FILE, _learner)
        wall_time_s = directory.parse(CHECKPOINT_FILE, checkpoint_progress)[1]
        model = load_depot_model(
            algo, directory.path(model_file), config, num_envs, recipe, hyperparameters
        )
        best_weights = None
        if validated is not None:  # read now: a missing or broken file is refused here
            path = directory.path(validated.file, BEST_NAMES)
            best = load_depot_model(algo, path, config, num_envs, recipe, hyperparameters)
            best_weights = best.policy.state_dict()
    directory.resume_from(checkpoint, [model_file])
    try:
        return _train(
            directory,
            spec,
            config,
            model,
            reference,
            wall_time_s,
            on_checkpoint,
            on_estimate,
            validated=(validated, best_weights),
        )
    finally:
        directory.release()


def _refuse_legacy_curve(folder: Path) -> None:
    """A one-line refusal to resume a run whose curve has the older columns."""
    try:
        with open(folder / CURVE_FILE, newline="") as file:
            header = tuple(next(csv.reader(file), ()))
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # resume_from words a missing or unreadable curve
    if header == LEGACY_DEPOT_CURVE_FIELDS:
        raise RunError(
            f"cannot resume {folder}: it was scored by an older version (realised returns "
            "against the hindsight bound; checkpoints are now scored by E[return] against the "
            f"Lagrangian bound): compare --model {folder} still loads it; train a new run "
            "with --out to go on"
        )


def _train(
    directory: RunDirectory,
    spec: dict[str, Any],
    config: DepotConfig,
    model: Any,
    reference: EvaluationReference,
    wall_offset: float,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None,
    on_estimate: Callable[[DurationEstimate], None] | None,
    starting: bool = False,
    validated: tuple[ValidatedBest | None, dict[str, Any] | None] = (None, None),
) -> DepotCheckpoint:
    """Learn to ``spec["total_steps"]``, checkpointing by the run directory's protocol
    (``starting``: a new run, whose first checkpoint is the policy it starts from); the
    last checkpoint holds the weights of the checkpoint best on the validation episodes
    (:mod:`smartcharging.agents.validated_best`; ``validated``: the best so far and its
    policy's weights)."""
    from smartcharging.agents.depot_imitation import validation_return
    from smartcharging.agents.sb3_depot import DepotAgentPolicy, DepotCheckpoints

    steps, algo = int(spec["total_steps"]), spec["algo"]
    recipe = ChargerRecipe.from_json(spec["recipe"]) if "recipe" in spec else OWN_VIEW
    checkpoints = int(spec["checkpoints"])
    started = time.perf_counter()
    every = max(steps // checkpoints, 1)
    point: DepotCheckpoint | None = None

    best, best_weights = validated

    def validate() -> list[str]:
        """Score the current policy on the validation episodes; keep it if it is the best
        so far. Returns the files it replaces."""
        nonlocal best, best_weights
        done = int(model.num_timesteps)
        score = validation_return(DepotAgentPolicy(model, config, algo, recipe), config)
        if not improves(best, score):
            return []
        stale = [] if best is None else [best.file]
        best = ValidatedBest(done, score, f"best-model-{done}.zip")
        best_weights = copy.deepcopy(model.policy.state_dict())
        model.save(directory.folder / best.file)
        return stale

    if best is None and not starting:  # a run from before the record: its checkpoint competes
        validate()

    def checkpoint(last: bool = False) -> None:
        nonlocal point
        policy = DepotAgentPolicy(model, config, algo, recipe)
        done = int(model.num_timesteps)
        stale = validate()
        if last and best is not None and best.steps != done and best_weights is not None:
            model.policy.load_state_dict(best_weights)  # the run delivers the best one
        wall = wall_offset + time.perf_counter() - started
        point = depot_score(policy, config, reference, done, wall)
        model_file = f"model-{point.steps}.zip"
        model.save(directory.folder / model_file)
        row = point.row()
        row[1] = round(point.wall_time_s, 3)
        record = {"steps": point.steps, "wall_time_s": round(wall, 3), "file": model_file}
        assert best is not None
        directory.commit(
            row,
            {**record, VALIDATED_KEY: best.to_json()},
            [model_file],
            stale,
        )
        if on_checkpoint is not None:
            on_checkpoint(point)

    evaluation_s = 0.0
    if on_estimate is not None and model.num_timesteps < steps:
        timer = time.perf_counter()
        untrained = DepotAgentPolicy(model, config, algo, recipe)
        depot_score(untrained, config, reference, 0, 0.0)
        validation_return(untrained, config)  # every checkpoint is scored on both sets
        evaluation_s = time.perf_counter() - timer
    first = int(model.num_timesteps)

    def measured(done: int, seconds: float) -> None:
        if on_estimate is None or done <= 0:
            return
        rate = done / seconds
        left = max(steps - first - done, 0)
        still = max(checkpoints - (first + done) // every, 1)
        on_estimate(DurationEstimate(left / rate + still * evaluation_s, rate, done, evaluation_s))

    if starting:  # the policy imitation made, at step 0
        checkpoint()
    if model.num_timesteps < steps:  # one learn call, as vehicle runs (runs.py) take
        model.learn(
            total_timesteps=steps - model.num_timesteps,
            reset_num_timesteps=False,
            callback=DepotCheckpoints(first, every, checkpoint, measured),
        )
        checkpoint(last=True)
    if point is None:
        raise RunError(f"{directory.folder} has already trained its {steps:,} steps")
    return point


def load_depot_policy(folder: Path, config: DepotConfig) -> DepotAgentPolicy:
    """The trained agent of a local depot run directory (its last checkpoint); runs of
    every engine load through :func:`smartcharging.cli.routing.load_depot_agent`."""
    from smartcharging.agents.sb3_depot import DepotAgentPolicy, load_depot_model

    directory = local_run(folder, CURVE_FIELDS, "depot run", "load_depot_agent")
    try:
        if "depot" not in directory.read(RUN_FILE):
            raise RunError(
                f"--model {folder} is a single-vehicle run, not a depot run: use it without "
                "a depot scenario"
            )
        # The model is rebuilt on the depot it was trained on, then checked against this one.
        algo, trained_on, num_envs = directory.parse(RUN_FILE, _trained_on)
        recipe, hyperparameters = directory.parse(RUN_FILE, _learner)
        model_file = directory.parse(CHECKPOINT_FILE, _model_file)
        model = load_depot_model(
            algo, folder / model_file, trained_on, num_envs, recipe, hyperparameters
        )
    except FileNotFoundError as error:
        raise RunError(
            f"--model {folder}: not a depot run directory (missing {Path(error.filename).name})"
        ) from None
    except (KeyError, ValueError, TypeError, OSError) as error:
        raise RunError(
            f"--model {folder}: cannot load the agent: {describe(error)}: {DAMAGED_ADVICE}"
        ) from None
    check_same_depot(folder, trained_on, config)
    return DepotAgentPolicy(model, config, f"{algo}:{folder.name}", recipe)


def _trained_on(spec: dict[str, Any]) -> tuple[str, DepotConfig, int]:
    """The algorithm, depot and batch size of a depot run's ``run.json``."""
    check_entries(
        spec,
        {"algo": "text", "depot": "mapping", "num_envs": "integer"},
        {
            "total_steps": "integer",
            "seed": "integer",
            "checkpoints": "integer",
            "hyperparameters": "mapping",
            "hyperparameters_source": "text",
            "reward_scale": "number",
            "steps_count": "text",
            "policy": "text",
            "evaluation": "mapping",
            "recipe": "mapping",
            "imitation": "mapping or null",
        },
    )
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


def _learner(spec: dict[str, Any]) -> tuple[ChargerRecipe, dict[str, Any] | None]:
    """What a depot run's charger policy sees and is paid (its own view and costs for runs
    from before the recipe) and the hyperparameters it was built with (None: the shipped;
    checked as the shipped entries are by :func:`~smartcharging.agents.sb3_depot.make_depot_model`
    before SB3 sees them)."""
    recipe = ChargerRecipe.from_json(spec["recipe"]) if "recipe" in spec else OWN_VIEW
    return recipe, spec.get("hyperparameters")


def _reference(spec: dict[str, Any]) -> EvaluationReference:
    """The evaluation reference a depot run's ``run.json`` stored when it started."""
    return EvaluationReference.from_json(spec["evaluation"])


def _validated(checkpoint: dict[str, Any]) -> ValidatedBest | None:
    """The best checkpoint on validation a depot run's ``checkpoint.json`` records."""
    return ValidatedBest.from_checkpoint(checkpoint, BEST_NAMES)


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
