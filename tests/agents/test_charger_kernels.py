"""The compiled loops compute what the array expressions they replaced computed.

The references below are the NumPy implementations the package used before
:mod:`smartcharging.agents.charger_kernels` (a dozen array operations per feature, slow
for one depot at a time); the kernels must agree with them on every depot kind, to float32
precision.
"""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.agents import charger_kernels
from smartcharging.agents.charger_kernels import compiled, price_row
from smartcharging.agents.site_rounding import site_rounded_levels
from smartcharging.agents.training_adapter import fleet_features, queue_features
from smartcharging.config import DepotConfig
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.observations import DepotLayout
from smartcharging.policies.depot_planning import profile_of

#: float32 features, compared at a few of their ulps.
TOLERANCE = 1e-6


def reference_fleet_features(config: DepotConfig, observations: np.ndarray) -> np.ndarray:

    layout = DepotLayout.of(config)
    depots, n = len(observations), config.n_chargers
    present = observations[:, layout.present] > 0
    battery = observations[:, layout.battery].astype(np.float64)
    left = observations[:, layout.slots_left].astype(np.float64)
    mean = observations[:, layout.expected_demand].astype(np.float64)
    sd = np.asarray(config.demand_sd_kwh, dtype=np.float64)
    capacity = np.asarray(config.capacity_kwh, dtype=np.float64)
    slot_hours, top_kw = config.slot_hours, float(np.max(config.power_kw))
    site_kwh = max(config.grid_limit_kw, 1e-9) * slot_hours
    need_mean = np.where(present, np.maximum(mean - battery, 0.0), 0.0)
    need_high = np.where(
        present, np.maximum(np.minimum(mean + 2 * sd, capacity) - battery, 0.0), 0.0
    )
    laxity = np.where(present, left - need_high / max(top_kw * slot_hours, 1e-9), 0.0)
    leaving = np.where(present, left, np.inf)
    no_later = leaving[:, None, :] <= leaving[:, :, None]  # [d, i, j]: j leaves by i's slot
    ahead = (need_high[:, None, :] * no_later).sum(axis=2) / (site_kwh * np.maximum(left, 1.0))
    last = np.where(present, left, 0.0).max(axis=1)
    fleet = need_high.sum(axis=1) / (site_kwh * np.maximum(last, 1.0))
    time = observations[:, layout.time].astype(np.int64)
    rows = config.prices[profile_of(config, observations)]  # (depots, slots)
    now = rows[np.arange(depots), np.minimum(time, config.n_slots - 1)]
    slots = np.arange(config.n_slots)
    ahead_slots = (slots[None, None, :] >= time[:, None, None]) & (
        slots[None, None, :] < (time[:, None] + left)[:, :, None]
    )
    cheaper = ((rows[:, None, :] < now[:, None, None] - 1e-12) & ahead_slots).sum(axis=2)
    cheapest = np.where(ahead_slots, rows[:, None, :], np.inf).min(axis=2)
    cheapest = np.where(np.isfinite(cheapest), cheapest, now[:, None])
    price_scale = float(np.abs(config.prices).max()) or 1.0
    columns = [
        need_mean / capacity,
        need_high / capacity,
        laxity / config.n_slots,
        np.where(present, ahead / 4, 0.0),
        np.broadcast_to(fleet[:, None] / 4, (depots, n)),
        np.where(present, cheaper / np.maximum(left, 1.0), 0.0),
        np.where(present, (now[:, None] - cheapest) / price_scale, 0.0),
        np.broadcast_to(present.mean(axis=1)[:, None], (depots, n)),
    ]
    return np.clip(np.stack(columns, axis=2), -1.0, 1.0).astype(np.float32)


def reference_queue_features(config: DepotConfig, observations: np.ndarray) -> np.ndarray:
    layout = DepotLayout.of(config)
    present = observations[:, layout.present] > 0
    battery = observations[:, layout.battery].astype(np.float64)
    mean = observations[:, layout.expected_demand].astype(np.float64)
    sd = np.asarray(config.demand_sd_kwh, dtype=np.float64)
    capacity = np.asarray(config.capacity_kwh, dtype=np.float64)
    target = np.minimum(mean + 2 * sd, capacity)
    need = np.where(present, np.maximum(target - battery, 0.0) / capacity, 0.0)
    left = np.where(present, observations[:, layout.slots_left], 0.0) / config.n_slots
    order = np.lexsort((need, np.where(present, left, np.inf)), axis=1)  # ties: by need
    queued_need = np.take_along_axis(need, order, axis=1)
    queued_left = np.take_along_axis(left, order, axis=1)
    queued_present = np.take_along_axis(present, order, axis=1)
    after = queued_left[:, None, :] - left[:, :, None]  # [d, i, k]: k-th leaver after i
    after = np.where(present[:, :, None] & queued_present[:, None, :], after, 0.0)
    depots, n = present.shape
    needs = np.broadcast_to(queued_need[:, None, :], (depots, n, n))
    return np.clip(np.concatenate([needs, after], axis=2), -1.0, 1.0).astype(np.float32)


