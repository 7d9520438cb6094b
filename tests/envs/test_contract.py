"""The environment contract, over every registered id and every built-in scenario:
Gymnasium's and Stable-Baselines3's checkers, same-seed determinism, a pickle round trip, and
the action check (every value outside the action space is refused)."""

import os
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import smartcharging  # registers the environments
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


BATCH_CASES = [("SmartCharging-v0", "seed"), ("SmartChargingDepot-v0", "depot-10-overnight")]


@pytest.mark.parametrize(("env_id", "scenario"), BATCH_CASES)
@pytest.mark.parametrize("first_step", [True, False])
def test_batch_envs_refuse_every_action_outside_the_space(
    env_id: str, scenario: str, first_step: bool
) -> None:
    env = gym.make_vec(
        env_id, num_envs=2, vectorization_mode="vector_entry_point", scenario=scenario
    )
    env.reset(seed=0)
    if not first_step:  # the autoreset step checks its actions too
        for _ in range(env.unwrapped.config.n_slots):  # type: ignore[attr-defined]
            env.step(env.action_space.sample())
    single = env.single_action_space
    bad_values = [np.asarray(a) for a in outside(single) if np.asarray(a).dtype.kind in "iuf"]
    for bad in bad_values:
        actions = np.stack([np.zeros_like(bad), bad]) if bad.ndim else np.array([0, bad])
        with pytest.raises(gym.error.InvalidAction):
            env.step(actions)
    with pytest.raises(gym.error.InvalidAction):
        env.step(np.zeros(3, dtype=np.int64))


def test_pettingzoo_view_refuses_every_action_outside_the_space() -> None:
    from smartcharging.envs.depot_parallel import DepotParallelEnv

    env = DepotParallelEnv(scenario="depot-10-overnight")
    env.reset(seed=0)
    agent = env.possible_agents[0]
    for bad in [-1, env.config.n_actions, 1.0, "1", None, True]:
        with pytest.raises(gym.error.InvalidAction, match="charger_0"):
            env.step({agent: bad})
    with pytest.raises(gym.error.InvalidAction, match="unknown agent"):
        env.step({"charger_999": 0})
    with pytest.raises(gym.error.InvalidAction):
        env.step([0])  # type: ignore[arg-type]
    env.step({agent: 1})


def test_failed_reset_changes_nothing() -> None:
    env, untouched = gym.make("SmartCharging-v0"), gym.make("SmartCharging-v0")
    env.reset(seed=3)
    untouched.reset(seed=3)
    with pytest.raises(ValueError, match="option"):
        env.reset(options={"no_such_option": 1})
    env.action_space.seed(0)
    untouched.action_space.seed(0)
    action = env.action_space.sample()
    assert np.array_equal(env.step(action)[0], untouched.step(action)[0])
    assert np.array_equal(env.reset()[0], untouched.reset()[0])


def depot_views(scenario: str) -> list:
    """The scalar, batch and PettingZoo views of one depot scenario."""
    from smartcharging.envs.depot_parallel import DepotParallelEnv

    return [
        gym.make("SmartChargingDepot-v0", scenario=scenario),
        gym.make_vec(
            "SmartChargingDepot-v0",
            num_envs=2,
            vectorization_mode="vector_entry_point",
            scenario=scenario,
        ),
        DepotParallelEnv(scenario=scenario),
    ]


def test_every_depot_view_ignores_reset_options_alike_with_a_warning() -> None:
    for env, twin in zip(
        depot_views("depot-10-overnight"), depot_views("depot-10-overnight"), strict=True
    ):
        with pytest.warns(UserWarning, match=r"ignoring reset options \['no_such_option'\]"):
            first = env.reset(seed=3, options={"no_such_option": 1})[0]
        expected = twin.reset(seed=3)[0]
        if isinstance(first, dict):
            assert all(np.array_equal(first[a], expected[a]) for a in expected)
        else:
            assert np.array_equal(first, expected)
        with pytest.raises(ValueError, match="must be a dict or None"):
            env.reset(options=[1])


def test_batch_envs_take_numpy_integer_seeds() -> None:
    for env_id in ("SmartCharging-v0", "SmartChargingDepot-v0"):
        env = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
        a = env.reset(seed=np.int64(3))[0]
        assert np.array_equal(a, env.reset(seed=3)[0])
        for bad in (-1, 1.5, "3", [1, -2], [1]):
            with pytest.raises(ValueError, match="seed"):
                env.reset(seed=bad)


def assert_same_infos(ours: dict, theirs: dict, where: str) -> None:
    """The same keys, and for each the same dtype, shape and every entry (masks too)."""
    assert sorted(ours) == sorted(theirs), where
    for key, expected in theirs.items():
        got = ours[key]
        if isinstance(expected, dict):
            assert_same_infos(got, expected, f"{where} {key}")
            continue
        assert isinstance(got, np.ndarray), (where, key)
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape), (where, key)
        if expected.dtype == object:
            for a, b in zip(got, expected, strict=True):
                assert (a is None and b is None) or np.array_equal(a, b), (where, key)
        else:
            assert np.array_equal(got, expected), (where, key)


