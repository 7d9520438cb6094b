"""Many depots per step: the batch version of SmartChargingDepot-v0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import error
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from smartcharging.config import limits
from smartcharging.config.depot import DepotConfig
from smartcharging.config.limits import check_limit
from smartcharging.config.validation import integer
from smartcharging.config.vehicle import ConfigError
from smartcharging.envs.depot import (
    check_depot_actions,
    check_depot_options,
    depot_spaces,
    resolve_depot_config,
)
from smartcharging.envs.vector_infos import masked, reported_by_all
from smartcharging.envs.vector_seeds import copy_keys, copy_seeds
from smartcharging.sim.depot import DepotSimulator


class DepotVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` independent depots stepped as ``(depots, chargers)`` arrays.

    The same :class:`~smartcharging.sim.depot.DepotSimulator` as ``DepotEnv``; copy
    ``i`` reset with seed ``s + i`` (or the ``i``-th of a list of seeds) replays exactly the
    episodes of ``DepotEnv`` reset with that seed. Autoreset: ``AutoresetMode.NEXT_STEP``
    (the step after the last returns the new episode's first observation, reward 0 and the
    reset's info). Infos are exactly what ``gymnasium.make_vec(..., vectorization_mode=
    "sync")`` builds from ``DepotEnv`` (:mod:`smartcharging.envs.vector_infos`): arrays over
    the copies (per charger where the scalar info is per charger), each with its mask
    ``_key``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int = 1,
        config: DepotConfig | None = None,
        scenario: str | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        check_limit("num_envs", integer("num_envs", num_envs, 1), limits.MAX_DEPOTS)
        if render_mode is not None:
            raise ConfigError(f"invalid parameter render_mode={render_mode!r}: no render modes")
        self.config = resolve_depot_config(config, scenario, params)
        self.num_envs = int(num_envs)
        self.render_mode = None
        self.single_observation_space, self.single_action_space = depot_spaces(self.config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.simulator = DepotSimulator(self.config, self.num_envs)
        self._prev_done = np.zeros(self.num_envs, dtype=bool)
        self._labels = np.asarray(self.config.profile_labels, dtype=object)
        self._started = False

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        check_depot_options(options)
        sim = self.simulator
        seeds = copy_seeds(seed, self.num_envs)
        if seeds is not None and not isinstance(seed, Sequence | np.ndarray):
            super().reset(seed=seeds[0])
        if seeds is not None or not self._started:
            sim.keys[:] = copy_keys(seeds, self.np_random, self.num_envs)
            sim.episode[:] = 0
        else:
            sim.episode += np.uint64(1)
        sim.start_episodes(slice(None))
        self._prev_done[:] = False
        self._started = True
        return sim.observations(), self._reset_info(np.ones(self.num_envs, dtype=bool))

    def _reset_info(self, copies: np.ndarray) -> dict[str, Any]:
        """``DepotEnv``'s reset info of the copies in the mask ``copies`` (just started)."""
        sim = self.simulator
        info = {**sim.reset_info(), "profile": self._labels[sim.profile]}
        return masked(info, copies)

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise error.ResetNeeded("step() called before reset(): call reset() first")
        sim = self.simulator
        actions = check_depot_actions(actions, self.config, (self.num_envs, self.config.n_chargers))
        restart = self._prev_done
        if restart.all():  # the usual autoreset step: every episode has the same length
            sim.episode += np.uint64(1)
            sim.start_episodes(slice(None))
            self._prev_done = np.zeros(self.num_envs, dtype=bool)
            false = self._prev_done.copy()
            return (
                sim.observations(),
                np.zeros(self.num_envs),
                false,
                false.copy(),
                self._reset_info(restart),
            )
        reward, info = sim.step(actions)
        terminated = sim.time >= self.config.n_slots
        if restart.any():
            sim.episode[restart] += np.uint64(1)
            sim.start_episodes(restart)
            reward[restart] = 0.0
            terminated[restart] = False
            info = masked(info, ~restart) | self._reset_info(restart)
        else:
            info = reported_by_all(info, self.num_envs)
        self._prev_done = terminated
        return sim.observations(), reward, terminated, np.zeros(self.num_envs, dtype=bool), info
