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

from smartcharging.config.sessions import NEED_SD_KWH
from smartcharging.observations import DepotLayout
from smartcharging.sim import dynamics, episode_draws
from smartcharging.sim.depot_episode import Episode
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
        self.start_battery = np.zeros((e, n))
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
        #: With session days: each depot's sessions (indices) and their realised needs.
        self.visits: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * e
        self.visit_demand: list[np.ndarray] = [np.zeros(0)] * e
        #: With session days: the day each depot replays (every episode), or None to draw.
        self.replayed_days: np.ndarray | None = None
        if cfg.sessions is not None:
            self._most_sessions = max(len(s) for s in cfg.sessions.by_day)
            self.capacity = np.zeros((e, n))
            self._capacity_t = np.zeros((e, steps, n))
            self._priority_t = np.zeros((e, steps, n), dtype=np.int64)
            self._leaving_t = np.zeros((e, steps, n))
            self._arriving_t = np.zeros((e, steps, n), dtype=bool)

    def start_episodes(self, depots: slice | np.ndarray) -> None:
        """Draw schedules, levels, demands and prices of the current episode of ``depots``
        (or their session days), and precompute what depends only on them (presence,
        departures, the observation apart from the batteries) for every time step."""
        if self.config.sessions is not None:
            self._start_session_days(depots)
            return
        cfg, n = self.config, self.config.n_chargers
        u = episode_draws.uniforms(self.keys[depots], self.episode[depots], 4 * n + 1)
        arrival = self._arrival_low + np.floor(u[:, :n] * self._arrival_span).astype(np.int64)
        departure = self._departure_low + np.floor(u[:, n : 2 * n] * self._departure_span).astype(
            np.int64
        )
        self.arrival[depots], self.departure[depots] = arrival, departure
        self.battery[depots] = self.start_battery[depots] = (
            self._start_low
            + np.floor(u[:, 2 * n : 3 * n] * self._start_levels) * cfg.start_step_kwh
        )
        normal = episode_draws.normal_quantiles(u[:, 3 * n : 4 * n])
        self.demand[depots] = np.maximum(self._mean + self._sd * normal, 0.0)
        profile = np.floor(u[:, 4 * n] * cfg.n_profiles).astype(np.int64)
        steps = np.arange(cfg.n_slots + 2)[None, :, None]
        present = (arrival[:, None, :] <= steps) & (steps < departure[:, None, :])
        self._departing[depots] = departure[:, None, :] == steps
        self._lay_out(depots, profile, present, departure[:, None, :], self._mean * present)

    def _lay_out(
        self,
        depots: slice | np.ndarray,
        profile: np.ndarray,
        present: np.ndarray,
        departure_told: np.ndarray,
        expected_demand: np.ndarray,
    ) -> None:
        """Start ``depots`` at slot 0 with the price row ``profile``, presence per step and
        what the observation tells of each vehicle present: its departure and demand."""
        layout = self.layout
        self.profile[depots] = profile
        self.time[depots] = 0
        self.peak_kw[depots] = 0.0
        self._present[depots] = present
        steps = np.arange(self.config.n_slots + 2)[None, :, None]
        template = self._template[depots]
        template[:, :, layout.present] = present
        template[:, :, layout.slots_left] = (departure_told - steps) * present
        template[:, :, layout.expected_demand] = expected_demand
        template[:, :, layout.time] = steps[:, :, 0]
        window = steps[:, :, 0, None] + self._window
        template[:, :, layout.prices] = self._prices[profile[:, None, None], window]
        template[:, :, layout.headroom] = self._headroom
        self._template[depots] = template

    def _start_session_days(self, depots: slice | np.ndarray) -> None:
        """Draw each depot's session day and lay its sessions out on the stations: who is
        present, when each session arrives and leaves (actually) and what the observation
        tells (the estimated departure, at least one slot ahead while the vehicle stays,
        and the request). The needs are revealed with the metering spread of
        :data:`~smartcharging.config.sessions.NEED_SD_KWH`."""
        cfg, days = self.config, self.config.sessions
        assert days is not None
        a = days.arrays
        rows = np.arange(self.num_depots)[depots]
        u = episode_draws.uniforms(self.keys[rows], self.episode[rows], 1 + self._most_sessions)
        day = np.floor(u[:, 0] * days.n_days).astype(np.int64)
        if self.replayed_days is not None:
            day = self.replayed_days[rows]
        m, steps, n = len(rows), cfg.n_slots + 2, cfg.n_chargers
        occupant = np.zeros((m, steps, n), dtype=np.int64)  # session index + 1; 0: empty
        leaving = np.zeros((m, steps, n))
        departing = np.zeros((m, steps, n), dtype=bool)
        arriving = np.zeros((m, steps, n), dtype=bool)
        for k, d in enumerate(day):
            sessions = days.by_day[d]
            lane, arrival, departure = (
                a["station"][sessions],
                a["arrival"][sessions],
                a["departure"][sessions],
            )
            normal = episode_draws.normal_quantiles(u[k, 1 : 1 + len(sessions)])
            demand = np.maximum(a["need_kwh"][sessions] + NEED_SD_KWH * normal, 0.0)
            self.visits[rows[k]] = sessions
            self.visit_demand[rows[k]] = demand
            np.add.at(occupant[k], (arrival, lane), sessions + 1)
            np.add.at(occupant[k], (departure, lane), -(sessions + 1))
            leaving[k, departure, lane] = demand
            departing[k, departure, lane] = True
            arriving[k, arrival, lane] = True
        occupant = np.cumsum(occupant, axis=1)
        present = occupant > 0
        index = np.maximum(occupant - 1, 0)
        requested = np.where(present, a["requested_kwh"][index], 0.0)
        estimate = np.maximum(a["estimated_departure"][index], np.arange(steps)[None, :, None] + 1)
        self._capacity_t[depots] = requested
        self._priority_t[depots] = np.where(present, a["estimated_departure"][index], 0)
        self._leaving_t[depots] = leaving
        self._departing[depots] = departing
        self._arriving_t[depots] = arriving
        self.battery[depots] = 0.0
        self._lay_out(depots, day, present, estimate, requested)

    def episode_of(self, depot: int) -> Episode:
        """The current episode of ``depot`` as the exact solvers see it (everything known)."""
        cfg = self.config
        if cfg.sessions is None:
            return Episode(
                self.arrival[depot].copy(),
                self.departure[depot].copy(),
                self.start_battery[depot].copy(),
                self.demand[depot].copy(),
                int(self.profile[depot]),
            )
        a, sessions = cfg.sessions.arrays, self.visits[depot]
        return Episode(
            a["arrival"][sessions],
            a["departure"][sessions],
            np.zeros(len(sessions)),
            self.visit_demand[depot].copy(),
            int(self.profile[depot]),
            capacity_kwh=a["requested_kwh"][sessions],
            demand_mean_kwh=a["need_kwh"][sessions],
            demand_sd_kwh=np.full(len(sessions), NEED_SD_KWH),
            charger=a["station"][sessions],
        )

    def reset_info(self) -> dict[str, np.ndarray]:
        """What ``reset`` tells of each depot's episode, per charger: the drawn vehicles'
        arrival and departure slots (a fleet's schedule is known in advance); nothing with
        session days, whose arrivals and departures are revealed only as they happen."""
        if self.config.sessions is not None:
            return {}
        return {"arrival_slot": self.arrival.copy(), "departure_slot": self.departure.copy()}

    def capacity_now(self) -> np.ndarray:
        """Each charger's vehicle's capacity at the current slot ``(depots, chargers)``: on
        session days the present session's request (0 where a station is empty)."""
        if self.config.sessions is None:
            return np.asarray(self.capacity)
        return self._capacity_t[self._rows, self.time]

    def observations(self) -> np.ndarray:
        out = self._template[self._rows, self.time]
        out[:, self.layout.battery] = self.battery * self._present[self._rows, self.time]
        return out

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Advance every depot by one slot (:func:`smartcharging.sim.site.site_slot`);
        returns rewards and per-depot infos."""
        cfg, t, rows = self.config, self.time, self._rows
        if cfg.sessions is not None:
            self.capacity = self._capacity_t[rows, t]
            self.departure = self._priority_t[rows, t]
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
        if cfg.sessions is not None:
            self.demand = self._leaving_t[rows, time]
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
        if cfg.sessions is not None:
            battery = np.where(departing | self._arriving_t[rows, time], 0.0, battery)
        self.battery, self.time = battery, time
        return 0.0 - cost, info
