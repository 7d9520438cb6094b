"""The ``smartcharging`` command line: solve, evaluate, compare and demo.

Every command takes the environment parameters as options (added by :func:`env_options`),
so ``smartcharging compare --capacity 60 --power-levels 0,11,22`` studies another vehicle.
Errors are one line on stderr and exit code 2.
"""

import csv
import functools
import inspect
import io
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from smartcharging.agents.runs import (
    ALGORITHMS,
    CurvePoint,
    Run,
    RunError,
    RunSpec,
    default_num_envs,
    load_policy,
    read_curve,
)
from smartcharging.config import ChargingConfig, ConfigError
from smartcharging.depot_config import DepotConfig
from smartcharging.depot_evaluate import compare_depot
from smartcharging.envs.smart_charging import SmartChargingEnv, format_clock
from smartcharging.evaluate import PolicyReport, compare, report
from smartcharging.policies import Policy, TablePolicy, all_policies, policy_by_name
from smartcharging.policies.depot import depot_baselines
from smartcharging.scenarios import (
    ScenarioError,
    builtin_names,
    is_depot_scenario,
    load_depot_scenario,
    load_scenario,
)
from smartcharging.solvers.dp import Optimum, solve_all

app = typer.Typer(
    help="Smart charging of electric-vehicle fleets: environments, exact optima, agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
#: Tables are wider than the 80 columns Rich assumes when output is not a terminal.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


#: CLI option → ChargingConfig field, so config errors can name the option the user typed.
OPTION_FIELDS = {
    "capacity": ("--capacity", "capacity_kwh"),
    "power_levels": ("--power-levels", "power_levels_kw"),
    "slots": ("--slots", "n_slots"),
    "slot_hours": ("--slot-hours", "slot_hours"),
    "demand_mean": ("--demand-mean", "demand_mean_kwh"),
    "demand_sd": ("--demand-sd", "demand_sd_kwh"),
    "penalty_factor": ("--penalty-factor", "penalty_factor"),
    "start_min": ("--start-min", "start_min_kwh"),
    "start_max": ("--start-max", "start_max_kwh"),
    "start_step": ("--start-step", "start_step_kwh"),
}

#: Option name → (type, help). Every default is None: "take the scenario's value" (the
#: seed scenario's unless --scenario names another).
_ENV_HELP: dict[str, tuple[Any, str]] = {
    "capacity": (float | None, "Battery capacity (kWh) [seed: 72]."),
    "power_levels": (
        str | None,
        "Charger power of each action (kW), comma-separated [seed: 0,7,14,22].",
    ),
    "slots": (int | None, "Charging slots before departure [seed: 8]."),
    "slot_hours": (float | None, "Length of one slot (hours) [seed: 0.25]."),
    "demand_mean": (float | None, "Mean next-shift energy demand (kWh) [seed: 30]."),
    "demand_sd": (float | None, "Standard deviation of the demand (kWh) [seed: 5]."),
    "penalty_factor": (
        float | None,
        "Running out costs the worst charging bill times this [seed: 10].",
    ),
    "start_min": (float | None, "Lowest arrival battery level (kWh) [seed: 0]."),
    "start_max": (float | None, "Highest arrival level (kWh) [seed: capacity]."),
    "start_step": (float | None, "Spacing of the uniform arrival levels (kWh) [seed: 1]."),
}


def _parse_power_levels(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"--power-levels {text!r}: must be comma-separated numbers such as 0,7,14,22"
        ) from None


def config_from_options(scenario: str | None, **options: Any) -> ChargingConfig:
    """The scenario's config (the seed's by default) with the options the user set,
    validated; an error names the option."""
    params = {
        field: options[name]
        for name, (_, field) in OPTION_FIELDS.items()
        if options[name] is not None
    }
    if options["power_levels"] is not None:
        params["power_levels_kw"] = _parse_power_levels(options["power_levels"])
    if "start_max_kwh" not in params and ("capacity_kwh" in params or "start_step_kwh" in params):
        params["start_max_kwh"] = None  # recomputed from the new capacity or step
    try:
        return load_scenario(scenario or "seed").to_config(**params)
    except ScenarioError as error:
        raise CliError(f"--scenario: {error}") from None
    except ConfigError as error:
        option = next(
            (flag for flag, field in OPTION_FIELDS.values() if f" {field}=" in str(error)), None
        )
        raise CliError(f"{option}: {error}" if option else str(error)) from None


def _depot_config(
    scenario: str | None, env: dict[str, Any], takes_depots: bool, command: str
) -> DepotConfig | None:
    """The depot configuration if ``scenario`` is a depot scenario, else None."""
    if scenario is None:
        return None
    try:
        if not is_depot_scenario(scenario):
            return None
        if not takes_depots:
            name = command.removesuffix("_command")
            raise CliError(
                f"--scenario {scenario} is a depot scenario: `smartcharging {name}` works on "
                "single-vehicle scenarios; use compare or evaluate"
            )
        given = [OPTION_FIELDS[name][0] for name, value in env.items() if value is not None]
        if given:
            raise CliError(
                f"{given[0]} does not apply to a depot scenario: edit a copy of the "
                "scenario file instead"
            )
        return load_depot_scenario(scenario).to_config()
    except ScenarioError as error:
        raise CliError(f"--scenario: {error}") from None


def env_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the environment options to a command; it receives them as ``config``."""
    extra = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, OPTION_FIELDS[name][0], help=text, show_default=False),
            annotation=kind,
        )
        for name, (kind, text) in _ENV_HELP.items()
    ]
    extra.insert(
        0,
        inspect.Parameter(
            "scenario",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None,
                "--scenario",
                help="Built-in scenario name or YAML file "
                "(see `smartcharging scenario list`); options override it.",
                show_default=False,
            ),
            annotation=str | None,
        ),
    )
    parameters = inspect.signature(command).parameters
    own = [p for p in parameters.values() if p.name not in ("config", "depot")]
    takes_depots = "depot" in parameters

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        env = {name: kwargs.pop(name) for name in _ENV_HELP}
        scenario = kwargs.pop("scenario")
        try:
            depot = _depot_config(scenario, env, takes_depots, command.__name__)
            if depot is not None:
                command(config=None, depot=depot, **kwargs)
            elif takes_depots:
                command(config=config_from_options(scenario, **env), depot=None, **kwargs)
            else:
                command(config=config_from_options(scenario, **env), **kwargs)
        except (
            CliError,
            ConfigError,
            RunError,
            ScenarioError,
            ValueError,
            KeyError,
            ImportError,
        ) as error:
            message = error.args[0] if isinstance(error, KeyError) else str(error)
            Console(stderr=True, soft_wrap=True).print(
                f"[bold red]error:[/] {message}", highlight=False
            )
            raise typer.Exit(code=2) from None

    wrapper.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    del wrapper.__wrapped__
    return wrapper


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _policy_view(optimum: Optimum, rows: int = 13, columns: int = 12) -> Table:
    """Power of the optimal policy (first price row) at evenly spaced battery levels and
    slots (every slot when there are at most ``columns``)."""
    config = optimum.config
    label = config.profile_labels[0] if config.n_profiles > 1 else ""
    title = "Optimal power (kW) by battery level at slot start" + (
        f" (prices of {label})" if label else ""
    )
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("battery", justify="right")
    slots = np.unique(np.linspace(0, config.n_slots - 1, min(columns, config.n_slots)).round())
    for t in slots.astype(int):
        table.add_column(format_clock(config.arrival_hour + t * config.slot_hours), justify="right")
    levels = np.linspace(config.capacity_kwh, 0, rows)
    index = np.rint(np.interp(levels, optimum.grid.levels_kwh, np.arange(optimum.grid.size)))
    for level, i in zip(levels, index.astype(int), strict=True):
        powers = [
            f"{config.power_levels_kw[optimum.policies[0, t, i]]:g}" for t in slots.astype(int)
        ]
        table.add_row(f"{level:.1f} kWh", *powers)
    return table


def _profiles_table(optimum: Optimum, shown: int = 5) -> Table:
    """Optimal expected return per price row: the cheapest, the dearest and the spread."""
    config = optimum.config
    order = np.argsort(optimum.profile_returns)
    table = Table(title=f"Optimum per price day ({config.n_profiles} days)", box=box.SIMPLE_HEAD)
    table.add_column("day")
    table.add_column(f"optimal expected return ({config.currency})", justify="right")
    picks = [*order[-shown:][::-1], *order[:shown][::-1]]
    for i in picks:
        table.add_row(config.profile_labels[i], f"{optimum.profile_returns[i]:.4f}")
    return table


scenario_app = typer.Typer(help="List, show and validate scenario files.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("list")
def scenario_list() -> None:
    """The built-in scenarios."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("name")
    table.add_column("kind")
    table.add_column("description")
    for name in builtin_names():
        scenario = _scenario_or_exit(name)
        table.add_row(name, "depot" if is_depot_scenario(name) else "vehicle", scenario.description)
    console.print(table)


def _scenario_or_exit(name_or_path: str) -> Any:
    """A validated scenario of either kind, or one error line and exit code 2."""
    try:
        depot = is_depot_scenario(name_or_path)
        scenario: Any = load_depot_scenario(name_or_path) if depot else load_scenario(name_or_path)
        scenario.to_config()
    except (ScenarioError, ConfigError) as error:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=2) from None
    return scenario


