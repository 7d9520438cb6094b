import math
import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import smartcharging
from smartcharging import ChargingConfig, ConfigError, SmartChargingEnv
from tests.seed_notebook import NotebookSmartCharging

ENV_IDS = [env_id for env_id in gym.registry if env_id.startswith("SmartCharging-")]


def rollout(env: gym.Env, seed: int, actions: list[int]) -> list:
    obs, info = env.reset(seed=seed)
    trace = [(obs.tolist(), sorted(info.items()))]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs.tolist(), reward, terminated, truncated, sorted(info.items())))
        if terminated:
            obs, info = env.reset()
            trace.append((obs.tolist(), sorted(info.items())))
    return trace


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes_without_warnings(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id)
        check_env(env.unwrapped, skip_render_check=True)
        check_env(gym.make(env_id, render_mode="ansi").unwrapped)


def test_make_works_after_import() -> None:
    assert smartcharging.SmartChargingEnv is SmartChargingEnv
    env = gym.make("SmartCharging-v0", capacity_kwh=60.0, power_levels_kw=(0, 11, 22))
    assert env.unwrapped.config.capacity_kwh == 60.0
    assert env.action_space.n == 3
    assert env.observation_space.high.tolist() == [60.0, 8.0]


def test_same_seed_gives_bit_identical_episodes() -> None:
    actions = np.random.default_rng(3).integers(0, 4, 200).tolist()
    first = rollout(gym.make("SmartCharging-v0"), 42, actions)
    second = rollout(gym.make("SmartCharging-v0"), 42, actions)
    assert first == second
    assert rollout(gym.make("SmartCharging-v0"), 43, actions) != first


def test_pickle_round_trip_continues_identically() -> None:
    env = gym.make("SmartCharging-v0")
    env.reset(seed=5)
    env.step(2)
    clone = pickle.loads(pickle.dumps(env))
    actions = np.random.default_rng(1).integers(0, 4, 40).tolist()
    assert rollout_without_seed(env, actions) == rollout_without_seed(clone, actions)


def rollout_without_seed(env: gym.Env, actions: list[int]) -> list:
    trace = []
    for action in actions:
        obs, reward, terminated, _, info = env.step(action)
        trace.append((obs.tolist(), reward, terminated, sorted(info.items())))
        if terminated:
            obs, info = env.reset()
            trace.append((obs.tolist(), sorted(info.items())))
    return trace


def test_hand_computed_normal_slot() -> None:
    env = SmartChargingEnv()
    env.reset(seed=0, options={"battery_kwh": 10.0, "demand_kwh": 30.0})
    obs, reward, terminated, truncated, info = env.step(1)
    assert obs.tolist() == [11.75, 1.0]
    assert reward == -0.25 * math.exp(7)
    assert (terminated, truncated) == (False, False)
    assert info == {
        "power_kw": 7.0,
        "energy_kwh": 1.75,
        "charging_hours": 0.25,
        "cost": 0.25 * math.exp(7),
    }


def test_hand_computed_idle_and_clipped_slots() -> None:
    env = SmartChargingEnv()
    env.reset(seed=0, options={"battery_kwh": 70.0, "demand_kwh": 30.0})
    _, reward, *_ = env.step(0)
    assert reward == -0.25  # exp(0) = 1: idling costs the slot length
    obs, reward, _, _, info = env.step(3)  # 5.5 kWh requested, 2 kWh room
    assert obs.tolist() == [72.0, 2.0]
    assert info["energy_kwh"] == 2.0 and info["charging_hours"] == 2.0 / 22.0
    assert reward == -(2.0 / 22.0) * math.exp(22)
    _, reward, _, _, info = env.step(2)  # full battery: zero hours, zero cost
    assert reward == 0.0 and info["charging_hours"] == 0.0


@pytest.mark.parametrize(
    ("battery", "demand", "ran_out", "remaining", "reward"),
    [
        (40.0, 33.5, False, 6.5, -8 * 0.25),
        (20.0, 33.5, True, 0.0, -8 * 0.25 - 2 * math.exp(22) * 10),
    ],
)
def test_hand_computed_departures(battery, demand, ran_out, remaining, reward) -> None:
    env = SmartChargingEnv()
    env.reset(seed=0, options={"battery_kwh": battery, "demand_kwh": demand})
    total = 0.0
    for _ in range(8):
        obs, r, terminated, _, info = env.step(0)
        total += r
    assert terminated
    assert obs.tolist() == [remaining, 8.0]
    assert info["ran_out"] == ran_out
    assert info["shortfall_kwh"] == max(demand - battery, 0.0)
    assert info["demand_kwh"] == demand
    assert math.isclose(total, reward, rel_tol=1e-15)


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 72),
    demand=st.floats(0, 80),
    actions=st.lists(st.integers(0, 3), min_size=8, max_size=8),
)
def test_same_total_return_as_the_notebook(start: int, demand: float, actions: list[int]) -> None:
    notebook = NotebookSmartCharging(start, demand)
    expected = sum(notebook.step(a)[1] for a in [*actions, 0])
    env = SmartChargingEnv()
    env.reset(seed=1, options={"battery_kwh": start, "demand_kwh": demand})
    total = sum(float(env.step(a)[1]) for a in actions)
    assert total == pytest.approx(expected, rel=1e-12, abs=1e-9)


