"""A native batch version of SmartCharging-v0: thousands of vehicles per NumPy step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import error, spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from smartcharging import observations
from smartcharging.config import ChargingConfig, ConfigError, limits
from smartcharging.config.limits import check_limit
from smartcharging.config.validation import integer
from smartcharging.envs.smart_charging import resolve_config
from smartcharging.envs.vector_infos import masked, object_array, reported_by_all
from smartcharging.envs.vector_seeds import copy_keys, copy_seeds
from smartcharging.sim import episode_draws
from smartcharging.sim.vehicle import DEPARTURE_KEYS, STEP_KEYS, VehicleState, vehicle_stepper


class SmartChargingVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` independent copies of :class:`SmartChargingEnv`, stepped as arrays.

    The state of every copy lives in a few arrays (battery, demand, time step, stream key,
    episode counter, price row: 41 bytes per copy), and each step calls the same
    :mod:`smartcharging.sim.dynamics` functions as the scalar environment, on whole arrays.

    **Autoreset** follows Gymnasium's ``AutoresetMode.NEXT_STEP`` by default (as
    ``CartPoleVectorEnv``): the step after a copy terminates resets it, ignores its action
    and returns its first observation with reward 0, ``terminated=False`` and the reset's
    info. With ``autoreset_mode=AutoresetMode.SAME_STEP`` a terminating copy is reset in the
    same step: the returned observation and info are the new episode's first, the last
    observation is in ``info["final_obs"]`` and the step's info in ``info["final_info"]``
    (each masked by ``info["_final_obs"]``, ``info["_final_info"]``), the convention that
    Stable-Baselines3's vectorised environments follow.

    **Seeding** is per copy: ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list of
    seeds gives each copy its own), and copy ``i`` then sees exactly the episodes, rewards and
    infos of ``SmartChargingEnv`` reset with that seed. ``reset()`` without a seed draws keys
    from the vector environment's own ``np_random``.

    **Infos** are exactly what ``gymnasium.make_vec(..., vectorization_mode="sync")`` builds
    from the scalar environment (:mod:`smartcharging.envs.vector_infos`): each key maps to
    an array over copies with a boolean mask ``_key`` of the copies that reported it (the
    departure keys ``demand_kwh``, ``shortfall_kwh``, ``ran_out``, ``penalty`` only in the
    step in which the copies depart; ``profile`` is an object array of labels).

    Actions: an integer array of shape ``(num_envs,)`` with values in
    ``0 .. len(power_levels_kw) - 1``. Observations: float32 ``(num_envs, 2)`` of battery
    level (kWh) and time step, as in the scalar environment.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int = 1,
        config: ChargingConfig | None = None,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        scenario: str | None = None,
        **params: Any,
    ) -> None:
        modes = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
        if autoreset_mode not in modes and autoreset_mode not in [m.value for m in modes]:
            raise ConfigError(
                f"invalid parameter autoreset_mode={autoreset_mode!r}: must be one of "
                f"{[m.value for m in modes]}"
            )
        self.metadata = {**self.metadata, "autoreset_mode": AutoresetMode(autoreset_mode)}
        self._same_step = self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        check_limit("num_envs", integer("num_envs", num_envs, 1), limits.MAX_COPIES)
        if render_mode is not None:
            raise ConfigError(
                f"invalid parameter render_mode={render_mode!r}: the vector environment has "
                "no render modes; render a single SmartChargingEnv instead"
            )
        self.config = resolve_config(config, scenario, params)
        self.num_envs = int(num_envs)
        self.render_mode = None
        cfg = self.config
        self.single_action_space = spaces.Discrete(cfg.n_actions)
        self.single_observation_space = observations.vehicle_space(cfg)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._prices = observations.padded_prices(cfg)
        self._vehicle_step = vehicle_stepper(cfg)
        self._labels = np.asarray(cfg.profile_labels, dtype=object)
        n = self.num_envs
        self.state = VehicleState(
            battery_kwh=np.zeros(n),
            demand_kwh=np.zeros(n),
            time=np.zeros(n, dtype=np.int32),
            profile=np.zeros(n, dtype=np.int32),
        )
        self._keys = np.zeros(n, dtype=np.uint64)
        self._episode = np.zeros(n, dtype=np.uint64)
        self._prev_done = np.zeros(n, dtype=bool)
        self._started = False

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the bound step (a closure), which unpickling binds again."""
        return {key: value for key, value in self.__dict__.items() if key != "_vehicle_step"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._vehicle_step = vehicle_stepper(self.config)

    @property
    def state_bytes_per_copy(self) -> int:
        """Bytes of state per copy (battery, demand, time, price row, key, episode, done)."""
        state = self.state
        arrays = (
            state.battery_kwh,
            state.demand_kwh,
            state.time,
            state.profile,
            self._keys,
            self._episode,
            self._prev_done,
        )
        return sum(a.itemsize for a in arrays)

    def _draw(self, copies: slice | np.ndarray) -> None:
        """Start a new episode in ``copies``: advance their counters and draw arrivals."""
        keys, episodes, state = self._keys[copies], self._episode[copies], self.state
        state.battery_kwh[copies] = episode_draws.arrival_levels(self.config, keys, episodes)
        state.demand_kwh[copies] = episode_draws.demands(self.config, keys, episodes)
        if self.config.physical:
            state.profile[copies] = episode_draws.profiles(self.config, keys, episodes)
        state.time[copies] = 0

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the vector env takes none")
        seeds = copy_seeds(seed, self.num_envs)
        if seeds is not None and not isinstance(seed, Sequence | np.ndarray):
            super().reset(seed=seeds[0])
        if seeds is not None or not self._started:
            self._keys = copy_keys(seeds, self.np_random, self.num_envs)
            self._episode[:] = 0
        else:
            self._episode += np.uint64(1)
        self._draw(slice(None))
        self._prev_done[:] = False
        self._started = True
        return self._observations(), self._reset_info(np.ones(self.num_envs, dtype=bool))

    def _reset_info(self, copies: np.ndarray) -> dict[str, Any]:
        """The reset info of the copies in the mask ``copies`` (just started)."""
        info = {"battery_kwh": self.state.battery_kwh.copy()}
        if self.config.physical:
            info["profile"] = self._labels[self.state.profile]
        return masked(info, copies)

    def _observations(self) -> np.ndarray:
        state = self.state
        return observations.vehicle_observations(
            self.config, state.battery_kwh, state.time, state.profile
        )

    def _check_actions(self, actions: Any) -> np.ndarray:
        """Actions as int64 indices, or an InvalidAction naming the offending copies."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise error.InvalidAction(
                f"invalid actions of shape {actions.shape} and dtype {actions.dtype}: must be "
                f"an integer array of shape ({self.num_envs},)"
            )
        actions = actions.astype(np.int64, copy=False)
        # Viewed as unsigned, a negative action is huge: one reduction checks both ends.
        if actions.view(np.uint64).max() >= self.config.n_actions:
            raise self._invalid_actions(actions)
        return actions

    def _invalid_actions(self, actions: np.ndarray) -> error.InvalidAction:
        n_actions = self.config.n_actions
        bad = np.flatnonzero((actions < 0) | (actions >= n_actions))
        shown = ", ".join(f"copy {i}: {actions[i]}" for i in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        return error.InvalidAction(
            f"invalid actions ({shown}{more}): must be integers in 0..{n_actions - 1}"
        )

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise error.ResetNeeded("step() called before reset(): call reset() first")
        actions = self._check_actions(actions)
        if self._prev_done.all():
            return self._restart_all(actions)
        cfg, state = self.config, self.state
        power = cfg.power_kw[actions]
        price = (
            self._prices[state.profile, np.minimum(state.time, cfg.n_slots - 1)]
            if cfg.physical
            else 0.0
        )
        time = state.time + 1
        departing = time == cfg.n_slots
        battery, reward, info = self._vehicle_step(
            state.battery_kwh,
            state.demand_kwh,
            power,
            cfg.cost_rates[actions],
            price,
            departing,
        )
        if "demand_kwh" in info:
            info["demand_kwh"] = info["demand_kwh"].copy()  # the state array changes on restart
        state.battery_kwh, state.time = battery, time
        restart = self._prev_done
        restarting = bool(restart.any())
        terminated = departing
        if restarting:
            self._episode[restart] += np.uint64(1)
            self._draw(restart)
            reward[restart] = 0.0
            terminated = departing & ~restart
        observations = self._observations()
        if self._same_step and terminated.any():
            out = self._step_info(info, ~terminated, departing)
            out["final_info"] = self._step_info(info, terminated, departing)
            out["final_obs"] = object_array(observations)
            out["_final_info"] = out["_final_obs"] = terminated
            self._episode[terminated] += np.uint64(1)
            self._draw(terminated)
            out.update(self._reset_info(terminated))
            observations = self._observations()
        elif restarting:
            out = self._step_info(info, ~restart, departing)
            out.update(self._reset_info(restart))
            self._prev_done = terminated
        else:  # the common path: every copy stepped
            departed = {key: info.pop(key) for key in DEPARTURE_KEYS if key in info}
            out = reported_by_all(info, self.num_envs)
            if departed:
                out.update(masked(departed, departing))
            self._prev_done = terminated
        return observations, reward, terminated, np.zeros(self.num_envs, dtype=bool), out

    @staticmethod
    def _step_info(
        info: dict[str, Any], copies: np.ndarray, departing: np.ndarray
    ) -> dict[str, Any]:
        """The step's info as reported by the copies in the mask ``copies``: the step keys,
        and the departure keys where those copies departed."""
        out = masked({key: info[key] for key in STEP_KEYS if key in info}, copies)
        if "demand_kwh" in info:
            out.update(masked({key: info[key] for key in DEPARTURE_KEYS}, copies & departing))
        return out

    def _restart_all(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The autoreset step when every copy finished its episode (the usual case, since
        episodes have a fixed length): no physics, only new arrivals."""
        self._episode += np.uint64(1)
        self._draw(slice(None))
        self._prev_done[:] = False
        false = np.zeros(self.num_envs, dtype=bool)
        info = self._reset_info(~false)
        return self._observations(), np.zeros(self.num_envs), false, false.copy(), info
