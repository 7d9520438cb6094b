"""The environment contract, over every registered id and every built-in scenario:
Gymnasium's and Stable-Baselines3's checkers, same-seed determinism, a pickle round trip, and
the action check (every value outside the action space is refused)."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import smartcharging  # noqa: F401  (registers the environments)
from smartcharging.config.scenarios import builtin_names, is_depot_scenario

OUR_IDS = sorted(
    env_id for env_id, spec in gym.registry.items() if str(spec.entry_point).startswith("smart")
)
CASES = [
    (env_id, name)
    for env_id in OUR_IDS
    for name in builtin_names()
    if is_depot_scenario(name) == ("Depot" in env_id)
]


def test_every_id_has_a_case() -> None:
    assert {"SmartCharging-v0", "SmartChargingDepot-v0"} <= set(OUR_IDS)
    assert {env_id for env_id, _ in CASES} == set(OUR_IDS)


def rollout(env: gym.Env, seed: int, steps: int) -> list:
    """Observations, rewards, ends and infos of ``steps`` seeded random steps."""
    env.action_space.seed(seed)
    observation, info = env.reset(seed=seed)
    trace: list = [(observation.tolist(), repr(sorted(info.items())))]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trace.append((observation.tolist(), float(reward), terminated, truncated, repr(info)))
        if terminated or truncated:
            trace.append(env.reset()[0].tolist())
    return trace


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_gymnasium_checker_passes_without_warnings(env_id: str, scenario: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make(env_id, scenario=scenario).unwrapped, skip_render_check=True)


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_stable_baselines3_checker_passes(env_id: str, scenario: str) -> None:
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env_checker.check_env(gym.make(env_id, scenario=scenario).unwrapped)


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_same_seed_same_episodes(env_id: str, scenario: str) -> None:
    first = rollout(gym.make(env_id, scenario=scenario), 11, 60)
    assert first == rollout(gym.make(env_id, scenario=scenario), 11, 60)
    assert first != rollout(gym.make(env_id, scenario=scenario), 12, 60)


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_pickle_round_trip_continues_identically(env_id: str, scenario: str) -> None:
    env = gym.make(env_id, scenario=scenario)
    env.reset(seed=4)
    env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    for copy in (env, clone):
        copy.action_space.seed(9)
    steps = [env.step(env.action_space.sample()) for _ in range(3)]
    cloned = [clone.step(clone.action_space.sample()) for _ in range(3)]
    for ours, theirs in zip(steps, cloned, strict=True):
        assert np.array_equal(ours[0], theirs[0]) and ours[1:4] == theirs[1:4]


def outside(space: gym.Space) -> list:
    """Actions that are not in ``space``."""
    if isinstance(space, gym.spaces.Discrete):
        return [-1, int(space.n), np.int64(-3), 1.5, "1", None]
    assert isinstance(space, gym.spaces.MultiDiscrete)
    n = len(space.nvec)
    too_high = np.zeros(n, dtype=np.int64)
    too_high[-1] = space.nvec[-1]
    return [np.full(n, -1), too_high, np.zeros(n + 1, dtype=np.int64), np.zeros(n) + 0.5]


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_every_action_outside_the_space_is_refused(env_id: str, scenario: str) -> None:
    env, untouched = gym.make(env_id, scenario=scenario), gym.make(env_id, scenario=scenario)
    env.reset(seed=0)
    untouched.reset(seed=0)
    for action in outside(env.action_space):
        assert not env.action_space.contains(action)
        with pytest.raises(gym.error.InvalidAction):
            env.step(action)
    valid = env.action_space.sample()
    after, reward, *_ = env.step(valid)
    expected, expected_reward, *_ = untouched.step(valid)
    assert np.array_equal(after, expected) and reward == expected_reward
