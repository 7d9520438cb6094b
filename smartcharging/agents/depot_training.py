"""Training PPO and A2C on the batch depot, and trained depot agents as policies.

One policy is shared by all chargers (parameter sharing, as in the PettingZoo view): each
charger sees its own vehicle and the site, sets its own power and is rewarded with its own
costs, and every charger's experience trains the same network. A policy for the whole
depot (one ``MultiDiscrete`` action) learned nothing useful in our tries: after 200k steps
it was worse than uncontrolled charging on depot-25-evening. The agents learn on the native
batch environment through an SB3 ``VecEnv`` adapter, with observations scaled to about
[-1, 1] and rewards divided by a fixed scale (:func:`depot_reward_scale`). A run
directory holds ``run.json`` (algorithm, steps, seed, the depot configuration, copies),
``versions.json``, the model of the last checkpoint, ``checkpoint.json`` naming it, and
``curve.csv``: at each checkpoint, the mean return of the deterministic policy on fixed
evaluation episodes and its gap to their hindsight bound. ``resume_depot`` continues an
interrupted run.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from smartcharging.agents.runs import RunError, package_versions
from smartcharging.agents.sb3_agents import ALGORITHMS
from smartcharging.agents.sb3_vec_env import NativeBatchVecEnv
from smartcharging.depot_config import DepotConfig
from smartcharging.depot_evaluate import run_policy
from smartcharging.envs.depot import depot_spaces
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.solvers.hindsight import hindsight_bound

DEPOT_ALGORITHMS = ("ppo", "a2c")
#: Shared charger policies learn from depots x chargers transitions per step (gamma = 1:
#: the return is an undiscounted sum). The single-vehicle entries are data
#: (``hyperparams/*.yml``); these stay here until depots get tuned entries of their own.
_NETWORK = {"policy_kwargs": {"net_arch": [64, 64]}, "ent_coef": 0.0, "gamma": 1.0}
DEPOT_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "ppo": {
        "n_steps": 64,
        "batch_size": 1024,
        "n_epochs": 5,
        "gae_lambda": 0.95,
        "learning_rate": 3e-4,
        **_NETWORK,
    },
    "a2c": {"n_steps": 8, "gae_lambda": 1.0, "learning_rate": 1e-3, **_NETWORK},
}
#: Fixed episodes every checkpoint is evaluated on (seeds EVALUATION_SEED + i).
EVALUATION_EPISODES = 16
EVALUATION_SEED = 10_000


def depot_reward_scale(config: DepotConfig) -> float:
    """Chargers x the largest mean demand x the largest absolute price: roughly an
    episode's energy bill, so scaled returns are of order 1."""
    price = float(np.abs(config.prices).max()) or 1.0
    return config.n_chargers * max(max(config.demand_mean_kwh), 1.0) * price


def normalize_depot_observations(observations: np.ndarray, config: DepotConfig) -> np.ndarray:
    """Divide each column by its largest possible magnitude (see ``depot_spaces``)."""
    space, _ = depot_spaces(config)
    scale = np.maximum(np.maximum(np.abs(space.low), np.abs(space.high)), 1e-9)
    return (np.asarray(observations, dtype=np.float32) / scale).astype(np.float32)


class ChargerView:
    """Per-charger observations of a depot: a charger's own vehicle (presence, battery,
    slots to departure, expected demand) followed by the shared site features (time step,
    prices, headroom), normalised. Every charger is one agent of a shared policy."""

    def __init__(self, config: DepotConfig) -> None:
        n = config.n_chargers
        self.config = config
        self.own = np.stack([np.arange(n) + k * n for k in range(4)], axis=1)  # (n, 4)
        self.shared = np.arange(4 * n, config.observation_size)
        self.size = 4 + len(self.shared)

    def observations(self, depot_observations: np.ndarray) -> np.ndarray:
        """``(depots, observation_size)`` → ``(depots * chargers, size)``."""
        normalized = normalize_depot_observations(depot_observations, self.config)
        depots, n = len(normalized), self.config.n_chargers
        own = normalized[:, self.own]
        shared = np.broadcast_to(normalized[:, None, self.shared], (depots, n, len(self.shared)))
        return np.concatenate([own, shared], axis=2).reshape(depots * n, self.size)


