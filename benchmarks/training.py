"""Training benchmark: each algorithm's exact optimality gap for a fixed seed and budget,
and PPO's wall time on the native batch environment against SB3's DummyVecEnv.

Part 1 trains every algorithm (``smartcharging.agents.runs``) and prints wall time,
environment steps, the exact gap of its final greedy policy to the optimum's expected return,
and the gap of its best checkpoint (the model ``evaluate``/``compare --model`` use).

Part 2 is the in-run reference for the batch environment: PPO with the same
hyperparameters and number of copies, to the same number of steps, once on
``SB3BatchVecEnv`` and once on a ``DummyVecEnv`` of wrapped scalar environments, and the
same for collecting experience alone (policy inference and env steps, no gradient updates).

    python benchmarks/training.py [--json] [--only qlearning,ppo]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from smartcharging import ChargingConfig, SmartChargingEnv
from smartcharging.agents.runs import Run, RunSpec, default_num_envs
from smartcharging.agents.sb3_agents import hyperparameters
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import training_env

#: Environment steps per algorithm: what each gets within about a minute on 2 cores.
BUDGETS = {"qlearning": 30_000_000, "ppo": 400_000, "a2c": 400_000, "dqn": 60_000}
SEED = 0


def train_one(algo: str, steps: int, folder: Path) -> dict[str, float | int | str]:
    spec = RunSpec(algo, steps, SEED, ChargingConfig(), default_num_envs(algo), checkpoints=10)
    start = time.perf_counter()
    run = Run.start(folder, spec)
    final = run.train()
    wall = time.perf_counter() - start
    assert run.best is not None
    return {
        "algo": algo,
        "env_steps": final.steps,
        "wall_time_s": round(wall, 2),
        "expected_return": final.expected_return,
        "optimal_return": final.optimal_return,
        "relative_gap_percent": round(100 * final.relative_gap, 4),
        "best_checkpoint_steps": run.best["steps"],
        "best_checkpoint_gap_percent": round(100 * run.best["relative_gap"], 4),
    }


def vec_env(batch: bool, num_envs: int) -> VecEnv:
    """The native batch env, or SB3's DummyVecEnv of wrapped scalar envs."""
    config = ChargingConfig()
    if batch:
        return SB3BatchVecEnv(config, num_envs)
    return DummyVecEnv([lambda: training_env(SmartChargingEnv(config=config))] * num_envs)


def ppo_wall_time(batch: bool, steps: int, num_envs: int) -> float:
    env = vec_env(batch, num_envs)
    model = PPO("MlpPolicy", env, seed=SEED, device="cpu", **hyperparameters("ppo"))
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return time.perf_counter() - start


def rollout_steps_per_second(batch: bool, steps: int, num_envs: int) -> float:
    """Env-steps/s of collecting experience alone: policy inference plus env steps."""
    env = vec_env(batch, num_envs)
    model = PPO("MlpPolicy", env, seed=SEED, device="cpu", **hyperparameters("ppo"))
    observations: Any = env.reset()
    start = time.perf_counter()
    for _ in range(steps // num_envs):
        actions, _ = model.predict(observations, deterministic=False)
        observations, *_ = env.step(actions)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", default=",".join(BUDGETS), help="algorithms to train")
    parser.add_argument("--ppo-steps", type=int, default=131_072)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for algo in args.only.split(","):
            rows.append(train_one(algo, BUDGETS[algo], Path(tmp) / algo))
    num_envs = default_num_envs("ppo")
    batch_s = ppo_wall_time(True, args.ppo_steps, num_envs)
    dummy_s = ppo_wall_time(False, args.ppo_steps, num_envs)
    batch_rollout = rollout_steps_per_second(True, args.ppo_steps, num_envs)
    dummy_rollout = rollout_steps_per_second(False, args.ppo_steps, num_envs)
    result = {
        "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        "algorithms": rows,
        "ppo_env_comparison": {
            "env_steps": args.ppo_steps,
            "num_envs": num_envs,
            "batch_env_s": round(batch_s, 2),
            "dummy_vec_env_s": round(dummy_s, 2),
            "speedup": round(dummy_s / batch_s, 2),
            "rollout_batch_env_steps_per_s": round(batch_rollout),
            "rollout_dummy_vec_env_steps_per_s": round(dummy_rollout),
            "rollout_speedup": round(batch_rollout / dummy_rollout, 2),
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}")
    print(
        f"{'algorithm':>10} {'env steps':>12} {'wall s':>8} {'expected return':>16} "
        f"{'gap %':>9} {'best checkpoint gap %':>22}"
    )
    for row in rows:
        print(
            f"{row['algo']:>10} {row['env_steps']:>12,} {row['wall_time_s']:>8} "
            f"{row['expected_return']:>16.6g} {row['relative_gap_percent']:>9.3f} "
            f"{row['best_checkpoint_gap_percent']:>13.3f} at {row['best_checkpoint_steps']:,}"
        )
    print(f"(optimum {rows[0]['optimal_return']:.6g})")
    print(
        f"PPO to {args.ppo_steps:,} steps with {num_envs} copies: batch env {batch_s:.1f} s, "
        f"DummyVecEnv {dummy_s:.1f} s ({dummy_s / batch_s:.2f}x faster on the batch env)"
    )
    print(
        f"  collecting experience alone (policy inference + env): batch env "
        f"{batch_rollout:,.0f} steps/s, DummyVecEnv {dummy_rollout:,.0f} steps/s "
        f"({batch_rollout / dummy_rollout:.2f}x)"
    )


if __name__ == "__main__":
    main()
