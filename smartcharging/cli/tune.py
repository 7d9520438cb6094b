"""``smartcharging tune``: Optuna search of an SB3 agent's hyperparameters, scored by the
exact final gap (on a depot: the final gap to the Lagrangian bound; see
:mod:`smartcharging.agents.tuning`)."""

from pathlib import Path
from typing import Any

import typer

from smartcharging.agents.depot_hyperparameters import DEPOT_ALGORITHMS, shipped_depot
from smartcharging.agents.hyperparameters import SB3_ALGORITHMS
from smartcharging.agents.runs import default_steps
from smartcharging.cli.options import (
    INTERRUPTED,
    CliError,
    check_output_folder,
    env_options,
    fail,
    refuse_with_resume,
)
from smartcharging.cli.output import console
from smartcharging.config import ChargingConfig, limits
from smartcharging.config.depot import DepotConfig


@env_options
def tune_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    algo: str | None = typer.Option(
        None,
        "--algo",
        help=f"Algorithm: {', '.join(SB3_ALGORITHMS)} ({', '.join(DEPOT_ALGORITHMS)} on a depot).",
        show_default=False,
    ),
    trials: int | None = typer.Option(
        None,
        "--trials",
        min=1,
        max=limits.MAX_TRIALS,
        help="Finished trials to reach [20]; with --resume, a new target.",
        show_default=False,
    ),
    steps: int | None = typer.Option(
        None,
        "--steps",
        min=1,
        max=limits.MAX_TRAINING_STEPS,
        help="Environment steps per trial [the shipped hyperparameters' n_timesteps].",
        show_default=False,
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        min=0,
        max=limits.MAX_SEED,
        help="Seed of the sampler and of every trial [0].",
        show_default=False,
    ),
    checkpoints: int | None = typer.Option(
        None,
        "--checkpoints",
        min=1,
        max=limits.MAX_CHECKPOINTS,
        help="Exact evaluations per trial [5].",
        show_default=False,
    ),
    out: Path | None = typer.Option(None, "--out", help="New tuning directory."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this tuning directory."),
) -> None:
    """Tune an SB3 agent with Optuna: minimise the exact gap of each trial's last checkpoint.

    Writes one run directory per trial and best.yml (an entry for hyperparams/<algo>.yml;
    on a depot, the gap to the Lagrangian bound and an entry for depot-<algo>.yml).
    """
    from smartcharging.agents.tuning import TuneSpec, Tuning

    if resume is not None:
        refuse_with_resume(
            {
                "--algo": algo is not None,
                "--out": out is not None,
                "--steps": steps is not None,
                "--seed": seed is not None,
                "--checkpoints": checkpoints is not None,
            }
        )
        tuning = Tuning.resume(resume, trials)
        console.print(f"resuming {resume}: {len(tuning.finished)} trials finished")
    else:
        if algo is None or out is None:
            raise CliError("--algo and --out are required (or --resume DIR)")
        algorithms = SB3_ALGORITHMS if depot is None else DEPOT_ALGORITHMS
        if algo not in algorithms:
            where = "" if depot is None else " (on a depot)"
            raise CliError(f"--algo {algo!r}: choose one of {', '.join(algorithms)}{where}")
        check_output_folder("--out", out)
        if steps is None:
            steps = (
                default_steps(algo, config)
                if depot is None
                else shipped_depot(algo, depot).n_timesteps
            )
        spec = TuneSpec(
            algo=algo,
            trials=20 if trials is None else trials,
            steps=steps,
            seed=0 if seed is None else seed,
            config=config if depot is None else depot,
            checkpoints=5 if checkpoints is None else checkpoints,
        )
        tuning = Tuning.start(out, spec)

    bound = " to the Lagrangian bound" if tuning.spec.depot else ""

    def show(trial: Any) -> None:
        gap = "failed" if trial.value is None else f"final gap{bound} {100 * trial.value:.4f}%"
        console.print(f"trial {trial.number}: {gap} {trial.params}", highlight=False)

    try:
        entry = tuning.run(show)
    except KeyboardInterrupt:
        raise fail(
            f"interrupted: {len(tuning.finished)} of {tuning.spec.trials} trials finished; "
            f"continue with smartcharging tune --resume {tuning.folder}",
            INTERRUPTED,
        ) from None
    best = tuning.study.best_trial
    gap = 100 * (best.value or 0.0)
    console.print(
        f"best: trial {best.number}, final {'gap' + bound if bound else 'exact gap'} "
        f"{gap:.4f}%; its entry "
        f"({len(entry)} keys) is in {tuning.folder / 'best.yml'}"
    )