class SB3ChargerVecEnv(NativeBatchVecEnv):
    """The chargers of ``depots`` batch depots as one Stable-Baselines3 ``VecEnv``: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, with its own observation
    (:class:`ChargerView`), its power level as action and its own reward (its wear,
    shortfall cost, share of the energy cost and of the demand charge, as in the PettingZoo
    view), scaled by :func:`depot_reward_scale` per charger. One policy, trained on every
    charger's experience (parameter sharing), then acts for each charger."""

    def __init__(self, config: DepotConfig, depots: int) -> None:
        from gymnasium import spaces

        self.env = DepotVectorEnv(num_envs=depots, config=config)
        self.config = config
        self.view = ChargerView(config)
        self.depots = depots
        self.reward_scale = depot_reward_scale(config) / config.n_chargers
        observation = spaces.Box(-1.0, 1.0, shape=(self.view.size,), dtype=np.float32)
        super().__init__(depots * config.n_chargers, observation, spaces.Discrete(config.n_actions))
        self._actions = np.zeros((depots, config.n_chargers), dtype=np.int64)

    def reset(self) -> np.ndarray:
        seeds = self._seed_list()
        observations, _ = self.env.reset(
            seed=None if seeds is None else seeds[:: self.config.n_chargers]
        )
        self._reset_seeds()
        return self.view.observations(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(
            self.depots, self.config.n_chargers
        )

    def step_wait(self) -> VecEnvStepReturn:
        n = self.config.n_chargers
        observations, _, terminated, truncated, info = self.env.step(self._actions)
        own_cost = (
            info["wear_cost"]
            + info["shortfall_cost"]
            + info["energy_cost_share"]
            + info["demand_charge"][:, None] / n
        )
        rewards = (-own_cost / self.reward_scale).astype(np.float32).reshape(-1)
        dones = np.repeat(terminated | truncated, n)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            # Every depot's episode has the same length, so all end together; the next
            # (autoreset) step of the batch env starts their new episodes.
            final = self.view.observations(observations)
            for i in range(self.num_envs):
                infos[i]["terminal_observation"] = final[i]
                infos[i]["TimeLimit.truncated"] = False
            observations = self.env.step(np.zeros_like(self._actions))[0]
        return self.view.observations(observations), rewards, dones, infos


class DepotAgentPolicy:
    """A trained shared charger policy acting for every charger of a depot."""

    def __init__(self, model: Any, config: DepotConfig, name: str) -> None:
        self.model, self.config, self.name = model, config, name
        self.view = ChargerView(config)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        actions, _ = self.model.predict(self.view.observations(observations), deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations), -1)


@dataclass(frozen=True)
class DepotCheckpoint:
    steps: int
    wall_time_s: float
    mean_return: float
    hindsight_bound: float
    gap: float


def train_depot(
    config: DepotConfig,
    algo: str,
    steps: int,
    seed: int,
    out: Path,
    num_envs: int = 8,
    checkpoints: int = 10,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None = None,
) -> DepotCheckpoint:
    """Train a depot agent into a new run directory."""
    if algo not in DEPOT_ALGORITHMS:
        raise RunError(f"--algo {algo!r}: depot agents train with {', '.join(DEPOT_ALGORITHMS)}")
    if steps < 1 or num_envs < 1 or checkpoints < 1:
        raise RunError("--steps, --num-envs and --checkpoints must be >= 1")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"--out {out} exists and is not empty: choose a new directory")
    out.mkdir(parents=True, exist_ok=True)
    spec = {
        "algo": algo,
        "total_steps": steps,
        "seed": seed,
        "depot": config.to_dict(),
        "num_envs": num_envs,
        "checkpoints": checkpoints,
        "hyperparameters": DEPOT_HYPERPARAMETERS[algo],
        "reward_scale": depot_reward_scale(config),
        "steps_count": "charger transitions (depot steps x chargers)",
        "policy": "one network shared by all chargers",
    }
    _write_json(out / "run.json", spec)
    _write_json(out / "versions.json", package_versions())
    with open(out / "curve.csv", "w", newline="") as file:
        csv.writer(file).writerow(_CURVE_FIELDS)
    model = ALGORITHMS[algo](
        "MlpPolicy",
        SB3ChargerVecEnv(config, num_envs),
        seed=seed,
        device="cpu",
        **copy.deepcopy(DEPOT_HYPERPARAMETERS[algo]),  # SB3 writes into policy_kwargs
    )
    return _train(out, spec, config, model, 0.0, None, on_checkpoint)