configs = st.builds(
    ChargingConfig,
    capacity_kwh=st.floats(1, 150),
    power_levels_kw=st.lists(st.floats(0, 60), min_size=1, max_size=5, unique=True)
    .map(sorted)
    .map(tuple),
    slot_hours=st.sampled_from([0.1, 0.25, 0.5, 1.0]),
    n_slots=st.integers(1, 12),
    demand_mean_kwh=st.floats(0, 100),
    demand_sd_kwh=st.floats(0.1, 30),
)


@settings(max_examples=60, deadline=None)
@given(cfg=configs, seed=st.integers(0, 2**31), data=st.data())
def test_properties_over_random_configs(cfg: ChargingConfig, seed: int, data) -> None:
    env = SmartChargingEnv(config=cfg)
    obs, info = env.reset(seed=seed)
    battery = info["battery_kwh"]
    for _ in range(cfg.n_slots):
        action = data.draw(st.integers(0, cfg.n_actions - 1))
        obs, reward, terminated, _, info = env.step(action)
        assert math.isfinite(reward)
        assert 0 <= info["energy_kwh"] <= cfg.power_levels_kw[action] * cfg.slot_hours + 1e-12
        battery += info["energy_kwh"]
        if terminated:
            battery = max(battery - info["demand_kwh"], 0.0)
        assert math.isclose(obs[0], battery, rel_tol=1e-6, abs_tol=1e-4)
        assert env.observation_space.contains(obs)
    assert terminated


def test_render_ansi_line_per_step() -> None:
    env = gym.make("SmartCharging-v0", render_mode="ansi")
    env.reset(seed=0, options={"battery_kwh": 10.0, "demand_kwh": 12.0})
    assert env.render().startswith("14:00 arrive [")
    env.step(2)
    line = env.render()
    assert line.startswith("14:00  14.0 kW [") and "13.50/72 kWh" in line and "cost" in line
    for _ in range(7):
        env.step(0)
    assert "depart: demand 12.00 kWh, served" in env.render()


def test_render_human_prints(capsys: pytest.CaptureFixture[str]) -> None:
    env = gym.make("SmartCharging-v0", render_mode="human")
    env.reset(seed=0)
    env.step(1)
    assert "7.0 kW" in capsys.readouterr().out


@pytest.mark.parametrize("action", [4, -1, 1.0, "1", None, np.array([1]), True])
def test_invalid_action_names_action_and_allowed_values(action) -> None:
    env = gym.make("SmartCharging-v0")
    env.reset(seed=0)
    before = env.unwrapped.state.battery_kwh, env.unwrapped.state.time
    with pytest.raises(
        gym.error.InvalidAction, match=r"invalid action .*must be an integer in 0..3"
    ):
        env.step(action)
    assert (env.unwrapped.state.battery_kwh, env.unwrapped.state.time) == before
    env.step(np.int64(1))
    env.step(np.array(2))


def test_step_after_episode_end_needs_reset() -> None:
    env = gym.make("SmartCharging-v0")
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    for _ in range(8):
        env.step(0)
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.step(0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"capacity_kwh": -5.0}, "capacity_kwh=-5.0"),
        ({"power_levels_kw": (0, 22, 7)}, "power_levels_kw=(0, 22, 7)"),
        ({"demand_sd_kwh": 0.0}, "demand_sd_kwh=0.0"),
        ({"n_slots": 0}, "n_slots=0"),
        ({"penalty_factor": math.inf}, "penalty_factor=inf"),
        ({"battery": 3}, "unknown parameter 'battery'"),
    ],
)
def test_invalid_make_parameters(params: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        gym.make("SmartCharging-v0", **params)
    assert message in str(error.value)


def test_invalid_render_mode() -> None:
    from smartcharging import DepotEnv

    for env_class in (SmartChargingEnv, DepotEnv):
        with pytest.raises(ConfigError, match="render_mode='rgb': must be None or one of"):
            env_class(render_mode="rgb")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"battery_kwh": 80.0}, "battery_kwh=80.0"),
        ({"demand_kwh": math.nan}, "demand_kwh=nan"),
        ({"start": 1}, "unknown reset option 'start'"),
    ],
)
def test_invalid_reset_options(options: dict, message: str) -> None:
    env = gym.make("SmartCharging-v0")
    with pytest.raises(ValueError, match="reset option") as error:
        env.reset(seed=0, options=options)
    assert message in str(error.value)


def test_core_import_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, smartcharging, gymnasium; gymnasium.make('SmartCharging-v0'); "
        "print('torch' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), actions=st.lists(st.integers(0, 4), min_size=48, max_size=48))
def test_v2g_battery_stays_between_reserve_and_capacity(seed: int, actions: list[int]) -> None:
    env = SmartChargingEnv(scenario="v2g-overnight-nl")
    _, info = env.reset(seed=seed)
    lowest = min(info["battery_kwh"], env.config.reserve_kwh)
    for action in actions:
        before = env.state.battery_kwh
        _, _, terminated, _, info = env.step(action)
        after = before + info["energy_kwh"]
        assert lowest - 1e-9 <= after <= env.config.capacity_kwh + 1e-9
        if info["power_kw"] < 0:
            assert info["energy_kwh"] <= 0
            sold_kwh = -info["energy_kwh"] * env.config.discharge_efficiency
            assert math.isclose(info["export_revenue"], info["export_price"] * sold_kwh)
        if terminated:
            break
