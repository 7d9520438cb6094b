"""The ``smartcharging`` command line: solve, evaluate, compare, train, scenario, demo.

Every command takes the environment parameters as options (added by
:func:`smartcharging.cli.options.env_options`), so ``smartcharging compare --capacity 60
--power-levels 0,11,22`` studies another vehicle. Errors are one line on stderr and exit
code 2.
"""

import csv
import functools
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from smartcharging.agents.run_directory import RunKind
from smartcharging.agents.runs import (
    ALGORITHMS,
    Run,
    RunSpec,
    default_num_envs,
    load_policy,
)
from smartcharging.cli.demo_folder import claimed_run_folder
from smartcharging.cli.depot import depot_report
from smartcharging.cli.interrupts import InterruptibleGroup
from smartcharging.cli.models import (
    ModelOptions,
    algo_option,
    checkpoint_option,
    load_depot_model,
    load_vehicle_model,
    raw_observations_option,
    scaled_observations_option,
)
from smartcharging.cli.options import (
    ENVIRONMENT_ERROR,
    INTERRUPTED,
    CliError,
    address_option,
    check_output_folder,
    describe_os_error,
    env_options,
    fail,
    print_json,
    refuse_with_resume,
)
from smartcharging.cli.output import (
    console,
    policy_view,
    print_table,
    problem_line,
    profiles_table,
    progress_bar,
    reports_table,
    v2g_table,
)
from smartcharging.cli.quiet import quiet_third_party
from smartcharging.cli.routing import algorithms, run_training, training_kind
from smartcharging.cli.scenario import scenario_app
from smartcharging.cli.tune import tune_command
from smartcharging.config import limits
from smartcharging.config.depot import DepotConfig
from smartcharging.config.validation import shorten
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import SmartChargingEnv
from smartcharging.evaluation.v2g import v2g_value
from smartcharging.evaluation.vehicle import compare, report
from smartcharging.policies import Policy, TablePolicy, all_policies, policy_by_name
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import (
    depot_policy_by_name,
    depot_policy_names,
    planning_policies,
)
from smartcharging.policies.v2g import ChargeOnlyOptimum
from smartcharging.solvers.vehicle.dp import solve_all

app = typer.Typer(
    help="Smart charging of electric-vehicle fleets: environments, exact optima, agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help texts are plain: "[0, 1]" and "[default]" are not markup
    cls=InterruptibleGroup,
)
app.add_typer(scenario_app, name="scenario")
app.command("tune")(tune_command)


def show_version(value: bool) -> None:
    """``--version``: print the package's version and stop, before any command runs."""
    if value:
        from smartcharging import __version__

        print(f"smartcharging {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=show_version,
        is_eager=True,
        help="Print the version of smartcharging and exit.",
    ),
) -> None:
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
        print_json(result)
        return
    kind = problem_line(config)
    if kind is not None:
        console.print(kind, highlight=False)
    console.print(f"grid: {solution.grid.describe()}")
    bound = "" if solution.grid.exact else f" (± {solution.error_bound:.4g}, interpolated grid)"
    unit = f" {config.currency}" if config.currency else ""
    console.print(
        f"[bold]expected optimal return: {solution.expected_return:.8g}{unit}[/]{bound}"
        + (f" (average over {config.n_profiles} price days)" if config.n_profiles > 1 else "")
    )
    if config.n_profiles > 1:
        print_table(profiles_table(solution))
    print_table(policy_view(solution))


