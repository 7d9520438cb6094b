"""A native batch version of SmartCharging-v0: thousands of vehicles per NumPy step."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import error
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from smartcharging.config.vehicle import ChargingConfig, ConfigError
from smartcharging.envs.smart_charging import SmartChargingEnv, padded_prices, resolve_config
from smartcharging.sim import dynamics, episode_draws

#: Per-step info keys, set to 0 for copies that restart (the last three: physical only).
_STEP_KEYS = (
    "power_kw",
    "energy_kwh",
    "charging_hours",
    "cost",
    "price",
    "energy_cost",
    "wear_cost",
)


class SmartChargingVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """``num_envs`` independent copies of :class:`SmartChargingEnv`, stepped as arrays.

    The state of every copy lives in a few arrays (battery, demand, time step, stream key,
    episode counter, price row: 41 bytes per copy), and each step calls the same
    :mod:`smartcharging.sim.dynamics` functions as the scalar environment, on whole arrays.

    **Autoreset** follows Gymnasium's ``AutoresetMode.NEXT_STEP`` by default (as
    ``CartPoleVectorEnv``): the step after a copy terminates resets it, ignores its action
    and returns its first observation with reward 0 and ``terminated=False``. With
    ``autoreset_mode=AutoresetMode.SAME_STEP`` a terminating copy is reset in the same step:
    the returned observation is the new episode's first, and the last one is in
    ``info["final_obs"]`` (masked by ``info["_final_obs"]``), the convention that
    Stable-Baselines3's vectorised environments follow.

    **Seeding** is per copy: ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list of
    seeds gives each copy its own), and copy ``i`` then sees exactly the episodes, rewards and
    infos of ``SmartChargingEnv`` reset with that seed. ``reset()`` without a seed draws keys
    from the vector environment's own ``np_random``.

    **Infos** are batched the Gymnasium way: each key maps to an array over copies, and the
    departure keys (``demand_kwh``, ``shortfall_kwh``, ``ran_out``, ``penalty``) come with a
    boolean mask ``_key`` marking the copies that departed in this step.

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
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ConfigError(f"invalid parameter num_envs={num_envs!r}: must be an integer >= 1")
        if render_mode is not None:
            raise ConfigError(
                f"invalid parameter render_mode={render_mode!r}: the vector environment has "
                "no render modes; render a single SmartChargingEnv instead"
            )
        self.config = resolve_config(config, scenario, params)
        self.num_envs = int(num_envs)
        self.render_mode = None
        single = SmartChargingEnv(config=self.config)
        self.single_action_space = single.action_space
        self.single_observation_space = single.observation_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        cfg = self.config
        self._power = cfg.power_kw
        self._rate = dynamics.cost_rate(cfg.power_kw)
        penalty = dynamics.shortfall_penalty(
            cfg.n_slots, cfg.slot_hours, float(self._rate[-1]), cfg.penalty_factor
        )
        self._shortfall_penalty = 0.0 if cfg.physical else penalty
        self._shortfall_per_kwh = cfg.shortfall_cost_per_kwh if cfg.physical else 0.0
        self._prices = padded_prices(cfg)
        self._window = np.arange(cfg.forecast_slots + 1)
        n = self.num_envs
        self._battery = np.zeros(n)
        self._demand = np.zeros(n)
        self._time = np.zeros(n, dtype=np.int32)
        self._keys = np.zeros(n, dtype=np.uint64)
        self._episode = np.zeros(n, dtype=np.uint64)
        self._profile = np.zeros(n, dtype=np.int32)
        self._prev_done = np.zeros(n, dtype=bool)
        self._started = False

    @property
    def state_bytes_per_copy(self) -> int:
        """Bytes of state per copy (battery, demand, time, key, episode, price row, done)."""
        arrays = (
            self._battery,
            self._demand,
            self._time,
            self._keys,
            self._episode,
            self._profile,
            self._prev_done,
        )
        return sum(a.itemsize for a in arrays)

    def _seed_keys(self, seed: int | list[int] | None) -> None:
        if seed is None:
            self._keys = self.np_random.integers(0, 2**63, self.num_envs, dtype=np.int64).astype(
                np.uint64
            )
            return
        seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(
                f"reset got {len(seeds)} seeds: must be one per copy ({self.num_envs})"
            )
        self._keys = np.array(
            [episode_draws.new_key(seeding.np_random(s)[0]) for s in seeds], dtype=np.uint64
        )

    def _draw(self, copies: slice | np.ndarray) -> None:
        """Start a new episode in ``copies``: advance their counters and draw arrivals."""
        keys, episodes = self._keys[copies], self._episode[copies]
        self._battery[copies] = episode_draws.arrival_levels(self.config, keys, episodes)
        self._demand[copies] = episode_draws.demands(self.config, keys, episodes)
        if self.config.physical:
            self._profile[copies] = episode_draws.profiles(self.config, keys, episodes)
        self._time[copies] = 0

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the vector env takes none")
        if isinstance(seed, int):
            super().reset(seed=seed)
        if seed is not None or not self._started:
            self._seed_keys(seed)
            self._episode[:] = 0
        else:
            self._episode += np.uint64(1)
        self._draw(slice(None))
        self._prev_done[:] = False
        self._started = True
        info: dict[str, Any] = {"battery_kwh": self._battery.copy()}
        if self.config.physical:
            info["profile"] = np.asarray(self.config.profile_labels)[self._profile]
        return self._observations(), info

    def _observations(self) -> np.ndarray:
        observations = np.empty((self.num_envs, self.config.observation_size), dtype=np.float32)
        observations[:, 0] = self._battery
        if self.config.physical:
            observations[:, 1] = self.config.n_slots - self._time
            window = self._time[:, None] + self._window
            observations[:, 2:] = self._prices[self._profile[:, None], window]
        else:
            observations[:, 1] = self._time
        return observations

    def _check_actions(self, actions: Any) -> np.ndarray:
        """Actions as int64 indices, or an InvalidAction naming the offending copies."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or actions.dtype.kind not in "iu":
            raise error.InvalidAction(
                f"invalid actions of shape {actions.shape} and dtype {actions.dtype}: must be "
                f"an integer array of shape ({self.num_envs},)"
            )
        return actions.astype(np.int64, copy=False)

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
        cfg = self.config
        try:
            # Viewed as unsigned, a negative index is huge: one gather also range-checks.
            power = self._power[actions.view(np.uint64)]
        except IndexError:
            raise self._invalid_actions(actions) from None
        battery, energy, hours = dynamics.charge_slot(
            self._battery, power, cfg.capacity_kwh, cfg.slot_hours
        )
        info: dict[str, Any] = {
            "power_kw": power,
            "energy_kwh": energy,
            "charging_hours": hours,
        }
        if cfg.physical:
            price = self._prices[self._profile, np.minimum(self._time, cfg.n_slots - 1)]
            cost, energy_cost, wear_cost = dynamics.physical_costs(
                energy, power, hours, price, cfg.efficiency, cfg.wear_cost_per_kw2h
            )
            info.update(price=price, energy_cost=energy_cost, wear_cost=wear_cost)
        else:
            cost = dynamics.charging_cost(hours, self._rate[actions])
        info["cost"] = cost
        reward = 0.0 - cost
        time = self._time + 1
        departing = time == cfg.n_slots
        if departing.any():
            remaining, shortfall, ran_out, penalty = dynamics.depart(
                battery, self._demand, self._shortfall_penalty, self._shortfall_per_kwh
            )
            battery = np.where(departing, remaining, battery)
            reward -= penalty * departing
            info.update(
                demand_kwh=self._demand.copy(),
                _demand_kwh=departing,
                shortfall_kwh=shortfall,
                _shortfall_kwh=departing,
                ran_out=ran_out,
                _ran_out=departing,
                penalty=penalty,
                _penalty=departing,
            )
        self._battery, self._time = battery, time
        terminated = departing
        if self._prev_done.any():
            restart = np.flatnonzero(self._prev_done)
            self._episode[restart] += np.uint64(1)
            self._draw(restart)
            reward[restart] = 0.0
            terminated = departing & ~self._prev_done
            for key in _STEP_KEYS:
                if key in info:
                    info[key][restart] = 0.0
        observations = self._observations()
        if self._same_step and terminated.any():
            info["final_obs"], info["_final_obs"] = observations, terminated
            self._episode[terminated] += np.uint64(1)
            self._draw(terminated)
            observations = self._observations()
        else:
            self._prev_done = terminated
        return (
            observations,
            reward,
            terminated,
            np.zeros(self.num_envs, dtype=bool),
            info,
        )

    def _restart_all(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The autoreset step when every copy finished its episode (the usual case, since
        episodes have a fixed length): no physics, only new arrivals."""
        if actions.min() < 0 or actions.max() >= self.config.n_actions:
            raise self._invalid_actions(actions)
        self._episode += np.uint64(1)
        self._draw(slice(None))
        self._prev_done[:] = False
        zeros = np.zeros(self.num_envs)
        keys = _STEP_KEYS if self.config.physical else _STEP_KEYS[:4]
        info = {key: zeros.copy() for key in keys}
        false = np.zeros(self.num_envs, dtype=bool)
        return self._observations(), zeros, false, false.copy(), info
