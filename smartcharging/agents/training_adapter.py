"""What every learner's view of a native batch environment shares, whatever the engine.

Stable-Baselines3 (:mod:`smartcharging.agents.sb3_vec_env`, :mod:`smartcharging.agents.sb3_depot`)
and RLlib (:mod:`smartcharging.rllib.vehicle_env`, :mod:`smartcharging.rllib.charger_batch_env`)
each want their own vector-env interface, but must see the same problem: a learner trained on
one engine must mean the same as one trained on the other. The interfaces differ; what the
learner sees is built here once:

* one vehicle (:class:`VehicleAdapter`): the departure cost in expectation (unless
  ``expected_shortfall=False``), observations in ``[0, 1]``, rewards divided by a reward
  scale checked against the configuration (the scaled worst episode stays finite);
* a depot's chargers (:class:`ChargerAdapter`): by default each charger's own view and its
  own reward (:func:`~smartcharging.envs.charger_rewards.charger_rewards`), scaled per
  charger; a :class:`ChargerRecipe` adds the fleet and price features of
  :func:`fleet_features` and the depot's queue (:func:`queue_features`) to the view, keeps
  a charger from asking for more than its battery can take
  (:meth:`ChargerLearnerView.actions`), pays every charger the depot's reward with each
  departure's cost in expectation (:func:`team_expected_rewards`), and says how the trained
  policy picks levels (:data:`DECODINGS`).

Why the recipe (measured on ``depot-10-overnight``, README "Training a shared policy"): with
its own reward a charger pays nothing for asking for power its full battery cannot take, yet
under the 40 kW limit that request takes power from the vehicles served after it, so full
power is the best action of every state of its own reward; PPO found it within 50k steps
(at every battery level 90% full power, entropy 1.39 -> 0.38 by 200k) and its greedy policy
was ``uncontrolled``. Starting from a policy cloned from MPC (14% from the bound), the own
reward took PPO to 199% in 400k steps; the depot's reward kept it and improved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from smartcharging.agents.expected_shortfall import expected_shortfall_rewards
from smartcharging.agents.scaling import (
    ChargerView,
    check_reward_scale,
    default_reward_scale,
    depot_reward_scale,
)
from smartcharging.config import ChargingConfig, DepotConfig
from smartcharging.config.validation import shorten
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.envs.smart_charging_vector import SmartChargingVectorEnv
from smartcharging.observations import (
    DepotLayout,
    normalize_observations,
    vehicle_normalized_space,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, normal_surplus


def declare_spaces(
    env: Any, num_envs: int, observation_space: spaces.Space, action_space: spaces.Space
) -> None:
    """Give the Gymnasium ``VectorEnv`` ``env`` its ``num_envs`` copies and their single and
    batched spaces."""
    env.num_envs = num_envs
    env.single_observation_space = observation_space
    env.single_action_space = action_space
    env.observation_space = batch_space(observation_space, num_envs)
    env.action_space = batch_space(action_space, num_envs)


class VehicleAdapter:
    """``num_envs`` copies of one vehicle as every learner sees them."""

    def __init__(
        self,
        config: ChargingConfig,
        num_envs: int,
        reward_scale: float | None,
        expected_shortfall: bool,
        autoreset_mode: AutoresetMode,
    ) -> None:
        self.env = SmartChargingVectorEnv(
            num_envs=num_envs, config=config, autoreset_mode=autoreset_mode
        )
        self.config = config
        self.reward_scale = check_reward_scale(
            default_reward_scale(config) if reward_scale is None else reward_scale, config
        )
        self.expected_shortfall = expected_shortfall
        self.learner_observation_space = vehicle_normalized_space(config)

    def learner_observations(self, observations: np.ndarray) -> np.ndarray:
        """The copies' observations scaled to ``[0, 1]``."""
        return normalize_observations(observations, self.config)

    def learner_rewards(
        self, reward: np.ndarray, battery_after: np.ndarray | None, info: dict[str, Any]
    ) -> np.ndarray:
        """float32 rewards: with the departing copies' drawn penalty replaced by its
        expectation given ``battery_after`` (None: no copy departed), then scaled."""
        if self.expected_shortfall and battery_after is not None:
            reward = expected_shortfall_rewards(self.config, reward, battery_after, info)
        return (reward / self.reward_scale).astype(np.float32)


