"""The single-vehicle smart-charging environment of the seed notebook, made correct."""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from smartcharging import observations
from smartcharging.config import ChargingConfig, ConfigError
from smartcharging.envs import rendering
from smartcharging.sim import episode_draws
from smartcharging.sim.vehicle import VehicleState, vehicle_stepper

_BLOCK = 64  # episodes of random draws computed at once
_INTEGER_TYPES = frozenset(
    {int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.intp}
)
_BAR_WIDTH = 20


def action_error(action: object, n_actions: int) -> gym.error.InvalidAction:
    """The error for an action that is not one of ``0 .. n_actions - 1``."""
    return gym.error.InvalidAction(
        f"invalid action {action!r}: must be an integer in 0..{n_actions - 1} "
        f"(an index into power_levels_kw)"
    )


def _is_number(value: object) -> bool:
    """A real number (int or float, NumPy's included), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def format_clock(hours: float) -> str:
    """``14.25`` → ``"14:15"`` (wrapping past midnight)."""
    minutes = round(hours * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def resolve_config(
    config: ChargingConfig | None, scenario: str | None, params: dict[str, Any]
) -> ChargingConfig:
    """The configuration from exactly one of: a config, a scenario (plus overrides), or
    individual parameters (over the seed's defaults)."""
    if config is not None and (params or scenario is not None):
        raise ConfigError("pass either config or a scenario / individual parameters, not both")
    if config is not None:
        return config
    if scenario is not None:
        from smartcharging.config.scenarios import load_scenario

        return load_scenario(scenario).to_config(**params)
    return ChargingConfig.from_kwargs(**params)


class SmartChargingEnv(gym.Env[np.ndarray, np.int64]):
    """
    ## Description

    A fleet vehicle returns to the depot with a partly empty battery and has ``n_slots``
    slots of ``slot_hours`` (by default eight 15-minute slots, 14:00 to 16:00) to charge
    before its next shift, whose energy demand is uncertain. In each slot the agent picks a
    charging power. Charging costs more the higher the power; leaving with less energy than
    the shift needs costs a large fixed penalty. This is the environment of the project's
    seed notebook, with its bugs fixed and its numbers kept.

    ## Action Space

    ``Discrete(len(power_levels_kw))``: the index of the charging power. By default
    ``0 → 0 kW, 1 → 7 kW, 2 → 14 kW, 3 → 22 kW``. With vehicle-to-grid (``v2g=True``, e.g.
    the ``v2g-overnight-nl`` scenario) negative levels discharge into the grid, down to
    ``reserve_kwh`` at most.

    ## Observation Space

    ``Box(low=[0, 0], high=[capacity_kwh, n_slots], dtype=float32)``:

    | index | observation | unit | min | max |
    |---|---|---|---|---|
    | 0 | battery level | kWh | 0 | capacity_kwh |
    | 1 | time step (slots elapsed) | slots | 0 | n_slots |

    Priced scenarios (``cost_model="physical"``) observe
    ``[battery, slots to departure, price now, the next forecast_slots prices]``, shape
    ``(3 + forecast_slots,)``, prices in currency per kWh (0 past departure), bounded by the
    lowest and highest price of the scenario (and 0).

    ## Rewards

    Each slot costs ``-(charging hours) * exp(kW)``. The *charging hours* — the notebook's
    open "time coefficient" — are the hours in the slot during which the charger actually
    draws power: ``slot_hours`` normally, ``energy / kW`` when the battery fills up part-way
    through the slot. ``exp(kW)`` stands in for a steeply convex cost of charging power
    (battery wear, demand charges). Two literal quirks of the seed are kept on purpose:
    an idle slot costs ``slot_hours * exp(0) = 0.25``, and a charging request on a full
    battery costs 0 (zero hours of charging).

    At departure the demand is revealed. If it exceeds the battery, the vehicle runs out
    and the reward also includes ``-n_slots * slot_hours * exp(max kW) * penalty_factor``
    (the worst possible charging bill times the factor; ``-2 * exp(22) * 10`` for the seed).

    The physical cost model (``cost_model="physical"``) replaces both terms, in the
    scenario's currency: each slot costs ``price * energy / efficiency`` (grid energy at the
    slot's price) plus ``wear_cost_per_kw2h * kW**2 * hours`` (battery wear), and running out
    costs ``shortfall_cost_per_kwh`` per missing kWh. ``info`` reports each part. With V2G,
    discharged energy earns the export price (``discharge_efficiency`` of it reaches the
    grid); ``degradation_cost_per_kwh`` charges cycle ageing per kWh moved either way and
    ``residual_value_per_kwh`` credits the energy left after the shift.

    For deep RL, the raw reward is hostile: a step's reward ranges from 0.25 to 7.2e10 and
    the departure's is a rare, huge coin flip, so default SB3 settings learn nothing useful
    (PPO 370%, DQN idling at 3,779% from the optimum after 50k steps). Train on
    ``smartcharging.agents.scaling.training_env(env)``: the departure cost in expectation
    (same expected return for every policy), observations in ``[0, 1]``, rewards divided
    by the shortfall penalty; and the shipped hyperparameters
    (``smartcharging.agents.hyperparameters.shipped``), whose learning rates fall to 0
    over the run: policies 1% apart differ by parts in 1e4 of the scaled return, and a
    constant step size keeps the greedy policy flipping between them.

    ## Starting State

    Battery level uniform on ``start_min_kwh, start_min_kwh + start_step_kwh, ...,
    start_max_kwh`` (the integers 0..72 kWh for the seed), time step 0. Both the arrival
    level and the demand can be fixed for one episode with
    ``reset(options={"battery_kwh": ..., "demand_kwh": ...})``.

    ## Episode End

    The episode terminates after ``n_slots`` actions. The seed notebook spends a ninth step,
    whose action is ignored, on departure; here departure is folded into the last charging
    step, so an episode has ``n_slots`` decisions and the same total return as the
    notebook's for the same draws. There is no truncation. Stepping a finished episode
    raises ``gymnasium.error.ResetNeeded``.

    ## Information

    Every step: ``power_kw``, ``energy_kwh`` (added this slot), ``charging_hours``,
    ``cost`` (positive, this slot's charging cost; in the physical model also ``price``,
    ``energy_cost`` and ``wear_cost``; with V2G or cycle ageing also ``export_price``,
    ``export_revenue`` and ``degradation_cost``, ``energy_kwh`` being negative while
    discharging and ``energy_cost`` net of the revenue). At departure also ``demand_kwh``,
    ``shortfall_kwh``, ``ran_out`` and ``penalty`` (the departure cost: the seed's fixed
    penalty, or the physical model's shortfall cost, net of any energy-left credit).
    ``reset`` returns ``battery_kwh`` (and ``profile``, the price row's label, for priced
    scenarios).

    ## Arguments

    ``gymnasium.make("SmartCharging-v0", **params)`` or ``SmartChargingEnv(config=...)``,
    with the parameters of :class:`smartcharging.config.ChargingConfig`: ``capacity_kwh``,
    ``power_levels_kw``, ``slot_hours``, ``n_slots``, ``start_min_kwh``,
    ``start_max_kwh``, ``start_step_kwh``, ``demand_mean_kwh``, ``demand_sd_kwh``,
    ``penalty_factor``, ``arrival_hour``, the physical model's ``cost_model``,
    ``efficiency``, ``wear_cost_per_kw2h``, ``shortfall_cost_per_kwh``, ``price_profiles``,
    ``profile_labels``, ``forecast_slots``, and ``render_mode``: ``"ansi"`` (a text line per
    step), ``"human"`` (that line printed at every step) or ``"rgb_array"`` (a 144x256 frame
    drawn with NumPy: clock, battery against capacity, power, the episode's cost so far and
    the departure's outcome; for ``gymnasium.wrappers.RecordVideo``).
    ``scenario="NAME"`` (a built-in scenario, see ``smartcharging scenario list``) or
    ``scenario="path/to/file.yaml"`` loads a scenario; other parameters then override it.
    A scenario with several price rows (day-ahead prices: one per date) draws one per
    episode; ``reset(options={"profile": "2024-03-01"})`` fixes it.

    Randomness comes only from the environment's ``np_random``: a stream key drawn from it
    at ``reset(seed=...)`` fixes every later episode (see
    :mod:`smartcharging.sim.episode_draws`), so the same seed gives bit-identical episodes.

    ## Version History

    * v0: the seed notebook's model, made runnable and Gymnasium-native; the physical
      cost model and scenarios; ``render_mode="rgb_array"``; vehicle-to-grid scenarios
      (the existing ones unchanged, bit for bit).
    """

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        config: ChargingConfig | None = None,
        render_mode: str | None = None,
        scenario: str | None = None,
        **params: Any,
    ) -> None:
        self.config = resolve_config(config, scenario, params)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(
                f"invalid parameter render_mode={render_mode!r}: must be None or one of "
                f"{self.metadata['render_modes']}"
            )
        self.render_mode = render_mode
        cfg = self.config
        self.action_space = spaces.Discrete(cfg.n_actions)
        self.observation_space = observations.vehicle_space(cfg)
        self._power = tuple(float(p) for p in cfg.power_kw)
        self._n_actions = cfg.n_actions
        self._rate = tuple(float(r) for r in cfg.cost_rates)
        self._n_slots = cfg.n_slots
        self._physical = cfg.physical
        self._price_rows = observations.padded_prices(cfg).tolist()
        self._prices: list[float] = self._price_rows[0]
        self._templates = observations.vehicle_templates(cfg)
        self._vehicle_step = vehicle_stepper(cfg)
        self._template = self._templates[0] if self._templates is not None else None
        self._key = 0
        self._episode = -1
        self._block: tuple[list[float], list[float], list[int]] = ([], [], [])
        self._block_start = 0
        self.state = VehicleState(battery_kwh=0.0, demand_kwh=0.0, time=0, profile=0)
        self._done = True
        self._last_info: dict[str, Any] | None = None  # the last step's, kept for render()
        self._episode_cost = 0.0

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the bound step (a closure), which unpickling binds again."""
        return {key: value for key, value in self.__dict__.items() if key != "_vehicle_step"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._vehicle_step = vehicle_stepper(self.config)

    def _draws(self, episode: int) -> tuple[float, float, int]:
        """Arrival level, demand and price row of ``episode``, computed a block at a time."""
        offset = episode - self._block_start
        if not 0 <= offset < len(self._block[0]):
            self._block_start = episode
            offset = 0
            episodes = np.arange(episode, episode + _BLOCK, dtype=np.uint64)
            keys = np.full(_BLOCK, self._key, dtype=np.uint64)
            self._block = (
                episode_draws.arrival_levels(self.config, keys, episodes).tolist(),
                episode_draws.demands(self.config, keys, episodes).tolist(),
                episode_draws.profiles(self.config, keys, episodes).tolist(),
            )
        return self._block[0][offset], self._block[1][offset], self._block[2][offset]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        overrides = self._parse_options(options or {})  # before anything changes
        super().reset(seed=seed)
        if seed is not None or self._episode < 0:
            self._key = episode_draws.new_key(self.np_random)
            self._episode = -1
            self._block = ([], [], [])
        self._episode += 1
        battery, demand, profile = self._draws(self._episode)
        battery = overrides.get("battery_kwh", battery)
        demand = overrides.get("demand_kwh", demand)
        profile = int(overrides.get("profile", profile))
        self.state = VehicleState(battery_kwh=battery, demand_kwh=demand, time=0, profile=profile)
        self._prices = self._price_rows[profile]
        if self._templates is not None:
            self._template = self._templates[profile]
        self._done = False
        if self.render_mode is not None:
            self._last_info, self._episode_cost = None, 0.0
            if self.render_mode == "human":
                self.render()
        info: dict[str, Any] = {"battery_kwh": battery}
        if self._physical:
            info["profile"] = self.config.profile_labels[profile]
        return observations.vehicle_observation(battery, 0, self._template), info

    def _parse_options(self, options: dict[str, Any]) -> dict[str, float]:
        """Validated reset options, checked before the reset changes any state."""
        allowed = {"battery_kwh", "demand_kwh", "profile"}
        if not isinstance(options, dict):
            raise ValueError(f"invalid reset options {options!r}: must be a dict or None")
        unknown = sorted(set(options) - allowed, key=str)
        if unknown:
            raise ValueError(f"unknown reset option {unknown[0]!r}: allowed are {sorted(allowed)}")
        parsed: dict[str, float] = {}
        if "battery_kwh" in options:
            value = options["battery_kwh"]
            capacity = self.config.capacity_kwh
            if not _is_number(value) or not 0 <= value <= capacity:
                raise ValueError(
                    f"invalid reset option battery_kwh={value!r}: must be a number in "
                    f"[0, capacity_kwh={capacity}]"
                )
            parsed["battery_kwh"] = float(value)
        if "demand_kwh" in options:
            value = options["demand_kwh"]
            if not _is_number(value) or not math.isfinite(value):
                raise ValueError(
                    f"invalid reset option demand_kwh={value!r}: must be a finite number"
                )
            parsed["demand_kwh"] = float(value)
        if "profile" in options:
            parsed["profile"] = self._profile_index(options["profile"])
        return parsed

    def _profile_index(self, value: object) -> int:
        labels = self.config.profile_labels
        if isinstance(value, str) and value in labels:
            return labels.index(value)
        index = int(value) if isinstance(value, int | np.integer) else -1
        if not isinstance(value, bool) and 0 <= index < len(labels):
            return index
        shown = f"{labels[0]!r} .. {labels[-1]!r}" if labels else "none (no prices)"
        raise ValueError(
            f"invalid reset option profile={value!r}: must be a price-row label "
            f"({shown}) or an index in 0..{len(labels) - 1}"
        )

    def step(
        self, action: np.int64 | int
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._done:
            raise gym.error.ResetNeeded(
                "step() called on a finished (or never started) episode: call reset() first"
            )
        if type(action) not in _INTEGER_TYPES:
            action = self._coerce_action(action)
        if not 0 <= action < self._n_actions:
            raise action_error(action, self._n_actions)
        state = self.state
        time = state.time
        departing = time + 1 == self._n_slots
        battery, reward, info = self._vehicle_step(
            state.battery_kwh,
            state.demand_kwh,
            self._power[action],
            self._rate[action],
            self._prices[time],
            departing,
        )
        state.battery_kwh = battery
        state.time = time = time + 1
        self._done = departing
        if self.render_mode is not None:
            self._last_info = info
            self._episode_cost -= float(reward)
            if self.render_mode == "human":
                self.render()
        observation = observations.vehicle_observation(battery, time, self._template)
        return observation, reward, departing, False, info

    def _coerce_action(self, action: object) -> int:
        if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            return int(action)
        if isinstance(action, np.integer):
            return int(action)
        raise action_error(action, len(self._power))

    def _bar(self) -> str:
        battery, capacity = self.state.battery_kwh, self.config.capacity_kwh
        filled = round(_BAR_WIDTH * battery / capacity)
        return f"[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {battery:6.2f}/{capacity:g} kWh"

    def _step_line(self, info: dict[str, Any]) -> str:
        start = self.config.arrival_hour + (self.state.time - 1) * self.config.slot_hours
        line = (
            f"{format_clock(start)} {info['power_kw']:5.1f} kW {self._bar()} "
            f"cost {info['cost']:.4g}"
        )
        if "demand_kwh" in info:
            outcome = (
                f"RAN OUT {info['shortfall_kwh']:.2f} kWh short, penalty {info['penalty']:.4g}"
                if info["ran_out"]
                else "served"
            )
            line += f" | depart: demand {info['demand_kwh']:.2f} kWh, {outcome}"
        return line

    def _line(self) -> str:
        if self._last_info is None:
            return f"{format_clock(self.config.arrival_hour)} arrive {self._bar()}"
        return self._step_line(self._last_info)

    def _frame(self) -> np.ndarray:
        """The clock and slots elapsed, the battery against capacity, the last slot's power
        against the largest, the episode's cost so far and, once departed, whether the
        vehicle was served (green) or ran out (red)."""
        cfg, state, info = self.config, self.state, self._last_info or {}
        canvas = rendering.Canvas(144, 256)
        clock = cfg.arrival_hour + state.time * cfg.slot_hours
        canvas.text(8, 8, format_clock(clock))
        canvas.text(8, 64, f"{state.time}/{cfg.n_slots}")
        if "ran_out" in info:
            canvas.rect(6, 224, 14, 24, rendering.LIMIT if info["ran_out"] else rendering.BATTERY)
        canvas.bar(26, 8, 8, 240, state.time / cfg.n_slots, rendering.TIME)
        battery = state.battery_kwh
        canvas.bar(42, 8, 28, 240, battery / cfg.capacity_kwh, rendering.BATTERY)
        canvas.text(76, 8, f"{rendering.number(battery)}/{rendering.number(cfg.capacity_kwh)}kWh")
        power = info.get("power_kw", 0.0)
        canvas.bar(96, 8, 12, 150, power / max(self._power), rendering.POWER)
        canvas.text(97, 166, f"{rendering.number(power)}kW")
        canvas.text(120, 8, f"cost {rendering.number(self._episode_cost)}")
        return canvas.pixels

    def render(self) -> str | np.ndarray | None:  # type: ignore[override, unused-ignore]
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'"
            )
            return None
        if self.render_mode == "rgb_array":
            return self._frame()
        if self.render_mode == "human":
            print(self._line())
            return None
        return self._line()
