"""Stable-Baselines3 DQN, PPO and A2C on the smart-charging problem (hyperparameters from
:mod:`smartcharging.agents.hyperparameters`).

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from smartcharging.agents.checkpoint_scores import CurvePoint
from smartcharging.agents.hyperparameters import ACTIVATIONS as ACTIVATION_NAMES
from smartcharging.agents.hyperparameters import (
    HyperparameterError,
    Hyperparameters,
    check_net_arch,
)
from smartcharging.agents.run_directory import RunError
from smartcharging.agents.safe_loading import read_archive_bytes
from smartcharging.agents.sb3_loading import (
    load_model_safely,
    read_model_data,
    read_observation_box,
)
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import ScaleObservation, normalize_observations
from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import SmartChargingEnv
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.policies.base import Policy
from smartcharging.solvers.vehicle.dp import Optimum

try:
    import torch
    from stable_baselines3 import A2C, DQN, PPO
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
except ImportError as error:  # pragma: no cover - exercised only without the rl extra
    raise ImportError(
        "DQN, PPO and A2C need the rl extra: pip install 'smartcharging[rl]' "
        "(install a CPU build of torch first on machines without a GPU)"
    ) from error

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"dqn": DQN, "ppo": PPO, "a2c": A2C}
#: SB3 arguments that runs set themselves (or that would write files): not hyperparameters.
SET_HERE = ("policy", "env", "seed", "device", "verbose", "tensorboard_log", "_init_setup_model")


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
    kwargs = params.model_kwargs()
    check_algorithm_keys(params.source, params.algo, kwargs)
    return ALGORITHMS[params.algo]("MlpPolicy", env, seed=seed, device="cpu", **kwargs)


def check_algorithm_keys(source: str, algo: str, kwargs: dict[str, Any]) -> None:
    """Refuse a keyword the SB3 algorithm ``algo`` does not take, or one that runs set
    themselves (:data:`SET_HERE`: the device, a log folder, ...): a
    :class:`HyperparameterError` naming ``source`` and the allowed keys."""
    algorithm = ALGORITHMS[algo]
    allowed = set(inspect.signature(algorithm.__init__).parameters) - {"self", *SET_HERE}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise HyperparameterError(
            f"{source}: unknown {algo} hyperparameter {unknown[0]!r}: "
            f"allowed: {', '.join(sorted(allowed))}"
        )


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


class CheckpointEvery(BaseCallback):
    """Calls ``checkpoint`` between training updates each time at least ``every`` steps
    have passed since the last checkpoint (at ``start`` steps). It runs when a rollout
    starts, after the previous update: the model it sees is the one being trained, never
    one halfway through an update."""

    def __init__(self, start: int, every: int, checkpoint: Callable[[], None]) -> None:
        super().__init__()
        self.last = start
        self.every = every
        self.checkpoint = checkpoint

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps - self.last >= self.every:
            self.checkpoint()
            self.last = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True


class ExactGapCallback(BaseCallback):
    """Scores a model's greedy policy by its exact gap to the optimum every ``every`` steps,
    between updates: a learning curve without evaluation episodes. With ``stop_below``,
    training stops at the first gap at or below it. ``curve`` holds (steps, relative gap,
    training seconds so far, the evaluations' own time left out)."""

    def __init__(
        self,
        config: ChargingConfig,
        solution: Optimum,
        every: int,
        stop_below: float | None = None,
    ) -> None:
        super().__init__()
        self.config, self.solution, self.every = config, solution, every
        self.stop_below = stop_below
        self.curve: list[tuple[int, float, float]] = []
        self._last = 0
        self._started = time.perf_counter()
        self._evaluation_s = 0.0

    @property
    def gap(self) -> float:
        """The latest relative gap (infinite before the first evaluation)."""
        return self.curve[-1][1] if self.curve else math.inf

    def _on_training_start(self) -> None:
        self._last = self.model.num_timesteps
        self._started, self._evaluation_s = time.perf_counter(), 0.0

    def evaluate(self) -> float:
        """Score the model now (also after training, for its end); return its gap."""
        start = time.perf_counter()
        policy = SB3Policy(self.model, self.config, "sb3")
        value = exact_value(policy, self.config, self.solution.grid).expected_return
        optimum = self.solution.expected_return
        trained_s = start - self._started - self._evaluation_s
        self.curve.append(
            (int(self.model.num_timesteps), (optimum - value) / abs(optimum), trained_s)
        )
        self._evaluation_s += time.perf_counter() - start
        self._last = self.model.num_timesteps
        return self.gap

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps - self._last >= self.every:
            self.evaluate()

    def _on_step(self) -> bool:
        return self.stop_below is None or self.gap > self.stop_below


class TensorBoardLog:
    """A model's training log as TensorBoard event files in ``folder``: SB3's ``train/``,
    ``rollout/`` and ``time/`` values, and each checkpoint's exact figures
    (``exact/relative_gap``, ``exact/expected_return``) at its step. Steps continue across
    a resume (each session adds its events file to the folder)."""

    def __init__(self, model: BaseAlgorithm, folder: Path) -> None:
        from stable_baselines3.common.logger import configure

        self.model = model
        model.set_logger(configure(str(folder), ["tensorboard"]))

    def checkpoint(self, point: CurvePoint) -> None:
        """Log one checkpoint's exact figures (and whatever SB3 recorded since its last
        write) at the checkpoint's step."""
        logger = self.model.logger
        logger.record("exact/relative_gap", point.relative_gap)
        logger.record("exact/expected_return", point.expected_return)
        logger.dump(point.steps)

    def close(self) -> None:
        """Write what is left and close the files."""
        self.model.logger.close()


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
ACTIVATIONS = {f"<class 'torch.nn.modules.activation.{name}'>": name for name in ACTIVATION_NAMES}
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
        f"{path}: cannot tell its algorithm (a DQN, PPO or A2C model file of "
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
        kwargs["net_arch"] = check_net_arch(str(path), saved["net_arch"])
    if "activation_fn" in saved:
        name = ACTIVATIONS.get(str(saved["activation_fn"]))
        if name is None:
            raise ValueError(
                f"{path.name}: unsupported activation_fn {saved['activation_fn']!r}: "
                f"supported are torch.nn.{', torch.nn.'.join(ACTIVATIONS.values())}"
            )
        kwargs["activation_fn"] = getattr(torch.nn, name)
    return kwargs


def describe_box(low: np.ndarray, high: np.ndarray) -> str:
    """A Box's bounds in a few characters: ``low=[0, 0] high=[72, 8]``."""

    def numbers(values: np.ndarray) -> str:
        return "[" + ", ".join(f"{value:.6g}" for value in np.ravel(values)) + "]"

    return f"low={numbers(low)} high={numbers(high)}"


def observes_scaled(path: Path, data: dict[str, Any], config: ChargingConfig) -> bool:
    """Whether the model saved at ``path`` (its plain-JSON ``data``) was trained on
    ``config``'s observations scaled to ``[0, 1]`` (``ScaleObservation``, as
    :func:`~smartcharging.agents.scaling.training_env` and ``smartcharging train`` do):
    True if its ``observation_space`` has the bounds of the scaled space, False if it has
    those of the environment's own space; a ``ValueError`` naming the file and the three
    spaces if it has neither (a model of another configuration, or other wrappers)."""
    low, high = read_observation_box(path, data)
    raw = SmartChargingEnv(config=config).observation_space
    scaled = ScaleObservation(SmartChargingEnv(config=config)).observation_space
    assert isinstance(raw, spaces.Box) and isinstance(scaled, spaces.Box)
    for space, is_scaled in ((scaled, True), (raw, False)):
        if low.shape == space.shape and all(
            np.allclose(found, np.asarray(bound, dtype=np.float64), rtol=1e-6, atol=1e-6)
            for found, bound in ((low, space.low), (high, space.high))
        ):
            return is_scaled
    raise ValueError(
        f"{path}: its observation_space {describe_box(low, high)} is neither this "
        f"configuration's scaled observations ({describe_box(scaled.low, scaled.high)}) nor "
        f"its raw ones ({describe_box(raw.low, raw.high)}): trained on another configuration "
        "or with other wrappers? --raw-observations or --scaled-observations forces one"
    )


def load_user_model(
    path: Path,
    config: ChargingConfig,
    algo: str | None = None,
    scale_observations: bool | None = None,
) -> SB3Policy:
    """A plain SB3 model file saved by a user's own script (``model.save(...)``), as a
    policy on ``config``, loaded without unpickling anything from it
    (:mod:`smartcharging.agents.sb3_loading`): the model is rebuilt from ``config``'s spaces,
    the algorithm (``algo``, or detected from the file) and the network shape written in
    the file. Whether it sees observations scaled to ``[0, 1]`` is read from the file's
    ``observation_space`` (:func:`observes_scaled`) unless ``scale_observations`` says so;
    the policy's ``scale_observations`` tells which."""
    if algo is not None and algo not in ALGORITHMS:
        raise ValueError(f"invalid --algo {algo!r}: must be one of {', '.join(ALGORITHMS)}")
    try:
        content = read_archive_bytes(path)
    except OSError as error:
        raise RunError(f"--model {path}: cannot read it: {error.strerror or error}") from None
    data = read_model_data(path, content)
    algo = detect_algorithm(path, data) if algo is None else algo
    if scale_observations is None:
        scale_observations = observes_scaled(path, data, config)
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
    model = load_model_safely(path, template, content)
    return SB3Policy(model, config, f"{algo}:{path.name}", scale_observations)
