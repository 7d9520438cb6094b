"""Stable-Baselines3 DQN, PPO and A2C on the smart-charging problem (hyperparameters from
:mod:`smartcharging.agents.hyperparameters`).

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from smartcharging.agents.hyperparameters import HyperparameterError, Hyperparameters
from smartcharging.agents.sb3_loading import load_model_safely
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import normalize_observations
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.policies.base import Policy

try:
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as error:  # pragma: no cover - exercised only without the rl extra
    raise ImportError(
        "DQN, PPO and A2C need the rl extra: pip install 'smartcharging[rl]' "
        "(install a CPU build of torch first on machines without a GPU)"
    ) from error

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"dqn": DQN, "ppo": PPO, "a2c": A2C}


def make_model(
    config: ChargingConfig,
    seed: int | None,
    reward_scale: float | None,
    params: Hyperparameters,
) -> BaseAlgorithm:
    """A fresh SB3 model on the native batch environment with these hyperparameters
    (``seed=None``: leave the global random generators alone, as for a template of
    :func:`load_model`)."""
    env = SB3BatchVecEnv(config, params.n_envs, reward_scale, params.expected_shortfall)
    algorithm = ALGORITHMS[params.algo]
    kwargs = params.model_kwargs()
    allowed = set(inspect.signature(algorithm.__init__).parameters) - {"self", "policy", "env"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise HyperparameterError(
            f"{params.source}: unknown {params.algo} hyperparameter {unknown[0]!r}: "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    return algorithm("MlpPolicy", env, seed=seed, device="cpu", **kwargs)


def load_model(
    algo: str,
    path: Path,
    config: ChargingConfig,
    reward_scale: float | None,
    params: Hyperparameters,
) -> BaseAlgorithm:
    """A saved model, on a batch environment of ``config`` (the configuration it was
    trained on) with the run's hyperparameters, ready to continue training; loaded without
    unpickling anything from the file (see :mod:`smartcharging.agents.sb3_loading`)."""
    return load_model_safely(path, make_model(config, None, reward_scale, params))


class WholeRunProgress(BaseCallback):
    """Makes an off-policy model's schedules (DQN's exploration) span the whole run.

    A run learns in chunks between checkpoints (``learn(chunk, reset_num_timesteps=False)``)
    and SB3 measures progress against the current call's end, so DQN's epsilon would fall
    to its final value within the first chunk (1.5% of a 20-checkpoint run instead of
    ``exploration_fraction``). Setting the model's total to the run's restores the schedule
    the hyperparameters describe. (On-policy models take progress from ``learn``'s own
    argument; the shipped PPO and A2C entries use no schedules.)
    """

    def __init__(self, total_steps: int) -> None:
        super().__init__()
        self.total_steps = total_steps

    def _on_training_start(self) -> None:
        self.model._total_timesteps = max(self.total_steps, self.model.num_timesteps)

    def _on_step(self) -> bool:
        return True


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
