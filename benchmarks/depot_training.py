"""Depot training benchmark: the shipped recipe (MPC imitated, then PPO on the depot's
reward) on every built-in depot with seeds 0, 1, 2.

Per run (the shipped settings of ``hyperparams/depot-ppo.yml``): the final (last
checkpoint) E[return] and its gap % to the Lagrangian bound of the
evaluation episodes, MPC's gap % on the same episodes, the wall time (imitation, training
and checkpoint evaluations), the wall time at which a checkpoint first reached MPC's
E[return] (``-``: never), and the mean decision time per depot step of the learned policy
and of MPC on the evaluation episodes (the reference, measured in the same run).

    python benchmarks/depot_training.py [--steps N] [--seeds 0 1 2] [--scenarios ...]
                                        [--out DIR] [--json]

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
    EVALUATION_EPISODES,
    EVALUATION_SEED,
    DepotCheckpoint,
)
from smartcharging.agents.depot_runs import load_depot_policy, train_depot
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot_planning import MPCPolicy

SCENARIOS = ("depot-25-evening", "depot-10-overnight", "depot-v2g-peak")


def one_run(scenario: str, seed: int, steps: int | None, out: Path) -> dict[str, Any]:
    """Train one run of the shipped recipe and measure it (module docstring)."""
    config = load_depot_scenario(scenario).to_config()
    folder = out / f"{scenario}-seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    points: list[DepotCheckpoint] = []
    started = time.perf_counter()
    final = train_depot(config, "ppo", steps, seed, folder, on_checkpoint=points.append)
    wall = time.perf_counter() - started
    reached = [p.wall_time_s for p in points if p.expected_return >= p.mpc_expected_return]
    policy = load_depot_policy(folder, config)
    learned, _ = run_policy(policy, config, EVALUATION_EPISODES, EVALUATION_SEED)
    mpc, _ = run_policy(MPCPolicy(config), config, EVALUATION_EPISODES, EVALUATION_SEED)
    return {
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
            "first at MPC, s | learned ms/step | MPC ms/step |\n" + "|---" * 9 + "|"
        )
    for scenario in args.scenarios:
        for seed in args.seeds:
            rows.append(one_run(scenario, seed, args.steps, out))
            if not args.json:
                row = rows[-1]
                at_mpc = row["first_at_mpc_s"]
                print(
                    f"| `{scenario}` | {seed} | {row['final_gap_percent']:.1f} | "
                    f"{row['imitated_gap_percent']:.1f} | {row['mpc_gap_percent']:.1f} | "
                    f"{row['wall_s']:.0f} | {'-' if at_mpc is None else f'{at_mpc:.0f}'} | "
                    f"{row['learned_ms_per_step']:.3f} | {row['mpc_ms_per_step']:.1f} |",
                    flush=True,
                )
    if args.json:
        print(json.dumps(rows, indent=2))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