@scenario_app.command("show")
def scenario_show(name: str = typer.Argument(help="Built-in name or YAML file.")) -> None:
    """Print a scenario as YAML (copy it to a file, edit it, validate it)."""
    print(_scenario_or_exit(name).to_yaml(), end="")


@scenario_app.command("validate")
def scenario_validate(path: str = typer.Argument(help="Scenario YAML file.")) -> None:
    """Check a scenario file; one line per outcome, exit code 2 if invalid."""
    scenario = _scenario_or_exit(path)
    config = scenario.to_config()
    if isinstance(config, DepotConfig):
        summary = f"depot, {config.n_chargers} chargers, {config.n_slots} slots"
    else:
        summary = f"{config.n_slots} slots, {config.cost_model} cost model"
    console.print(
        f"{path}: valid scenario {scenario.name!r} ({summary}, {config.n_profiles} price row(s))"
    )


@app.callback()
def root() -> None:
    """Smart charging of electric-vehicle fleets: environments, exact optima, agents."""


@app.command("solve")
@env_options
def solve_command(
    config: ChargingConfig,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Solve the problem exactly (backward induction) and show the optimal policy."""
    solution = solve_all(config)
    if as_json:
        result: dict[str, Any] = {
            "expected_return": solution.expected_return,
            "error_bound": solution.error_bound,
            "grid": solution.grid.describe(),
            "grid_levels_kwh": solution.grid.levels_kwh.tolist(),
            "currency": config.currency,
            "profile_returns": dict(
                zip(
                    config.profile_labels or ("no prices",),
                    solution.profile_returns.tolist(),
                    strict=True,
                )
            ),
        }
        if config.n_profiles == 1:
            result["policy"] = solution.policies[0].tolist()
        print(json.dumps(result))
        return
    console.print(f"grid: {solution.grid.describe()}")
    bound = "" if solution.grid.exact else f" (± {solution.error_bound:.4g}, interpolated grid)"
    unit = f" {config.currency}" if config.currency else ""
    console.print(
        f"[bold]expected optimal return: {solution.expected_return:.8g}{unit}[/]{bound}"
        + (f" (average over {config.n_profiles} price days)" if config.n_profiles > 1 else "")
    )
    if config.n_profiles > 1:
        console.print(_profiles_table(solution))
    console.print(_policy_view(solution))


def _mc_cell(row: PolicyReport) -> str:
    mc = row.monte_carlo
    if mc is None:
        return ""
    return f"{mc.mean_return:.3g} ± {(mc.ci_high - mc.ci_low) / 2:.2g}"


def _reports_table(reports: list[PolicyReport], title: str, config: ChargingConfig) -> Table:
    """Exact figures per policy; the gap is to the optimum's expected return."""
    physical = config.physical
    unit = f" {config.currency}" if config.currency else ""
    caption = (
        f"exact expected values; costs in{unit}: energy + wear = charging, shortfall at departure"
        if physical
        else "exact expected values; cost excludes the penalty"
    )
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1))
    names = ["policy", r"E\[return]", "gap", "gap %", "P(run out)", "kWh"]
    names += ["energy", "wear", "shortfall"] if physical else ["cost"]
    for name in names:
        table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=True)
    if any(r.monte_carlo for r in reports):
        table.add_column("MC mean ± 95% CI", justify="right", no_wrap=True)
    for row in reports:
        value = row.exact
        cells = [
            row.name,
            f"{value.expected_return:.4g}",
            f"{row.gap:.3g}",
            f"{100 * row.relative_gap:.2f}",
            f"{value.shortfall_probability:.2e}",
            f"{value.expected_energy_kwh:.1f}",
        ]
        if physical:
            cells += [
                f"{value.expected_energy_cost:.3f}",
                f"{value.expected_wear_cost:.3f}",
                f"{value.expected_shortfall_cost:.3f}",
            ]
        else:
            cells.append(f"{value.expected_charging_cost:.3g}")
        if row.monte_carlo is not None:
            cells.append(_mc_cell(row))
        table.add_row(*cells)
    return table


