"""Stable-Baselines3 on the batch depot: one policy shared by all chargers.

Each charger sets its own power, and every charger's experience trains the same network
(parameter sharing, as in the PettingZoo view). What a charger sees, may ask for and is paid
is a :class:`~smartcharging.agents.training_adapter.ChargerRecipe`: new runs use
:data:`~smartcharging.agents.training_adapter.SHIPPED_RECIPE` (its view with fleet and price
features and the depot's queue, no request beyond what fills its battery, the depot's
reward with departures in expectation, levels rounded with the site's total kept) and start
from a policy cloned from MPC
(:func:`~smartcharging.agents.depot_imitation.imitate_mpc`: behaviour cloning, then DAgger rounds,
the best on validation episodes kept), which RL then fine-tunes with the settings of
``hyperparams/depot-<algo>.yml``. A policy for the whole depot (one
``MultiDiscrete`` action) learned nothing useful in our tries: after 200k steps it was worse
than uncontrolled charging on depot-25-evening.

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from smartcharging.agents.charger_policy import ChargerNetwork, SharedChargerPolicy
from smartcharging.agents.depot_hyperparameters import shipped_depot
from smartcharging.agents.hyperparameters import (
    check_sb3_kwargs,
    sb3_arguments,
    use_small_network_threads,
)
from smartcharging.agents.sb3_agents import ALGORITHMS, CheckpointEvery, check_algorithm_keys
from smartcharging.agents.sb3_loading import load_model_safely
from smartcharging.agents.sb3_vec_env import NativeBatchVecEnv
from smartcharging.agents.training_adapter import (
    OWN_VIEW,
    ChargerAdapter,
    ChargerRecipe,
)
from smartcharging.config import DepotConfig


class SB3ChargerVecEnv(NativeBatchVecEnv, ChargerAdapter):
    """The chargers of ``depots`` batch depots as one Stable-Baselines3 ``VecEnv``: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, with the view, action and reward
    ``recipe`` gives it, as every engine's learner sees the chargers
    (:class:`~smartcharging.agents.training_adapter.ChargerAdapter`). One policy, trained on
    every charger's experience (parameter sharing), then acts for each charger."""

    def __init__(self, config: DepotConfig, depots: int, recipe: ChargerRecipe = OWN_VIEW) -> None:
        ChargerAdapter.__init__(self, config, depots, recipe)
        NativeBatchVecEnv.__init__(
            self,
            depots * config.n_chargers,
            self.learner_observation_space,
            self.learner_action_space,
        )
        self._actions = np.zeros((depots, config.n_chargers), dtype=np.int64)

    def reset(self) -> np.ndarray:
        seeds = self._seed_list()
        observations, _ = self.env.reset(
            seed=None if seeds is None else seeds[:: self.config.n_chargers]
        )
        self._reset_seeds()
        return self.observe(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self.learner_actions(actions)

    def step_wait(self) -> VecEnvStepReturn:
        n = self.config.n_chargers
        observations, reward, terminated, truncated, info = self.env.step(self._actions)
        rewards = self.learner_rewards(info, reward)
        dones = np.repeat(terminated | truncated, n)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            # Every depot's episode has the same length, so all end together; the next
            # (autoreset) step of the batch env starts their new episodes.
            final = self.learner.observations(observations)
            for i in range(self.num_envs):
                infos[i]["terminal_observation"] = final[i]
                infos[i]["TimeLimit.truncated"] = False
            observations = self.env.step(np.zeros_like(self._actions))[0]
        return self.observe(observations), rewards, dones, infos


def make_depot_model(
    algo: str,
    config: DepotConfig,
    num_envs: int,
    seed: int | None,
    recipe: ChargerRecipe = OWN_VIEW,
    hyperparameters: dict[str, Any] | None = None,
) -> Any:
    """A new shared charger policy learning on ``num_envs`` batch depots with ``recipe``
    and the SB3 keyword arguments ``hyperparameters`` (None: the shipped ones,
    :func:`~smartcharging.agents.depot_hyperparameters.shipped_depot`; ``seed=None``: leave
    the global random generators alone, as for a template of :func:`load_depot_model`)."""
    use_small_network_threads()  # as the vehicle helpers: small networks, one thread
    if hyperparameters is None:
        hyperparameters = shipped_depot(algo, config).kwargs
    source = f"depot {algo} hyperparameters"
    check_algorithm_keys(source, algo, hyperparameters)
    check_sb3_kwargs(source, algo, num_envs * config.n_chargers, hyperparameters)
    return ALGORITHMS[algo](
        "MlpPolicy",
        SB3ChargerVecEnv(config, num_envs, recipe),
        seed=seed,
        device="cpu",
        **sb3_arguments(source, hyperparameters),
    )


def load_depot_model(
    algo: str,
    path: Path,
    config: DepotConfig,
    num_envs: int,
    recipe: ChargerRecipe = OWN_VIEW,
    hyperparameters: dict[str, Any] | None = None,
) -> Any:
    """A saved shared charger policy on ``num_envs`` batch depots of ``config`` (the depot
    it was trained on, with the recipe and hyperparameters it was trained with), ready to go
    on learning, loaded without unpickling anything from the file
    (:func:`smartcharging.agents.sb3_loading.load_model_safely`)."""
    template = make_depot_model(algo, config, num_envs, None, recipe, hyperparameters)
    return load_model_safely(path, template)


class SB3ChargerNetwork(ChargerNetwork):
    """An SB3 actor-critic policy as a :class:`ChargerNetwork`: the actor's logits without
    building SB3's distribution objects (a tenth of the time per call, as a depot step is a
    call on a handful of views)."""

    def __init__(self, policy: Any) -> None:
        self.module = policy

    def logits(self, views: Any) -> Any:
        policy = self.module
        features = policy.extract_features(views, policy.pi_features_extractor)
        return policy.action_net(policy.mlp_extractor.forward_actor(features))

    def values(self, views: Any) -> Any:
        return self.module.predict_values(views).flatten()

    def actor_chain(self) -> list[Any] | None:
        policy = self.module
        if type(policy.pi_features_extractor).__name__ != "FlattenExtractor":
            return None
        return [*policy.mlp_extractor.policy_net, policy.action_net]


class DepotAgentPolicy(SharedChargerPolicy):
    """A trained SB3 model acting for every charger of a depot as its ``recipe`` says."""

    def __init__(
        self, model: Any, config: DepotConfig, name: str, recipe: ChargerRecipe = OWN_VIEW
    ) -> None:
        super().__init__(SB3ChargerNetwork(model.policy), config, name, recipe)
        self.model = model


class DepotCheckpoints(CheckpointEvery):
    """:class:`~smartcharging.agents.sb3_agents.CheckpointEvery`, which also tells
    ``measured(steps, seconds)`` how fast training runs, once: at the first update that
    ends at least :data:`RATE_SECONDS` after training started (or at the first checkpoint,
    if that comes sooner), so that a long run can say how long it will take."""

    RATE_SECONDS = 3.0

    def __init__(
        self,
        start: int,
        every: int,
        checkpoint: Callable[[], None],
        measured: Callable[[int, float], None],
    ) -> None:
        super().__init__(start, every, checkpoint)
        self.start = start
        self.measured: Callable[[int, float], None] | None = measured
        self._started = 0.0

    def _on_training_start(self) -> None:
        self._started = time.perf_counter()

    def _on_rollout_start(self) -> None:
        seconds = time.perf_counter() - self._started
        done = int(self.model.num_timesteps) - self.start
        due = self.model.num_timesteps - self.last >= self.every
        if self.measured is not None and done > 0 and (seconds >= self.RATE_SECONDS or due):
            self.measured(done, seconds)
            self.measured = None
        super()._on_rollout_start()
