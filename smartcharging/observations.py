"""Every observation layout, owned in one place.

A vehicle observes (float32):

* the seed model: ``[battery_kwh, time_step]``;
* priced scenarios: ``[battery_kwh, slots_to_departure, price_now, the next forecast_slots
  prices]`` (prices are 0 past departure, and in the final observation).

A depot observes (float32, blocks of ``n_chargers``): ``present``, ``battery_kwh``,
``slots_to_departure``, ``expected_demand_kwh`` (zeros where no vehicle is present), then
``time_step``, ``price_now``, the next ``forecast_slots`` prices (0 past the end) and
``headroom_kw`` (grid limit plus PV in the coming slot). A charger's own view is its four
vehicle columns followed by the shared site columns; the centralised state of the
PettingZoo view (``state()``, for centralised critics) is the whole depot observation.

Environments encode with these functions, exact evaluation builds the observation of every
grid state with them, policies read columns through them and agents normalise with the
bounds given here, so adding a feature to an observation changes this module alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces

from smartcharging.config.depot import DepotConfig
from smartcharging.config.vehicle import ChargingConfig

#: Column of the battery level in a vehicle observation.
BATTERY = 0
#: Column of the time (the seed's slots elapsed, or slots to departure when priced).
TIME = 1
#: First column of the price window in a priced vehicle observation.
PRICES = 2


def vehicle_size(config: ChargingConfig) -> int:
    """Length of a vehicle observation: 2, or ``3 + forecast_slots`` when priced."""
    return PRICES + config.forecast_slots + 1 if config.physical else 2


def padded_prices(config: ChargingConfig) -> np.ndarray:
    """Price rows followed by ``forecast_slots + 1`` zeros: the forecast past departure,
    and the final observation after departure, show price 0 (computed once per config)."""
    return config.padded_prices


def vehicle_space(config: ChargingConfig) -> spaces.Box:
    """The observation box: battery in ``[0, capacity]``, time in ``[0, n_slots]``, prices
    between the scenario's lowest and highest price (and 0)."""
    low = np.zeros(vehicle_size(config), dtype=np.float32)
    high = np.zeros(vehicle_size(config), dtype=np.float32)
    high[BATTERY], high[TIME] = config.capacity_kwh, config.n_slots
    if config.physical:
        low[PRICES:] = min(float(config.prices.min()), 0.0)
        high[PRICES:] = max(float(config.prices.max()), 0.0)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def vehicle_observations(
    config: ChargingConfig,
    battery_kwh: np.ndarray,
    time: np.ndarray,
    profile: int | np.ndarray = 0,
) -> np.ndarray:
    """Observations ``(n, size)`` of ``n`` states: battery levels, time steps (slots
    elapsed) and price rows (one, or one per state)."""
    battery = np.asarray(battery_kwh)
    time = np.asarray(time)
    observations = np.empty((len(battery), vehicle_size(config)), dtype=np.float32)
    observations[:, BATTERY] = battery
    if not config.physical:
        observations[:, TIME] = time
        return observations
    observations[:, TIME] = config.n_slots - time
    rows = np.broadcast_to(np.asarray(profile), battery.shape)
    window = time[:, None] + np.arange(config.forecast_slots + 1)
    observations[:, PRICES:] = padded_prices(config)[rows[:, None], window]
    return observations


def vehicle_templates(config: ChargingConfig) -> np.ndarray | None:
    """Priced observations with the battery left at 0, per price row and time step
    ``(rows, n_slots + 1, size)``, so that the scalar environment copies one row per step;
    None for the seed layout, which is cheaper to build directly."""
    if not config.physical:
        return None
    time = np.arange(config.n_slots + 1)
    rows = np.arange(config.n_profiles)
    battery = np.zeros(len(rows) * len(time))
    flat = vehicle_observations(
        config, battery, np.tile(time, len(rows)), np.repeat(rows, len(time))
    )
    return flat.reshape(len(rows), len(time), -1)


def vehicle_observation(battery_kwh: float, time: int, template: np.ndarray | None) -> np.ndarray:
    """One vehicle's observation, the scalar environment's fast path: its priced row of
    :func:`vehicle_templates` with the battery filled in, or the seed's pair."""
    if template is None:
        return np.array((battery_kwh, time), dtype=np.float32)
    observation = template[time].copy()
    observation[BATTERY] = battery_kwh
    return observation


def vehicle_battery(observations: np.ndarray) -> np.ndarray:
    """Battery levels (kWh) from a batch of vehicle observations."""
    return np.asarray(observations)[:, BATTERY]


def vehicle_time_steps(config: ChargingConfig, observations: np.ndarray) -> np.ndarray:
    """Slots elapsed, from a batch of vehicle observations."""
    column = np.asarray(observations)[:, TIME].astype(np.int64)
    return config.n_slots - column if config.physical else column


def vehicle_price_window(observations: np.ndarray) -> np.ndarray:
    """The observed prices (now and forecast) of a batch of priced vehicle observations."""
    return np.asarray(observations)[:, PRICES:]