@app.command("evaluate")
@env_options
def evaluate_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    policy: str = typer.Option("optimal", "--policy", help="Policy name (see `compare`)."),
    model: Path | None = typer.Option(None, "--model", help="A training run directory."),
    episodes: int | None = typer.Option(
        None,
        "--episodes",
        min=0,
        help="Monte-Carlo episodes [1000; depots: 20].",
        show_default=False,
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte-Carlo episodes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Exact expected return and a Monte-Carlo check of one policy or trained agent; for a
    depot scenario, the policy against the per-episode hindsight bound."""
    if depot is not None:
        baselines: dict[str, Any] = dict(depot_baselines(depot))
        if model is not None:
            from smartcharging.agents.depot_training import load_depot_policy

            chosen_depot: Any = load_depot_policy(model, depot)
        elif policy in baselines:
            chosen_depot = baselines[policy]
        else:
            raise CliError(f"--policy {policy!r}: depot policies are {', '.join(baselines)}")
        count = 20 if episodes is None else episodes
        _depot_report(depot, [chosen_depot], count, seed, as_json, False, None)
        return
    episodes = 1000 if episodes is None else episodes
    solution = solve_all(config)
    if model is not None:
        chosen, _ = load_policy(model, config)
    else:
        chosen = policy_by_name(policy, config, lambda: solution, seed)
    with _progress() as progress:
        progress.add_task(f"evaluating {chosen.name}", total=None)
        result = report(chosen, solution, episodes, seed)
    if as_json:
        print(json.dumps({**result.as_dict(), "optimal_return": solution.expected_return}))
        return
    title = f"{chosen.name} (optimum {solution.expected_return:.6g})"
    console.print(_reports_table([result], title, config))


def _write_plots(
    config: ChargingConfig,
    solution: Optimum,
    folder: Path,
    seed: int,
    models: dict[Path, Policy] | None = None,
) -> list[Path]:
    from smartcharging import plots

    models = models or {}
    policies = all_policies(config, solution, seed)
    trained = list(models.values())
    shown = [policies["optimal"], *trained, *(p for n, p in policies.items() if n != "optimal")]
    trajectory_policies = [policies["optimal"], *trained, policies["quantile-0.99"]]
    paths = [
        plots.policy_maps(shown, config, solution.grid, folder / "policy_maps.png"),
        plots.trajectories(trajectory_policies, config, folder / "trajectories.png", seed=seed),
    ]
    if config.physical:
        scheduled = [
            policies["optimal"],
            *trained,
            *(p for n, p in policies.items() if n.startswith(("cheapest", "asap"))),
        ]
        paths.append(plots.price_schedules(scheduled, config, folder / "prices.png", seed))
    for run_dir, policy in models.items():
        curve = read_curve(run_dir / "curve.csv")
        name = policy.name.replace(":", "_").replace("/", "_")
        paths.append(plots.learning_curve(curve, policy.name, folder / f"curve_{name}.png"))
    return paths


@app.command("compare")
@env_options
def compare_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    episodes: int = typer.Option(
        0,
        "--episodes",
        min=0,
        help="Monte-Carlo episodes per policy (depots: episodes "
        "against the hindsight bound, 20 if 0).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte-Carlo episodes and random."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
    plots_dir: Path | None = typer.Option(None, "--plots", help="Write PNG figures here."),
    model: list[Path] = typer.Option([], "--model", help="Training run directory (repeatable)."),
) -> None:
    """Every baseline, trained agents and the optimum, exactly evaluated, best first; for a
    depot scenario, every depot baseline against each episode's hindsight bound."""
    if depot is not None:
        from smartcharging.agents.depot_training import load_depot_policy

        policies_ = [
            *depot_baselines(depot).values(),
            *(load_depot_policy(folder, depot) for folder in model),
        ]
        _depot_report(depot, policies_, episodes or 20, seed, as_json, as_csv, plots_dir)
        return
    solution = solve_all(config)
    models = {folder: load_policy(folder, config)[0] for folder in model}
    policies: dict[str, Policy] = {
        **all_policies(config, solution, seed),
        **{p.name: p for p in models.values()},
    }
    with _progress() as progress:
        task = progress.add_task("evaluating policies", total=len(policies))
        reports = compare(
            policies.values(), solution, episodes, seed, lambda _: progress.advance(task)
        )
    rows = [r.as_dict() for r in reports]
    if as_json:
        print(json.dumps(rows))
    elif as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        console.print(
            _reports_table(
                reports, f"Policies against the exact optimum ({solution.grid.describe()})", config
            )
        )
    if plots_dir is not None:
        for path in _write_plots(config, solution, plots_dir, seed, models):
            Console(stderr=True).print(f"wrote {path}")


def _depot_report(
    depot: DepotConfig,
    policies: list[Any],
    episodes: int,
    seed: int,
    as_json: bool,
    as_csv: bool,
    plots_dir: Path | None,
) -> None:
    """Run depot policies on the same episodes and show them against the hindsight bound."""
    with _progress() as progress:
        task = progress.add_task("depot episodes", total=len(policies) + 1)
        comparison = compare_depot(
            depot, policies, episodes, seed, lambda _: progress.advance(task)
        )
    rows = comparison.rows()
    bound = float(comparison.bounds.mean())
    if as_json:
        print(
            json.dumps(
                {
                    "hindsight_bound": bound,
                    "episodes": episodes,
                    "exact_levels": comparison.exact_levels,
                    "policies": rows,
                }
            )
        )
    elif as_csv:
        out = io.StringIO()
        fields = [k for k in rows[0] if k != "per_episode_gap"]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        unit = f" {depot.currency}" if depot.currency else ""
        kind = "MILP, exact levels" if comparison.exact_levels else "LP relaxation"
        table = Table(
            title=f"Depot policies against the hindsight bound ({episodes} episodes; bound "
            f"{bound:.2f}{unit} per episode, {kind})",
            caption=f"means per episode, costs in{unit}; gap = bound - return, per episode",
            box=box.SIMPLE_HEAD,
        )
        names = [
            "policy",
            "return",
            "gap",
            "worst gap",
            "energy",
            "wear",
            "shortfall",
            "demand chg",
            "short kWh",
            "peak kW",
        ]
        for name in names:
            table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=True)
        for row in rows:
            table.add_row(
                row["policy"],
                f"{row['mean_return']:.2f}",
                f"{row['mean_gap_to_hindsight']:.2f}",
                f"{row['max_gap_to_hindsight']:.2f}",
                f"{row['energy_cost']:.2f}",
                f"{row['wear_cost']:.2f}",
                f"{row['shortfall_cost']:.2f}",
                f"{row['demand_charge']:.2f}",
                f"{row['shortfall_kwh']:.1f}",
                f"{row['peak_grid_kw']:.1f}",
            )
        console.print(table)
    if plots_dir is not None:
        from smartcharging import plots

        for path in plots.depot_figures(comparison, depot, plots_dir):
            Console(stderr=True).print(f"wrote {path}")