def resume_depot(
    out: Path, on_checkpoint: Callable[[DepotCheckpoint], None] | None = None
) -> DepotCheckpoint:
    """Continue an interrupted depot run from its last checkpoint; curve rows written after
    that checkpoint are dropped, so none is lost or duplicated."""
    try:
        spec = json.loads((out / "run.json").read_text())
        checkpoint = json.loads((out / "checkpoint.json").read_text())
        config = DepotConfig(**spec["depot"])
        env = SB3ChargerVecEnv(config, int(spec["num_envs"]))
        model = ALGORITHMS[spec["algo"]].load(out / checkpoint["file"], env=env, device="cpu")
    except FileNotFoundError as error:
        raise RunError(f"cannot resume {out}: missing {Path(error.filename).name}") from None
    except (KeyError, ValueError, TypeError, OSError, json.JSONDecodeError) as error:
        raise RunError(f"corrupt checkpoint in {out}: {type(error).__name__}: {error}") from None
    steps = int(checkpoint["steps"])
    with open(out / "curve.csv", newline="") as file:
        rows = list(csv.reader(file))
    kept = [rows[0], *(row for row in rows[1:] if int(row[0]) <= steps)]
    temporary = out / "curve.tmp"
    with open(temporary, "w", newline="") as file:
        csv.writer(file).writerows(kept)
    os.replace(temporary, out / "curve.csv")
    return _train(
        out,
        spec,
        config,
        model,
        float(checkpoint["wall_time_s"]),
        checkpoint["file"],
        on_checkpoint,
    )


_CURVE_FIELDS = ("steps", "wall_time_s", "mean_return", "hindsight_bound", "gap")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)


def _train(
    out: Path,
    spec: dict[str, Any],
    config: DepotConfig,
    model: Any,
    wall_offset: float,
    last_file: str | None,
    on_checkpoint: Callable[[DepotCheckpoint], None] | None,
) -> DepotCheckpoint:
    """Learn to ``spec["total_steps"]``, checkpointing as the single-vehicle runs do: model
    under a new name, curve row, then ``checkpoint.json``, then the old model removed."""
    steps, algo = int(spec["total_steps"]), spec["algo"]
    _, episodes = run_policy(_Idle(config), config, EVALUATION_EPISODES, EVALUATION_SEED)
    bound = float(np.mean([hindsight_bound(config, e).value for e in episodes]))
    started = time.perf_counter()
    chunk = max(steps // int(spec["checkpoints"]), 1)
    point = None
    while model.num_timesteps < steps:
        model.learn(
            total_timesteps=min(chunk, steps - model.num_timesteps), reset_num_timesteps=False
        )
        run, _ = run_policy(
            DepotAgentPolicy(model, config, algo), config, EVALUATION_EPISODES, EVALUATION_SEED
        )
        mean = float(run.returns.mean())
        wall = wall_offset + time.perf_counter() - started
        point = DepotCheckpoint(int(model.num_timesteps), wall, mean, bound, bound - mean)
        model_file = f"model-{point.steps}.zip"
        model.save(out / model_file)
        with open(out / "curve.csv", "a", newline="") as file:
            csv.writer(file).writerow(
                [point.steps, round(point.wall_time_s, 3), mean, bound, point.gap]
            )
        _write_json(
            out / "checkpoint.json",
            {"steps": point.steps, "wall_time_s": round(wall, 3), "file": model_file},
        )
        if last_file is not None and last_file != model_file:
            (out / last_file).unlink(missing_ok=True)
        last_file = model_file
        if on_checkpoint is not None:
            on_checkpoint(point)
    if point is None:
        raise RunError(f"{out} has already trained its {steps:,} steps")
    return point


class _Idle:
    """Charges nothing; used only to draw the evaluation episodes."""

    name = "idle"

    def __init__(self, config: DepotConfig) -> None:
        self.config = config

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return np.zeros((len(observations), self.config.n_chargers), dtype=np.int64)


def load_depot_policy(folder: Path, config: DepotConfig) -> DepotAgentPolicy:
    """The trained agent of a depot run directory (its last checkpoint)."""
    try:
        spec = json.loads((folder / "run.json").read_text())
        model_file = json.loads((folder / "checkpoint.json").read_text())["file"]
        algo = spec["algo"]
        model = ALGORITHMS[algo].load(folder / model_file, device="cpu")
    except FileNotFoundError as error:
        raise RunError(
            f"--model {folder}: not a depot run directory (missing {Path(error.filename).name})"
        ) from None
    except (KeyError, ValueError, OSError, json.JSONDecodeError) as error:
        raise RunError(f"--model {folder}: cannot load the agent: {error}") from None
    expected = ChargerView(config).size
    if model.observation_space.shape != (expected,):
        raise RunError(
            f"--model {folder} was trained on another depot (observation size "
            f"{model.observation_space.shape}, this scenario has {expected})"
        )
    return DepotAgentPolicy(model, config, f"{algo}:{folder.name}")


def is_depot_run(folder: Path) -> bool:
    """Whether a run directory holds a depot agent."""
    try:
        return "depot" in json.loads((folder / "run.json").read_text())
    except (OSError, ValueError):
        return False
