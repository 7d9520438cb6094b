"""Environment throughput: SmartCharging-v0 against CartPole-v1, measured in the same run.

Both environments are created with ``gymnasium.make`` (so with the wrappers users get) and
stepped with pre-drawn uniformly random actions, resetting whenever an episode ends. The
figure that matters is the ratio, since absolute steps/s depend on the machine and load.

    python benchmarks/throughput.py [--steps N] [--repeats R] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np

import smartcharging  # noqa: F401  (registers SmartCharging-v0)


def scalar_steps_per_second(env_id: str, steps: int, seed: int = 0) -> float:
    """Steps per second of ``gymnasium.make(env_id)`` under random actions with resets."""
    env = gym.make(env_id)
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


def best_of(repeats: int, measure: object, *args: object) -> float:
    """The best of ``repeats`` measurements: the least disturbed by other load."""
    return max(measure(*args) for _ in range(repeats))  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300_000, help="steps per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements, best is kept")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    cartpole = best_of(args.repeats, scalar_steps_per_second, "CartPole-v1", args.steps)
    ours = best_of(args.repeats, scalar_steps_per_second, "SmartCharging-v0", args.steps)
    result = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "scalar": {
            "SmartCharging-v0_steps_per_s": round(ours),
            "CartPole-v1_steps_per_s": round(cartpole),
            "ratio": round(ours / cartpole, 2),
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}")
    print(f"SmartCharging-v0 : {ours:12,.0f} steps/s")
    print(f"CartPole-v1      : {cartpole:12,.0f} steps/s")
    print(f"ratio            : {ours / cartpole:12.2f}x")


if __name__ == "__main__":
    main()
