"""A depot: many vehicles, one grid connection, real prices."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from smartcharging.config import ConfigError, DepotConfig
from smartcharging.observations import depot_space
from smartcharging.sim import episode_draws
from smartcharging.sim.depot import DepotSimulator


def depot_spaces(config: DepotConfig) -> tuple[spaces.Box, spaces.MultiDiscrete]:
    """Observation box (layout in :mod:`smartcharging.observations`) and action space."""
    action = spaces.MultiDiscrete(np.full(config.n_chargers, config.n_actions))
    return depot_space(config), action


def resolve_depot_config(
    config: DepotConfig | None, scenario: str | None, params: dict[str, Any]
) -> DepotConfig:
    if config is not None and (params or scenario is not None):
        raise ConfigError("pass either config or a scenario (with overrides), not both")
    if config is not None:
        return config
    from smartcharging.config.scenarios import load_depot_scenario

    return load_depot_scenario(scenario or "depot-25-evening").to_config(**params)


class DepotEnv(gym.Env[np.ndarray, np.ndarray]):
    """
    ## Description

    A depot with ``n_chargers`` chargers sharing one grid connection of ``grid_limit_kw``.
    Each charger hosts one vehicle per episode: it arrives in a slot drawn from its arrival
    range with a random battery level, must leave at its departure slot with enough energy
    for a next shift of random demand, and meanwhile the agent sets every charger's power.
    When the requests exceed the grid limit (plus on-site PV) they are cut by the scenario's
    rule: ``proportional`` (all scaled alike) or ``priority`` (earliest departure first).

    ## Action Space

    ``MultiDiscrete([len(power_levels_kw)] * n_chargers)``: a power level per charger. The
    action of a charger without a vehicle is ignored and reported in
    ``info["ignored_action"]``.

    ## Observation Space

    ``Box`` of ``4 * n_chargers + 3 + forecast_slots`` float32 values: per charger (as
    blocks of ``n_chargers``) whether a vehicle is present, its battery (kWh), slots to its
    departure and its expected next-shift demand (kWh), all 0 without a vehicle; then the
    time step, the price now, the next ``forecast_slots`` prices and the site headroom (kW:
    grid limit plus PV in the coming slot).

    ## Rewards

    ``-(energy cost + wear + shortfall cost + demand charge)``: grid energy at the slot's
    price (after PV), wear ``coefficient * kW**2 * hours`` per vehicle, the cost of every kWh
    a departing vehicle lacks for its shift, and the demand charge on each rise of the
    episode's peak grid power. ``info`` reports each part, per vehicle and for the site.

    ## Starting State

    Schedules, arrival levels, demands and the price day are drawn per episode from the
    environment's seeded stream (:mod:`smartcharging.sim.episode_draws`).

    ## Episode End

    Terminates after ``n_slots`` steps, when every vehicle has left.

    ## Arguments

    ``gymnasium.make("SmartChargingDepot-v0", scenario="depot-25-evening")`` (a built-in
    depot scenario or a YAML file; keyword arguments override its fields) or
    ``DepotEnv(config=DepotConfig(...))``.

    ## Version History

    * v0: initial version.
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        config: DepotConfig | None = None,
        scenario: str | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if render_mode is not None:
            raise ConfigError(
                f"invalid parameter render_mode={render_mode!r}: the depot has "
                "no render modes; use smartcharging compare --plots"
            )
        self.config = resolve_depot_config(config, scenario, params)
        self.observation_space, self.action_space = depot_spaces(self.config)
        self.simulator = DepotSimulator(self.config, 1)
        self._started = False
        self._done = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}: the depot takes none")
        super().reset(seed=seed)
        sim = self.simulator
        if seed is not None or not self._started:
            sim.keys[0] = episode_draws.new_key(self.np_random)
            sim.episode[0] = 0
        else:
            sim.episode[0] += np.uint64(1)
        sim.start_episodes(slice(None))
        self._started, self._done = True, False
        info = {
            "arrival_slot": sim.arrival[0].copy(),
            "departure_slot": sim.departure[0].copy(),
            "profile": self.config.profile_labels[sim.profile[0]],
        }
        return sim.observations()[0], info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._done:
            raise gym.error.ResetNeeded("step() on a finished or unstarted episode: call reset()")
        actions = check_depot_actions(action, self.config, (self.config.n_chargers,))
        reward, info = self.simulator.step(actions[None, :])
        self._done = bool(self.simulator.time[0] >= self.config.n_slots)
        info = {key: value[0] for key, value in info.items()}
        return self.simulator.observations()[0], float(reward[0]), self._done, False, info


def check_depot_actions(action: Any, config: DepotConfig, shape: tuple[int, ...]) -> np.ndarray:
    """Actions as an int64 array of ``shape``, or an InvalidAction naming the bad entries."""
    actions = np.asarray(action)
    if actions.shape != shape or actions.dtype.kind not in "iu":
        raise gym.error.InvalidAction(
            f"invalid action of shape {actions.shape} and dtype {actions.dtype}: must be an "
            f"integer array of shape {shape} (a power level per charger)"
        )
    if actions.min() < 0 or actions.max() >= config.n_actions:
        bad = (actions < 0) | (actions >= config.n_actions)
        where = [tuple(int(i) for i in index) for index in np.argwhere(bad)[:10]]
        raise gym.error.InvalidAction(
            f"invalid action at {where}: power levels must be in 0..{config.n_actions - 1}"
        )
    return actions.astype(np.int64, copy=False)