#: Rewards a charger may learn from: its own costs as drawn (``"own"``), or the depot's
#: reward shared equally, each departure's shortfall cost replaced by its expectation at the
#: battery the vehicle leaves with (``"team-expected"``).
CHARGER_REWARDS = ("own", "team-expected")
#: Columns :func:`fleet_features` adds to a charger's view.
FLEET_FEATURES = 8
#: Columns :func:`queue_features` adds per charger of the depot.
QUEUE_FEATURES_PER_CHARGER = 2
#: How a trained policy picks each charger's level: its most likely one (``"greedy"``), or
#: its expected power rounded so that the site's total is kept (``"site-rounded"``,
#: :mod:`smartcharging.agents.site_rounding`).
DECODINGS = ("greedy", "site-rounded")
#: The keys of a recipe in ``run.json`` (``queue`` and ``decoding`` are absent from runs
#: written before them).
RECIPE_KEYS = ("features", "action_mask", "reward", "queue", "decoding")


@dataclass(frozen=True)
class ChargerRecipe:
    """What a shared charger policy sees, may ask for and is paid (stored in a depot run's
    ``run.json``; a run without one was trained with :data:`OWN_VIEW`).

    Attributes:
        features: append :func:`fleet_features` to each charger's view.
        action_mask: a charger never asks for more than fills its battery in the slot
            (:meth:`ChargerLearnerView.actions`); fleet depots only (on session days the
            capacity is the session's request, which the view does not hold).
        reward: one of :data:`CHARGER_REWARDS`.
        queue: append :func:`queue_features` (the whole depot, in the order the vehicles
            leave) to each charger's view.
        decoding: one of :data:`DECODINGS`: how the trained policy acts (training samples
            its actions either way).
    """

    features: bool = False
    action_mask: bool = False
    reward: str = "own"
    queue: bool = False
    decoding: str = "greedy"

    def __post_init__(self) -> None:
        if self.reward not in CHARGER_REWARDS:
            raise ValueError(
                f"invalid reward={shorten(repr(self.reward))}: must be one of "
                f"{', '.join(CHARGER_REWARDS)}"
            )
        if self.decoding not in DECODINGS:
            raise ValueError(
                f"invalid decoding={shorten(repr(self.decoding))}: must be one of "
                f"{', '.join(DECODINGS)}"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "action_mask": self.action_mask,
            "reward": self.reward,
            "queue": self.queue,
            "decoding": self.decoding,
        }

    @classmethod
    def from_json(cls, data: object) -> ChargerRecipe:
        """The recipe a run stored (without ``queue`` or ``decoding``: a run from before
        them, without the queue features, acting greedily); a ``ValueError`` naming what does
        not fit."""
        required = set(RECIPE_KEYS) - {"queue", "decoding"}
        if not isinstance(data, dict):
            raise ValueError(f"its recipe {shorten(repr(data))} is not a JSON object")
        unknown = sorted(set(data) - set(RECIPE_KEYS), key=str)
        missing = sorted(required - set(data))
        if unknown or missing:
            what = f"unknown key {shorten(repr(unknown[0]))}" if unknown else f"no {missing[0]}"
            raise ValueError(f"its recipe has {what}: its keys are {', '.join(RECIPE_KEYS)}")
        flags = [data["features"], data["action_mask"], data.get("queue", False)]
        if not all(isinstance(flag, bool) for flag in flags):
            raise ValueError("its recipe's features, action_mask and queue must be true or false")
        reward, decoding = data["reward"], data.get("decoding", "greedy")
        return cls(flags[0], flags[1], reward, flags[2], decoding)


#: Each charger's own view and reward: what depot runs trained before the recipe.
OWN_VIEW = ChargerRecipe()
#: What ``train`` ships for depots (the module docstring says why).
SHIPPED_RECIPE = ChargerRecipe(
    features=True, action_mask=True, reward="team-expected", queue=True, decoding="site-rounded"
)


