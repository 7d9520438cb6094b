"""The departure cost in expectation: the same objective, without the demand's noise.

At departure the environment draws the shift's demand and, if it exceeds the battery,
charges the shortfall cost: for the seed a fixed 7.2e10, for the physical model a cost per
missing kWh. A policy never sees the demand before it is drawn, so what a learner must
estimate is the *expected* departure cost of the battery it leaves with,
``E[cost(b, demand)]`` — and it must estimate it from rare, huge samples: for the seed, a
good policy runs out in 0.24% of episodes, and those episodes cost 7.2e10 against a
typical charging bill of 6e8. Float32 value estimates drown in that variance (see the
README's training section).

``ExpectedShortfallCost`` replaces the drawn departure cost by its expectation over the
demand distribution given the battery at departure (the normal survival function and
partial expectation that the exact solver uses). The demand is independent of everything
a policy does, so for *every* policy the expected return is unchanged: the optimal policy,
every value function and every exact gap are the same; only the sampling noise of the
departure step is gone (the remaining randomness is the arrival level and price day).
Reported figures stay in the environment's own reward: ``info["raw_reward"]`` keeps it.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from smartcharging.config import ChargingConfig
from smartcharging.solvers.vehicle.dp import departure_outcomes


def departure_battery(final_battery: Any, info: dict[str, Any]) -> Any:
    """The battery (kWh) a vehicle left with, from the departure step's ``info`` and the
    battery after departure (``final_battery``, 0 if it ran out): remaining + demand -
    shortfall, which is the departing level whether or not the demand was met."""
    return np.maximum(
        np.asarray(final_battery, dtype=np.float64) + info["demand_kwh"] - info["shortfall_kwh"],
        0.0,
    )


def expected_departure_cost(config: ChargingConfig, battery_kwh: Any) -> Any:
    """Expected departure cost of leaving with ``battery_kwh`` (float or array)."""
    return departure_outcomes(config, np.asarray(battery_kwh, dtype=np.float64))[0]


def expected_shortfall_rewards(
    config: ChargingConfig,
    rewards: np.ndarray,
    final_battery: np.ndarray,
    info: dict[str, Any],
) -> np.ndarray:
    """Batch version for a vector env's step: rewards with each departing copy's drawn
    departure cost (``info["penalty"]``, masked by ``info["_penalty"]``) replaced by its
    expectation. ``final_battery`` is the battery after departure (from ``final_obs``)."""
    departing = info.get("_penalty")
    if departing is None or not departing.any():
        return rewards
    expected = expected_departure_cost(config, departure_battery(final_battery, info))
    return np.where(departing, rewards + info["penalty"] - expected, rewards)


class ExpectedShortfallCost(gym.Wrapper[np.ndarray, np.int64, np.ndarray, np.int64]):
    """Replaces the drawn departure cost by its expectation given the departing battery
    (module docstring): every policy's expected return is unchanged, its variance is not.
    ``info["raw_reward"]`` keeps the environment's own reward. Wrap the environment itself
    (innermost), so that ``observation[0]`` is the battery in kWh."""

    def __init__(self, env: gym.Env[np.ndarray, np.int64]) -> None:
        super().__init__(env)
        self.config: ChargingConfig = env.unwrapped.config  # type: ignore[attr-defined]

    def step(
        self, action: np.int64
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        info["raw_reward"] = reward
        if "penalty" in info:  # departure; observation[0] is the battery left after it
            battery = departure_battery(observation[0], info)
            reward = (
                float(reward)
                + info["penalty"]
                - float(expected_departure_cost(self.config, battery))
            )
        return observation, reward, terminated, truncated, info
