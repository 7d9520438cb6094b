"""Stable-Baselines3 on the batch depot: one policy shared by all chargers.

Each charger sees its own vehicle and the site, sets its own power and is rewarded with its
own costs (:class:`smartcharging.agents.training_adapter.ChargerAdapter`), and every
charger's experience trains the same network (parameter sharing, as in the PettingZoo
view). A policy for the whole depot (one ``MultiDiscrete`` action) learned nothing useful in
our tries: after 200k steps it was worse than uncontrolled charging on depot-25-evening.

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from smartcharging.agents.sb3_agents import ALGORITHMS, CheckpointEvery
from smartcharging.agents.sb3_loading import load_model_safely
from smartcharging.agents.sb3_vec_env import NativeBatchVecEnv
from smartcharging.agents.scaling import ChargerView
from smartcharging.agents.training_adapter import ChargerAdapter
from smartcharging.config import DepotConfig

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


class SB3ChargerVecEnv(NativeBatchVecEnv, ChargerAdapter):
    """The chargers of ``depots`` batch depots as one Stable-Baselines3 ``VecEnv``: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, with its own observation, its
    power level as action and its own reward, as every engine's learner sees the chargers
    (:class:`~smartcharging.agents.training_adapter.ChargerAdapter`). One policy, trained on
    every charger's experience (parameter sharing), then acts for each charger."""

    def __init__(self, config: DepotConfig, depots: int) -> None:
        ChargerAdapter.__init__(self, config, depots)
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
        return self.view.observations(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self.learner_actions(actions)

    def step_wait(self) -> VecEnvStepReturn:
        n = self.config.n_chargers
        observations, _, terminated, truncated, info = self.env.step(self._actions)
        rewards = self.learner_rewards(info)
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


def make_depot_model(algo: str, config: DepotConfig, num_envs: int, seed: int | None) -> Any:
    """A new shared charger policy learning on ``num_envs`` batch depots (``seed=None``:
    leave the global random generators alone, as for a template of :func:`load_depot_model`)."""
    return ALGORITHMS[algo](
        "MlpPolicy",
        SB3ChargerVecEnv(config, num_envs),
        seed=seed,
        device="cpu",
        **copy.deepcopy(DEPOT_HYPERPARAMETERS[algo]),  # SB3 writes into policy_kwargs
    )


def load_depot_model(algo: str, path: Path, config: DepotConfig, num_envs: int) -> Any:
    """A saved shared charger policy on ``num_envs`` batch depots of ``config`` (the depot
    it was trained on), ready to go on learning, loaded without unpickling anything from the
    file (:func:`smartcharging.agents.sb3_loading.load_model_safely`)."""
    return load_model_safely(path, make_depot_model(algo, config, num_envs, None))


class DepotAgentPolicy:
    """A trained shared charger policy acting for every charger of a depot."""

    def __init__(self, model: Any, config: DepotConfig, name: str) -> None:
        self.model, self.config, self.name = model, config, name
        self.view = ChargerView(config)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        actions, _ = self.model.predict(self.view.observations(observations), deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(len(observations), -1)


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
