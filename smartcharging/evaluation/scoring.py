"""Score any policy exactly: :func:`evaluate_policy`.

A policy may be a :class:`~smartcharging.policies.base.Policy`, a Stable-Baselines3 model
(anything with SB3's ``predict``) or any callable from observations to actions, taking a
batch ``(N, size)`` or a single observation. It is queried on the observation of every state
it can reach, and the exact solver turns the answers into its expected return, its gap to the
optimum, its shortfall probability and its cost parts: numbers without sampling noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from smartcharging.config import ChargingConfig, DepotConfig
from smartcharging.envs.scale_observation import ScaleObservation
from smartcharging.evaluation.vehicle import PolicyReport, report
from smartcharging.observations import vehicle_scale
from smartcharging.policies.base import Policy
from smartcharging.solvers.vehicle.dp import solve_all


class CallablePolicy(Policy):
    """A callable from observations to actions (or an SB3 model) as a :class:`Policy`.

    ``scale_observations``: the callable sees observations mapped to ``[0, 1]`` as by
    :class:`smartcharging.envs.scale_observation.ScaleObservation`, rather than the env's own.
    """

    def __init__(
        self,
        act: Callable[[np.ndarray], Any],
        config: ChargingConfig,
        name: str,
        scale_observations: bool = False,
    ) -> None:
        self._act = act
        self.n_actions = config.n_actions
        self.name = name
        self._scale = vehicle_scale(config) if scale_observations else None
        self._batched: bool | None = None  # found out on the first call

    def actions(self, observations: np.ndarray) -> np.ndarray:
        observations = np.asarray(observations, dtype=np.float32)
        if self._scale is not None:
            observations = (observations / self._scale).astype(np.float32)
        actions = self._answers(observations)
        if actions.dtype.kind not in "iuf":
            raise self._invalid(np.asarray(actions.flat[0]).item() if actions.size else actions)
        ok = (actions >= 0) & (actions < self.n_actions) & (actions == np.floor(actions))
        if not ok.all():
            raise self._invalid(actions[~ok][0].item())
        return actions.astype(np.int64)

    def _invalid(self, action: object) -> ValueError:
        return ValueError(
            f"policy {self.name!r} returned action {action!r}: actions must be integers in "
            f"0..{self.n_actions - 1}"
        )

    def _answers(self, observations: np.ndarray) -> np.ndarray:
        """The callable's actions for a batch: one call if it takes batches, else a call
        per observation."""
        if self._batched is not False:
            try:
                actions = np.asarray(self._act(observations)).reshape(-1)
            except Exception:
                if self._batched:
                    raise
                actions = None
            if actions is not None and actions.shape == (len(observations),):
                self._batched = True
                return actions
            if self._batched:
                raise ValueError(
                    f"policy {self.name!r} returned {actions.size if actions is not None else 0} "
                    f"actions for {len(observations)} observations"
                )
            self._batched = False
        return np.array([np.asarray(self._act(row)).reshape(()) for row in observations])


def _is_sb3_model(policy: object) -> bool:
    return callable(getattr(policy, "predict", None)) and hasattr(policy, "policy")


def as_policy(
    policy: Policy | Callable[[np.ndarray], Any],
    config: ChargingConfig,
    scale_observations: bool = False,
) -> Policy:
    """``policy`` behind the :class:`Policy` interface (a ``Policy`` is returned as is)."""
    if isinstance(policy, Policy):
        return policy
    if _is_sb3_model(policy):
        model: Any = policy

        def predict(observations: np.ndarray) -> np.ndarray:
            return model.predict(observations, deterministic=True)[0]

        return CallablePolicy(predict, config, type(model).__name__, scale_observations)
    if not callable(policy):
        raise TypeError(
            f"invalid policy {policy!r}: must be a smartcharging Policy, a Stable-Baselines3 "
            "model or a callable from observations to actions"
        )
    name = getattr(policy, "__name__", type(policy).__name__)
    return CallablePolicy(policy, config, name, scale_observations)


def _config_of(config_or_env: ChargingConfig | gym.Env | None) -> tuple[ChargingConfig, bool]:
    """The configuration, and whether the env scales its observations (ScaleObservation)."""
    if config_or_env is None:
        return ChargingConfig(), False
    if isinstance(config_or_env, ChargingConfig):
        return config_or_env, False
    if isinstance(config_or_env, gym.Env):
        config = getattr(config_or_env.unwrapped, "config", None)
        if isinstance(config, ChargingConfig):
            return config, _wrapped_in(config_or_env, ScaleObservation)
    if isinstance(config_or_env, DepotConfig) or isinstance(
        getattr(getattr(config_or_env, "unwrapped", None), "config", None), DepotConfig
    ):
        raise ValueError(
            "evaluate_policy scores single-vehicle policies exactly; depot policies are "
            "compared with smartcharging.evaluation.depot (or `smartcharging compare "
            "--scenario depot-...`)"
        )
    raise TypeError(
        f"invalid config_or_env {config_or_env!r}: must be a ChargingConfig, a "
        "SmartCharging-v0 environment (wrapped or not) or None (the seed's configuration)"
    )


def _wrapped_in(env: gym.Env, wrapper: type) -> bool:
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper):
            return True
        env = env.env
    return False


def evaluate_policy(
    policy: Policy | Callable[[np.ndarray], Any],
    config_or_env: ChargingConfig | gym.Env | None = None,
    *,
    scale_observations: bool | None = None,
    episodes: int = 0,
    seed: int = 0,
) -> PolicyReport:
    """Exact expected return, gap to the optimum, shortfall probability and cost parts of
    ``policy`` on a single-vehicle configuration (or the configuration of an env).

    ``policy``: a :class:`Policy`, a Stable-Baselines3 model (queried deterministically) or
    any callable from observations to action indices, batched or one at a time.
    ``scale_observations``: whether the policy expects observations mapped to ``[0, 1]``
    (as by ``ScaleObservation``); by default, exactly when ``config_or_env`` is an env
    wrapped in ``ScaleObservation``. ``episodes``: also a Monte-Carlo check of that many
    episodes. Read ``report.exact.expected_return``, ``report.gap``,
    ``report.exact.shortfall_probability``, ... or ``report.as_dict()``.
    """
    config, wrapped = _config_of(config_or_env)
    scaled = wrapped if scale_observations is None else scale_observations
    return report(as_policy(policy, config, scaled), solve_all(config), episodes, seed)
