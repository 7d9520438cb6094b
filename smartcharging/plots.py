"""Figures: policy maps (battery level x time step -> power) and battery trajectories."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from smartcharging.agents.run_directory import CURVE_FILE
from smartcharging.agents.runs import CurvePoint, read_curve
from smartcharging.atomic_files import write_atomically
from smartcharging.config.depot import DepotConfig
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import SmartChargingEnv, format_clock
from smartcharging.evaluation.depot import DepotComparison
from smartcharging.evaluation.vehicle import grid_observations
from smartcharging.policies.base import Policy
from smartcharging.policies.registry import all_policies
from smartcharging.policies.v2g import ChargeOnlyOptimum
from smartcharging.solvers.vehicle.dp import Optimum
from smartcharging.solvers.vehicle.grid import BatteryGrid


def save(fig: Figure, path: Path) -> None:
    """Save and close ``fig`` as ``path`` (its format from the suffix), atomically: an
    interrupted save leaves the previous figure, not an empty or half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda temporary: fig.savefig(temporary, dpi=110))
    finally:
        plt.close(fig)


def _slot_labels(config: ChargingConfig) -> list[str]:
    return [
        format_clock(config.arrival_hour + t * config.slot_hours) for t in range(config.n_slots)
    ]


def policy_maps(
    policies: list[Policy], config: ChargingConfig, grid: BatteryGrid, path: Path
) -> Path:
    """One panel per deterministic policy: the power chosen at each battery level and time
    step (stochastic policies have no single map and are left out)."""
    policies = [policy for policy in policies if policy.deterministic]
    observations = grid_observations(config, grid)
    n = len(policies)
    columns = min(n, 4)
    rows = -(-n // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(3.2 * columns, 3.6 * rows),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    cmap = plt.get_cmap("viridis", config.n_actions)
    image = None
    for ax, policy in zip(axes.ravel(), policies, strict=False):
        actions = policy.probabilities(observations).argmax(axis=1)
        table = actions.reshape(config.n_slots, grid.size).T
        image = ax.imshow(
            table,
            origin="lower",
            aspect="auto",
            cmap=cmap,
            vmin=-0.5,
            vmax=config.n_actions - 0.5,
            extent=(-0.5, config.n_slots - 0.5, 0, config.capacity_kwh),
            interpolation="nearest",
        )
        ax.set_title(policy.name, fontsize=10)
        ax.set_xticks(range(config.n_slots), _slot_labels(config), rotation=90, fontsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("battery at slot start (kWh)")
    if image is not None:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), ticks=range(config.n_actions))
        bar.ax.set_yticklabels([f"{p:g} kW" for p in config.power_levels_kw])
    fig.suptitle("Charging power by battery level and time")
    save(fig, path)
    return path


