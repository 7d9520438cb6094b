"""Environment throughput against Gymnasium's CartPole, measured in the same run.

Scalar: ``gymnasium.make("SmartCharging-v0")`` against ``gymnasium.make("CartPole-v1")``
(both with the wrappers users get), stepped with pre-drawn random actions, resetting
whenever an episode ends. Batch: ``SmartChargingVectorEnv`` against Gymnasium's
``CartPoleVectorEnv`` (both through ``gymnasium.make_vec(..., "vector_entry_point")``, both
autoresetting) at several numbers of copies, in env-steps per second (copies x steps / s),
plus the peak memory traced while stepping 65,536 copies. The figures that matter are the
ratios, since absolute rates depend on the machine and its load.

    python benchmarks/throughput.py [--steps N] [--repeats R] [--sizes 1,64,...] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import tracemalloc

import gymnasium as gym
import numpy as np

import smartcharging  # noqa: F401  (registers SmartCharging-v0)

#: Priced scenarios measured with the scalar environment too.
PRICED = ("seed-physical", "overnight-day-ahead-nl")


def scalar_steps_per_second(
    env_id: str, steps: int, seed: int = 0, scenario: str | None = None
) -> float:
    """Steps per second of ``gymnasium.make(env_id)`` under random actions with resets."""
    env = gym.make(env_id) if scenario is None else gym.make(env_id, scenario=scenario)
    env.reset(seed=seed)
    n_actions = int(env.action_space.n)  # type: ignore[attr-defined]
    actions = np.random.default_rng(seed).integers(0, n_actions, steps).tolist()
    step, reset = env.step, env.reset
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    return steps / (time.perf_counter() - start)


def vector_env_steps_per_second(env_id: str, num_envs: int, env_steps: int) -> float:
    """Env-steps per second of the native vector env of ``env_id`` with ``num_envs`` copies."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    batches = max(env_steps // num_envs, 20)
    n_actions = int(env.single_action_space.n)  # type: ignore[attr-defined]
    pool = np.random.default_rng(0).integers(0, n_actions, (16, num_envs))
    step = env.step
    start = time.perf_counter()
    for i in range(batches):
        step(pool[i % 16])
    return batches * num_envs / (time.perf_counter() - start)


def peak_memory_bytes(env_id: str, num_envs: int, batches: int = 20) -> int:
    """Peak traced allocation (NumPy included) while creating, resetting and stepping."""
    tracemalloc.start()
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    actions = np.zeros(num_envs, dtype=np.int64)
    tracemalloc.reset_peak()
    for _ in range(batches):
        env.step(actions)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def best_of(repeats: int, measure: object, *args: object) -> float:
    """The best of ``repeats`` measurements: the least disturbed by other load."""
    return max(measure(*args) for _ in range(repeats))  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000, help="steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements, best is kept")
    parser.add_argument("--sizes", default="1,64,1024,4096,65536", help="numbers of copies")
    parser.add_argument(
        "--vector-steps", type=int, default=20_000_000, help="env-steps per batch measurement"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    cartpole = best_of(args.repeats, scalar_steps_per_second, "CartPole-v1", args.steps)
    ours = best_of(args.repeats, scalar_steps_per_second, "SmartCharging-v0", args.steps)
    priced = {
        name: best_of(
            args.repeats, scalar_steps_per_second, "SmartCharging-v0", args.steps, 0, name
        )
        for name in PRICED
    }
    vector = []
    for size in (int(s) for s in args.sizes.split(",")):
        budget = min(args.vector_steps, max(size * 20, 200_000))
        theirs = best_of(args.repeats, vector_env_steps_per_second, "CartPole-v1", size, budget)
        mine = best_of(args.repeats, vector_env_steps_per_second, "SmartCharging-v0", size, budget)
        vector.append(
            {
                "num_envs": size,
                "SmartChargingVectorEnv_env_steps_per_s": round(mine),
                "CartPoleVectorEnv_env_steps_per_s": round(theirs),
                "ratio": round(mine / theirs, 2),
            }
        )
    largest = int(vector[-1]["num_envs"])
    env = gym.make_vec("SmartCharging-v0", num_envs=1, vectorization_mode="vector_entry_point")
    memory = {
        "num_envs": largest,
        "peak_traced_bytes": peak_memory_bytes("SmartCharging-v0", largest),
        "cartpole_peak_traced_bytes": peak_memory_bytes("CartPole-v1", largest),
        "state_bytes_per_copy": env.unwrapped.state_bytes_per_copy,  # type: ignore[attr-defined, unused-ignore]
    }
    result = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "scalar": {
            "SmartCharging-v0_steps_per_s": round(ours),
            "CartPole-v1_steps_per_s": round(cartpole),
            "ratio": round(ours / cartpole, 2),
            "priced": {
                name: {"steps_per_s": round(rate), "ratio": round(rate / cartpole, 2)}
                for name, rate in priced.items()
            },
        },
        "vector": vector,
        "memory": memory,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}")
    print(f"SmartCharging-v0 : {ours:12,.0f} steps/s")
    print(f"CartPole-v1      : {cartpole:12,.0f} steps/s")
    print(f"ratio            : {ours / cartpole:12.2f}x")
    for name, rate in priced.items():
        print(f"  scenario {name}: {rate:,.0f} steps/s, {rate / cartpole:.2f}x CartPole-v1")
    print()
    print(f"{'copies':>8} {'SmartChargingVectorEnv':>24} {'CartPoleVectorEnv':>20} {'ratio':>7}")
    for row in vector:
        print(
            f"{row['num_envs']:>8} {row['SmartChargingVectorEnv_env_steps_per_s']:>24,} "
            f"{row['CartPoleVectorEnv_env_steps_per_s']:>20,} {row['ratio']:>6.2f}x"
        )
    print()
    print(
        f"peak traced memory stepping {largest} copies: {memory['peak_traced_bytes'] / 2**20:.1f}"
        f" MiB ({memory['peak_traced_bytes'] / largest:.0f} B/copy incl. temporaries; "
        f"CartPoleVectorEnv {memory['cartpole_peak_traced_bytes'] / 2**20:.1f} MiB); "
        f"state {memory['state_bytes_per_copy']} B/copy"
    )


if __name__ == "__main__":
    main()
