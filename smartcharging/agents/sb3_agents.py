"""Stable-Baselines3 DQN, PPO and A2C with defaults for the smart-charging problem.

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from smartcharging.agents.run_directory import RunError
from smartcharging.agents.sb3_loading import load_model_safely, read_model_data
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import ScaleObservation, normalize_observations
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import SmartChargingEnv
from smartcharging.policies.base import Policy

try:
    import torch
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
    """A trained SB3 model as a deterministic policy on raw observations; the model sees
    them scaled to ``[0, 1]`` (``ScaleObservation``) unless ``scale_observations=False``."""

    def __init__(
        self,
        model: BaseAlgorithm,
        config: ChargingConfig,
        name: str,
        scale_observations: bool = True,
    ) -> None:
        self.model = model
        self.config = config
        self.n_actions = config.n_actions
        self.name = name
        self.scale_observations = scale_observations

    def actions(self, observations: np.ndarray) -> np.ndarray:
        if self.scale_observations:
            observations = normalize_observations(observations, self.config)
        actions, _ = self.model.predict(observations, deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations))


#: Activation functions a user's model file may name (as SB3 writes them, by class).
ACTIVATIONS = {
    f"<class 'torch.nn.modules.activation.{name}'>": name
    for name in ("Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid")
}
#: Policy settings read from a user's model file; any other is refused.
READ_POLICY_KWARGS = ("net_arch", "activation_fn", "optimizer_class", "optimizer_kwargs")


def detect_algorithm(path: Path, data: dict[str, Any]) -> str:
    """``dqn``, ``ppo`` or ``a2c``, from the plain-JSON settings of an SB3 model file."""
    if "target_update_interval" in data:
        return "dqn"
    if "clip_range" in data:
        return "ppo"
    if "n_steps" in data:
        return "a2c"
    raise ValueError(
        f"{path.name}: cannot tell its algorithm (a DQN, PPO or A2C model file of "
        "Stable-Baselines3 was expected): pass --algo dqn|ppo|a2c"
    )


def _user_policy_kwargs(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The network shape of a user's model (``net_arch``, ``activation_fn``), read from the
    plain JSON that SB3 writes beside its pickled copy; other settings are refused."""
    saved = data.get("policy_kwargs") or {}
    if not isinstance(saved, dict):
        raise ValueError(f"{path.name}: its policy_kwargs is not a JSON object")
    unknown = sorted(k for k in saved if not k.startswith(":") and k not in READ_POLICY_KWARGS)
    if unknown:
        raise ValueError(
            f"{path.name}: cannot rebuild its policy without unpickling: unsupported "
            f"policy_kwargs {unknown} (supported: {', '.join(READ_POLICY_KWARGS)})"
        )
    kwargs: dict[str, Any] = {}
    if "net_arch" in saved:
        kwargs["net_arch"] = saved["net_arch"]
    if "activation_fn" in saved:
        name = ACTIVATIONS.get(str(saved["activation_fn"]))
        if name is None:
            raise ValueError(
                f"{path.name}: unsupported activation_fn {saved['activation_fn']!r}: "
                f"supported are torch.nn.{', torch.nn.'.join(ACTIVATIONS.values())}"
            )
        kwargs["activation_fn"] = getattr(torch.nn, name)
    return kwargs


def load_user_model(
    path: Path, config: ChargingConfig, algo: str | None = None, scale_observations: bool = True
) -> SB3Policy:
    """A plain SB3 model file saved by a user's own script (``model.save(...)``), as a
    policy on ``config``, loaded without unpickling anything from it
    (:mod:`smartcharging.agents.sb3_loading`): the model is rebuilt from ``config``'s spaces
    (observations scaled to ``[0, 1]`` unless ``scale_observations=False``), the algorithm
    (``algo``, or detected from the file) and the network shape written in the file."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RunError(f"--model {path}: cannot read it: {error.strerror or error}") from None
    data = read_model_data(path, content)
    algo = detect_algorithm(path, data) if algo is None else algo
    if algo not in ALGORITHMS:
        raise ValueError(f"invalid --algo {algo!r}: must be one of {', '.join(ALGORITHMS)}")
    env = SmartChargingEnv(config=config)
    settings: dict[str, Any] = {"policy_kwargs": _user_policy_kwargs(path, data)}
    if algo == "dqn":
        settings["buffer_size"] = 1
    template = ALGORITHMS[algo](
        "MlpPolicy",
        ScaleObservation(env) if scale_observations else env,
        device="cpu",
        **settings,
    )
    overrides = {"buffer_size": 1} if algo == "dqn" else None
    model = load_model_safely(path, template, content, overrides)
    return SB3Policy(model, config, f"{algo}:{path.name}", scale_observations)
