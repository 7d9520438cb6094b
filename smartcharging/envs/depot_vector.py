"""Many depots per step: the batch version of SmartChargingDepot-v0."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import error
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from smartcharging.config.depot import DepotConfig
from smartcharging.config.vehicle import ConfigError
from smartcharging.envs.depot import check_depot_actions, depot_spaces, resolve_depot_config
from smartcharging.sim import episode_draws
from smartcharging.sim.depot import DepotSimulator


class DepotVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` independent depots stepped as ``(depots, chargers)`` arrays.

    The same :class:`~smartcharging.sim.depot.DepotSimulator` as ``DepotEnv``; copy
    ``i`` reset with seed ``s + i`` (or the ``i``-th of a list of seeds) replays exactly the
    episodes of ``DepotEnv`` reset with that seed. Autoreset: ``AutoresetMode.NEXT_STEP``.
    Infos hold arrays over the copies (per charger where the scalar info is per charger).
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
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ConfigError(f"invalid parameter num_envs={num_envs!r}: must be an integer >= 1")
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
        self._started = False

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the depot takes none")
        sim = self.simulator
        if isinstance(seed, int):
            super().reset(seed=seed)
        if seed is None and not self._started:
            sim.keys[:] = self.np_random.integers(0, 2**63, self.num_envs, dtype=np.int64)
            sim.episode[:] = 0
        elif seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
            if len(seeds) != self.num_envs:
                raise ValueError(
                    f"reset got {len(seeds)} seeds: must be one per copy ({self.num_envs})"
                )
            sim.keys[:] = [episode_draws.new_key(seeding.np_random(s)[0]) for s in seeds]
            sim.episode[:] = 0
        else:
            sim.episode += np.uint64(1)
        sim.start_episodes(slice(None))
        self._prev_done[:] = False
        self._started = True
        return sim.observations(), {"departure_slot": sim.departure.copy()}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise error.ResetNeeded("step() called before reset(): call reset() first")
        sim = self.simulator
        actions = check_depot_actions(actions, self.config, (self.num_envs, self.config.n_chargers))
        restart = self._prev_done.copy()
        reward, info = sim.step(actions)
        terminated = sim.time >= self.config.n_slots
        if restart.any():
            sim.episode[restart] += np.uint64(1)
            sim.start_episodes(restart)
            reward[restart] = 0.0
            terminated[restart] = False
        self._prev_done = terminated
        return sim.observations(), reward, terminated, np.zeros(self.num_envs, dtype=bool), info