def vehicle_price_windows(config: ChargingConfig) -> np.ndarray:
    """The price window observed on every row and slot ``(rows, n_slots, width)``, float32
    as in observations."""
    index = np.arange(config.n_slots)[:, None] + np.arange(config.forecast_slots + 1)
    return padded_prices(config).astype(np.float32)[:, index]


def vehicle_scale(config: ChargingConfig) -> np.ndarray:
    """Divisors that map each column into ``[0, 1]`` (prices into ``[-1, 1]``): capacity,
    slots, and the largest absolute price."""
    scale = np.ones(vehicle_size(config), dtype=np.float32)
    scale[BATTERY], scale[TIME] = config.capacity_kwh, config.n_slots
    scale[PRICES:] = float(np.abs(config.prices).max()) or 1.0
    return scale


def normalize_observations(observations: np.ndarray, config: ChargingConfig) -> np.ndarray:
    """Battery / capacity, time (or slots left) / n_slots, prices / largest absolute price."""
    return (np.asarray(observations, dtype=np.float32) / vehicle_scale(config)).astype(np.float32)


def vehicle_normalized_space(config: ChargingConfig) -> spaces.Box:
    """Box of normalised observations: ``[0, 1]``, and ``[-1, 1]`` for prices."""
    low = np.zeros(vehicle_size(config), dtype=np.float32)
    low[PRICES:] = -1.0
    return spaces.Box(low, np.ones(vehicle_size(config), dtype=np.float32), dtype=np.float32)


@dataclass(frozen=True)
class DepotLayout:
    """Where each feature sits in a depot observation of ``n_chargers`` chargers."""

    n_chargers: int
    forecast_slots: int

    @classmethod
    def of(cls, config: DepotConfig) -> DepotLayout:
        return cls(config.n_chargers, config.forecast_slots)

    def _block(self, k: int) -> slice:
        return slice(k * self.n_chargers, (k + 1) * self.n_chargers)

    @property
    def present(self) -> slice:
        return self._block(0)

    @property
    def battery(self) -> slice:
        return self._block(1)

    @property
    def slots_left(self) -> slice:
        return self._block(2)

    @property
    def expected_demand(self) -> slice:
        return self._block(3)

    @property
    def time(self) -> int:
        return 4 * self.n_chargers

    @property
    def prices(self) -> slice:
        return slice(self.time + 1, self.time + 2 + self.forecast_slots)

    @property
    def headroom(self) -> int:
        return self.time + 2 + self.forecast_slots

    @property
    def size(self) -> int:
        return self.headroom + 1

    @property
    def charger_columns(self) -> np.ndarray:
        """``(n_chargers, 4)`` column indices of each charger's own vehicle features."""
        return np.stack([np.arange(self.n_chargers) + k * self.n_chargers for k in range(4)], 1)

    @property
    def site_columns(self) -> np.ndarray:
        """Indices of the columns every charger shares (time, prices, headroom)."""
        return np.arange(self.time, self.size)

    @property
    def charger_size(self) -> int:
        """Length of one charger's own view: its four columns plus the site's."""
        return 4 + len(self.site_columns)


def depot_space(config: DepotConfig) -> spaces.Box:
    """The depot observation box (layout in the module docstring)."""
    layout = DepotLayout.of(config)
    low = np.zeros(layout.size)
    high = np.zeros(layout.size)
    high[layout.present] = 1.0
    high[layout.battery] = config.capacity_kwh
    high[layout.slots_left] = config.n_slots
    high[layout.expected_demand] = config.demand_mean_kwh
    if config.sessions is not None:
        # what a station delivers in a day: the same for every set of days of a site, so
        # that a model trained on some days reads others on the same scale
        day_kwh = float(config.power_kw[-1]) * config.n_slots * config.slot_hours
        high[layout.battery] = high[layout.expected_demand] = max(day_kwh, max(config.capacity_kwh))
    high[layout.time] = config.n_slots
    low[layout.prices] = min(float(config.prices.min()), 0.0)
    high[layout.prices] = max(float(config.prices.max()), 0.0)
    high[layout.headroom] = float(config.headroom_kw.max())
    return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)


def depot_state_space(config: DepotConfig) -> spaces.Box:
    """The centralised state of the PettingZoo view: the whole depot observation."""
    return depot_space(config)


def depot_scale(config: DepotConfig) -> np.ndarray:
    """Divisors mapping each depot column to its largest possible magnitude."""
    space = depot_space(config)
    return np.maximum(np.maximum(np.abs(space.low), np.abs(space.high)), 1e-9)


def charger_views(layout: DepotLayout, observations: np.ndarray) -> np.ndarray:
    """Each charger's own view ``(depots, n_chargers, charger_size)`` of depot
    observations ``(depots, size)``."""
    depots, n = len(observations), layout.n_chargers
    own = observations[:, : 4 * n].reshape(depots, 4, n).transpose(0, 2, 1)
    shared = observations[:, None, layout.time :]
    shared = np.broadcast_to(shared, (depots, n, shared.shape[-1]))
    return np.concatenate([own, shared], axis=2)
