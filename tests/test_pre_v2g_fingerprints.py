"""Adding V2G changed nothing else: every scenario that existed before it has the same
optimum and the same seeded episodes.

The figures were recorded on x86-64 Linux (CPython 3.11, NumPy 2.4) from the code whose
SHA-256 digests of these same rollouts equalled those of commit 900d4f9, the last commit
before V2G. They are compared at a relative tolerance, never bit for bit: NumPy picks SIMD
kernels per CPU (``NPY_DISABLE_CPU_FEATURES`` shows another CPU's results), and a sum or an
exponential may differ in its last few ulps from one machine to the next. ``RELATIVE`` allows
that rounding (about 1e-16 per operation, accumulated over an episode's few hundred
operations) with a wide margin, while any change to the physics, the draws or the solver
moves these figures by far more.

A rollout is summarised by its length, its sum, its sum of magnitudes and a weighted sum
with fixed pseudo-random weights: a change anywhere in it moves the weighted sum.
"""

import numpy as np
import pytest

from smartcharging.config.scenarios import load_depot_scenario, scenario_config
from smartcharging.envs import SmartChargingVectorEnv
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.solvers.vehicle.dp import solve_all

#: Rounding differences between CPUs are a few ulps (~1e-15 relative) per figure.
RELATIVE = 1e-9

Summary = tuple[float, ...]

VEHICLES: dict[str, tuple[float, Summary]] = {
    "seed": (
        -772178733.5916579,
        (9860.0, -2366042400925.632, 2988968769012.74, -2218431551510.4536),
    ),
    "seed-physical": (
        -3.836349294277814,
        (23684.0, 78218.41878478366, 83594.36133510605, 77641.55429735119),
    ),
    "tou-evening-peak": (
        -2.516859333726072,
        (71300.0, 171872.8571219177, 176516.25730887594, 171737.94316841135),
    ),
    "overnight-day-ahead-nl": (
        -2.7913522831046484,
        (507524.0, 769581.4944050738, 771626.094583941, 768008.6383341854),
    ),
}
DEPOTS: dict[str, Summary] = {
    "depot-10-overnight": (11848.0, 191245.04950326358, 192651.93519387097, 191445.43548259),
    "depot-25-evening": (16264.0, 238843.12296058104, 241847.0270519121, 239271.6067815476),
}


def summarise(parts: list[object]) -> Summary:
    """Length, sum, sum of magnitudes and a fixed-weight sum of every value in ``parts``."""
    values = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])
    weights = np.random.default_rng(0).uniform(0.5, 1.5, len(values))
    return (float(len(values)), values.sum(), np.abs(values).sum(), float(values @ weights))


def vehicle_summary(name: str) -> tuple[float, Summary]:
    """The optimum's expected return and a seeded batch rollout with random actions."""
    config = scenario_config(name)
    optimum = solve_all(config)
    env = SmartChargingVectorEnv(num_envs=64, config=config)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=7)
    parts: list[object] = [obs]
    for _ in range(3 * config.n_slots + 2):
        obs, reward, term, _, info = env.step(rng.integers(0, config.n_actions, 64))
        parts += [obs, reward, term, info.get("energy_kwh", 0.0), info.get("cost", 0.0)]
    return optimum.expected_return, summarise(parts)


def depot_summary(name: str) -> Summary:
    """A seeded batch-depot rollout with random actions."""
    config = load_depot_scenario(name).to_config()
    env = DepotVectorEnv(num_envs=4, config=config)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=7)
    parts: list[object] = [obs]
    for _ in range(config.n_slots + 3):
        actions = rng.integers(0, len(config.power_levels_kw), (4, config.n_chargers))
        obs, reward, term, _, _ = env.step(actions)
        parts += [obs, reward, term]
    return summarise(parts)


@pytest.mark.parametrize("name", VEHICLES)
def test_vehicle_scenarios_are_unchanged_since_before_v2g(name: str) -> None:
    optimum, rollout = vehicle_summary(name)
    recorded_optimum, recorded_rollout = VEHICLES[name]
    assert optimum == pytest.approx(recorded_optimum, rel=RELATIVE)
    assert rollout == pytest.approx(recorded_rollout, rel=RELATIVE)


@pytest.mark.parametrize("name", DEPOTS)
def test_depot_scenarios_are_unchanged_since_before_v2g(name: str) -> None:
    assert depot_summary(name) == pytest.approx(DEPOTS[name], rel=RELATIVE)