def fleet_features(config: DepotConfig, observations: np.ndarray) -> np.ndarray:
    """``(depots, chargers, FLEET_FEATURES)`` features of each charger, from the (raw) depot
    ``observations``, all in ``[-1, 1]`` and 0 where no vehicle is present:

    * its need to the demand's mean and to mean + 2 sd (capped at capacity), per capacity;
    * its laxity (slots left minus slots at full power to mean + 2 sd), per episode length;
    * what the vehicles leaving no later than it still need (to mean + 2 sd), per the
      site's energy until it leaves (/ 4): its place in the queue under a binding limit;
    * what all vehicles present need, per the site's energy until the last leaves (/ 4);
    * the share of its remaining slots that are cheaper than now, and how far the price now
      is above the cheapest of them (per the largest price): from the episode's price row,
      recognised from the observed prices as MPC recognises it;
    * the share of chargers occupied.
    """
    from smartcharging.agents.charger_kernels import fleet_columns  # numba: the rl extra

    return fleet_columns(
        observations,
        config.prices,
        config.forecast_slots + 1,
        config.demand_sd,
        config.capacity,
        max(float(config.power_kw[-1]) * config.slot_hours, 1e-9),
        max(config.grid_limit_kw, 1e-9) * config.slot_hours,
        config.price_scale,
    )


def queue_features(config: DepotConfig, observations: np.ndarray) -> np.ndarray:
    """``(depots, chargers, QUEUE_FEATURES_PER_CHARGER * chargers)``: what MPC sees of the
    whole depot, the same for every charger up to its own place, in ``[-1, 1]``: the
    vehicles present in the order they leave (ties by need; the empty chargers after them),
    first each one's need to mean + 2 sd (capped at capacity) per capacity, then the slots it leaves
    after this charger's vehicle (negative: before it), per episode length; 0 for empty
    chargers, and the second block 0 for an empty charger's own row. Sorted, so that a
    charger's number does not matter (the policy is shared)."""
    from smartcharging.agents.charger_kernels import queue_columns  # numba: the rl extra

    return queue_columns(observations, config.demand_sd, config.capacity, config.n_slots)


