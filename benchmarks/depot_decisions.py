"""Depot decision time: the shipped learned policy against MPC, per depot step.

For every built-in depot, the shared charger network of the shipped settings
(``hyperparams/depot-ppo.yml``: its width, the shipped recipe with site rounding; the
weights do not change the time, so a fresh network stands in for a trained one) and MPC
decide the evaluation episodes of a depot run. Reported per depot step: the learned
policy with each depot decided alone (one call per slot, as a site runs it) and with the
16 episodes decided in one call, MPC on 2 episodes (one LP per depot and slot, whatever
the batch), and the ratios. The three are measured in turn ``--repeats`` times after a
warm-up pass (numba compiles its loops on first use), and each figure and ratio is the
median of its repeats: MPC's solve times drift with the machine as much as the policy's.

    python benchmarks/depot_decisions.py [--episodes 4] [--repeats 5] [--json]

Run it alone: it times one process on one torch thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

import torch

from smartcharging.agents.checkpoint_scores import EVALUATION_SEED
from smartcharging.agents.depot_hyperparameters import shipped_depot
from smartcharging.agents.sb3_depot import DepotAgentPolicy, make_depot_model
from smartcharging.agents.training_adapter import SHIPPED_RECIPE
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot import DepotPolicy
from smartcharging.policies.depot_planning import MPCPolicy

SCENARIOS = ("depot-25-evening", "depot-10-overnight", "depot-v2g-peak")
#: Episodes decided in one call, as checkpoints score them.
AT_ONCE = 16


def ms_per_step(
    policy: DepotPolicy | DepotAgentPolicy, config: Any, episodes: int, alone: bool
) -> float:
    """Mean decision time per depot step (ms) on the first ``episodes`` evaluation episodes,
    each decided alone or all in one call."""
    if alone:
        runs = [run_policy(policy, config, 1, EVALUATION_SEED + i)[0] for i in range(episodes)]
        return 1e3 * statistics.fmean(run.seconds_per_step for run in runs)
    return 1e3 * run_policy(policy, config, episodes, EVALUATION_SEED)[0].seconds_per_step


def measure(scenario: str, episodes: int, repeats: int) -> dict[str, Any]:
    """The module docstring's figures for one depot."""
    config = load_depot_scenario(scenario).to_config()
    setup = shipped_depot("ppo", config)
    model = make_depot_model("ppo", config, setup.n_envs, 0, SHIPPED_RECIPE)
    learned = DepotAgentPolicy(model, config, "learned", SHIPPED_RECIPE)
    mpc_policy = MPCPolicy(config)
    ms_per_step(learned, config, 1, alone=True)  # warm-up: numba compiles here
    alone, batch, mpc = [], [], []
    for _ in range(repeats):  # interleaved, so that both see the same machine
        alone.append(ms_per_step(learned, config, episodes, alone=True))
        batch.append(ms_per_step(learned, config, AT_ONCE, alone=False))
        mpc.append(ms_per_step(mpc_policy, config, 2, alone=True))
    width = model.policy.mlp_extractor.policy_net[0].out_features
    return {
        "scenario": scenario,
        "chargers": config.n_chargers,
        "network_width": width,
        "learned_alone_ms": statistics.median(alone),
        "learned_16_at_once_ms": statistics.median(batch),
        "mpc_ms": statistics.median(mpc),
        "speedup_alone": statistics.median(m / a for m, a in zip(mpc, alone, strict=True)),
        "speedup_16_at_once": statistics.median(m / b for m, b in zip(mpc, batch, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    if not args.json:
        print(
            "| depot | chargers | width | learned alone ms | learned 16 at once ms | MPC ms | "
            "MPC / learned alone | MPC / learned 16 at once |\n" + "|---" * 8 + "|"
        )
    for scenario in args.scenarios:
        rows.append(measure(scenario, args.episodes, args.repeats))
        if not args.json:
            row = rows[-1]
            print(
                f"| `{scenario}` | {row['chargers']} | {row['network_width']} | "
                f"{row['learned_alone_ms']:.3f} | {row['learned_16_at_once_ms']:.3f} | "
                f"{row['mpc_ms']:.1f} | {row['speedup_alone']:.0f}x | "
                f"{row['speedup_16_at_once']:.0f}x |",
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
