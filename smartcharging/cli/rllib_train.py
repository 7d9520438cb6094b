"""The RLlib side of `train`: ``--engine rllib`` with ``--num-env-runners`` and ``--address``."""

from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from smartcharging.cli.options import CliError
from smartcharging.cli.output import console, progress_bar
from smartcharging.cli.quiet import native_stderr_quieted, quiet_ray_logs
from smartcharging.config.depot import DepotConfig
from smartcharging.config.vehicle import ChargingConfig

#: The default budget of one vehicle, in env steps (as the SB3 default); a depot's is the
#: SB3 depot entry's (``n_timesteps`` of ``depot-ppo.yml``), in charger steps.
VEHICLE_STEPS = 200_000


def run_rllib_training(
    config: ChargingConfig,
    depot: DepotConfig | None,
    algo: str | None,
    steps: int | None,
    seed: int,
    out: Path | None,
    resume: Path | None,
    num_env_runners: int | None,
    address: str | None,
    checkpoints: int,
) -> None:
    """Train (or resume) an RLlib agent with the run-directory contract of the SB3 runs."""
    from smartcharging.rllib.runs import RLlibRun, new_spec  # imports neither ray nor torch

    if resume is None and (algo is None or out is None):
        raise CliError("--algo and --out are required (or --resume DIR)")
    if resume is None:
        assert algo is not None
        if steps is None and depot is not None:
            from smartcharging.agents.depot_hyperparameters import shipped_depot

            steps = shipped_depot("ppo", depot).n_timesteps
        spec = new_spec(
            algo,
            VEHICLE_STEPS if steps is None else steps,
            seed,
            0 if num_env_runners is None else num_env_runners,
            checkpoints,
            config=None if depot is not None else config,
            depot=depot,
        )
    try:
        from smartcharging.rllib.registration import register_envs
        from smartcharging.rllib.session import ensure_ray
    except ImportError as error:
        raise CliError(
            f"--engine rllib needs the scale extra ({error.name} is missing): "
            "pip install 'smartcharging[scale]'"
        ) from None
    quiet_ray_logs()
    with native_stderr_quieted():  # Ray's C++ core logs to file descriptor 2
        ensure_ray(address)
        register_envs()
        if resume is not None:
            run = RLlibRun.resume(resume)
            console.print(f"resuming {resume} at step {run.steps_done:,}")
        else:
            assert out is not None
            if spec.depot is not None and spec.imitation and spec.imitation["rounds"]:
                console.print(
                    "scoring MPC and the Lagrangian bound on the evaluation episodes, then "
                    "imitating MPC (DAgger) before RL: a few minutes"
                )
            run = RLlibRun.start(out, spec)
        spec = run.spec
        vehicle = spec.config is not None
        with progress_bar(
            TextColumn(f"training {spec.algo} on RLlib ({spec.num_env_runners} env runners)"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "exact gap {task.fields[value]}" if vehicle else "E\\[return] {task.fields[value]}"
            ),
            TimeElapsedColumn(),
            transient=False,
        ) as progress:
            task = progress.add_task("train", total=spec.total_steps, value="-")

            def show(row: list[Any]) -> None:
                value = f"{100 * row[5]:.3f}%" if vehicle else f"{row[2]:.2f} (bound {row[3]:.2f})"
                progress.update(task, completed=min(row[0], spec.total_steps), value=value)

            final = run.train(show)
    if vehicle:
        from smartcharging.agents.run_directory import CURVE_FILE
        from smartcharging.agents.runs import read_curve
        from smartcharging.plots import learning_curve

        learning_curve(
            read_curve(run.folder / CURVE_FILE), spec.algo, run.folder / "learning_curve.png"
        )
        best = run.best or {"steps": final[0], "relative_gap": final[5]}
        console.print(
            f"{spec.algo} (RLlib): {final[0]:,} steps, {final[1]:.1f} s, exact expected return "
            f"{final[2]:.6g} (optimum {final[3]:.6g}, gap {100 * final[5]:.3f}%); best "
            f"checkpoint: step {best['steps']:,}, gap {100 * best['relative_gap']:.3f}% "
            "(evaluate/compare --model DIR use the final model, --checkpoint best this one); "
            f"run in {run.folder}"
        )
    else:
        console.print(
            f"{spec.algo} (RLlib): {final[0]:,} charger steps, {final[1]:.1f} s, E\\[return] "
            f"{final[2]:.2f} on the evaluation episodes ({final[5]:.1f}% from their "
            f"Lagrangian bound {final[3]:.2f}; MPC {final[6]:.2f}); run in {run.folder}"
        )
