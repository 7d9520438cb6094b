import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test

from smartcharging import SmartChargingEnv
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.config.vehicle import ChargingConfig, ConfigError
from smartcharging.envs import DepotEnv, DepotVectorEnv
from smartcharging.envs.depot_parallel import DepotParallelEnv
from tests.envs.test_depot_v2g import V2G

DEPOTS = ["depot-25-evening", "depot-10-overnight", "depot-v2g-peak"]


@pytest.mark.parametrize("scenario", DEPOTS)
def test_check_env_and_parallel_api(scenario: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("SmartChargingDepot-v0", scenario=scenario).unwrapped)
    with pytest.warns(UserWarning, match=r"ignoring reset options \['options'\]"):
        parallel_api_test(DepotParallelEnv(scenario=scenario), num_cycles=60)


def rollout(env: DepotEnv, seed: int, steps: int) -> list:
    obs, info = env.reset(seed=seed)
    out = [obs.tobytes()]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        obs, reward, terminated, _, info = env.step(
            rng.integers(0, env.config.n_actions, env.config.n_chargers)
        )
        out.append((obs.tobytes(), reward, info["delivered_kw"].tobytes()))
        if terminated:
            obs, _ = env.reset()
            out.append(obs.tobytes())
    return out


def test_same_seed_is_deterministic(small_depot) -> None:
    config = small_depot()
    assert rollout(DepotEnv(config=config), 4, 20) == rollout(DepotEnv(config=config), 4, 20)
    assert rollout(DepotEnv(config=config), 5, 20) != rollout(DepotEnv(config=config), 4, 20)


@pytest.mark.parametrize(
    "changes",
    [{"allocation": "proportional"}, {"allocation": "priority"}, {**V2G, "allocation": "priority"}],
    ids=["proportional", "priority", "v2g"],
)
def test_scalar_and_batch_depots_agree(small_depot, changes: dict) -> None:
    config = small_depot(**changes)
    n = 4
    batch = gym.make_vec(
        "SmartChargingDepot-v0", num_envs=n, vectorization_mode="vector_entry_point", config=config
    )
    scalars = [DepotEnv(config=config) for _ in range(n)]
    obs, _ = batch.reset(seed=10)
    for i, env in enumerate(scalars):
        assert obs[i].tobytes() == env.reset(seed=10 + i)[0].tobytes()
    rng = np.random.default_rng(1)
    done = [False] * n
    for _ in range(3 * config.n_slots):
        actions = rng.integers(0, config.n_actions, (n, config.n_chargers))
        obs, reward, terminated, _, info = batch.step(actions)
        for i, env in enumerate(scalars):
            if done[i]:
                assert obs[i].tobytes() == env.reset()[0].tobytes() and reward[i] == 0.0
                done[i] = False
                continue
            scalar_obs, r, term, _, scalar_info = env.step(actions[i])
            assert obs[i].tobytes() == scalar_obs.tobytes() and reward[i] == r
            assert terminated[i] == term
            for key, value in scalar_info.items():
                assert np.array_equal(info[key][i], value), key
            done[i] = term


@settings(max_examples=40, deadline=None)
@given(
    limit=st.floats(1.0, 40.0),
    allocation=st.sampled_from(["proportional", "priority"]),
    seed=st.integers(0, 10**6),
    data=st.data(),
)
def test_site_limit_holds_and_energy_adds_up(small_depot, limit, allocation, seed, data) -> None:
    config = small_depot(grid_limit_kw=limit, allocation=allocation, demand_charge_per_kw=0.0)
    env = DepotEnv(config=config)
    env.reset(seed=seed)
    sim = env.simulator
    battery = sim.battery[0].copy()
    for t in range(config.n_slots):
        actions = np.array(data.draw(st.lists(st.integers(0, 2), min_size=3, max_size=3)))
        _, reward, _, _, info = env.step(actions)
        drawn = info["delivered_kw"].sum() / config.efficiency
        assert drawn <= limit + config.pv[t] + 1e-9 * max(limit, 1.0)
        assert info["grid_kw"] <= limit * (1 + 1e-9)
        assert (info["delivered_kw"] <= info["requested_kw"] + 1e-12).all()
        battery = battery + info["energy_kwh"]
        assert (battery <= np.asarray(config.capacity_kwh) + 1e-9).all()
        leaving = info["departed"]
        expected = np.where(leaving, np.maximum(battery - sim.demand[0], 0.0), battery)
        assert np.allclose(sim.battery[0], expected)
        battery = sim.battery[0].copy()
        parts = (
            info["energy_cost"]
            + info["site_wear_cost"]
            + info["site_shortfall_cost"]
            + info["demand_charge"]
        )
        assert math.isclose(-reward, parts, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(
            info["energy_cost_share"].sum(), info["energy_cost"], rel_tol=1e-9, abs_tol=1e-12
        )


def test_single_vehicle_depot_steps_like_the_single_vehicle_env(small_depot) -> None:
    prices = ((0.2, 0.1, 0.3, 0.3),)
    depot = small_depot(
        n_chargers=1,
        power_levels_kw=(0.0, 7.0, 22.0),
        grid_limit_kw=100.0,
        slot_hours=0.25,
        n_slots=4,
        capacity_kwh=(72.0,),
        arrival_slots=((0, 0),),
        departure_slots=((4, 4),),
        start_kwh=((65.0, 65.0),),
        demand_mean_kwh=(70.0,),
        demand_sd_kwh=(5.0,),
        price_profiles=prices,
        pv_kw=(),
        demand_charge_per_kw=0.0,
        forecast_slots=0,
    )
    vehicle = ChargingConfig(
        capacity_kwh=72.0,
        power_levels_kw=(0.0, 7.0, 22.0),
        n_slots=4,
        cost_model="physical",
        efficiency=0.9,
        wear_cost_per_kw2h=0.002,
        shortfall_cost_per_kwh=4.0,
        price_profiles=prices,
    )
    env = DepotEnv(config=depot)
    env.reset(seed=3)
    single = SmartChargingEnv(config=vehicle)
    single.reset(
        seed=0, options={"battery_kwh": 65.0, "demand_kwh": float(env.simulator.demand[0, 0])}
    )
    for action in (1, 2, 2, 0):  # 22 kW fills the battery part-way through the third slot
        _, reward, terminated, _, info = env.step(np.array([action]))
        _, single_reward, single_terminated, _, single_info = single.step(action)
        assert reward == pytest.approx(single_reward, rel=1e-12, abs=1e-12)
        assert info["energy_kwh"][0] == single_info["energy_kwh"]
        assert env.simulator.battery[0, 0] == pytest.approx(single.unwrapped.state.battery_kwh)
    assert terminated and single_terminated


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"departure_slots": ((4, 6), (0, 0), (3, 6))}, "vehicle 1: departure slot 0 is not after"),
        ({"arrival_slots": ((0, 1),) * 4}, "4 vehicles for 3 chargers"),
        ({"grid_limit_kw": -5.0}, "grid_limit_kw=-5.0"),
        ({"price_profiles": ((0.1, math.nan, 0.1, 0.1, 0.1, 0.1),)}, "price_profiles=nan"),
        ({"price_profiles": ()}, "an empty price series"),
        ({"allocation": "random"}, "allocation='random'"),
    ],
)
def test_bad_depot_inputs(small_depot, changes, message) -> None:
    with pytest.raises(ConfigError, match="invalid") as error:
        small_depot(**changes)
    assert message in str(error.value)


