"""Depot training benchmark: the shipped recipe (MPC imitated, then PPO on the depot's
reward) on every built-in depot with seeds 0, 1, 2.

Per run (the shipped settings of ``hyperparams/depot-ppo.yml``; ``--engine rllib``: the
RLlib run with the same recipe, 0 env runners): the final (last checkpoint: the one best on
the validation episodes) E[return] and its gap % to the Lagrangian bound of the
evaluation episodes, MPC's gap % on the same episodes, the wall time (imitation, training
and checkpoint evaluations), the wall time at which a checkpoint first reached MPC's
E[return] (``-``: never), and the mean decision time per depot step of the learned policy
and of MPC on the evaluation episodes (the reference, measured in the same run): with the
16 episodes decided in one call, and with each of the first 4 decided alone (one depot per
call, as a site runs it).

    python benchmarks/depot_training.py [--engine local|rllib] [--steps N] [--seeds 0 1 2]
                                        [--scenarios ...] [--out DIR] [--json]

Run it alone: it trains one run after another on one torch thread.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from smartcharging.agents.checkpoint_scores import (
    DEPOT_CURVE_FIELDS,
    EVALUATION_EPISODES,
    EVALUATION_SEED,
    DepotCheckpoint,
)
from smartcharging.agents.depot_hyperparameters import shipped_depot
from smartcharging.agents.depot_runs import train_depot
from smartcharging.agents.run_directory import CURVE_FILE, read_curve_rows
from smartcharging.cli.routing import load_depot_agent
from smartcharging.config import DepotConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot_planning import MPCPolicy

SCENARIOS = ("depot-25-evening", "depot-10-overnight", "depot-v2g-peak")


def train(engine: str, config: DepotConfig, steps: int | None, seed: int, folder: Path) -> Any:
    """Train one run of ``engine`` with the shipped recipe; its checkpoints' curve rows."""
    if engine == "local":
        points: list[DepotCheckpoint] = []
        train_depot(config, "ppo", steps, seed, folder, on_checkpoint=points.append)
        return points
    from smartcharging.rllib.registration import register_envs
    from smartcharging.rllib.runs import RLlibRun, new_spec
    from smartcharging.rllib.session import ensure_ray

    ensure_ray(None)
    register_envs()
    budget = shipped_depot("ppo", config).n_timesteps if steps is None else steps
    RLlibRun.start(folder, new_spec("ppo", budget, seed, 0, 10, depot=config)).train()
    return [
        DepotCheckpoint(int(row["steps"]), *(float(row[f]) for f in DEPOT_CURVE_FIELDS[1:]))
        for row in read_curve_rows(folder / CURVE_FILE)
    ]


def one_run(engine: str, scenario: str, seed: int, steps: int | None, out: Path) -> dict[str, Any]:
    """Train one run of the shipped recipe and measure it (module docstring)."""
    config = load_depot_scenario(scenario).to_config()
    folder = out / f"{scenario}-{engine}-seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    points = train(engine, config, steps, seed, folder)
    wall = time.perf_counter() - started
    final = points[-1]
    reached = [p.wall_time_s for p in points if p.expected_return >= p.mpc_expected_return]
    policy = load_depot_agent(folder, config)
    learned, _ = run_policy(policy, config, EVALUATION_EPISODES, EVALUATION_SEED)
    mpc, _ = run_policy(MPCPolicy(config), config, EVALUATION_EPISODES, EVALUATION_SEED)
    alone = [run_policy(policy, config, 1, EVALUATION_SEED + i)[0] for i in range(4)]
    return {
        "engine": engine,
        "scenario": scenario,
        "seed": seed,
        "steps": final.steps,
        "final_expected_return": final.expected_return,
        "final_gap_percent": final.gap_percent,
        "imitated_gap_percent": points[0].gap_percent,
        "best_gap_percent": min(p.gap_percent for p in points),
        "mpc_expected_return": final.mpc_expected_return,
        "mpc_gap_percent": final.mpc_gap_percent,
        "lagrangian_bound": final.lagrangian_bound,
        "wall_s": wall,
        "first_at_mpc_s": reached[0] if reached else None,
        "learned_ms_per_step": 1e3 * learned.seconds_per_step,
        "learned_alone_ms_per_step": 1e3 * sum(r.seconds_per_step for r in alone) / len(alone),
        "mpc_ms_per_step": 1e3 * mpc.seconds_per_step,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="PPO charger steps [each depot's shipped n_timesteps, hyperparams/depot-ppo.yml]",
    )
    parser.add_argument("--engine", choices=("local", "rllib"), default="local")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = args.out or Path(tempfile.mkdtemp(prefix="depot-training-"))
    rows = []
    if not args.json:
        print(
            "| scenario | seed | final gap % | imitated gap % | MPC gap % | wall s | "
            "first at MPC, s | learned ms/step (16 at once, alone) | MPC ms/step |\n"
            + "|---" * 9
            + "|"
        )
    for scenario in args.scenarios:
        for seed in args.seeds:
            rows.append(one_run(args.engine, scenario, seed, args.steps, out))
            if not args.json:
                row = rows[-1]
                at_mpc = row["first_at_mpc_s"]
                print(
                    f"| `{scenario}` | {seed} | {row['final_gap_percent']:.1f} | "
                    f"{row['imitated_gap_percent']:.1f} | {row['mpc_gap_percent']:.1f} | "
                    f"{row['wall_s']:.0f} | {'-' if at_mpc is None else f'{at_mpc:.0f}'} | "
                    f"{row['learned_ms_per_step']:.3f}, {row['learned_alone_ms_per_step']:.3f} | "
                    f"{row['mpc_ms_per_step']:.1f} |",
                    flush=True,
                )
    if args.json:
        print(json.dumps(rows, indent=2))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
