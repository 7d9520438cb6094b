"""Size limits: what a configuration or a command may ask for before any work starts.

Each limit is far above what a realistic study needs (a year of 15-minute slots has 35,040;
the built-in depots have 10 and 25 chargers) and low enough that a request within every
limit fits this library's 2-core, 24 GiB reference machine. A request beyond one is refused
with an error that names the parameter, its value and the limit, before any array is
allocated, so a typo such as ``--slots 1000000`` cannot run into a MemoryError or hours of
work. Costs must stay below :data:`MAX_COST` so that sums over slots, episodes and
expectations stay finite (no NaN can reach a result).
"""

from __future__ import annotations

from smartcharging.config.validation import reject

#: Slots of one episode (vehicle or depot).
MAX_SLOTS = 10_000
#: Possible arrival levels of a vehicle.
MAX_START_LEVELS = 1_000_000
#: Power levels (actions) of a charger.
MAX_ACTIONS = 1_000
#: Price rows of a scenario.
MAX_PROFILES = 10_000
#: Chargers of a depot.
MAX_CHARGERS = 10_000
#: Chargers times slots of a depot (the simulator precomputes presence per slot).
MAX_CHARGER_SLOTS = 2_000_000
#: Battery levels times slots times actions times price rows of the exact solver.
MAX_SOLVER_WORK = 5_000_000_000
#: Copies of a batch environment, and Monte-Carlo episodes of one evaluation.
MAX_COPIES = 4_000_000
MAX_EPISODES = 100_000_000
#: Depots of a batch depot, and depot episodes of one comparison (each one solves an LP).
MAX_DEPOTS = 100_000
MAX_DEPOT_EPISODES = 100_000
#: Battery capacity and energy demand (kWh): observations are float32.
MAX_ENERGY_KWH = 1e9
#: Seeds: NumPy's legacy global seeding (used by Stable-Baselines3) takes 32 bits.
MAX_SEED = 2**32 - 1
#: The largest cost of one episode (the worst charging bill plus the shortfall cost).
MAX_COST = 1e200


def check_limit(name: str, value: float, limit: float, what: str = "") -> None:
    """Raise a :class:`ConfigError` naming ``name`` if ``value`` exceeds ``limit``."""
    if value > limit:
        detail = f" ({what})" if what else ""
        shown = f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"
        raise reject(name, value, f"at most {shown}{detail}; see smartcharging.config.limits")
