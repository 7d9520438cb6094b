"""Depot benchmark: scalar and batch throughput of depot-25-evening, the time to solve
the perfect-foresight bound of a 25-vehicle, 96-slot episode, the Lagrangian bound of a
20-episode comparison, MPC's solve time per step (25 vehicles, up to 32 remaining slots) and
the decomposition policy's throughput in the batch depot.

The in-run reference is Gymnasium's CartPole-v1 (scalar steps/s), as in throughput.py.

    python benchmarks/depot.py [--steps N] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np

import smartcharging  # noqa: F401  (registers the environments)
from smartcharging.config.scenarios import DepotScenario, load_depot_scenario
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot import Uncontrolled
from smartcharging.policies.depot_planning import LagrangianDecomposition, MPCPolicy
from smartcharging.solvers.depot.hindsight import hindsight_bound
from smartcharging.solvers.depot.lagrangian import lagrangian_bound

SCENARIO = "depot-25-evening"


def steps_per_second(env: gym.Env, steps: int) -> float:
    """Steps per second of ``env`` under pre-drawn random actions, resetting at episode ends."""
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def batch_env_steps_per_second(num_envs: int, batches: int) -> float:
    env = gym.make_vec(
        "SmartChargingDepot-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        scenario=SCENARIO,
    )
    env.reset(seed=0)
    pool = np.random.default_rng(0).integers(0, 4, (8, num_envs, 25))
    start = time.perf_counter()
    for i in range(batches):
        env.step(pool[i % 8])
    return batches * num_envs / (time.perf_counter() - start)


def hindsight_seconds(repeats: int) -> tuple[float, str]:
    """Solve time of the bound for a 24-hour (96-slot) version of depot-25-evening."""
    scenario = load_depot_scenario(SCENARIO)
    assert isinstance(scenario, DepotScenario) and scenario.fleet is not None
    day = scenario.model_copy(
        update={
            "window": scenario.window.model_copy(
                update={"arrival": "06:00", "departure": "06:00", "departure_next_day": True}
            ),
            "fleet": scenario.fleet.model_copy(
                update={
                    "arrival_slots": (0, 16),
                    "departure_slots": (80, 96),
                }
            ),
            "prices": scenario.prices.model_copy(update={"period": "summer-weekday"}),
        }
    )
    config = day.to_config()
    _, episodes = run_policy(Uncontrolled(config), config, 1, seed=0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        bound = hindsight_bound(config, episodes[0])
        times.append(time.perf_counter() - start)
    kind = "MILP" if bound.exact_levels else "LP"
    return min(times), f"{config.n_chargers} vehicles x {config.n_slots} slots ({kind})"


def lagrangian_seconds(scenario: str, episodes: int = 20) -> float:
    """Time to compute the Lagrangian bound of every episode of a comparison."""
    config = load_depot_scenario(scenario).to_config()
    _, drawn = run_policy(Uncontrolled(config), config, episodes, seed=0)
    start = time.perf_counter()
    for episode in drawn:
        lagrangian_bound(config, episode)
    return time.perf_counter() - start


def mpc_ms_per_step(depots: int = 20) -> tuple[float, float]:
    """MPC's mean and worst time per step with all 25 vans of depot-25-evening present at
    slot 0, each with its drawn departure (24..32 remaining slots)."""
    config = load_depot_scenario(SCENARIO).to_config()
    env = DepotVectorEnv(num_envs=depots, config=config)
    observations, _ = env.reset(seed=0)
    sim, n = env.simulator, config.n_chargers
    observations[:, :n] = 1.0
    observations[:, n : 2 * n] = sim.battery
    observations[:, 2 * n : 3 * n] = sim.departure
    policy = MPCPolicy(config)
    policy.actions(observations)
    stats = policy.stats()
    return stats["mean_solve_ms"], stats["max_solve_ms"]


def decomposition_steps_per_second(num_envs: int, batches: int) -> float:
    """Depot-steps/s of the batch depot driven by the decomposition policy (look-ups and
    steps; its tables are built before timing)."""
    config = load_depot_scenario(SCENARIO).to_config()
    env = DepotVectorEnv(num_envs=num_envs, config=config)
    policy = LagrangianDecomposition(config)
    observations, _ = env.reset(seed=0)
    policy.actions(observations)
    start = time.perf_counter()
    for _ in range(batches):
        observations, *_ = env.step(policy.actions(observations))
    return batches * num_envs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    depot = gym.make("SmartChargingDepot-v0", scenario=SCENARIO)
    cartpole_env = gym.make("CartPole-v1")
    scalar = max(steps_per_second(depot, args.steps) for _ in range(3))
    cartpole = max(steps_per_second(cartpole_env, args.steps * 5) for _ in range(3))
    batch = max(batch_env_steps_per_second(1024, 200) for _ in range(3))
    bound_s, bound_size = hindsight_seconds(3)
    lagrangian = {name: lagrangian_seconds(name) for name in (SCENARIO, "depot-10-overnight")}
    mpc_mean, mpc_max = mpc_ms_per_step()
    decomposition = max(decomposition_steps_per_second(1024, 64) for _ in range(3))
    result = {
        "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        "depot_25_evening_steps_per_s": round(scalar),
        "cartpole_steps_per_s": round(cartpole),
        "ratio_to_cartpole": round(scalar / cartpole, 3),
        "batch_1024_depots_env_steps_per_s": round(batch),
        "hindsight_problem": bound_size,
        "hindsight_solve_s": round(bound_s, 3),
        "lagrangian_20_episodes_s": {k: round(v, 2) for k, v in lagrangian.items()},
        "mpc_ms_per_step_25_vehicles": round(mpc_mean, 1),
        "mpc_worst_ms_per_step": round(mpc_max, 1),
        "lagrangian_policy_batch_1024_depot_steps_per_s": round(decomposition),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}")
    print(
        f"{SCENARIO} (DepotEnv, 25 chargers): {scalar:,.0f} steps/s "
        f"(CartPole-v1 {cartpole:,.0f} steps/s in the same run; target 55,000)"
    )
    print(f"batch, 1024 depots: {batch:,.0f} depot-steps/s")
    print(f"hindsight bound, {bound_size}: {bound_s:.3f} s")
    for name, seconds in lagrangian.items():
        print(f"Lagrangian bound, 20 episodes of {name}: {seconds:.2f} s (target 30 s)")
    print(
        f"MPC, 25 vehicles x up to 32 slots: {mpc_mean:.1f} ms per step mean, "
        f"{mpc_max:.1f} ms worst (target 50 ms)"
    )
    print(
        f"decomposition policy in the batch depot, 1024 depots: {decomposition:,.0f} depot-steps/s"
    )


if __name__ == "__main__":
    main()
