"""Session days: real charging sessions laid out on a depot's stations and slots.

A session day is one episode of a depot whose stations host *sequences* of sessions (one
vehicle at a time per station). Each session keeps apart what a controller knows when the
vehicle arrives from what then happens:

* known at arrival: the station, the arrival slot, the **estimated departure** (the driver's
  stated one, or the site's typical stay when the driver stated none) and the **requested
  energy**, which is also the most the vehicle takes (its capacity in the session: energy
  beyond the request is worth nothing to anyone);
* revealed by the episode: the **actual departure** (the vehicle leaves at the start of that
  slot, whatever the estimate said) and the **need**, the requested energy capped by what the
  actual stay allows at the station's top power. Energy short of the need at departure pays
  the shortfall cost per kWh, as in the physical scenarios.

The need is revealed at departure with a metering spread of ``MIN_DEMAND_SD_KWH`` (1 Wh,
Normal), so that a session is the depot model's vehicle with an almost certain demand and
every exact evaluation and bound of the depot applies to it unchanged.

All values are in slots of the depot (0 = the day's first slot, departures exclusive); the
timestamps behind them are read and slotted by :mod:`smartcharging.sessions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from smartcharging.config import limits
from smartcharging.config.limits import check_limit
from smartcharging.config.validation import ConfigError

#: The spread of a session's need around its stated value (kWh), see the module docstring.
NEED_SD_KWH = limits.MIN_DEMAND_SD_KWH

_INTEGERS = ("day", "station", "arrival", "departure", "estimated_departure")
_ENERGIES = ("requested_kwh", "need_kwh")


@dataclass(frozen=True)
class SessionDays:
    """Sessions on the days of a depot (one entry per session in every per-session field).

    Attributes:
        dates: a label of each day (ISO date), the episode's identity.
        stations: the name of each station (one charger of the depot each).
        day, station: each session's day and station (indices into ``dates``, ``stations``).
        arrival, departure: each session's arrival slot and actual departure slot (it is
            present in slots ``arrival .. departure - 1``).
        estimated_departure: the departure a controller is told at arrival.
        requested_kwh: the energy asked for at arrival, the most the vehicle takes.
        need_kwh: the energy it must have at departure (at most the request).
        claimed: whether the request and the estimate are the driver's own (False: filled
            in by the importer, see :mod:`smartcharging.sessions`).
    """

    dates: tuple[str, ...]
    stations: tuple[str, ...]
    day: tuple[int, ...]
    station: tuple[int, ...]
    arrival: tuple[int, ...]
    departure: tuple[int, ...]
    estimated_departure: tuple[int, ...]
    requested_kwh: tuple[float, ...]
    need_kwh: tuple[float, ...]
    claimed: tuple[bool, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", tuple(str(d) for d in self.dates))
        object.__setattr__(self, "stations", tuple(str(s) for s in self.stations))
        if not self.dates or not self.stations:
            raise ConfigError("invalid sessions: need at least one day and one station")
        if len(set(self.stations)) != len(self.stations):
            raise ConfigError("invalid sessions: station names must be unique")
        n = len(self.day)
        if n == 0:  # the simulator reads the sessions' arrays, and a day of none is no day
            raise ConfigError("invalid sessions: need at least one session")
        check_limit("sessions", n, limits.MAX_SESSIONS)
        for name in (*_INTEGERS, *_ENERGIES, "claimed"):
            if len(getattr(self, name)) != n:
                raise ConfigError(
                    f"invalid sessions: {name} has {len(getattr(self, name))} values for {n} "
                    "sessions"
                )
        for name in _INTEGERS:
            values = tuple(getattr(self, name))
            if any(isinstance(v, bool) or not isinstance(v, int | np.integer) for v in values):
                raise ConfigError(f"invalid sessions: {name} must hold integers")
            object.__setattr__(self, name, tuple(int(v) for v in values))
        for name in _ENERGIES:
            energies = np.asarray(getattr(self, name), dtype=np.float64)
            if not np.all(np.isfinite(energies) & (energies >= 0)) or (
                n and energies.max() > limits.MAX_ENERGY_KWH
            ):
                raise ConfigError(
                    f"invalid sessions: {name} must be finite, >= 0 and <= "
                    f"{limits.MAX_ENERGY_KWH:g} kWh"
                )
            object.__setattr__(self, name, tuple(float(v) for v in energies))
        object.__setattr__(self, "claimed", tuple(bool(c) for c in self.claimed))

    def check(self, n_slots: int) -> None:
        """Refuse sessions that do not fit ``n_slots`` slots or overlap at a station."""
        a = self.arrays
        bad = (
            (a["day"] < 0)
            | (a["day"] >= len(self.dates))
            | (a["station"] < 0)
            | (a["station"] >= len(self.stations))
        )
        if bad.any():
            raise ConfigError(f"invalid session {int(np.argmax(bad))}: day or station index")
        for name, low, high in (
            ("arrival", 0, n_slots - 1),
            ("departure", 1, n_slots),
            ("estimated_departure", 1, n_slots),
        ):
            bad = (a[name] < low) | (a[name] > high)
            if bad.any():
                i = int(np.argmax(bad))
                raise ConfigError(
                    f"invalid session {i}: {name}={int(a[name][i])} must lie in {low}..{high}"
                )
        for name in ("departure", "estimated_departure"):
            bad = a[name] <= a["arrival"]
            if bad.any():
                i = int(np.argmax(bad))
                raise ConfigError(
                    f"invalid session {i}: {name}={int(a[name][i])} is not after its "
                    f"arrival slot {int(a['arrival'][i])}"
                )
        bad = a["requested_kwh"] <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(f"invalid session {i}: requested_kwh must be > 0 (nothing asked)")
        bad = a["need_kwh"] > a["requested_kwh"] + 1e-9
        if bad.any():
            i = int(np.argmax(bad))
            raise ConfigError(
                f"invalid session {i}: need_kwh={a['need_kwh'][i]:g} exceeds requested_kwh="
                f"{a['requested_kwh'][i]:g}"
            )
        order = np.lexsort((a["arrival"], a["station"], a["day"]))
        same = (a["day"][order][1:] == a["day"][order][:-1]) & (
            a["station"][order][1:] == a["station"][order][:-1]
        )
        overlap = same & (a["arrival"][order][1:] < a["departure"][order][:-1])
        if overlap.any():
            i = int(order[1:][np.argmax(overlap)])
            raise ConfigError(
                f"invalid session {i}: it overlaps another session at station "
                f"{self.stations[int(a['station'][i])]!r} on {self.dates[int(a['day'][i])]}"
            )

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-session field as an array."""
        out = {name: np.asarray(getattr(self, name), dtype=np.int64) for name in _INTEGERS}
        out.update({name: np.asarray(getattr(self, name), dtype=np.float64) for name in _ENERGIES})
        out["claimed"] = np.asarray(self.claimed, dtype=bool)
        return out

    @cached_property
    def by_day(self) -> list[np.ndarray]:
        """The sessions of each day (indices), in station then arrival order."""
        a = self.arrays
        order = np.lexsort((a["arrival"], a["station"], a["day"]))
        bounds = np.searchsorted(a["day"][order], np.arange(len(self.dates) + 1))
        return [order[bounds[d] : bounds[d + 1]] for d in range(len(self.dates))]

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @property
    def n_sessions(self) -> int:
        return len(self.day)

    def station_maximum(self, name: str) -> np.ndarray:
        """The largest value of an energy field per station (0 where none)."""
        a = self.arrays
        out = np.zeros(len(self.stations))
        np.maximum.at(out, a["station"], a[name])
        return out

    def most_needed_in_a_day(self) -> float:
        """The largest total need of one day (kWh)."""
        a = self.arrays
        return float(np.bincount(a["day"], a["need_kwh"], len(self.dates)).max())

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (JSON and YAML friendly); ``SessionDays(**d)`` rebuilds it."""
        return {name: list(getattr(self, name)) for name in self.__dataclass_fields__}


def session_days(value: SessionDays | dict[str, Any]) -> SessionDays:
    """``value`` as :class:`SessionDays` (a mapping such as ``to_dict()`` gives is built)."""
    if isinstance(value, SessionDays):
        return value
    if not isinstance(value, dict):
        raise ConfigError(
            f"invalid parameter sessions: a {type(value).__name__}, must be SessionDays or "
            "a mapping of its fields"
        )
    fields = set(SessionDays.__dataclass_fields__)
    unknown, missing = set(value) - fields, fields - set(value)
    if unknown or missing:
        raise ConfigError(
            f"invalid parameter sessions: unknown fields {sorted(unknown)}, missing "
            f"{sorted(missing)}; must have exactly {sorted(fields)}"
        )
    return SessionDays(**value)
