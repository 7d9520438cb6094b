"""RLlib benchmark: sampling throughput of RLlib's env runners on the batch env against
RLlib's default (one scalar env per runner), the depot's multi-agent views, and the time to
a 1% exact gap of RLlib PPO against the SB3 path, in one run.

Part 1 times RLlib's own sampling call (``synchronous_parallel_sample``, what an RLlib
training iteration runs) on ``smartcharging-vehicle`` with the untrained PPO module:

* the default: ``gym_env_vectorize_mode="sync"`` and one scalar env per env runner;
* the batch env: ``"vector_entry_point"``, ``--copies`` copies of the native batch env per
  env runner, with 0 (sampling in the driver), 1 and 2 env runners.

Part 2 steps the depot's two multi-agent views with random actions: RLlib's
``MultiAgentEnv`` written for it (``DepotMultiAgentEnv``) and RLlib's PettingZoo wrapper
around ``DepotParallelEnv``, and the charger batch env that training uses; then times
RLlib's sampling of ``depot-25-evening`` with one shared policy on the multi-agent env
runner (8 ``DepotMultiAgentEnv`` per runner) and on the single-agent runner stepping the
charger batch env (8 depots), in charger steps/s.

Part 3 trains PPO on ``SmartCharging-v0`` with seeds 0, 1, 2 on RLlib (shipped RLlib
settings, 0 env runners) and on SB3 (shipped entry, batch env), evaluates the greedy policy
exactly after every RLlib iteration (4,096 steps) or SB3 chunk of 4,096 steps (not timed),
and reports the training wall time until the gap first is <= 1% and the final gap after
the 200k-step budget.

    python benchmarks/rllib.py [--json] [--copies N] [--seeds 0,1,2] [--skip-training]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import ray
import torch
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from stable_baselines3 import PPO

from smartcharging.agents.hyperparameters import shipped
from smartcharging.agents.sb3_agents import ExactGapCallback
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.config import ChargingConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.envs.depot_parallel import DepotParallelEnv
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.rllib.algorithms import algorithm_config, default_settings
from smartcharging.rllib.charger_batch_env import ChargerBatchVectorEnv
from smartcharging.rllib.depot_multi_agent_env import DepotMultiAgentEnv, with_shared_policy
from smartcharging.rllib.policies import RLlibPolicy
from smartcharging.rllib.registration import (
    DEPOT_CHARGERS,
    DEPOT_MULTI_AGENT,
    VEHICLE,
    register_envs,
)
from smartcharging.solvers.vehicle.dp import Optimum, solve_all

TARGET = 0.01
BUDGET = 200_000
CHUNK = 4096


def sampling_rate(mode: str, copies: int, runners: int, steps: int) -> float:
    """Env steps/s of RLlib's sampling call, best of 3 (after one warm-up call)."""
    settings = default_settings("ppo", False)
    settings["num_envs_per_env_runner"] = copies
    settings["rollout_fragment_length"] = max(steps // (copies * max(runners, 1)), 1)
    settings["training"].update(train_batch_size_per_learner=steps, minibatch_size=min(512, steps))
    config = algorithm_config("ppo", VEHICLE, {"scenario": "seed"}, settings, runners, 0)
    algo = config.env_runners(gym_env_vectorize_mode=mode).build_algo()
    best = 0.0
    try:
        for attempt in range(4):
            start = time.perf_counter()
            episodes: Any = synchronous_parallel_sample(
                worker_set=algo.env_runner_group, max_env_steps=steps, _uses_new_env_runners=True
            )
            seconds = time.perf_counter() - start
            sampled = sum(episode.env_steps() for episode in episodes)
            if attempt:
                best = max(best, sampled / seconds)
    finally:
        algo.stop()
    return best


def depot_runner_rate(multi_agent: bool, depots: int, steps: int) -> float:
    """Charger (agent) steps/s of RLlib's sampling on ``depot-25-evening``: the multi-agent
    env runner over ``depots`` ``DepotMultiAgentEnv`` copies with one shared policy, or the
    single-agent runner over the charger batch env of ``depots`` batch depots."""
    settings = default_settings("ppo", True)
    settings["num_envs_per_env_runner"] = depots
    settings["rollout_fragment_length"] = 32
    settings["training"].update(train_batch_size_per_learner=steps, minibatch_size=512)
    scenario = {"scenario": "depot-25-evening"}
    if multi_agent:
        config = with_shared_policy(
            algorithm_config("ppo", DEPOT_MULTI_AGENT, scenario, settings, 0, 0)
        ).env_runners(gym_env_vectorize_mode="sync")
    else:
        config = algorithm_config("ppo", DEPOT_CHARGERS, scenario, settings, 0, 0, 25)
    algo = config.build_algo()
    best = 0.0
    try:
        for attempt in range(3):
            start = time.perf_counter()
            episodes: Any = synchronous_parallel_sample(
                worker_set=algo.env_runner_group,
                max_agent_steps=steps,
                _uses_new_env_runners=True,
            )
            seconds = time.perf_counter() - start
            sampled = sum(episode.agent_steps() for episode in episodes)
            if attempt:
                best = max(best, sampled / seconds)
    finally:
        algo.stop()
    return best


def multi_agent_rate(env: Any, n_actions: int, steps: int) -> float:
    """Agent steps/s of a multi-agent depot view under random actions."""
    rng = np.random.default_rng(0)
    observations, _ = env.reset(seed=0)
    done, agent_steps, start = False, 0, time.perf_counter()
    for _ in range(steps):
        if done:
            observations, _ = env.reset()
        actions = {a: int(rng.integers(n_actions)) for a in observations}
        observations, _, terminateds, truncateds, _ = env.step(actions)
        agent_steps += len(actions)
        done = terminateds["__all__"] or truncateds["__all__"]
    return agent_steps / (time.perf_counter() - start)


def charger_batch_rate(depots: int, steps: int) -> float:
    config = load_depot_scenario("depot-25-evening").to_config()
    env = ChargerBatchVectorEnv(config, depots)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(steps):
        env.step(rng.integers(config.n_actions, size=env.num_envs))
    return steps * env.num_envs / (time.perf_counter() - start)


def gap_of(policy: Any, config: ChargingConfig, solution: Optimum) -> float:
    value = exact_value(policy, config, solution.grid)
    return (solution.expected_return - value.expected_return) / abs(solution.expected_return)


def rllib_time_to_target(config: ChargingConfig, solution: Optimum, seed: int) -> dict[str, Any]:
    """RLlib PPO: training seconds (evaluations excluded) to a 1% gap; final gap."""
    settings = default_settings("ppo", False)
    algo = algorithm_config(
        "ppo", VEHICLE, {"config": config.to_dict()}, settings, 0, seed
    ).build_algo()
    module = algo.learner_group._learner.module["default_policy"]
    trained_s, steps, first, gap = 0.0, 0, None, float("inf")
    while steps < BUDGET:
        start = time.perf_counter()
        steps = int(algo.train()["num_env_steps_sampled_lifetime"])
        trained_s += time.perf_counter() - start
        gap = gap_of(RLlibPolicy(module, config, "rllib"), config, solution)
        if first is None and gap <= TARGET:
            first = {"seconds": round(trained_s, 2), "steps": steps}
    algo.stop()
    return {"first_within_1pct": first, "final_gap": gap, "seconds": round(trained_s, 2)}


def sb3_time_to_target(config: ChargingConfig, solution: Optimum, seed: int) -> dict[str, Any]:
    """SB3 PPO on the batch env: the same measurements, in one ``learn`` call of the same
    budget (so that its learning-rate schedule spans the budget)."""
    params = shipped("ppo", config)
    env = SB3BatchVecEnv(config, params.n_envs)
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", **params.model_kwargs())
    scores = ExactGapCallback(config, solution, CHUNK)
    model.learn(BUDGET, callback=scores)
    gap = scores.evaluate()
    first = next((point for point in scores.curve if point[1] <= TARGET), None)
    return {
        "first_within_1pct": None
        if first is None
        else {"seconds": round(first[2], 2), "steps": first[0]},
        "final_gap": gap,
        "seconds": round(scores.curve[-1][2], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--copies", type=int, default=1024, help="batch copies per env runner")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_envs()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, ray {ray.__version__}",
    }
    default = sampling_rate("sync", 1, 0, 2048)
    batch = {
        runners: sampling_rate("vector_entry_point", args.copies, runners, 16 * args.copies)
        for runners in (0, 1, 2)
    }
    results["sampling"] = {
        "default_scalar_env_steps_per_s": round(default),
        "batch_env_steps_per_s": {str(k): round(v) for k, v in batch.items()},
        "copies_per_runner": args.copies,
        "ratio_0_runners": round(batch[0] / default, 1),
    }
    depot = load_depot_scenario("depot-25-evening").to_config()
    direct = multi_agent_rate(DepotMultiAgentEnv(depot), depot.n_actions, 2000)
    wrapped = multi_agent_rate(
        ParallelPettingZooEnv(DepotParallelEnv(config=depot)), depot.n_actions, 2000
    )
    results["depot_agent_steps_per_s"] = {
        "multi_agent_env": round(direct),
        "pettingzoo_wrapper": round(wrapped),
        "charger_batch_env_8_depots": round(charger_batch_rate(8, 2000)),
        "rllib_multi_agent_runner_8_depots": round(depot_runner_rate(True, 8, 12_800)),
        "rllib_charger_batch_runner_8_depots": round(depot_runner_rate(False, 8, 12_800)),
    }
    if not args.skip_training:
        config = ChargingConfig()
        solution = solve_all(config)
        results["time_to_1pct"] = [
            {
                "seed": seed,
                "rllib_ppo": rllib_time_to_target(config, solution, seed),
                "sb3_ppo": sb3_time_to_target(config, solution, seed),
            }
            for seed in (int(s) for s in args.seeds.split(","))
        ]
    ray.shutdown()
    if args.json:
        print(json.dumps(results))
        return
    print(results["machine"])
    sampling = results["sampling"]
    default_rate = sampling["default_scalar_env_steps_per_s"]
    print(f"RLlib sampling, default (1 scalar env, 0 runners): {default_rate:,} steps/s")
    for runners, rate in sampling["batch_env_steps_per_s"].items():
        where = f"batch env ({args.copies} copies/runner), {runners} env runners"
        print(f"RLlib sampling, {where}: {rate:,} steps/s")
    print(f"batch / default (0 runners): {sampling['ratio_0_runners']}x")
    for name, rate in results["depot_agent_steps_per_s"].items():
        print(f"depot-25-evening, {name}: {rate:,} agent steps/s")
    for row in results.get("time_to_1pct", []):
        for engine in ("rllib_ppo", "sb3_ppo"):
            run = row[engine]
            first = run["first_within_1pct"]
            reached = f"{first['seconds']} s ({first['steps']:,} steps)" if first else "never"
            print(
                f"seed {row['seed']} {engine}: first <= 1% after {reached}; final gap "
                f"{100 * run['final_gap']:.3f}% after {run['seconds']} s of training"
            )


if __name__ == "__main__":
    main()