def side_by_side(env_id: str, scenario: str, **vector_kwargs) -> None:
    """Step Gymnasium's sync vector env and the native batch env with the same seeds and
    actions over three episodes (two autoresets) and compare everything they return."""
    n, seed = 3, 5
    envs = [
        gym.make_vec(
            env_id, num_envs=n, vectorization_mode=mode, vector_kwargs=kwargs, scenario=scenario
        )
        for mode, kwargs in (("sync", vector_kwargs), ("vector_entry_point", {}))
    ]
    native_kwargs = {"autoreset_mode": vector_kwargs["autoreset_mode"]} if vector_kwargs else {}
    if native_kwargs:
        envs[1] = gym.make_vec(
            env_id,
            num_envs=n,
            vectorization_mode="vector_entry_point",
            scenario=scenario,
            **native_kwargs,
        )
    sync, native = envs
    (sync_obs, sync_info), (obs, info) = sync.reset(seed=seed), native.reset(seed=seed)
    assert np.array_equal(obs, sync_obs)
    assert_same_infos(info, sync_info, "reset")
    sync.action_space.seed(0)
    for step in range(3 * native.unwrapped.config.n_slots + 2):  # type: ignore[attr-defined]
        actions = sync.action_space.sample()
        expected, got = sync.step(actions), native.step(actions)
        for ours, theirs in zip(got[:4], expected[:4], strict=True):
            assert np.array_equal(ours, theirs), step
        assert_same_infos(got[4], expected[4], f"step {step}")


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_batch_env_infos_are_those_of_the_sync_vector_env(env_id: str, scenario: str) -> None:
    side_by_side(env_id, scenario)


def test_same_step_autoreset_infos_are_those_of_the_sync_vector_env() -> None:
    from gymnasium.vector import AutoresetMode

    for scenario in ("seed", "tou-evening-peak"):
        side_by_side("SmartCharging-v0", scenario, autoreset_mode=AutoresetMode.SAME_STEP)


@pytest.mark.parametrize(("env_id", "scenario"), CASES)
def test_rgb_array_frames_show_the_episode(env_id: str, scenario: str) -> None:
    from smartcharging.envs import rendering

    env = gym.make(env_id, scenario=scenario, render_mode="rgb_array")
    env.reset(seed=1)
    env.action_space.seed(1)
    frames = [env.render()]
    terminated = False
    while not terminated:
        terminated = env.step(env.action_space.sample())[2]
        frames.append(env.render())
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert frame.shape[0] % 2 == 0 and frame.shape[1] % 2 == 0  # video encoders need it
    assert not np.array_equal(frames[0], frames[1])
    if env_id == "SmartCharging-v0":  # the battery bar's fill is battery / capacity
        env.reset(seed=0, options={"battery_kwh": 18.0})
        row = env.render()[56]
        filled = np.all(row == rendering.BATTERY, axis=1).sum()
        assert filled == round(238 * 18.0 / env.unwrapped.config.capacity_kwh)


@pytest.mark.parametrize(
    ("env_id", "scenario"),
    [("SmartCharging-v0", "seed"), ("SmartChargingDepot-v0", "depot-10-overnight")],
)
def test_record_video_writes_an_episode(env_id: str, scenario: str, tmp_path) -> None:
    pytest.importorskip("moviepy")
    env = gym.make(env_id, scenario=scenario, render_mode="rgb_array")
    folder = tmp_path / "videos"
    env = gym.wrappers.RecordVideo(env, str(folder), episode_trigger=lambda _: True)
    env.reset(seed=0)
    terminated = False
    while not terminated:
        terminated = env.step(env.action_space.sample())[2]
    env.close()
    videos = list(folder.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


SB3_SCRIPT = """
import numpy as np
import smartcharging  # registers the ids; SubprocVecEnv's workers import this script too
from stable_baselines3.common import vec_env
from stable_baselines3.common.env_util import make_vec_env

if __name__ == "__main__":
    for env_id, scenario in {cases!r}:
        envs = make_vec_env(
            env_id, n_envs=2, seed=0, vec_env_cls=vec_env.{vec_env},
            env_kwargs={{"scenario": scenario}},
        )
        observations = envs.reset()
        assert observations.shape == (2, *envs.observation_space.shape)
        actions = np.stack([envs.action_space.sample() for _ in range(2)])
        _, rewards, dones, infos = envs.step(actions)
        assert rewards.shape == (2,) and not dones.any() and "cost" in infos[0]
        frame = envs.env_method("render")[0]
        assert frame.dtype == np.uint8 and frame.ndim == 3
        envs.close()
    print("ok")
"""


@pytest.mark.parametrize("vec_env", ["DummyVecEnv", "SubprocVecEnv"])
def test_stable_baselines3_make_vec_env_works(vec_env: str, tmp_path) -> None:
    """SB3's ``make_vec_env`` asks for ``render_mode="rgb_array"``; run as a user's script,
    since SubprocVecEnv's workers register the ids by importing it."""
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("stable_baselines3")
    script = tmp_path / "train.py"
    script.write_text(SB3_SCRIPT.format(cases=BATCH_CASES, vec_env=vec_env))
    root = str(Path(smartcharging.__file__).parent.parent)
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": root},
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
