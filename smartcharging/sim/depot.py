"""The depot's state and one step of it, for any number of depots at once.

Arrays have shape ``(depots, chargers)``; each step applies the site's rules
(:mod:`smartcharging.sim.site`: allocation under the site limit, charging, V2G, costs) and
the departures (:mod:`smartcharging.sim.dynamics`) to whole arrays. The
scalar ``DepotEnv`` runs one depot, the batch ``DepotVectorEnv`` many.
The observation layout is :class:`smartcharging.observations.DepotLayout`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from smartcharging.observations import DepotLayout
from smartcharging.sim import dynamics, episode_draws
from smartcharging.sim.site import site_slot

if TYPE_CHECKING:
    from smartcharging.config.depot import DepotConfig


class DepotSimulator:
    """State of ``num_depots`` depots and the physics that moves them."""

    def __init__(self, config: DepotConfig, num_depots: int) -> None:
        self.config = cfg = config
        self.num_depots = e = num_depots
        n = cfg.n_chargers
        self.capacity = np.broadcast_to(np.asarray(cfg.capacity_kwh), (e, n))
        self.battery = np.zeros((e, n))
        self.demand = np.zeros((e, n))
        self.arrival = np.zeros((e, n), dtype=np.int64)
        self.departure = np.zeros((e, n), dtype=np.int64)
        self.time = np.zeros(e, dtype=np.int64)
        self.peak_kw = np.zeros(e)
        self.profile = np.zeros(e, dtype=np.int64)
        self.keys = np.zeros(e, dtype=np.uint64)
        self.episode = np.zeros(e, dtype=np.uint64)
        self._prices = np.pad(cfg.prices, ((0, 0), (0, cfg.forecast_slots + 2)))
        self._export_prices = np.pad(cfg.export_prices, ((0, 0), (0, 2)))
        self._pv = np.pad(cfg.pv, (0, 2))
        self._headroom = np.pad(cfg.headroom_kw, (0, 2), constant_values=cfg.grid_limit_kw)
        self._window = np.arange(cfg.forecast_slots + 1)
        self._rows = np.arange(e)
        # One step past the end, so that a finished depot can be stepped (as a no-op) until
        # the batch env restarts it.
        steps = cfg.n_slots + 2
        self._present = np.zeros((e, steps, n), dtype=bool)
        self._departing = np.zeros((e, steps, n), dtype=bool)
        self.layout = DepotLayout.of(cfg)
        self._template = np.zeros((e, steps, self.layout.size), dtype=np.float32)
        low = np.array([pair[0] for pair in cfg.arrival_slots])
        self._arrival_low, self._arrival_span = (
            low,
            np.array([pair[1] for pair in cfg.arrival_slots]) - low + 1,
        )
        low = np.array([pair[0] for pair in cfg.departure_slots])
        self._departure_low, self._departure_span = (
            low,
            np.array([pair[1] for pair in cfg.departure_slots]) - low + 1,
        )
        self._start_low = np.array([pair[0] for pair in cfg.start_kwh])
        self._start_levels = (
            np.floor(
                (np.array([pair[1] for pair in cfg.start_kwh]) - self._start_low)
                / cfg.start_step_kwh
                + 1e-9
            )
            + 1
        )
        self._mean = np.asarray(cfg.demand_mean_kwh)
        self._sd = np.asarray(cfg.demand_sd_kwh)

    def start_episodes(self, depots: slice | np.ndarray) -> None:
        """Draw schedules, levels, demands and prices of the current episode of ``depots``,
        and precompute what depends only on them (presence, departures, the observation
        apart from the batteries) for every time step."""
        cfg, n = self.config, self.config.n_chargers
        u = episode_draws.uniforms(self.keys[depots], self.episode[depots], 4 * n + 1)
        arrival = self._arrival_low + np.floor(u[:, :n] * self._arrival_span).astype(np.int64)
        departure = self._departure_low + np.floor(u[:, n : 2 * n] * self._departure_span).astype(
            np.int64
        )
        self.arrival[depots], self.departure[depots] = arrival, departure
        self.battery[depots] = (
            self._start_low
            + np.floor(u[:, 2 * n : 3 * n] * self._start_levels) * cfg.start_step_kwh
        )
        normal = episode_draws.normal_quantiles(u[:, 3 * n : 4 * n])
        self.demand[depots] = np.maximum(self._mean + self._sd * normal, 0.0)
        profile = np.floor(u[:, 4 * n] * cfg.n_profiles).astype(np.int64)
        self.profile[depots] = profile
        self.time[depots] = 0
        self.peak_kw[depots] = 0.0
        steps = np.arange(cfg.n_slots + 2)[None, :, None]
        present = (arrival[:, None, :] <= steps) & (steps < departure[:, None, :])
        self._present[depots] = present
        self._departing[depots] = departure[:, None, :] == steps
        layout, template = self.layout, self._template[depots]
        template[:, :, layout.present] = present
        template[:, :, layout.slots_left] = (departure[:, None, :] - steps) * present
        template[:, :, layout.expected_demand] = self._mean * present
        template[:, :, layout.time] = steps[:, :, 0]
        window = steps[:, :, 0, None] + self._window
        template[:, :, layout.prices] = self._prices[profile[:, None, None], window]
        template[:, :, layout.headroom] = self._headroom
        self._template[depots] = template

    def observations(self) -> np.ndarray:
        out = self._template[self._rows, self.time]
        out[:, self.layout.battery] = self.battery * self._present[self._rows, self.time]
        return out

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Advance every depot by one slot (:func:`smartcharging.sim.site.site_slot`);
        returns rewards and per-depot infos."""
        cfg, t, rows = self.config, self.time, self._rows
        present = self._present[rows, t]
        requested = cfg.power_kw[actions] * present
        pv = self._pv[t]
        price = self._prices[self.profile, t]
        export_price = self._export_prices[self.profile, t]
        flows = site_slot(
            cfg, requested, self.battery, self.capacity, pv, price, export_price, self.departure
        )
        info: dict[str, Any] = {
            "requested_kw": requested,
            "delivered_kw": flows.delivered_kw,
            "energy_kwh": flows.energy_kwh,
            "wear_cost": flows.wear_cost,
            "energy_cost_share": flows.energy_cost_share,
            "ignored_action": (actions != cfg.idle_action) & ~present,
            "grid_kw": flows.grid_kw,
            "pv_kw": pv,
            "price": price,
            "energy_cost": flows.energy_cost,
        }
        if cfg.v2g_physics:
            info.update(
                degradation_cost=flows.degradation_cost,
                export_kw=flows.export_kw,
                export_price=export_price,
                export_revenue=flows.export_revenue,
            )
        return self._finish_step(flows.battery_kwh, info)

    def _finish_step(
        self, battery: np.ndarray, info: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The demand charge, the departures and the step's cost, from the slot's flows."""
        cfg, rows = self.config, self._rows
        grid_kw = info["grid_kw"]
        demand_charge = cfg.demand_charge_per_kw * np.maximum(grid_kw - self.peak_kw, 0.0)
        self.peak_kw = np.maximum(self.peak_kw, grid_kw)
        time = self.time + 1
        departing = self._departing[rows, time]
        wear_total = info["wear_cost"].sum(axis=1)
        cost = info["energy_cost"] + wear_total + demand_charge
        info["departed"] = departing
        info["site_wear_cost"] = wear_total
        info["demand_charge"] = demand_charge
        if departing.any():
            remaining, missing, _, shortfall = dynamics.depart(
                battery, self.demand, 0.0, cfg.shortfall_cost_per_kwh, cfg.residual_value_per_kwh
            )
            info["departure_battery_kwh"] = battery * departing
            battery = np.where(departing, remaining, battery)
            info["shortfall_kwh"] = missing * departing
            info["shortfall_cost"] = shortfall_cost = shortfall * departing
            site_shortfall = shortfall_cost.sum(axis=1)
            cost = cost + site_shortfall
        else:
            zeros = np.zeros_like(battery)
            info["shortfall_kwh"] = info["shortfall_cost"] = info["departure_battery_kwh"] = zeros
            site_shortfall = np.zeros(self.num_depots)
        info["site_shortfall_cost"] = site_shortfall
        info["cost"] = cost
        self.battery, self.time = battery, time
        return 0.0 - cost, info
