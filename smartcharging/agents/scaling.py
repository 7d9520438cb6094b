"""Reward scaling and observation normalisation for learning agents (one vehicle, a depot).

The seed's rewards span ten orders of magnitude (an idle slot costs 0.25, running out
7.2e10), which no neural network trains well on. Agents therefore learn on

* rewards divided by a positive ``reward_scale`` (by default the shortfall penalty, so that
  running out costs 1; 7.2e10 for the seed): a linear scaling, so the optimal policy is
  unchanged. Measured on the seed, this default let A2C reach a 24% gap and DQN 5% where
  scaling by one full-power slot's cost (9e8) left them at 96% and 344%;
* observations mapped to ``[0, 1]``: battery / capacity and time step (or slots left) /
  n_slots, prices divided by the largest absolute price of the configuration; a fixed map
  (no running statistics), so a trained policy means the same thing in every evaluation.

Results are always reported in the environment's own, unscaled reward.
"""

from __future__ import annotations

import warnings
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from smartcharging.config import ChargingConfig, DepotConfig, limits
from smartcharging.envs.scale_observation import ScaleObservation
from smartcharging.observations import DepotLayout, charger_views, depot_scale
from smartcharging.observations import normalize_observations as normalize_observations


def default_reward_scale(config: ChargingConfig) -> float:
    """The cost of running out: the seed's fixed penalty, or for the physical model the
    cost of missing the whole mean demand (1 if that is 0)."""
    if config.physical:
        scale = config.shortfall_cost_per_kwh * config.demand_mean_kwh
    else:
        scale = config.fixed_shortfall_penalty
    return scale if scale > 0 else 1.0


def check_reward_scale(reward_scale: float, config: ChargingConfig | None = None) -> float:
    """``reward_scale`` if it is a finite number > 0 that keeps ``config``'s worst episode,
    scaled, below :data:`~limits.MAX_SCALED_COST` (float32 rewards stay finite)."""
    if not np.isfinite(reward_scale) or reward_scale <= 0:
        raise ValueError(f"invalid reward_scale={reward_scale!r}: must be a finite number > 0")
    if config is not None:
        smallest = config.worst_episode_cost / limits.MAX_SCALED_COST
        if reward_scale < smallest:
            raise ValueError(
                f"invalid reward_scale={reward_scale!r} (--reward-scale): must be at least "
                f"{smallest:.3g}, so "
                f"that the worst episode ({config.worst_episode_cost:.3g}) scaled stays below "
                f"{limits.MAX_SCALED_COST:g} (MAX_SCALED_COST in smartcharging.config.limits)"
            )
    return float(reward_scale)


class ScaleReward(gym.RewardWrapper[np.ndarray, np.int64]):
    """Divides every reward by ``reward_scale``; ``info["raw_reward"]`` keeps the original."""

    def __init__(self, env: gym.Env[np.ndarray, np.int64], reward_scale: float) -> None:
        super().__init__(env)
        self.reward_scale = check_reward_scale(reward_scale)

    def step(
        self, action: np.int64
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        info.setdefault("raw_reward", reward)  # an inner wrapper may have kept it already
        return observation, self.reward(reward), terminated, truncated, info

    def reward(self, reward: SupportsFloat) -> float:
        return float(reward) / self.reward_scale


def training_env(
    env: gym.Env[np.ndarray, np.int64],
    reward_scale: float | None = None,
    expected_shortfall: bool = True,
) -> gym.Env[np.ndarray, np.int64]:
    """The env as agents see it: the departure cost in expectation
    (:class:`~smartcharging.agents.expected_shortfall.ExpectedShortfallCost`, unless
    ``expected_shortfall=False``), normalised observations and scaled rewards.

    Also sets torch's thread count for small networks (one thread), unless the user chose
    one (:func:`~smartcharging.agents.hyperparameters.use_small_network_threads`)."""
    from smartcharging.agents.expected_shortfall import ExpectedShortfallCost
    from smartcharging.agents.hyperparameters import use_small_network_threads

    use_small_network_threads()

    config: ChargingConfig = env.unwrapped.config  # type: ignore[attr-defined]
    scale = default_reward_scale(config) if reward_scale is None else reward_scale
    inner = ExpectedShortfallCost(env) if expected_shortfall else env
    return ScaleReward(ScaleObservation(inner), scale)


def __getattr__(name: str) -> Any:
    """``NormalizeObservation``, the old name of :class:`ScaleObservation`, with a warning."""
    if name == "NormalizeObservation":
        warnings.warn(
            "smartcharging.agents.scaling.NormalizeObservation is deprecated and will be "
            "removed in the next release: use ScaleObservation (Gymnasium's "
            "NormalizeObservation is a different wrapper, with running statistics)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ScaleObservation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def depot_reward_scale(config: DepotConfig) -> float:
    """Chargers x the largest mean demand x the largest absolute price: roughly an
    episode's energy bill, so scaled depot returns are of order 1."""
    price = float(np.abs(config.prices).max()) or 1.0
    return config.n_chargers * max(max(config.demand_mean_kwh), 1.0) * price


def normalize_depot_observations(observations: np.ndarray, config: DepotConfig) -> np.ndarray:
    """Divide each column by its largest possible magnitude (see ``depot_scale``)."""
    return (np.asarray(observations, dtype=np.float32) / depot_scale(config)).astype(np.float32)


class ChargerView:
    """Per-charger observations of a depot: a charger's own vehicle (presence, battery,
    slots to departure, expected demand) followed by the shared site features (time step,
    prices, headroom), normalised. Every charger is one agent of a shared policy."""

    def __init__(self, config: DepotConfig) -> None:
        self.config = config
        self.layout = DepotLayout.of(config)
        self.size = self.layout.charger_size
        # Computed once: building the depot's observation box on every step cost more
        # than the step itself in the one-depot multi-agent view.
        self.scale = depot_scale(config)

    def observations(self, depot_observations: np.ndarray) -> np.ndarray:
        """``(depots, observation size)`` → ``(depots * chargers, size)``."""
        normalized = (np.asarray(depot_observations, dtype=np.float32) / self.scale).astype(
            np.float32
        )
        return charger_views(self.layout, normalized).reshape(-1, self.size)
