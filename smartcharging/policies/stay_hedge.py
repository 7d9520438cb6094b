"""How long a planner expects a session to stay: a share of the stay its driver stated.

On session days a controller is told each driver's departure, and drivers often leave
earlier (at Caltech in 2021, 63% of claimed sessions left before the stated time, a quarter
of them more than five hours early). A planner that trusts the stated departure delays
charging to cheap slots and pays the shortfall when the car is gone. :class:`StayHedge`
lets a planner plan for ``stay_share`` of the stated stay instead: it remembers, per depot
and station, when the present session arrived and what departure it stated (a new session
shows as a change of either), and plans for the departure
``arrival + ceil(stay_share * stated stay)``, never before the next slot, never after the
stated one. ``stay_share=1`` trusts the drivers. The share is a parameter of the planner,
chosen on training days, not on the days scored: :data:`SESSION_STAY_SHARE`.
"""

from __future__ import annotations

import numpy as np

#: The planners' default share on session days, chosen on the training period: on 41 days
#: of caltech-2019 (every sixth), MPC's mean expected return was -55.7 / -57.6 / -67.2 /
#: -125.1 USD per day at shares 0.1 / 0.25 / 0.5 / 1, the decomposition's -54.2 / -55.5 /
#: -64.2 / -115.8 (docs/guides/real-sessions.md).
SESSION_STAY_SHARE = 0.1


class StayHedge:
    """Planned departures of the sessions present, from the observations seen so far."""

    def __init__(self, stay_share: float) -> None:
        if isinstance(stay_share, bool) or not isinstance(stay_share, int | float):
            raise ValueError(f"invalid stay_share={stay_share!r}: must be a number in (0, 1]")
        if not 0 < float(stay_share) <= 1:
            raise ValueError(f"invalid stay_share={stay_share!r}: must be in (0, 1]")
        self.stay_share = float(stay_share)
        self._arrival = np.zeros((0, 0), dtype=np.int64)
        self._told = np.zeros((0, 0), dtype=np.int64)
        self._request = np.zeros((0, 0))

    def slots_left(
        self,
        present: np.ndarray,
        slots_left: np.ndarray,
        requested: np.ndarray,
        time_step: np.ndarray,
    ) -> np.ndarray:
        """The slots each present session is planned to stay, ``(depots, stations)``, from
        the observed slots left (to the stated departure) and requests."""
        told = time_step[:, None] + slots_left.astype(np.int64)
        if self._arrival.shape != present.shape:
            self._arrival = np.zeros(present.shape, dtype=np.int64)
            self._told = np.full(present.shape, -1, dtype=np.int64)
            self._request = np.full(present.shape, -1.0)
        restart = time_step == 0
        self._told[restart] = -1
        # a new session: the station was empty, or the request or the stated departure
        # changed (an overdue session's "departure" moves on by itself: one slot ahead)
        moved = (told != self._told) & (self._told > time_step[:, None])
        new = present & ((self._told < 0) | (requested != self._request) | moved)
        self._arrival = np.where(new, time_step[:, None], self._arrival)
        self._told = np.where(present, told, -1)
        self._request = np.where(present, requested, -1.0)
        if self.stay_share == 1.0:
            return slots_left
        stated = self._told - self._arrival
        planned = self._arrival + np.ceil(self.stay_share * stated - 1e-9).astype(np.int64)
        planned = np.clip(planned, time_step[:, None] + 1, self._told)
        return np.where(present, planned - time_step[:, None], slots_left).astype(np.float64)