def test_bad_actions_and_order(small_depot) -> None:
    env = DepotEnv(config=small_depot())
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(3, dtype=np.int64))
    env.reset(seed=0)
    with pytest.raises(gym.error.InvalidAction, match=r"invalid action at \[\(1,\)\]"):
        env.step(np.array([0, 5, 1]))
    with pytest.raises(gym.error.InvalidAction, match="shape"):
        env.step(np.array([0, 1]))
    batch = DepotVectorEnv(2, config=small_depot())
    batch.reset(seed=0)
    with pytest.raises(gym.error.InvalidAction, match=r"\(1, 2\)"):
        batch.step(np.array([[0, 0, 0], [0, 0, 3]]))


def test_builtin_depot_scenarios_bind_their_limit() -> None:
    for name in DEPOTS:
        config = load_depot_scenario(name).to_config()
        assert config.n_chargers * config.power_kw[-1] / config.efficiency > config.grid_limit_kw
    assert load_depot_scenario("depot-25-evening").to_config().n_chargers == 25
    assert load_depot_scenario("depot-10-overnight").to_config().n_profiles == 365


@pytest.mark.parametrize("scenario", ["depot-10-overnight"])
def test_pettingzoo_seed_render_and_state(scenario: str) -> None:
    from pettingzoo.test import parallel_seed_test, render_test
    from pettingzoo.utils.conversions import parallel_to_aec

    parallel_seed_test(lambda: DepotParallelEnv(scenario=scenario), num_cycles=60)
    render_test(
        lambda render_mode=None: parallel_to_aec(
            DepotParallelEnv(scenario=scenario, render_mode=render_mode)
        )
    )
    env, depot = (
        DepotParallelEnv(scenario=scenario),
        gym.make("SmartChargingDepot-v0", scenario=scenario),
    )
    with pytest.raises(gym.error.ResetNeeded, match="state"):
        env.state()
    env.reset(seed=2)
    expected, _ = depot.reset(seed=2)
    assert env.state_space.contains(env.state()) and np.array_equal(env.state(), expected)
    actions = {agent: 1 for agent in env.agents}
    env.step(actions)
    expected = depot.step(np.ones(env.config.n_chargers, dtype=np.int64))[0]
    assert np.array_equal(env.state(), expected)
    own = env.observation_space("charger_0").shape[0]
    assert env.state_space.shape[0] > own and env.render_mode is None


VIEW_CONFIG = load_depot_scenario("depot-10-overnight").to_config()
#: Every view of the depot: how it is built and how it takes one action for all chargers.
VIEWS = {
    "DepotEnv": (lambda: DepotEnv(config=VIEW_CONFIG), lambda env, a: [a] * 10),
    "DepotVectorEnv": (
        lambda: DepotVectorEnv(config=VIEW_CONFIG, num_envs=1),
        lambda env, a: [[a] * 10],
    ),
    "DepotParallelEnv": (
        lambda: DepotParallelEnv(config=VIEW_CONFIG),
        lambda env, a: dict.fromkeys(env.agents, a),
    ),
}


@pytest.mark.parametrize("view", VIEWS)
def test_every_depot_view_takes_and_refuses_the_same_seeds_and_actions(view: str) -> None:
    make, action = VIEWS[view]
    env = make()
    for seed in (5, np.int64(5), np.uint64(5), np.array(5), 2**70):
        env.reset(seed=seed)
    for seed in (-1, True, 1.5, "5", np.array(-1), np.array(5.0)):
        with pytest.raises(ValueError, match="invalid seed"):
            env.reset(seed=seed)
    env.reset(seed=0)
    env.step(action(env, np.int64(1)))
    for bad in (2**70, -1, 1.5, True, "1", 4):
        with pytest.raises(gym.error.InvalidAction, match="invalid action"):
            env.step(action(env, bad))
