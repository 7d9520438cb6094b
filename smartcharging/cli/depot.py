"""The depot side of `compare`, `evaluate` and `train`."""

import csv
import io
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from smartcharging.cli.options import CliError, print_json
from smartcharging.cli.output import console, print_table, progress_bar
from smartcharging.config.depot import DepotConfig
from smartcharging.evaluation.depot import compare_depot


def depot_report(
    depot: DepotConfig,
    policies: list[Any],
    episodes: int,
    seed: int,
    as_json: bool,
    as_csv: bool,
    plots_dir: Path | None,
) -> None:
    """Run depot policies on the same episodes and show them against the hindsight and
    Lagrangian bounds."""
    with progress_bar() as progress:
        task = progress.add_task("depot episodes", total=len(policies) + 2)
        comparison = compare_depot(
            depot, policies, episodes, seed, lambda _: progress.advance(task)
        )
    rows = comparison.rows()
    bound = float(comparison.bounds.mean())
    lagrangian = float(comparison.lagrangian.mean())
    if as_json:
        print_json(
            {
                "hindsight_bound": bound,
                "lagrangian_bound": lagrangian,
                "tighter_bound": comparison.tighter,
                "episodes": episodes,
                "exact_levels": comparison.exact_levels,
                "hindsight_bound_without_v2g": None
                if comparison.charge_only_bounds is None
                else float(comparison.charge_only_bounds.mean()),
                "policies": rows,
            }
        )
    elif as_csv:
        out = io.StringIO()
        fields = [k for k in rows[0] if not k.startswith("per_episode")]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        unit = f" {depot.currency}" if depot.currency else ""
        kind = "MILP, exact levels" if comparison.exact_levels else "LP relaxation"
        notes = [
            f"means per episode, costs in{unit}; E\\[return] = expected return given the "
            "episode's schedule (shortfall cost as its expectation at departure); gap = "
            f"{comparison.tighter} bound (the tighter) - "
            + ("E\\[return]" if comparison.tighter == "lagrangian" else "return")
            + ", gap % of that bound; hindsight gap = hindsight bound - return"
        ]
        if comparison.charge_only_bounds is not None:
            notes.append(
                "V2G: hindsight bound with charge-only chargers "
                f"{comparison.charge_only_bounds.mean():.2f}{unit}; V2G adds at most "
                f"{comparison.v2g_hindsight_value:.2f}{unit} per episode with perfect foresight"
            )
        for run in comparison.runs:
            stats = run.policy_stats
            if stats.get("solves"):
                notes.append(
                    f"{run.name}: {stats['solves']} solves, {stats['mean_solve_ms']:.1f} ms "
                    f"mean, {stats['max_solve_ms']:.1f} ms max, {stats['failed_solves']} "
                    f"failed (fallback {stats['fallback']})"
                )
        table = Table(
            title=f"Depot policies against two bounds ({episodes} episodes; per episode: "
            f"Lagrangian bound {lagrangian:.2f}{unit} (demand unknown), hindsight bound "
            f"{bound:.2f}{unit} ({kind}, demand known))",
            caption="\n".join(notes),
            box=box.SIMPLE_HEAD,
        )
        energy_header = "energy net of exports" if depot.v2g else "energy"
        wear_header = "wear + ageing" if depot.degradation_cost_per_kwh else "wear"
        shortfall_header = (
            "shortfall - left credit" if depot.residual_value_per_kwh else "shortfall"
        )
        columns = {
            "policy": lambda row: row["policy"],
            "E\\[return]": lambda row: f"{row['mean_expected_return']:.2f}",
            "gap": lambda row: f"{row['mean_gap']:.2f}",
            "gap %": lambda row: f"{row['gap_percent']:.1f}",
            "return": lambda row: f"{row['mean_return']:.2f}",
            "hindsight gap": lambda row: f"{row['mean_gap_to_hindsight']:.2f}",
            energy_header: lambda row: f"{row['energy_cost']:.2f}",
            wear_header: lambda row: f"{row['wear_cost']:.2f}",
            shortfall_header: lambda row: f"{row['shortfall_cost']:.2f}",
            "demand chg": lambda row: f"{row['demand_charge']:.2f}",
            "short kWh": lambda row: f"{row['shortfall_kwh']:.1f}",
            "peak kW": lambda row: f"{row['peak_grid_kw']:.1f}",
            "delivered %": lambda row: f"{row['delivered_percent']:.1f}",
            "ms/step": lambda row: f"{row['ms_per_step']:.3g}",
        }
        if depot.demand_charge_per_kw == 0:
            del columns["demand chg"]
        if depot.sessions is None:
            del columns["delivered %"]
        else:
            notes.append(
                "delivered % = energy delivered / energy requested (the field's usual "
                "measure); the site never exceeds its limit (the allocation cuts requests), "
                "so there are no constraint violations to count"
            )
        notes.append("ms/step = the policy's decision time per depot and slot")
        for name in columns:
            table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=True)
        for row in rows:
            table.add_row(*(show(row) for show in columns.values()))
        print_table(table)
    if plots_dir is not None:
        from smartcharging import plots

        for path in plots.depot_figures(comparison, depot, plots_dir):
            Console(stderr=True).print(f"wrote {path}")


