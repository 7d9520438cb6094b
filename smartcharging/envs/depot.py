"""A depot: many vehicles, one grid connection, real prices."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from smartcharging.config import ConfigError, DepotConfig
from smartcharging.envs import rendering
from smartcharging.envs.smart_charging import format_clock
from smartcharging.envs.vector_seeds import check_seed
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
    ``info["ignored_action"]``. With vehicle-to-grid (``v2g=True``, e.g. ``depot-v2g-peak``)
    negative levels discharge: the discharging chargers feed the site first, together at
    most ``export_limit_kw``, and the charging ones may draw up to the grid limit plus PV
    plus that supply.

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
    With V2G, exports earn the export price (``energy_cost`` is net of ``export_revenue``),
    ``wear_cost`` includes the cycle ageing (also in ``degradation_cost``), the shortfall
    cost is net of the credit for the energy left (``residual_value_per_kwh``), and ``info``
    adds ``export_kw`` and ``export_price``.

    ## Starting State

    Schedules, arrival levels, demands and the price day are drawn per episode from the
    environment's seeded stream (:mod:`smartcharging.sim.episode_draws`). ``reset`` takes no
    options: any it is given are ignored with a warning naming them (PettingZoo's API test
    requires that ``reset`` accepts options).

    ## Episode End

    Terminates after ``n_slots`` steps, when every vehicle has left.

    ## Arguments

    ``gymnasium.make("SmartChargingDepot-v0", scenario="depot-25-evening")`` (a built-in
    depot scenario or a YAML file; keyword arguments override its fields) or
    ``DepotEnv(config=DepotConfig(...))``. ``render_mode``: ``"ansi"`` (a text line: clock,
    site load against the limit, the episode's cost so far, every charger's battery in % or
    ``-`` when empty), ``"human"`` (that line printed at every step) or ``"rgb_array"`` (a
    frame drawn with NumPy: clock and time, every charger's battery against its capacity and
    its delivered power, the site load against the grid limit and the cost so far; for
    ``gymnasium.wrappers.RecordVideo``).

    ## Version History

    * v0: initial version; render modes ``ansi``, ``human`` and ``rgb_array``; reset
      options are ignored with a warning (they raised ``ValueError`` before).
    """

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        config: DepotConfig | None = None,
        scenario: str | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"invalid parameter render_mode={render_mode!r}: must be None or one of "
                f"{self.metadata['render_modes']}"
            )
        self.render_mode = render_mode
        self.config = resolve_depot_config(config, scenario, params)
        self.observation_space, self.action_space = depot_spaces(self.config)
        self.simulator = DepotSimulator(self.config, 1)
        self._started = False
        self._done = True
        self._last_info: dict[str, Any] | None = None  # the last step's, kept for render()
        self._episode_cost = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        check_depot_options(options)
        seed = check_seed(seed)
        super().reset(seed=seed)
        sim = self.simulator
        if seed is not None or not self._started:
            sim.keys[0] = episode_draws.new_key(self.np_random)
            sim.episode[0] = 0
        else:
            sim.episode[0] += np.uint64(1)
        sim.start_episodes(slice(None))
        self._started, self._done = True, False
        if self.render_mode is not None:
            self._last_info, self._episode_cost = None, 0.0
            if self.render_mode == "human":
                self.render()
        info: dict[str, Any] = {key: value[0] for key, value in sim.reset_info().items()}
        info["profile"] = self.config.profile_labels[sim.profile[0]]
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
        if self.render_mode is not None:
            self._last_info = info
            self._episode_cost += float(info["cost"])
            if self.render_mode == "human":
                self.render()
        return self.simulator.observations()[0], float(reward[0]), self._done, False, info

    def _view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str]:
        """Presence, battery, delivered power per charger, grid power and the clock now."""
        cfg, sim = self.config, self.simulator
        observation, layout = sim.observations()[0], sim.layout
        info = self._last_info
        delivered = info["delivered_kw"] if info is not None else np.zeros(cfg.n_chargers)
        grid_kw = float(info["grid_kw"]) if info is not None else 0.0
        clock = format_clock(cfg.arrival_hour + int(sim.time[0]) * cfg.slot_hours)
        present = observation[layout.present] > 0
        return present, observation[layout.battery], delivered, grid_kw, clock

    def _line(self) -> str:
        present, battery, _, grid_kw, clock = self._view()
        capacity = self.simulator.capacity_now()[0]
        charged = 100 * np.divide(battery, capacity, out=np.zeros_like(capacity), where=present)
        chargers = " ".join(
            f"{share:3.0f}%" if here else "   -"
            for here, share in zip(present, charged, strict=True)
        )
        return (
            f"{clock} site {grid_kw:6.1f}/{self.config.grid_limit_kw:g} kW, cost "
            f"{self._episode_cost:.4g} | {chargers}"
        )

    def _frame(self) -> np.ndarray:
        cfg = self.config
        present, battery, delivered, grid_kw, clock = self._view()
        n = cfg.n_chargers
        column = min(24, max(6, 240 // n))
        canvas = rendering.Canvas(176, max(256, 16 + n * column))
        time = int(self.simulator.time[0])
        canvas.text(8, 8, f"{clock}  {time}/{cfg.n_slots}")
        canvas.text(8, 136, f"cost {rendering.number(self._episode_cost)}")
        canvas.bar(26, 8, 8, n * column, time / cfg.n_slots, rendering.TIME)
        capacity, top_kw = self.simulator.capacity_now()[0], float(cfg.power_kw.max())
        for i in range(n):
            left = 8 + i * column
            if present[i]:
                canvas.bar(42, left, 60, column - 2, battery[i] / capacity[i], rendering.BATTERY)
            else:
                canvas.rect(42, left, 60, column - 2, rendering.EMPTY)
            canvas.bar(106, left, 20, column - 2, delivered[i] / top_kw, rendering.POWER)
        canvas.bar(134, 8, 12, n * column, grid_kw / cfg.grid_limit_kw, rendering.LIMIT)
        canvas.text(152, 8, f"{rendering.number(grid_kw)}/{rendering.number(cfg.grid_limit_kw)}kW")
        return canvas.pixels

    def render(self) -> str | np.ndarray | None:  # type: ignore[override, unused-ignore]
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'"
            )
            return None
        if not self._started:
            raise gym.error.ResetNeeded("render() before reset(): call reset() first")
        if self.render_mode == "rgb_array":
            return self._frame()
        if self.render_mode == "human":
            print(self._line())
            return None
        return self._line()


def check_depot_options(options: dict[str, Any] | None) -> None:
    """The depot's reset options, the same for every view of it: it takes none, and warns
    (naming them) about any it is given; PettingZoo's API test requires that ``reset``
    accepts options, so they are not refused."""
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"invalid reset options {options!r}: must be a dict or None")
    if options:
        gym.logger.warn(
            f"ignoring reset options {sorted(options, key=str)}: the depot takes no reset options"
        )


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