@app.command("train")
@env_options
def train_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    algo: str | None = typer.Option(
        None, "--algo", help=f"Algorithm: {', '.join(ALGORITHMS)}.", show_default=False
    ),
    steps: int = typer.Option(20_000_000, "--steps", help="Environment steps (transitions)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the environment and the agent."),
    out: Path | None = typer.Option(None, "--out", help="New run directory."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this run directory."),
    num_envs: int | None = typer.Option(
        None,
        "--num-envs",
        help="Copies of the batch environment (default per algorithm; "
        "depots: 8 depots, all their chargers learning one shared policy).",
    ),
    checkpoints: int = typer.Option(20, "--checkpoints", help="Exact evaluations and saves."),
    reward_scale: float | None = typer.Option(
        None,
        "--reward-scale",
        help="Divide rewards by this while learning (default: the shortfall penalty).",
    ),
) -> None:
    """Train an agent; checkpoints carry its exact optimality gap (curve.csv). On a depot
    scenario, PPO or A2C for the whole depot, scored against the hindsight bound."""
    if depot is not None:
        _train_depot(depot, algo, steps, seed, out, resume, num_envs, checkpoints)
        return
    if resume is not None:
        run = Run.resume(resume)
        console.print(f"resuming {resume} at step {run.trainer.steps_done:,}")
    else:
        if algo is None or out is None:
            raise CliError("--algo and --out are required (or --resume DIR)")
        if algo not in ALGORITHMS:
            raise CliError(f"--algo {algo!r}: choose one of {', '.join(ALGORITHMS)}")
        if steps < 1:
            raise CliError(f"--steps {steps}: must be >= 1")
        spec = RunSpec(
            algo=algo,
            total_steps=steps,
            seed=seed,
            config=config,
            num_envs=default_num_envs(algo) if num_envs is None else num_envs,
            checkpoints=checkpoints,
            reward_scale=reward_scale,
        )
        run = Run.start(out, spec)
    spec = run.spec
    with Progress(
        TextColumn(f"training {spec.algo}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("exact gap {task.fields[gap]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as progress:
        task = progress.add_task("train", total=spec.total_steps, gap="-")

        def show(point: CurvePoint) -> None:
            progress.update(
                task,
                completed=min(point.steps, spec.total_steps),
                gap=f"{100 * point.relative_gap:.3f}%",
            )

        final = run.train(show)
    from smartcharging import plots

    plots.learning_curve(
        read_curve(run.folder / "curve.csv"), spec.algo, run.folder / "learning_curve.png"
    )
    console.print(
        f"{spec.algo}: {final.steps:,} steps, {final.wall_time_s:.1f} s, exact expected return "
        f"{final.expected_return:.6g} (optimum {final.optimal_return:.6g}, gap "
        f"{100 * final.relative_gap:.3f}%); run in {run.folder}"
    )


def _train_depot(
    depot: DepotConfig,
    algo: str | None,
    steps: int,
    seed: int,
    out: Path | None,
    resume: Path | None,
    num_envs: int | None,
    checkpoints: int,
) -> None:
    """Train PPO or A2C for a whole depot, with a progress bar of the evaluation return."""
    from smartcharging.agents.depot_training import DepotCheckpoint, train_depot

    if resume is not None:
        raise CliError("--resume: depot runs cannot be resumed yet; start a new --out")
    if algo is None or out is None:
        raise CliError("--algo and --out are required")
    with Progress(
        TextColumn(f"training {algo} on the depot"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("mean return {task.fields[value]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as progress:
        task = progress.add_task("train", total=steps, value="-")

        def show(point: DepotCheckpoint) -> None:
            progress.update(
                task,
                completed=min(point.steps, steps),
                value=f"{point.mean_return:.2f} (bound {point.hindsight_bound:.2f})",
            )

        final = train_depot(depot, algo, steps, seed, out, num_envs or 8, checkpoints, show)
    console.print(
        f"{algo}: {final.steps:,} steps, {final.wall_time_s:.1f} s, mean return "
        f"{final.mean_return:.2f} on the evaluation episodes (hindsight bound "
        f"{final.hindsight_bound:.2f}, gap {final.gap:.2f}); run in {out}"
    )


@app.command("demo")
@env_options
def demo_command(
    config: ChargingConfig,
    seed: int = typer.Option(0, "--seed", help="Seed of the episode and the agent."),
    steps: int = typer.Option(20_000_000, "--steps", min=1, help="Q-learning steps."),
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for runs and figures."),
) -> None:
    """Render an optimal episode, train a Q-learning agent, compare it with every policy."""
    solution = solve_all(config)
    optimal = TablePolicy.optimal(solution)
    env = SmartChargingEnv(config=config, render_mode="ansi")
    observation, _ = env.reset(seed=seed)
    console.print("[bold]1. One episode under the exact optimal policy[/]")
    console.print(env.render(), markup=False, highlight=False)
    total, terminated = 0.0, False
    while not terminated:
        observation, reward, terminated, _, _ = env.step(optimal.act(observation))
        total += float(reward)
        console.print(env.render(), markup=False, highlight=False)
    console.print(f"return {total:.6g}\n")
    run_dir = out / "qlearning-run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    console.print(f"[bold]2. Training tabular Q-learning for {steps:,} steps[/] ({run_dir})")
    spec = RunSpec("qlearning", steps, seed, config, default_num_envs("qlearning"), checkpoints=10)
    point = Run.start(run_dir, spec).train()
    console.print(
        f"trained in {point.wall_time_s:.1f} s: exact gap {100 * point.relative_gap:.3f}%\n"
    )
    agent, _ = load_policy(run_dir, config)
    console.print("[bold]3. Every policy against the exact optimum[/]")
    policies = [*all_policies(config, solution, seed).values(), agent]
    console.print(_reports_table(compare(policies, solution), "Policies, best first", config))
    for path in _write_plots(config, solution, out, seed, {run_dir: agent}):
        console.print(f"wrote {path}")


def main() -> None:
    """Console-script entry point: every usage error is one line and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/] {error.format_message()}", highlight=False
        )
        sys.exit(2 if error.exit_code == 1 else error.exit_code)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