def run_depot_training(
    depot: DepotConfig | None,
    algo: str | None,
    steps: int | None,
    seed: int,
    out: Path | None,
    resume: Path | None,
    num_envs: int | None,
    checkpoints: int,
) -> None:
    """Train (or resume) PPO or A2C for a depot, with a progress bar of the evaluation
    return."""
    from smartcharging.agents.depot_runs import (
        DepotCheckpoint,
        DurationEstimate,
        planned_steps,
        resume_depot,
        train_depot,
    )

    if resume is None and (depot is None or algo is None or out is None):
        raise CliError("--algo and --out are required (or --resume DIR)")
    if resume is not None:
        total = planned_steps(resume)
        console.print(f"resuming {resume}")
    elif steps is None:  # the depot's shipped budget (hyperparams/depot-<algo>.yml)
        assert depot is not None and algo is not None
        from smartcharging.agents.depot_hyperparameters import DEPOT_ALGORITHMS, shipped_depot

        if algo not in DEPOT_ALGORITHMS:
            allowed = ", ".join(DEPOT_ALGORITHMS)
            raise CliError(f"--algo {algo!r}: depot agents train with {allowed}")
        total = shipped_depot(algo, depot).n_timesteps
    else:
        total = steps
    with progress_bar(
        TextColumn("training on the depot"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("E\\[return] {task.fields[value]}"),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("train", total=total, value="-")

        def show(point: DepotCheckpoint) -> None:
            progress.update(
                task,
                completed=min(point.steps, total),
                value=f"{point.expected_return:.2f} (gap {point.gap_percent:.1f}%, MPC "
                f"{point.mpc_gap_percent:.1f}%)",
            )

        def expect(estimate: DurationEstimate) -> None:
            progress.console.print(
                f"expected duration: about {estimate.seconds / 60:.1f} min more "
                f"({estimate.steps_per_s:,.0f} charger steps/s over the first "
                f"{estimate.measured_steps:,}, {estimate.evaluation_s:.1f} s per checkpoint)"
            )

        if resume is not None:
            final = resume_depot(resume, show, expect)
            folder = resume
        else:
            assert depot is not None and algo is not None and out is not None
            progress.console.print(
                "scoring MPC and the Lagrangian bound on the evaluation episodes, then "
                "imitating MPC (DAgger) before RL: a few minutes"
            )
            final = train_depot(depot, algo, total, seed, out, num_envs, checkpoints, show, expect)
            folder = out
    console.print(
        f"{final.steps:,} steps, {final.wall_time_s:.1f} s, E\\[return] "
        f"{final.expected_return:.2f} on the evaluation episodes, {final.gap_percent:.1f}% "
        f"from their Lagrangian bound {final.lagrangian_bound:.2f} (MPC "
        f"{final.mpc_expected_return:.2f}, {final.mpc_gap_percent:.1f}%); run in {folder}"
    )