def trajectories(
    policies: list[Policy], config: ChargingConfig, path: Path, episodes: int = 30, seed: int = 0
) -> Path:
    """Battery level over sampled episodes per policy, with the demand density at departure.

    Every policy sees the same arrival levels (same seed); the shaded profile at departure is
    the next-shift demand distribution, so the share of trajectories ending below it is the
    chance of running out.
    """
    fig, axes = plt.subplots(
        1,
        len(policies),
        figsize=(3.4 * len(policies), 3.6),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    demand = stats.norm(config.demand_mean_kwh, config.demand_sd_kwh)
    levels = np.linspace(0, config.capacity_kwh, 300)
    density = demand.pdf(levels)
    width = 0.8 * density / density.max()
    for ax, policy in zip(axes[0], policies, strict=True):
        env = SmartChargingEnv(config=config)
        observation, _ = env.reset(seed=seed)
        for _ in range(episodes):
            path_kwh = [float(observation[0])]
            terminated = False
            while not terminated:
                observation, _, terminated, _, info = env.step(policy.act(observation))
                path_kwh.append(path_kwh[-1] + info["energy_kwh"])
            ax.plot(range(config.n_slots + 1), path_kwh, color="tab:blue", alpha=0.35, lw=1)
            observation, _ = env.reset()
        ax.fill_betweenx(levels, config.n_slots, config.n_slots + width, color="tab:red", alpha=0.4)
        ax.set_title(policy.name, fontsize=10)
        ax.set_xlabel("time step (departure at right)")
        ax.set_xlim(0, config.n_slots + 1)
    axes[0, 0].set_ylabel("battery (kWh)")
    fig.suptitle("Battery trajectories; red: next-shift demand distribution")
    save(fig, path)
    return path


def learning_curve(points: list[CurvePoint], name: str, path: Path) -> Path:
    """Exact expected return of the greedy policy over training, the optimum as a line."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    steps = [p.steps for p in points]
    left.plot(steps, [p.expected_return for p in points], marker="o", label=name)
    left.axhline(points[0].optimal_return, color="black", ls="--", label="exact optimum")
    left.set_yscale("symlog", linthresh=abs(points[0].optimal_return))
    left.set_xlabel("environment steps")
    left.set_ylabel("exact expected return")
    left.legend()
    right.plot(steps, [max(100 * p.relative_gap, 1e-4) for p in points], marker="o")
    right.set_yscale("log")
    right.set_xlabel("environment steps")
    right.set_ylabel("gap to optimum (%)")
    fig.suptitle(f"Learning curve of {name}, evaluated exactly at each checkpoint")
    save(fig, path)
    return path


def price_schedules(
    policies: list[Policy],
    config: ChargingConfig,
    path: Path,
    seed: int = 0,
    profile: int = 0,
    arrival_quantile: float = 0.2,
) -> Path:
    """Prices over the window (top) and each policy's average power in each slot (below:
    the energy moved over the slot's length, negative while discharging), for one episode
    with the same price day, demand and arrival level (the ``arrival_quantile`` of the
    arrival distribution: low by default) for every policy."""
    clock = [config.arrival_hour + t * config.slot_hours for t in range(config.n_slots + 1)]
    fig, axes = plt.subplots(
        2, 1, figsize=(9, 5.5), sharex=True, layout="constrained", height_ratios=(1, 2)
    )
    prices = config.prices[profile]
    axes[0].step(clock, [*prices, prices[-1]], where="post", color="tab:red")
    unit = config.currency or "currency"
    axes[0].set_ylabel(f"price ({unit}/kWh)")
    label = config.profile_labels[profile] if config.profile_labels else ""
    levels = config.start_levels_kwh
    arrival_kwh = float(levels[min(int(len(levels) * arrival_quantile), len(levels) - 1)])
    arrival = None
    for offset, policy in enumerate(policies):
        env = SmartChargingEnv(config=config)
        options: dict[str, object] = {"battery_kwh": arrival_kwh}
        if config.physical:
            options["profile"] = profile
        observation, info = env.reset(seed=seed, options=options)
        arrival = info["battery_kwh"]
        powers, terminated = [], False
        while not terminated:
            observation, _, terminated, _, info = env.step(policy.act(observation))
            powers.append(info["energy_kwh"] / config.slot_hours)
        shift = 0.15 * offset  # keep overlapping schedules visible
        axes[1].step(
            clock, [p + shift for p in [*powers, powers[-1]]], where="post", label=policy.name
        )
    axes[1].set_ylabel("mean power (kW, < 0: discharging)" if config.v2g else "mean power (kW)")
    axes[1].set_xlabel("hour (past 24 = next day)")
    axes[1].legend(fontsize=8, ncol=2)
    fig.suptitle(f"Prices {label} and power schedules (arrival at {arrival:g} kWh)")
    save(fig, path)
    return path


def v2g_figures(
    config: ChargingConfig,
    solution: Optimum,
    policies: dict[str, Policy],
    folder: Path,
    seed: int,
) -> list[Path]:
    """The value of V2G per price night (the V2G optimum minus the charge-only optimum,
    both exact), and the charge/discharge schedules against prices on the night V2G is
    worth most."""
    charge_only = policies[ChargeOnlyOptimum.name]
    assert isinstance(charge_only, ChargeOnlyOptimum)
    gain = solution.profile_returns - charge_only.optimum.profile_returns
    fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
    ax.bar(np.arange(len(gain)), gain, width=1.0, color="tab:green")
    ax.axhline(float(gain.mean()), color="black", ls="--", label=f"mean {gain.mean():.3f}")
    step = max(len(gain) // 12, 1)
    ax.set_xticks(np.arange(0, len(gain), step), config.profile_labels[::step], rotation=45)
    ax.set_ylabel(f"value of V2G ({config.currency or 'currency'} per night)")
    ax.set_title("Exact value of V2G per price night: optimum with V2G minus without")
    ax.legend(fontsize=8)
    value_path = folder / "v2g_value.png"
    save(fig, value_path)
    scheduled = [policies["optimal"], charge_only]
    scheduled += [p for n, p in policies.items() if n.startswith("price-threshold")]
    best = int(np.argmax(gain))
    schedule_path = price_schedules(
        scheduled, config, folder / "v2g_schedule.png", seed, profile=best, arrival_quantile=0.8
    )
    return [value_path, schedule_path]


def policy_figures(
    config: ChargingConfig,
    solution: Optimum,
    folder: Path,
    seed: int,
    models: dict[Path, Policy] | None = None,
) -> list[Path]:
    """The standard figures of a comparison: policy maps (the optimum, trained agents, every
    baseline), trajectories (the optimum, agents, the 0.99-quantile rule), price schedules
    for priced scenarios, and the learning curve of each run directory (``models`` may hold
    model files too). Returns the paths."""
    models = models or {}
    policies = all_policies(config, solution, seed)
    trained = list(models.values())
    shown = [policies["optimal"], *trained, *(p for n, p in policies.items() if n != "optimal")]
    trajectory_policies = [policies["optimal"], *trained, policies["quantile-0.99"]]
    paths = [
        policy_maps(shown, config, solution.grid, folder / "policy_maps.png"),
        trajectories(trajectory_policies, config, folder / "trajectories.png", seed=seed),
    ]
    if config.physical:
        scheduled = [
            policies["optimal"],
            *trained,
            *(p for n, p in policies.items() if n.startswith(("cheapest", "asap"))),
        ]
        paths.append(price_schedules(scheduled, config, folder / "prices.png", seed))
    if config.v2g:
        paths += v2g_figures(config, solution, policies, folder, seed)
    for run_dir, policy in models.items():
        if not run_dir.is_dir():  # a model file has no learning curve
            continue
        curve = read_curve(run_dir / CURVE_FILE)
        name = policy.name.replace(":", "_").replace("/", "_")
        paths.append(learning_curve(curve, policy.name, folder / f"curve_{name}.png"))
    return paths


def depot_figures(comparison: DepotComparison, config: DepotConfig, folder: Path) -> list[Path]:
    """Site load against the grid limit (and PV) with the prices and the Lagrangian bound's
    per-slot multipliers, and every vehicle's energy at departure against its realised
    demand, per policy (means over the episodes)."""
    folder.mkdir(parents=True, exist_ok=True)
    clock = config.arrival_hour + np.arange(config.n_slots) * config.slot_hours
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 6.5), sharex=True, layout="constrained", height_ratios=(1, 2)
    )
    # prices of the compared episodes beside the Lagrangian bound's site prices (multipliers)
    top.step(
        clock,
        config.prices[comparison.profiles].mean(axis=0),
        where="post",
        color="tab:red",
        label="energy price",
    )
    top.step(
        clock,
        comparison.site_prices.mean(axis=0),
        where="post",
        color="tab:blue",
        ls="--",
        label="bound's multiplier (site price per kWh drawn)",
    )
    top.set_ylabel(f"{config.currency or 'currency'}/kWh")
    top.set_title(
        "mean over the episodes' price days" if config.n_profiles > 1 else "price and multiplier"
    )
    top.legend(fontsize=8)
    for run in comparison.runs:
        bottom.step(clock, run.site_load_kw.mean(axis=0), where="post", label=run.name)
    bottom.axhline(config.grid_limit_kw, color="black", ls="--", label="grid limit")
    if config.pv_kw:
        bottom.step(clock, config.pv, where="post", color="gold", label="PV")
    bottom.set_ylabel("mean grid power (kW)")
    bottom.set_xlabel("hour (past 24 = next day)")
    bottom.legend(fontsize=8, ncol=2)
    load_path = folder / "site_load.png"
    save(fig, load_path)

    fig, axes = plt.subplots(
        1,
        len(comparison.runs),
        figsize=(3.2 * len(comparison.runs), 3.4),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, run in zip(axes[0], comparison.runs, strict=True):
        ax.scatter(run.demand_kwh.ravel(), run.departure_kwh.ravel(), s=6, alpha=0.5)
        top_kwh = max(float(run.demand_kwh.max()), float(run.departure_kwh.max()))
        ax.plot([0, top_kwh], [0, top_kwh], color="tab:red", lw=1)
        ax.set_title(run.name, fontsize=9)
        ax.set_xlabel("realised demand (kWh)")
    axes[0, 0].set_ylabel("energy at departure (kWh)")
    fig.suptitle("Every vehicle at departure: below the red line it ran short")
    departures_path = folder / "departures.png"
    save(fig, departures_path)
    return [load_path, departures_path]
