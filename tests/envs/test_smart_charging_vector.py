import gymnasium as gym
import numpy as np
import pytest

from smartcharging import ChargingConfig, ConfigError, SmartChargingEnv
from smartcharging.config.scenarios import scenario_config
from smartcharging.envs import SmartChargingVectorEnv

OTHER = ChargingConfig(
    capacity_kwh=40.0,
    power_levels_kw=(0.0, 3.7, 11.0),
    slot_hours=0.5,
    n_slots=5,
    start_min_kwh=2.0,
    start_max_kwh=30.0,
    start_step_kwh=0.5,
    demand_mean_kwh=25.0,
    demand_sd_kwh=8.0,
    penalty_factor=2.0,
)


def overnight_sample(name: str = "overnight-day-ahead-nl") -> ChargingConfig:
    config = scenario_config(name)
    rows = slice(0, 365, 73)
    return ChargingConfig(
        **{
            **config.to_dict(),
            "price_profiles": config.price_profiles[rows],
            "profile_labels": config.profile_labels[rows],
        }
    )


def make_vec(num_envs: int, **kwargs) -> SmartChargingVectorEnv:
    env = gym.make_vec(
        "SmartCharging-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )
    assert isinstance(env, SmartChargingVectorEnv)
    return env


@pytest.mark.parametrize(
    "config",
    [
        ChargingConfig(),
        OTHER,
        scenario_config("tou-evening-peak"),
        overnight_sample(),
        overnight_sample("v2g-overnight-nl"),
    ],
    ids=["seed", "other", "tou-evening-peak", "overnight-sample", "v2g-sample"],
)
def test_batch_env_equals_scalar_envs_step_for_step(config: ChargingConfig) -> None:
    n, seed = 7, 123
    vector = make_vec(n, config=config)
    scalars = [SmartChargingEnv(config=config) for _ in range(n)]
    obs, info = vector.reset(seed=seed)
    done = [False] * n
    for i, env in enumerate(scalars):
        scalar_obs, scalar_info = env.reset(seed=seed + i)
        assert obs[i].tobytes() == scalar_obs.tobytes()
        assert info["battery_kwh"][i] == scalar_info["battery_kwh"]
    rng = np.random.default_rng(0)
    for _ in range(5 * config.n_slots + 3):  # several episodes, across autoresets
        actions = rng.integers(0, config.n_actions, n)
        obs, reward, terminated, truncated, info = vector.step(actions)
        for i, env in enumerate(scalars):
            if done[i]:  # next-step autoreset: the scalar env resets instead
                scalar_obs, _ = env.reset()
                assert obs[i].tobytes() == scalar_obs.tobytes()
                assert (reward[i], terminated[i], truncated[i]) == (0.0, False, False)
                done[i] = False
                continue
            scalar_obs, r, term, trunc, scalar_info = env.step(int(actions[i]))
            assert obs[i].tobytes() == scalar_obs.tobytes()
            assert reward[i] == r and terminated[i] == term and truncated[i] == trunc
            for key, value in scalar_info.items():
                assert info[key][i] == value, key
                if f"_{key}" in info:
                    assert info[f"_{key}"][i]
            for key in ("demand_kwh", "ran_out"):
                assert (f"_{key}" in info and info[f"_{key}"][i]) == term
            done[i] = term


def test_spaces_dtypes_and_shapes() -> None:
    env = make_vec(5)
    assert env.single_observation_space == SmartChargingEnv().observation_space
    assert env.observation_space.shape == (5, 2)
    assert env.action_space.shape == (5,)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs in env.observation_space
    obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert obs in env.observation_space
    assert reward.shape == terminated.shape == truncated.shape == (5,)
    assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    assert env.state_bytes_per_copy < 100


def test_same_seed_is_deterministic_and_unseeded_reset_continues() -> None:
    def run(env: SmartChargingVectorEnv) -> list[bytes]:
        out = [env.reset(seed=9)[0].tobytes()]
        actions = np.ones(env.num_envs, dtype=np.int64)
        for _ in range(20):
            out.append(env.step(actions)[0].tobytes())
        out.append(env.reset()[0].tobytes())
        return out

    first, second = run(make_vec(16)), run(make_vec(16))
    assert first == second
    assert run(make_vec(16))[-1] != first[0]


def test_list_of_seeds_seeds_each_copy() -> None:
    env = make_vec(3)
    obs, _ = env.reset(seed=[5, 5, 6])
    assert obs[0].tobytes() == obs[1].tobytes() == SmartChargingEnv().reset(seed=5)[0].tobytes()
    with pytest.raises(ValueError, match="reset got 2 seeds: must be one per copy"):
        env.reset(seed=[1, 2])


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.array([0, 4, 1, -1]), r"copy 1: 4, copy 3: -1\): must be integers in 0..3"),
        (np.zeros(3, dtype=np.int64), r"shape \(3,\).*must be an integer array of shape \(4,\)"),
        (np.zeros(4), "dtype float64"),
        ([[0, 1, 2, 3]], r"shape \(1, 4\)"),
    ],
)
def test_bad_actions_name_the_offending_copies(actions, message) -> None:
    env = make_vec(4)
    env.reset(seed=0)
    before = env.state.battery_kwh.copy(), env.state.time.copy()
    with pytest.raises(gym.error.InvalidAction, match=message):
        env.step(actions)
    assert np.array_equal(env.state.battery_kwh, before[0]) and np.array_equal(
        env.state.time, before[1]
    )


@pytest.mark.parametrize("num_envs", [0, -3, 2.5, True])
def test_num_envs_must_be_positive(num_envs) -> None:
    with pytest.raises(ConfigError, match=f"num_envs={num_envs!r}: must be an integer >= 1"):
        SmartChargingVectorEnv(num_envs=num_envs)


def test_step_before_reset_and_bad_parameters() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        SmartChargingVectorEnv(2).step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ConfigError, match="capacity_kwh=-1"):
        make_vec(2, capacity_kwh=-1)
    with pytest.raises(ValueError, match="unknown reset options"):
        SmartChargingVectorEnv(2).reset(options={"battery_kwh": 3})


def test_same_step_autoreset_returns_final_and_first_observations() -> None:
    next_step = make_vec(3)
    same_step = make_vec(3, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    assert same_step.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    next_step.reset(seed=4)
    same_step.reset(seed=4)
    actions = np.array([1, 2, 3])
    for _ in range(7):
        assert np.array_equal(next_step.step(actions)[0], same_step.step(actions)[0])
    last, reward, terminated, _, info = next_step.step(actions)
    first, same_reward, same_terminated, _, same_info = same_step.step(actions)
    assert terminated.all() and same_terminated.all()
    assert np.array_equal(reward, same_reward)
    assert "final_obs" not in info
    assert np.array_equal(np.stack(same_info["final_obs"]), last) and same_info["_final_obs"].all()
    assert np.array_equal(same_info["final_info"]["ran_out"], info["ran_out"])
    assert np.array_equal(next_step.step(actions)[0], first)
    assert (first[:, 1] == 0).all()
    with pytest.raises(ConfigError, match="autoreset_mode='later'"):
        make_vec(2, autoreset_mode="later")
