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
#: A price file of a scenario (``prices: {kind: file}``): its rows (a year of minutes is
#: 525,600) and its size on disk.
MAX_PRICE_POINTS = 1_000_000
MAX_PRICE_FILE_BYTES = 64 * 2**20
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
#: Estimated peak memory of the exact solver (``solvers.vehicle.grid.solver_bytes``): 16 GiB,
#: so that a solve and the rest of its command fit a 24 GiB machine. The work limit alone
#: let 1,000 power levels over 16 slots through, and the kernel killed it at 23.6 GB.
MAX_SOLVER_BYTES = 16 * 2**30
#: Copies of a batch environment, and Monte-Carlo episodes of one evaluation.
MAX_COPIES = 4_000_000
MAX_EPISODES = 100_000_000
#: Depots of a batch depot, and depot episodes of one comparison (each one solves an LP).
MAX_DEPOTS = 100_000
MAX_DEPOT_EPISODES = 100_000
#: Charging sessions of one scenario (a few years of a large site's logs).
MAX_SESSIONS = 2_000_000
#: Environment steps of one training run or tuning trial, checkpoints of one run, and
#: trials of one tuning study (a day of training at the fastest learner's pace is ~1e10).
MAX_TRAINING_STEPS = 10_000_000_000
MAX_CHECKPOINTS = 10_000
MAX_TRIALS = 10_000
#: DAgger rounds, and passes over the labels after each, of a depot run's imitation of MPC.
MAX_IMITATION_ROUNDS = 1_000
#: Battery capacity and energy demand (kWh): observations are float32.
MAX_ENERGY_KWH = 1e9
#: A depot's grid connection and charger powers (kW): a gigawatt, far above any site, and
#: far below where float32 observations (the headroom) overflow.
MAX_POWER_KW = 1e6
#: The smallest charging or discharging efficiency: real chargers lose 5-20%; the physics
#: divides by an efficiency, and one near 0 (1e-308) overflowed every draw to Infinity.
MIN_EFFICIENCY = 0.01
#: Length of one slot (hours): a year, so that an episode's hours stay far from overflow.
MAX_SLOT_HOURS = 24 * 366
#: The smallest standard deviation of a demand (kWh): a demand this sure is a fixed one,
#: and smaller ones overflow the normal density's ``z**2`` (1 Wh: 1e-3 kWh).
MIN_DEMAND_SD_KWH = 1e-3
#: A learner's rewards are costs divided by the reward scale: the scaled cost of the worst
#: episode must stay below this, so that float32 rewards (SB3) stay finite.
MAX_SCALED_COST = 1e30
#: Seeds: NumPy's legacy global seeding (used by Stable-Baselines3) takes 32 bits.
MAX_SEED = 2**32 - 1
#: The largest price or cost per unit (per kWh, per kW, per kW²h) of a depot: its bounds and
#: plans are linear programs, and HiGHS takes a coefficient of 1e20 or more for infinity
#: (an export tariff of 1e20 stopped the solver; 1e190 printed Infinity). Real tariffs are
#: below 10 per kWh.
MAX_DEPOT_RATE = 1e9
#: The largest cost of one episode (the worst charging bill plus the shortfall cost).
MAX_COST = 1e200
#: Values (numbers, strings, list items, mapping entries) of one scenario file once its YAML
#: aliases are expanded: a few hundred bytes of nested aliases can expand to billions.
MAX_SCENARIO_VALUES = 10_000_000
#: Weights of a network rebuilt from a model file's ``net_arch`` (widths times widths of
#: consecutive hidden layers): 1e8 float32 weights are 400 MB.
MAX_NETWORK_WEIGHTS = 100_000_000
#: Transitions a learner buffers: a DQN replay buffer's ``buffer_size``, a PPO/A2C
#: rollout's ``n_steps * n_envs`` (shipped: 200,000 and at most 8,192).
MAX_BUFFER_TRANSITIONS = 10_000_000
#: Archives read from a run directory or given as ``--model`` (SB3 zips, the ``.pth``
#: files inside them, NumPy ``.npz``): their size, and what their members declare they
#: expand to, in total. Checked before anything is extracted, so a zip bomb is refused.
MAX_ARCHIVE_BYTES = 4 * 2**30
#: Expansion of a compressed archive member larger than :data:`MIN_RATIO_CHECKED_BYTES`
#: (model weights and learner arrays compress less than 2:1; a zip bomb over 1000:1).
MAX_COMPRESSION_RATIO = 100
MIN_RATIO_CHECKED_BYTES = 2**20


def check_minimum(name: str, value: float, minimum: float, what: str = "") -> None:
    """Raise a :class:`ConfigError` naming ``name`` if ``value`` is below ``minimum``."""
    if value < minimum:
        detail = f" ({what})" if what else ""
        raise reject(name, value, f"at least {minimum:g}{detail}; see smartcharging.config.limits")


def check_limit(name: str, value: float, limit: float, what: str = "") -> None:
    """Raise a :class:`ConfigError` naming ``name`` if ``value`` exceeds ``limit``."""
    if value > limit:
        detail = f" ({what})" if what else ""
        shown = f"{limit:,}" if isinstance(limit, int) else f"{limit:g}"
        raise reject(name, value, f"at most {shown}{detail}; see smartcharging.config.limits")
