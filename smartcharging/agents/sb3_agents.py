"""Stable-Baselines3 DQN, PPO and A2C with defaults for the smart-charging problem.

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from smartcharging.agents.sb3_loading import load_model_safely
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import normalize_observations
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.policies.base import Policy

try:
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.base_class import BaseAlgorithm
except ImportError as error:  # pragma: no cover - exercised only without the rl extra
    raise ImportError(
        "DQN, PPO and A2C need the rl extra: pip install 'smartcharging[rl]' "
        "(install a CPU build of torch first on machines without a GPU)"
    ) from error

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"dqn": DQN, "ppo": PPO, "a2c": A2C}

#: Episodes are 8 steps long and the return is an undiscounted sum, hence gamma = 1.
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "ppo": {
        "n_steps": 64,
        "batch_size": 512,
        "n_epochs": 10,
        "gamma": 1.0,
        "gae_lambda": 0.95,
        "learning_rate": 3e-4,
        "ent_coef": 0.0,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
    "a2c": {
        "n_steps": 8,
        "gamma": 1.0,
        "gae_lambda": 1.0,
        "learning_rate": 1e-3,
        "ent_coef": 0.0,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
    "dqn": {
        "gamma": 1.0,
        "learning_rate": 5e-4,
        "buffer_size": 200_000,
        "learning_starts": 2_000,
        "batch_size": 256,
        "train_freq": 1,
        "gradient_steps": 1,
        "target_update_interval": 1_000,
        "exploration_fraction": 0.3,
        "exploration_final_eps": 0.02,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
}


def hyperparameters(algo: str) -> dict[str, Any]:
    """A fresh copy of an algorithm's defaults: SB3 writes into the ``policy_kwargs`` it is
    given (A2C adds its optimizer class), which must not leak into the shared defaults."""
    return copy.deepcopy(HYPERPARAMETERS[algo])


#: Copies of the batch environment each algorithm collects from by default.
NUM_ENVS = {"ppo": 64, "a2c": 64, "dqn": 16}


def make_model(
    algo: str,
    config: ChargingConfig,
    num_envs: int,
    seed: int | None,
    reward_scale: float | None,
) -> BaseAlgorithm:
    """A fresh SB3 model on the native batch environment (``seed=None``: leave the global
    random generators alone, as for a template of :func:`load_model`)."""
    env = SB3BatchVecEnv(config, num_envs, reward_scale)
    return ALGORITHMS[algo]("MlpPolicy", env, seed=seed, device="cpu", **hyperparameters(algo))


def load_model(
    algo: str,
    path: Path,
    config: ChargingConfig,
    num_envs: int,
    reward_scale: float | None,
) -> BaseAlgorithm:
    """A saved model, on a batch environment of ``num_envs`` copies of ``config`` (the
    configuration it was trained on) to continue training, loaded without unpickling
    anything from the file (:func:`smartcharging.agents.sb3_loading.load_model_safely`)."""
    return load_model_safely(path, make_model(algo, config, num_envs, None, reward_scale))


class SB3Policy(Policy):
    """A trained SB3 model as a deterministic policy on raw observations."""

    def __init__(self, model: BaseAlgorithm, config: ChargingConfig, name: str) -> None:
        self.model = model
        self.config = config
        self.n_actions = config.n_actions
        self.name = name

    def actions(self, observations: np.ndarray) -> np.ndarray:
        normalized = normalize_observations(observations, self.config)
        actions, _ = self.model.predict(normalized, deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations))
