"""The local single-vehicle side of `train`: Q-learning or Stable-Baselines3, every
checkpoint scored by its exact gap."""

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from smartcharging.agents.run_directory import CURVE_FILE
from smartcharging.agents.runs import (
    CurvePoint,
    Run,
    RunSpec,
    check_algorithm,
    default_num_envs,
    default_steps,
    read_curve,
)
from smartcharging.cli.options import CliError
from smartcharging.cli.output import console, progress_bar
from smartcharging.config.vehicle import ChargingConfig


def run_vehicle_training(
    config: ChargingConfig,
    algo: str | None,
    steps: int | None,
    seed: int,
    out: Path | None,
    resume: Path | None,
    num_envs: int | None,
    checkpoints: int,
    reward_scale: float | None,
    tensorboard: Path | None = None,
) -> None:
    """Train (or resume) a single-vehicle agent, with a progress bar of the exact gap
    (and, with ``tensorboard``, SB3's log and the exact gaps as TensorBoard scalars)."""
    if resume is not None:
        run = Run.resume(resume)
        if tensorboard is not None and run.spec.algo == "qlearning":
            run.directory.release()
            raise CliError(
                f"--tensorboard applies to dqn, ppo and a2c (Stable-Baselines3): {resume} "
                "is a qlearning run"
            )
        console.print(f"resuming {resume} at step {run.trainer.steps_done:,}")
    else:
        assert algo is not None and out is not None  # checked above
        steps = default_steps(check_algorithm(algo), config) if steps is None else steps
        spec = RunSpec(
            algo=algo,
            total_steps=steps,
            seed=seed,
            config=config,
            num_envs=default_num_envs(algo, config) if num_envs is None else num_envs,
            checkpoints=checkpoints,
            reward_scale=reward_scale,
        )
        run = Run.start(out, spec)
    spec = run.spec
    log = None
    if tensorboard is not None:
        from smartcharging.agents.sb3_agents import TensorBoardLog

        log = TensorBoardLog(run.trainer.model, tensorboard)  # type: ignore[attr-defined]
        if resume is None:  # the step-0 checkpoint, written before the log existed
            for point in read_curve(run.folder / CURVE_FILE):
                log.checkpoint(point)
    with progress_bar(
        TextColumn(f"training {spec.algo}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("exact gap {task.fields[gap]}"),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("train", total=spec.total_steps, gap="-")

        def show(point: CurvePoint) -> None:
            if log is not None:
                log.checkpoint(point)
            progress.update(
                task,
                completed=min(point.steps, spec.total_steps),
                gap=f"{100 * point.relative_gap:.3f}%",
            )

        try:
            final = run.train(show)
        finally:
            if log is not None:
                log.close()
    from smartcharging.plots import learning_curve

    learning_curve(
        read_curve(run.folder / CURVE_FILE), spec.algo, run.folder / "learning_curve.png"
    )
    best = run.best or {"steps": final.steps, "relative_gap": final.relative_gap}
    console.print(
        f"{spec.algo}: {final.steps:,} steps, {final.wall_time_s:.1f} s, exact expected return "
        f"{final.expected_return:.6g} (optimum {final.optimal_return:.6g}, gap "
        f"{100 * final.relative_gap:.3f}%); best checkpoint: step {best['steps']:,}, gap "
        f"{100 * best['relative_gap']:.3f}% (evaluate/compare --model DIR use the final model, "
        f"--checkpoint best this one); run in "
        f"{run.folder}"
    )
