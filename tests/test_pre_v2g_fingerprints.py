"""Adding V2G changed nothing else: every scenario that existed before it has the same
optimum, optimal policy and seeded episodes, bit for bit.

The fingerprints were recorded with these same functions run on commit 900d4f9,
the last commit before V2G, on x86-64 Linux (CPython 3.11): SHA-256 of the float64 bytes
of a seeded batch rollout with random actions, and of the DP's optimal policy.
"""

import hashlib

import numpy as np
import pytest

from smartcharging.config.scenarios import load_depot_scenario, scenario_config
from smartcharging.envs import SmartChargingVectorEnv
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.solvers.dp import solve_all

RECORDED = {
    "seed": ("-0x1.7034196cbbb72p+29", "670cf95dc519ed11", "f92929970cb6c5e4"),
    "seed-physical": ("-0x1.eb0d7e617a5aap+1", "1004e14e6d0b909c", "6f573361a4d405a2"),
    "tou-evening-peak": ("-0x1.422872577e2fap+1", "c064ecea1ce1897e", "fb11aaa180664c41"),
    "overnight-day-ahead-nl": ("-0x1.654b0817c652bp+1", "ef3f1a3d63c579f7", "4d07f0c925941dc1"),
}
RECORDED_DEPOTS = {"depot-10-overnight": "fbd95b2f9bde1143", "depot-25-evening": "1e5fa170124c036e"}


def digest(*arrays: object) -> str:
    h = hashlib.sha256()
    for array in arrays:
        h.update(np.ascontiguousarray(np.asarray(array, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def vehicle_fingerprint(name: str) -> tuple[str, str, str]:
    config = scenario_config(name)
    optimum = solve_all(config)
    env = SmartChargingVectorEnv(num_envs=64, config=config)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=7)
    parts = [obs]
    for _ in range(3 * config.n_slots + 2):
        obs, reward, term, _, info = env.step(rng.integers(0, config.n_actions, 64))
        parts += [obs, reward, term, info.get("energy_kwh", 0.0), info.get("cost", 0.0)]
    return optimum.expected_return.hex(), digest(optimum.policies), digest(*parts)


def depot_fingerprint(name: str) -> str:
    config = load_depot_scenario(name).to_config()
    env = DepotVectorEnv(num_envs=4, config=config)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=7)
    parts = [obs]
    for _ in range(config.n_slots + 3):
        actions = rng.integers(0, len(config.power_levels_kw), (4, config.n_chargers))
        obs, reward, term, _, _ = env.step(actions)
        parts += [obs, reward, term]
    return digest(*parts)


@pytest.mark.parametrize("name", RECORDED)
def test_vehicle_scenarios_are_bit_identical_to_before_v2g(name: str) -> None:
    assert vehicle_fingerprint(name) == RECORDED[name]


@pytest.mark.parametrize("name", RECORDED_DEPOTS)
def test_depot_scenarios_are_bit_identical_to_before_v2g(name: str) -> None:
    assert depot_fingerprint(name) == RECORDED_DEPOTS[name]
