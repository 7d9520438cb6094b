"""Training benchmark: every algorithm on every single-vehicle scenario, three seeds, scored
by the exact optimality gap; and time to a 1% gap on the batch env against DummyVecEnv.

Part 1 trains each algorithm with its shipped hyperparameters and budget
(``smartcharging/agents/hyperparams/*.yml``; Q-learning: 20M steps) on each scenario with
seeds 0, 1, 2 and reports the exact gap of the **final** greedy policy (mean and worst over
the seeds), the gap of the best checkpoint, the wall time (training plus checkpoint
evaluations) and the wall time at which a checkpoint first reached a 1% gap. With
``--plot DIR`` it writes ``learning_curves.png``: per scenario, each algorithm's median gap
and the band between its best and worst seed, against the optimum (gap 0; log scale, the 1%
target dashed).

Part 2 trains PPO with the same hyperparameters, copies and seed once on the native batch
env (``SB3BatchVecEnv``) and once on SB3's ``DummyVecEnv`` of wrapped scalar envs
(``training_env``), evaluates exactly every ``--eval-every`` steps between updates (not
timed) and reports the training wall time until the greedy policy's gap first is <= 1%.

    python benchmarks/training.py [--json] [--algos ppo,dqn] [--scenarios seed] [--plot DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from smartcharging import SmartChargingEnv
from smartcharging.agents.hyperparameters import shipped
from smartcharging.agents.runs import CurvePoint, Run, RunSpec, default_num_envs, default_steps
from smartcharging.agents.sb3_agents import ExactGapCallback
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import training_env
from smartcharging.config import ChargingConfig
from smartcharging.config.scenarios import load_scenario
from smartcharging.solvers.vehicle.dp import Optimum, solve_all

ALGOS = ("ppo", "dqn", "qlearning", "a2c")
SCENARIOS = ("seed", "seed-physical", "tou-evening-peak", "overnight-day-ahead-nl")
SEEDS = (0, 1, 2)
TARGET = 0.01


def first_time_within(curve: list[CurvePoint], target: float) -> float | None:
    """Wall time of the first checkpoint with a gap <= target, or None."""
    return next((p.wall_time_s for p in curve if p.relative_gap <= target), None)


def train_one(algo: str, config: ChargingConfig, seed: int, folder: Path) -> dict[str, Any]:
    spec = RunSpec(
        algo,
        default_steps(algo, config),
        seed,
        config,
        default_num_envs(algo, config),
        checkpoints=20,
    )
    run = Run.start(folder, spec)
    final = run.train()
    assert run.best is not None
    from smartcharging.agents.runs import read_curve

    curve = read_curve(folder / "curve.csv")
    return {
        "seed": seed,
        "steps": final.steps,
        "wall_time_s": round(final.wall_time_s, 2),
        "final_gap": final.relative_gap,
        "best_checkpoint_gap": run.best["relative_gap"],
        "time_to_1pct_s": first_time_within(curve, TARGET),
        "curve": [(p.steps, p.relative_gap) for p in curve],
    }


def summarize(algo: str, scenario: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    finals = [r["final_gap"] for r in runs]
    return {
        "algo": algo,
        "scenario": scenario,
        "steps": runs[0]["steps"],
        "final_gap_mean": statistics.fmean(finals),
        "final_gap_worst": max(finals),
        "best_checkpoint_gap_mean": statistics.fmean(r["best_checkpoint_gap"] for r in runs),
        "wall_time_s_mean": statistics.fmean(r["wall_time_s"] for r in runs),
        "time_to_1pct_s": [r["time_to_1pct_s"] for r in runs],
        "seeds": runs,
    }


def vec_env(batch: bool, config: ChargingConfig, num_envs: int) -> VecEnv:
    """The native batch env, or SB3's DummyVecEnv of wrapped scalar envs."""
    if batch:
        return SB3BatchVecEnv(config, num_envs)
    return DummyVecEnv([lambda: training_env(SmartChargingEnv(config=config))] * num_envs)