@app.command("evaluate")
@env_options
def evaluate_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    policy: str | None = typer.Option(
        None,
        "--policy",
        help="Policy name (see `compare`) [optimal; required for depot scenarios].",
        show_default=False,
    ),
    model: Path | None = typer.Option(
        None,
        "--model",
        help="A training run directory, or a Stable-Baselines3 model file (model.zip) saved "
        "by your own script.",
    ),
    algo: str | None = algo_option(),
    raw_observations: bool = raw_observations_option(),
    scaled_observations: bool = scaled_observations_option(),
    checkpoint: str | None = checkpoint_option(),
    episodes: int | None = typer.Option(
        None,
        "--episodes",
        min=0,
        max=limits.MAX_EPISODES,
        help="Monte-Carlo episodes [1000; depots: 20].",
        show_default=False,
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, max=limits.MAX_SEED, help="Seed of the Monte-Carlo episodes."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Exact expected return and a Monte-Carlo check of one policy or trained agent.

    A model file is loaded without running code from it (nothing in it is unpickled);
    whether it sees observations scaled to [0, 1] or as the environment emits them is read
    from its observation_space. How its rewards were scaled in training does not matter, it
    is scored in the environment's own reward. A run directory gives its final model
    (--checkpoint best: its best checkpoint).

    For a depot scenario: the policy against each episode's hindsight and Lagrangian bounds.
    """
    if policy is not None and model is not None:
        raise CliError("--policy and --model exclude each other: evaluate one of them")
    options = ModelOptions.checked(
        [] if model is None else [model], algo, raw_observations, scaled_observations, checkpoint
    )
    if depot is not None:
        if model is not None:
            chosen_depot: Any = load_depot_model(model, depot, options).policy
        elif policy is None:
            names = ", ".join(depot_policy_names(depot))
            raise CliError(f"--policy is required for a depot scenario: one of {names}")
        else:
            chosen_depot = named_policy(lambda: depot_policy_by_name(policy, depot))
        count = 20 if episodes is None else episodes
        depot_report(depot, [chosen_depot], count, seed, as_json, False, None)
        return
    episodes = 1000 if episodes is None else episodes
    solve = functools.cache(lambda: solve_all(config))
    chosen: Policy
    loaded = None
    if model is None:  # an unknown name fails before the solver runs
        chosen = named_policy(lambda: policy_by_name(policy or "optimal", config, solve, seed))
    solution = solve()
    if model is not None:
        loaded = load_vehicle_model(model, config, options)
        chosen = loaded.policy
    with progress_bar() as progress:
        progress.add_task(f"evaluating {chosen.name}", total=None)
        result = report(chosen, solution, episodes, seed)
    extra = {} if loaded is None else loaded.fields()
    if as_json:
        print_json({**result.as_dict(), "optimal_return": solution.expected_return, **extra})
        return
    what = "" if loaded is None else f", {loaded.describe()}"
    title = f"{chosen.name}{what} (optimum {solution.expected_return:.6g})"
    print_table(reports_table([result], title, config))


def named_policy(lookup: Callable[[], Any]) -> Any:
    """The policy ``lookup`` finds by its ``--policy`` name; an unknown name is a usage
    error naming the option."""
    try:
        return lookup()
    except KeyError as error:
        raise CliError(f"--policy: {error.args[0]}") from None


def distinct_names(models: dict[Path, Any]) -> None:
    """Name trained agents by their whole path where two share a folder name, so that no
    row of a comparison hides another."""
    names = [policy.name for policy in models.values()]
    for folder, policy in models.items():
        if names.count(policy.name) > 1:
            policy.name = f"{policy.name.split(':')[0]}:{folder}"


@app.command("compare")
@env_options
def compare_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    episodes: int = typer.Option(
        0,
        "--episodes",
        min=0,
        max=limits.MAX_EPISODES,
        help="Monte-Carlo episodes per policy (0: exact values only; depots: episodes "
        "against the bounds, 20 if 0).",
    ),
    seed: int = typer.Option(
        0,
        "--seed",
        min=0,
        max=limits.MAX_SEED,
        help="Seed of the Monte-Carlo episodes and of the random policy.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
    plots_dir: Path | None = typer.Option(None, "--plots", help="Write PNG figures here."),
    model: list[Path] = typer.Option(
        [],
        "--model",
        metavar="PATH",
        help="A training run directory, or a Stable-Baselines3 model file (model.zip) saved "
        "by your own script (repeatable).",
    ),
    algo: str | None = algo_option(),
    raw_observations: bool = raw_observations_option(),
    scaled_observations: bool = scaled_observations_option(),
    checkpoint: str | None = checkpoint_option(),
) -> None:
    """Every baseline, trained agents and the optimum, exactly evaluated, best first.

    --model takes what `evaluate --model` takes: run directories (their final model, or
    --checkpoint best) and model files (observations read from the file).

    For a depot scenario: every depot baseline, MPC and the Lagrangian decomposition against
    each episode's hindsight and Lagrangian bounds.
    """
    if as_json and as_csv:
        raise CliError("--json and --csv exclude each other: choose one output format")
    if plots_dir is not None:
        check_output_folder("--plots", plots_dir)
    if len(set(model)) != len(model):
        raise CliError("--model: the same run directory or model file is given twice")
    options = ModelOptions.checked(model, algo, raw_observations, scaled_observations, checkpoint)
    if depot is not None:
        agents = {path: load_depot_model(path, depot, options).policy for path in model}
        distinct_names(agents)
        policies_ = [
            *depot_baselines(depot).values(),
            *planning_policies(depot).values(),
            *agents.values(),
        ]
        depot_report(depot, policies_, episodes or 20, seed, as_json, as_csv, plots_dir)
        return
    solution = solve_all(config)
    loaded = {path: load_vehicle_model(path, config, options) for path in model}
    models = {path: found.policy for path, found in loaded.items()}
    distinct_names(models)
    policies: dict[str, Policy] = {
        **all_policies(config, solution, seed),
        **{p.name: p for p in models.values()},
    }
    with progress_bar() as progress:
        task = progress.add_task("evaluating policies", total=len(policies))
        reports = compare(
            policies.values(), solution, episodes, seed, lambda _: progress.advance(task)
        )
    extra = {found.policy.name: found.fields() for found in loaded.values()}
    rows = [{**r.as_dict(), **extra.get(r.name, {})} for r in reports]
    if as_json:
        print_json(rows)
    elif as_csv:
        out = io.StringIO()
        fields = list(dict.fromkeys(name for row in rows for name in row))
        writer = csv.DictWriter(out, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        runs = any(found.checkpoint is not None for found in loaded.values())
        at = f"; runs at their {options.checkpoint} checkpoint" if runs else ""
        title = f"Policies against the exact optimum ({solution.grid.describe()}){at}"
        print_table(reports_table(reports, title, config))
        if config.v2g:
            by_name = {r.name: r for r in reports}
            value = v2g_value(config, by_name["optimal"], by_name[ChargeOnlyOptimum.name])
            print_table(v2g_table(value, config))
    if plots_dir is not None:
        from smartcharging.plots import policy_figures

        for path in policy_figures(config, solution, plots_dir, seed, models):
            Console(stderr=True).print(f"wrote {path}")


@app.command("train")
@env_options
def train_command(
    config: ChargingConfig,
    depot: DepotConfig | None,
    algo: str | None = typer.Option(
        None, "--algo", help=f"Algorithm: {', '.join(ALGORITHMS)}.", show_default=False
    ),
    steps: int | None = typer.Option(
        None,
        "--steps",
        min=1,
        max=limits.MAX_TRAINING_STEPS,
        help="Environment steps (transitions) [qlearning: 20M; SB3: the shipped "
        "hyperparameters' n_timesteps; depots: charger steps after imitating MPC, "
        "hyperparams/depot-<algo>.yml's n_timesteps].",
        show_default=False,
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        min=0,
        max=limits.MAX_SEED,
        help="Seed of the environment and the agent [0].",
        show_default=False,
    ),
    out: Path | None = typer.Option(None, "--out", help="New run directory."),
    resume: Path | None = typer.Option(None, "--resume", help="Continue this run directory."),
    num_envs: int | None = typer.Option(
        None,
        "--num-envs",
        min=1,
        max=limits.MAX_COPIES,
        help="Copies of the batch environment (default per algorithm; "
        "depots: hyperparams/depot-<algo>.yml's n_envs depots, all their chargers "
        "learning one shared policy).",
    ),
    checkpoints: int | None = typer.Option(
        None,
        "--checkpoints",
        min=1,
        max=limits.MAX_CHECKPOINTS,
        help="Exact evaluations and saves [20].",
        show_default=False,
    ),
    reward_scale: float | None = typer.Option(
        None,
        "--reward-scale",
        help="Divide rewards by this while learning (default: the shortfall penalty).",
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local: this process (qlearning, dqn, ppo, a2c); rllib: Ray RLlib (ppo, dqn, "
        "appo, impala; needs the scale extra).",
    ),
    num_env_runners: int | None = typer.Option(
        None,
        "--num-env-runners",
        min=0,
        help="RLlib env runner processes, each stepping its own batch env [0: sample in "
        "the training process].",
        show_default=False,
    ),
    address: str | None = typer.Option(
        None,
        "--address",
        callback=address_option,
        help="RLlib: the Ray cluster to run on ('auto': the one `ray start --head` started "
        "here) [a local Ray with this machine's cores].",
        show_default=False,
    ),
    tensorboard: Path | None = typer.Option(
        None,
        "--tensorboard",
        metavar="DIR",
        help="Also log training to this folder for TensorBoard (SB3's train/ and rollout/ "
        "values, each checkpoint's exact gap): dqn, ppo and a2c on one vehicle; then "
        "`tensorboard --logdir DIR`.",
        show_default=False,
    ),
) -> None:
    """Train an agent; every checkpoint carries its exact optimality gap (curve.csv).

    On a depot scenario: PPO or A2C, one policy shared by the chargers (MPC imitated first),
    each checkpoint's E[return] scored against the Lagrangian bound, MPC's beside it.
    """
    kind = training_kind(engine, depot, resume)
    engine = kind.engine
    if engine == "local" and (num_env_runners is not None or address is not None):
        raise CliError("--num-env-runners and --address need --engine rllib")
    if engine == "rllib" and (num_envs is not None or reward_scale is not None):
        raise CliError("--num-envs and --reward-scale apply to --engine local, not rllib")
    if engine == "rllib" and resume is not None and num_env_runners is not None:
        raise CliError(
            "--num-env-runners cannot be combined with --resume: a resumed run keeps the "
            "settings in its run.json"
        )
    if resume is not None:
        refuse_with_resume(
            {
                "--algo": algo is not None,
                "--out": out is not None,
                "--steps": steps is not None,
                "--seed": seed is not None,
                "--num-envs": num_envs is not None,
                "--checkpoints": checkpoints is not None,
                "--reward-scale": reward_scale is not None,
            }
        )
    elif algo is None or out is None:
        raise CliError("--algo and --out are required (or --resume DIR)")
    else:
        check_output_folder("--out", out)
        allowed = algorithms(kind)
        if algo not in allowed:
            choose = "depot agents train with" if depot is not None else "choose one of"
            raise CliError(f"--algo {algo!r}: {choose} {', '.join(allowed)}")
        if depot is not None and reward_scale is not None:
            raise CliError(
                "--reward-scale does not apply to a depot scenario (its agents "
                "scale rewards by the depot's own cost)"
            )
    if tensorboard is not None:
        check_tensorboard(tensorboard, kind, algo)
    seed = 0 if seed is None else seed
    checkpoints = 20 if checkpoints is None else checkpoints
    run_training(
        kind,
        config,
        depot,
        algo,
        steps,
        seed,
        out,
        resume,
        num_envs,
        num_env_runners,
        address,
        checkpoints,
        reward_scale,
        tensorboard,
    )


def check_tensorboard(folder: Path, kind: RunKind, algo: str | None) -> None:
    """Refuse ``--tensorboard`` before training where it cannot log: another engine, a
    depot run, Q-learning (a resumed run's algorithm is checked when it is read), an
    unusable folder, or TensorBoard not installed."""
    if kind.engine != "local":
        raise CliError("--tensorboard applies to --engine local (SB3's dqn, ppo and a2c)")
    if kind.depot:
        raise CliError("--tensorboard applies to single-vehicle runs, not depot scenarios")
    if algo == "qlearning":
        raise CliError(
            "--tensorboard applies to dqn, ppo and a2c (Stable-Baselines3), not qlearning"
        )
    check_output_folder("--tensorboard", folder)
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        raise CliError(
            "--tensorboard needs TensorBoard: pip install tensorboard (or 'smartcharging[rl]')"
        ) from None


@app.command("demo")
@env_options
def demo_command(
    config: ChargingConfig,
    seed: int = typer.Option(
        0, "--seed", min=0, max=limits.MAX_SEED, help="Seed of the episode and the agent."
    ),
    steps: int = typer.Option(
        20_000_000, "--steps", min=1, max=limits.MAX_TRAINING_STEPS, help="Q-learning steps."
    ),
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for runs and figures."),
) -> None:
    """Render an optimal episode, train a Q-learning agent, compare it with every policy."""
    check_output_folder("--out", out)
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
    spec = RunSpec(
        "qlearning", steps, seed, config, default_num_envs("qlearning", config), checkpoints=10
    )
    with claimed_run_folder(out) as run_dir:
        console.print(f"[bold]2. Training tabular Q-learning for {steps:,} steps[/] ({run_dir})")
        point = Run.start(run_dir, spec).train()
    console.print(
        f"trained in {point.wall_time_s:.1f} s: exact gap {100 * point.relative_gap:.3f}%\n"
    )
    agent, _ = load_policy(run_dir, config)
    console.print("[bold]3. Every policy against the exact optimum[/]")
    policies = [*all_policies(config, solution, seed).values(), agent]
    print_table(reports_table(compare(policies, solution), "Policies, best first", config))
    from smartcharging.plots import policy_figures

    for path in policy_figures(config, solution, run_dir, seed, {run_dir: agent}):
        console.print(f"wrote {path}")


def with_bad_value(error: typer.TyperException, message: str) -> str:
    """The message of a rejected option value, with the value (shortened) put in: the
    parser's own message names the option and the rule, not what the user typed."""
    cause = error.__cause__ or error.__context__
    inputs = [
        problem["input"]
        for problem in getattr(cause, "errors", lambda: [])()
        if isinstance(problem, dict) and "input" in problem
    ]
    prefix = "Invalid value for "
    if not inputs or not message.startswith(prefix):
        return message
    shown = shorten(repr(inputs[0]) if isinstance(inputs[0], str) else str(inputs[0]))
    return f"Invalid value {shown} for {message.removeprefix(prefix)}"


def main() -> None:
    """Console-script entry point: every error is one line on stderr, with exit status 2
    for a usage error and 1 for an environment error (see the README's error contract)."""
    quiet_third_party()
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        code = 2 if error.exit_code == 1 else error.exit_code
        if type(error).__name__ == "NoArgsIsHelpError":  # no command: the help, no error
            print(error.format_message())
            sys.exit(code)
        message = with_bad_value(error, error.format_message())
        raise SystemExit(fail(message, code).exit_code) from None
    except typer.Abort:  # end of input at a prompt
        raise SystemExit(fail("interrupted", INTERRUPTED).exit_code) from None
    except OSError as error:
        raise SystemExit(fail(describe_os_error(error), ENVIRONMENT_ERROR).exit_code) from None
    except Exception as error:  # a bug: still one line, never a traceback
        message = f"internal error (please report it): {type(error).__name__}: {error}"
        raise SystemExit(fail(message, ENVIRONMENT_ERROR).exit_code) from None
    sys.exit(code if isinstance(code, int) else 0)