class ChargerLearnerView:
    """A depot as a shared charger policy sees and acts on it under ``recipe``: the same for
    training (:class:`ChargerAdapter`) and for acting (the trained policies)."""

    def __init__(self, config: DepotConfig, recipe: ChargerRecipe = OWN_VIEW) -> None:
        self.config, self.recipe = config, recipe
        self.view = ChargerView(config)
        self.layout = DepotLayout.of(config)
        queue = QUEUE_FEATURES_PER_CHARGER * config.n_chargers if recipe.queue else 0
        self.size = self.view.size + (FLEET_FEATURES if recipe.features else 0) + queue
        self.mask = recipe.action_mask and config.sessions is None
        self._capacity = np.asarray(config.capacity_kwh, dtype=np.float64)
        self._slot_kwh = np.asarray(config.power_kw, dtype=np.float64) * config.slot_hours

    def observations(self, observations: np.ndarray) -> np.ndarray:
        """``(depots, depot observation)`` -> ``(depots * chargers, size)``."""
        views = self.view.observations(observations)
        observations = np.asarray(observations)
        parts = [views]
        if self.recipe.features:
            parts.append(fleet_features(self.config, observations).reshape(len(views), -1))
        if self.recipe.queue:
            parts.append(queue_features(self.config, observations).reshape(len(views), -1))
        return np.concatenate(parts, axis=1) if len(parts) > 1 else views

    def actions(self, observations: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """The chargers' levels ``(depots, chargers)``; with the action mask a charging
        request above the smallest level that fills the battery in the slot is lowered to
        it (a request on a full battery takes its share of the limit and delivers nothing;
        discharging is left alone)."""
        levels = np.asarray(actions, dtype=np.int64).reshape(len(observations), -1)
        if not self.mask:
            return levels
        return np.minimum(levels, self.highest_levels(observations))

    def highest_levels(self, observations: np.ndarray) -> np.ndarray:
        """``(depots, chargers)``: the highest level each charger may ask for (with the
        action mask the smallest that fills its battery in the slot, else the top)."""
        top = len(self._slot_kwh) - 1
        if not self.mask:
            return np.full((len(observations), self.config.n_chargers), top, dtype=np.int64)
        room = np.maximum(self._capacity - observations[:, self.layout.battery], 0.0)
        return np.minimum(np.searchsorted(self._slot_kwh, room - 1e-9), top).astype(np.int64)


def team_expected_rewards(
    config: DepotConfig, reward: np.ndarray, info: dict[str, Any], before: np.ndarray
) -> np.ndarray:
    """``(depots,)`` depot rewards of a batch step with each departing vehicle's drawn
    shortfall cost (net of any credit for the energy left) replaced by its expectation at
    the battery it left with, over its demand distribution (mean from the observation
    ``before`` the step): the same expected return for every policy, without the demand's
    noise (as :mod:`smartcharging.agents.expected_shortfall` does for one vehicle)."""
    departed = np.asarray(info["departed"], dtype=bool)
    if not departed.any():
        return np.asarray(reward, dtype=np.float64)
    layout = DepotLayout.of(config)
    level = np.asarray(info["departure_battery_kwh"], dtype=np.float64)
    mean = np.asarray(before[:, layout.expected_demand], dtype=np.float64)
    sd = np.asarray(config.demand_sd_kwh, dtype=np.float64)
    missing = normal_shortfall(level, mean, sd)[1]
    expected = config.shortfall_cost_per_kwh * missing
    if config.residual_value_per_kwh:
        expected -= config.residual_value_per_kwh * normal_surplus(level, mean, sd, missing)
    drawn = np.asarray(info["shortfall_cost"], dtype=np.float64)
    return np.asarray(reward, dtype=np.float64) + ((drawn - expected) * departed).sum(axis=1)


class ChargerAdapter:
    """The chargers of ``depots`` batch depots as ``depots * chargers`` learner copies: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, so one shared policy learns from
    every charger's experience. ``recipe`` says what each copy sees, may ask and is paid
    (:class:`ChargerRecipe`; by default its own view and its own costs). An engine's env
    calls :meth:`observe` with every depot observation it passes on (reset and step), then
    :meth:`learner_actions` and :meth:`learner_rewards` in each step."""

    def __init__(self, config: DepotConfig, depots: int, recipe: ChargerRecipe = OWN_VIEW) -> None:
        self.env = DepotVectorEnv(num_envs=depots, config=config)
        self.config = config
        self.depots = depots
        self.recipe = recipe
        self.learner = ChargerLearnerView(config, recipe)
        self.view = self.learner.view
        self.reward_scale = depot_reward_scale(config) / config.n_chargers
        self.learner_observation_space = spaces.Box(
            -1.0, 1.0, shape=(self.learner.size,), dtype=np.float32
        )
        self.learner_action_space: spaces.Discrete = spaces.Discrete(config.n_actions)
        self._observations: np.ndarray | None = None

    def observe(self, observations: np.ndarray) -> np.ndarray:
        """The copies' view of depot ``observations`` (the ones the next step acts on)."""
        self._observations = np.asarray(observations)
        return self.learner.observations(observations)

    def learner_actions(self, actions: np.ndarray) -> np.ndarray:
        """The copies' actions as ``(depots, chargers)`` power levels (masked as the recipe
        says, on the depot observations last :meth:`observe`-d)."""
        levels = np.asarray(actions, dtype=np.int64).reshape(self.depots, self.config.n_chargers)
        if not self.learner.mask:
            return levels
        if self._observations is None:
            raise RuntimeError("the action mask needs the depot observations: call observe")
        return self.learner.actions(self._observations, levels)

    def learner_rewards(self, info: dict[str, Any], reward: np.ndarray | None = None) -> np.ndarray:
        """float32 per-copy rewards of a depot step (``reward``: the depots' own, which the
        team reward needs), scaled; nothing for a depot that restarted in this step
        (next-step autoreset)."""
        if "wear_cost" not in info:  # every depot restarted
            return np.zeros(self.depots * self.config.n_chargers, dtype=np.float32)
        if self.recipe.reward == "team-expected":
            if reward is None or self._observations is None:
                raise RuntimeError("the team reward needs the depots' rewards and observations")
            team = team_expected_rewards(self.config, reward, info, self._observations)
            rewards = np.repeat(team[:, None] / self.config.n_chargers, self.config.n_chargers, 1)
            rewards = rewards / self.reward_scale
        else:
            rewards = charger_rewards(self.config, info) / self.reward_scale
        stepped = np.asarray(info.get("_wear_cost", np.ones(self.depots, dtype=bool)))
        rewards[~stepped] = 0.0
        return rewards.astype(np.float32).reshape(-1)