def time_to_target(
    batch: bool, config: ChargingConfig, solution: Optimum, seed: int, eval_every: int
) -> dict[str, Any]:
    """PPO training wall time (evaluations excluded) until the exact gap is <= 1%, in one
    ``learn`` call of the shipped budget (so its learning-rate schedule is the shipped one)."""
    params = shipped("ppo", config)
    model = PPO(
        "MlpPolicy",
        vec_env(batch, config, params.n_envs),
        seed=seed,
        device="cpu",
        **params.model_kwargs(),
    )
    scores = ExactGapCallback(config, solution, eval_every, stop_below=TARGET)
    model.learn(params.n_timesteps, callback=scores)
    if scores.gap > TARGET:  # the whole budget: score its end
        scores.evaluate()
    steps, gap, trained_s = scores.curve[-1]
    return {"seconds": round(trained_s, 2) if gap <= TARGET else None, "steps": steps, "gap": gap}


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in results))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.5 * len(scenarios), 3.6), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        for row in (r for r in results if r["scenario"] == scenario):
            curves = [s["curve"] for s in row["seeds"]]
            n = min(len(c) for c in curves)
            steps = [c[0] for c in curves[0][:n]]
            gaps = [[100 * max(c[i][1], 1e-6) for c in curves] for i in range(n)]
            line = ax.plot(steps, [statistics.median(g) for g in gaps], label=row["algo"])[0]
            ax.fill_between(
                steps,
                [min(g) for g in gaps],
                [max(g) for g in gaps],
                color=line.get_color(),
                alpha=0.2,
            )
        ax.axhline(100 * TARGET, color="grey", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_title(scenario)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("exact gap to the optimum (%)")
        ax.legend(fontsize=8)
    fig.suptitle("Greedy policy's exact gap: median and band over 3 seeds (optimum = 0)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--algos", default=",".join(ALGOS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--plot", type=Path, default=None, help="folder for the figure")
    parser.add_argument("--speed-seeds", type=int, default=3, help="0 skips part 2")
    parser.add_argument("--eval-every", type=int, default=8192)
    args = parser.parse_args()
    torch.set_num_threads(1)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        algos = [algo for algo in args.algos.split(",") if algo]  # "" runs part 2 only
        for scenario in args.scenarios.split(",") if algos else []:
            config = load_scenario(scenario).to_config()
            for algo in algos:
                runs = [
                    train_one(algo, config, seed, Path(tmp) / f"{scenario}-{algo}-{seed}")
                    for seed in SEEDS
                ]
                results.append(summarize(algo, scenario, runs))
                print_row(results[-1], sys.stderr if args.json else sys.stdout)
    if args.plot is not None and results:
        args.plot.mkdir(parents=True, exist_ok=True)
        plot(results, args.plot / "learning_curves.png")
    seed_config = ChargingConfig()
    solution = solve_all(seed_config)
    speed: list[dict[str, Any]] = [
        {
            "seed": seed,
            "batch_env": time_to_target(True, seed_config, solution, seed, args.eval_every),
            "dummy_vec_env": time_to_target(False, seed_config, solution, seed, args.eval_every),
        }
        for seed in range(args.speed_seeds)
    ]
    output: dict[str, Any] = {
        "machine": f"{platform.machine()}, CPython {platform.python_version()}, torch threads 1",
        "results": results,
        "time_to_1pct_ppo_seed": speed,
    }
    if args.json:
        print(json.dumps(output, indent=2))
        return
    for row in speed:
        batch, dummy = row["batch_env"], row["dummy_vec_env"]
        print(
            f"PPO seed {row['seed']}: time to 1% batch env {batch['seconds']} s "
            f"({batch['steps']:,} steps), DummyVecEnv {dummy['seconds']} s "
            f"({dummy['steps']:,} steps)"
        )


def print_row(row: dict[str, Any], file: TextIO) -> None:
    times = ", ".join("-" if t is None else f"{t:.0f}" for t in row["time_to_1pct_s"])
    seeds = ", ".join(f"{100 * s['final_gap']:.2f}" for s in row["seeds"])
    print(
        f"{row['scenario']:>24} {row['algo']:>9} {row['steps']:>10,} steps  final gap % "
        f"mean {100 * row['final_gap_mean']:7.3f} worst {100 * row['final_gap_worst']:7.3f} "
        f"(seeds {seeds})  best ckpt % {100 * row['best_checkpoint_gap_mean']:7.3f}  "
        f"wall {row['wall_time_s_mean']:6.1f} s  to 1%: {times} s",
        file=file,
        flush=True,
    )


if __name__ == "__main__":
    main()