def reference_site_rounded_levels(
    power_kw: np.ndarray, probabilities: np.ndarray, highest: np.ndarray
) -> np.ndarray:
    levels = np.asarray(power_kw, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    highest = np.asarray(highest, dtype=np.int64)
    capped = np.minimum(np.arange(len(levels))[None, None, :], highest[:, :, None])
    expected = (probabilities * levels[capped]).sum(axis=2)
    below = np.clip(np.searchsorted(levels, expected + 1e-9, side="right") - 1, 0, highest)
    step = np.where(below < highest, levels[np.minimum(below + 1, len(levels) - 1)], np.inf)
    step = step - levels[below]
    remainder = np.where(np.isfinite(step), (expected - levels[below]) / step, -np.inf)
    to_give = expected.sum(axis=1) - levels[below].sum(axis=1)
    order = np.argsort(-remainder, axis=1, kind="stable")
    steps = np.take_along_axis(step, order, axis=1)
    given = np.cumsum(np.where(np.isfinite(steps), steps, 0.0), axis=1) - steps / 2
    up = np.isfinite(steps) & (given <= to_give[:, None] + 1e-9)
    rounded = below.copy()
    np.put_along_axis(rounded, order, np.take_along_axis(below, order, axis=1) + up, axis=1)
    return rounded


def visited_observations(config: DepotConfig, depots: int = 8, seed: int = 0) -> np.ndarray:
    """Depot observations of a whole episode under random levels (every occupancy,
    battery and time step the depots go through)."""
    env = DepotVectorEnv(num_envs=depots, config=config)
    observations, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    seen = [observations]
    for _ in range(config.n_slots):
        actions = rng.integers(0, config.n_actions, size=(depots, config.n_chargers))
        observations, *_ = env.step(actions)
        seen.append(observations)
    return np.concatenate(seen)


@pytest.mark.parametrize(
    "name", ["depot-25-evening", "depot-10-overnight", "depot-v2g-peak", "caltech-2019"]
)
def test_fleet_and_queue_features_match_the_array_reference(named_depot, name: str) -> None:
    config = named_depot(name)
    observations = visited_observations(config)
    np.testing.assert_allclose(
        fleet_features(config, observations),
        reference_fleet_features(config, observations),
        atol=TOLERANCE,
    )
    np.testing.assert_allclose(
        queue_features(config, observations),
        reference_queue_features(config, observations),
        atol=TOLERANCE,
    )


@pytest.mark.parametrize("name", ["depot-10-overnight", "depot-v2g-peak"])
def test_the_kernels_price_row_is_the_one_mpc_recognises(named_depot, name: str) -> None:
    config = named_depot(name)
    observations = visited_observations(config, depots=16, seed=3)
    rows = [
        price_row(row, config.n_chargers, config.prices, config.forecast_slots + 1)
        for row in observations
    ]
    assert rows == profile_of(config, observations).tolist()
    assert len(set(rows)) > 1


def test_features_of_one_depot_are_its_row_of_the_batch(named_depot) -> None:
    config = named_depot("depot-10-overnight")
    observations = visited_observations(config, depots=4)
    batch = fleet_features(config, observations)
    for row in (0, 5, len(observations) - 1):
        np.testing.assert_allclose(
            fleet_features(config, observations[row : row + 1])[0], batch[row], atol=TOLERANCE
        )


@settings(max_examples=200, deadline=None)
@given(
    levels=st.sampled_from(
        [(0.0, 3.7, 7.4, 11.0), (-11.0, -5.5, 0.0, 5.5, 11.0), (0.0, 1.0, 10.0)]
    ),
    depots=st.integers(1, 4),
    chargers=st.integers(1, 12),
    concentration=st.sampled_from([0.05, 0.3, 3.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_site_rounding_matches_the_array_reference(
    levels: tuple[float, ...], depots: int, chargers: int, concentration: float, seed: int
) -> None:
    power = np.array(levels)
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(len(power), concentration), size=(depots, chargers))
    highest = rng.integers(0, len(power), size=(depots, chargers))
    np.testing.assert_array_equal(
        site_rounded_levels(power, probabilities, highest),
        reference_site_rounded_levels(power, probabilities, highest),
    )


def test_kernels_compile_without_a_cache_where_numba_finds_no_writable_place(monkeypatch) -> None:
    numba_njit = charger_kernels.njit

    def njit(*args, cache: bool = False, **kwargs):
        if cache:  # what numba raises for a read-only install and no writable home
            raise RuntimeError("cannot cache function 'twice': no locator available")
        return numba_njit(*args, **kwargs)

    monkeypatch.setattr(charger_kernels, "njit", njit)

    def twice(values: np.ndarray) -> float:
        return 2.0 * values.sum()

    kernel = compiled(twice)
    assert kernel(np.arange(4.0)) == pytest.approx(12.0)
    assert kernel.signatures  # compiled by numba, not run as Python


def test_depot_runs_import_without_numba_and_the_kernels_say_what_to_install() -> None:
    blocked = (
        "import sys; sys.modules['numba'] = None; "
        "import smartcharging.agents.depot_runs, smartcharging.agents.training_adapter\n"
        "try:\n    import smartcharging.agents.charger_kernels\n"
        "except ImportError as error:\n    print(error)"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, check=True
    )
    assert "need numba, part of the rl and scale extras" in result.stdout
