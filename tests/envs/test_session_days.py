"""Depots of session days: stations hosting sequences of sessions, what a controller may
know, the physics, the views, the bounds and every planner and baseline on them."""

from __future__ import annotations

import dataclasses
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from smartcharging.config.depot import SESSION_DERIVED, DepotConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.config.sessions import SessionDays
from smartcharging.config.validation import ConfigError
from smartcharging.envs import DepotEnv, DepotVectorEnv
from smartcharging.envs.depot_parallel import DepotParallelEnv
from smartcharging.evaluation.depot import compare_depot, run_policy
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import LagrangianDecomposition, MPCPolicy
from smartcharging.policies.stay_hedge import StayHedge

#: Two days at three stations; station A hosts two sessions back to back on day 0.
DAYS = SessionDays(
    dates=("2021-05-03", "2021-05-04"),
    stations=("A", "B", "C"),
    day=(0, 0, 0, 0, 1, 1),
    station=(0, 0, 1, 2, 0, 2),
    arrival=(0, 5, 2, 3, 1, 4),
    departure=(5, 12, 10, 8, 9, 15),
    estimated_departure=(4, 14, 9, 12, 10, 13),
    requested_kwh=(10.0, 20.0, 15.0, 5.0, 12.0, 30.0),
    need_kwh=(8.0, 20.0, 15.0, 5.0, 12.0, 25.0),
    claimed=(True, True, True, False, True, True),
)


def session_depot(days: SessionDays = DAYS, **changes: object) -> DepotConfig:
    fields: dict[str, object] = {
        "n_chargers": len(days.stations),
        "power_levels_kw": (0.0, 3.3, 6.6),
        "grid_limit_kw": 10.0,
        "slot_hours": 0.5,
        "n_slots": 16,
        **dict.fromkeys(SESSION_DERIVED, ()),
        "price_profiles": (
            tuple(np.linspace(0.1, 0.3, 16)),
            tuple(np.linspace(0.3, 0.1, 16)),
        ),
        "wear_cost_per_kw2h": 0.001,
        "shortfall_cost_per_kwh": 2.0,
        "sessions": days,
        "profile_labels": days.dates,
    }
    fields.update(changes)
    return DepotConfig(**fields)  # type: ignore[arg-type]


def seed_of_day(config: DepotConfig, day: int) -> int:
    """A seed whose first episode is session day ``day``."""
    env = DepotEnv(config=config)
    for seed in range(100):
        env.reset(seed=seed)
        if env.simulator.profile[0] == day:
            return seed
    raise AssertionError("no seed draws that day")


def test_config_round_trips_and_derives_its_fleet() -> None:
    config = session_depot()
    assert DepotConfig(**config.to_dict()) == config
    assert config.capacity_kwh == (20.0, 15.0, 30.0)  # each station's largest request
    assert config.to_dict()["capacity_kwh"] == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arrival": (0, 4, 2, 3, 1, 4)}, "overlaps another session at station 'A'"),
        ({"departure": (5, 12, 2, 8, 9, 15)}, "departure=2 is not after its arrival"),
        ({"need_kwh": (11.0, 20.0, 15.0, 5.0, 12.0, 25.0)}, "exceeds requested_kwh"),
        ({"departure": (5, 12, 10, 8, 9, 17)}, "departure=17 must lie in 1..16"),
        ({"requested_kwh": (0.0, 20.0, 15.0, 5.0, 12.0, 30.0)}, "must be > 0"),
        (  # no session at all: the depot's reset failed on an IndexError
            dict.fromkeys(
                (
                    "day",
                    "station",
                    "arrival",
                    "departure",
                    "estimated_departure",
                    "requested_kwh",
                    "need_kwh",
                    "claimed",
                ),
                (),
            ),
            "need at least one session",
        ),
    ],
)
def test_bad_sessions_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        session_depot(dataclasses.replace(DAYS, **changes))


def test_sessions_refuse_fleet_fields_and_v2g() -> None:
    with pytest.raises(ConfigError, match="capacity_kwh.*empty with sessions"):
        session_depot(capacity_kwh=(1.0, 1.0, 1.0))
    with pytest.raises(ConfigError, match="one row per session day"):
        session_depot(price_profiles=((0.1,) * 16,), profile_labels=())
    with pytest.raises(ConfigError, match="n_chargers=4: must be 3"):
        session_depot(n_chargers=4)


def test_stations_host_their_sessions_one_after_another() -> None:
    """Station A on day 0: the first session (0..4) leaves at slot 5 with what it got, the
    next arrives at 5 with an empty battery; the shortfall is priced at the actual
    departure against the need, and the request caps what a vehicle takes."""
    config = session_depot(grid_limit_kw=30.0)  # never binds: 3 x 6.6 kW
    env = DepotEnv(config=config)
    env.reset(seed=seed_of_day(config, 0))
    layout = env.simulator.layout
    full = np.full(3, 2, dtype=np.int64)
    levels, shortfalls = [], []
    for _ in range(config.n_slots):
        obs, _, _, _, info = env.step(full)
        levels.append(obs[layout.battery][0])
        shortfalls.append(info["shortfall_kwh"][0])
    # 6.6 kW x 0.5 h = 3.3 kWh a slot: 10 kWh (the request) reached in slot 3
    assert levels[2] == pytest.approx(9.9) and levels[3] == pytest.approx(10.0)
    assert levels[4] == 0.0  # the first session left at 5, the second arrived empty
    assert levels[5] == pytest.approx(3.3)
    assert sum(shortfalls) == pytest.approx(0.0, abs=0.01)  # both fully served


def test_observation_shows_what_the_driver_stated_not_the_truth() -> None:
    config = session_depot()
    env = DepotEnv(config=config)
    obs, info = env.reset(seed=seed_of_day(config, 0))
    layout = env.simulator.layout
    assert "departure_slot" not in info and info["profile"] == "2021-05-03"
    idle = np.zeros(3, dtype=np.int64)
    for t in range(config.n_slots):
        present = obs[layout.present] > 0.5
        for lane, session in ((0, 0), (0, 1), (1, 2), (2, 3)):
            if (
                DAYS.arrival[session] <= t < DAYS.departure[session]
                and DAYS.station[session] == lane
            ):
                assert present[lane]
                told = max(DAYS.estimated_departure[session] - t, 1)
                assert obs[layout.slots_left][lane] == told
                assert obs[layout.expected_demand][lane] == DAYS.requested_kwh[session]
        obs, *_ = env.step(idle)


def _changed_truth() -> SessionDays:
    """DAYS with every session's actual departure and need changed, and nothing a
    controller is told: the stated departures and requests are the same."""
    return dataclasses.replace(
        DAYS,
        departure=(4, 13, 7, 11, 6, 16),
        need_kwh=(10.0, 12.0, 9.0, 1.0, 3.0, 30.0),
    )


def _policies(config: DepotConfig) -> list:
    return [
        *depot_baselines(config).values(),
        MPCPolicy(config),
        MPCPolicy(config, stay_share=1.0),
        LagrangianDecomposition(config, samples=2),
        LagrangianDecomposition(config, stay_share=1.0),
    ]


def test_no_policy_sees_a_departure_or_need_before_it_happens() -> None:
    """Two depots that differ only in what happens (actual departures and needs) give every
    policy the same observations, hence the same actions, until the first slot where one
    of the changed sessions has left in one depot and not in the other."""
    truth, changed = session_depot(), session_depot(_changed_truth())
    seed = seed_of_day(truth, 0)
    first_difference = min(
        min(a, b)
        for a, b, day in zip(DAYS.departure, _changed_truth().departure, DAYS.day, strict=True)
        if a != b and day == 0
    )
    for policy, twin in zip(_policies(truth), _policies(changed), strict=True):
        envs = [DepotEnv(config=truth), DepotEnv(config=changed)]
        observations = [env.reset(seed=seed)[0] for env in envs]
        for t in range(first_difference):
            assert np.array_equal(observations[0], observations[1]), (policy.name, t)
            actions = [policy.act(observations[0]), twin.act(observations[1])]
            assert np.array_equal(actions[0], actions[1]), (policy.name, t)
            observations = [env.step(a)[0] for env, a in zip(envs, actions, strict=True)]


def test_scalar_and_batch_session_depots_agree() -> None:
    config = session_depot(allocation="priority")
    batch = DepotVectorEnv(num_envs=4, config=config)
    scalars = [DepotEnv(config=config) for _ in range(4)]
    obs, _ = batch.reset(seed=[3, 4, 5, 6])
    for i, env in enumerate(scalars):
        np.testing.assert_allclose(obs[i], env.reset(seed=3 + i)[0], rtol=1e-12)
    rng = np.random.default_rng(2)
    for _ in range(config.n_slots):
        actions = rng.integers(0, config.n_actions, (4, config.n_chargers))
        obs, reward, *_ = batch.step(actions)
        for i, env in enumerate(scalars):
            scalar_obs, r, *_ = env.step(actions[i])
            np.testing.assert_allclose(obs[i], scalar_obs, rtol=1e-12)
            assert reward[i] == pytest.approx(r, rel=1e-12, abs=1e-12)


def test_bounds_hold_and_every_policy_runs_on_session_days() -> None:
    config = session_depot()
    comparison = compare_depot(config, _policies(config), episodes=6, seed=0)
    assert comparison.tighter_bounds.shape == (6,)
    for run in comparison.runs:
        assert np.all(comparison.bounds >= run.returns - 1e-6), run.name
        assert np.all(comparison.lagrangian >= run.expected_returns - 1e-6), run.name
        assert np.isfinite(run.seconds_per_step) and run.seconds_per_step >= 0
    rows = {row["policy"]: row for row in comparison.rows()}
    for row in rows.values():
        assert 0 < row["delivered_percent"] <= 100


def test_expected_return_is_the_realised_one_up_to_the_metering_spread() -> None:
    config = session_depot()
    run, episodes = run_policy(depot_baselines(config)["uncontrolled"], config, 4, seed=1)
    np.testing.assert_allclose(run.expected_returns, run.returns, atol=0.05)
    assert all(e.charger is not None for e in episodes)


def test_gymnasium_and_pettingzoo_checks_pass_on_session_days() -> None:
    config = session_depot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("SmartChargingDepot-v0", config=config).unwrapped)
    with pytest.warns(UserWarning, match=r"ignoring reset options \['options'\]"):
        parallel_api_test(DepotParallelEnv(config=config), num_cycles=40)


def test_caltech_scenarios_load_with_their_split() -> None:
    train = load_depot_scenario("caltech-2019").to_config()
    test = load_depot_scenario("caltech-2021").to_config()
    assert train.sessions is not None and test.sessions is not None
    assert train.sessions.dates[0] == "2019-05-01" and train.sessions.dates[-1] <= "2019-12-31"
    assert test.sessions.dates[0] >= "2021-05-01"
    assert "11900388" not in test.sessions.stations  # the DC fast charger
    assert train.n_slots == test.n_slots == 96
    assert train.grid_limit_kw == 150


def test_stay_hedge_plans_a_share_of_the_stated_stay() -> None:
    hedge = StayHedge(0.5)
    present = np.array([[True, False]])
    requested = np.array([[10.0, 0.0]])
    # arrives at 2 stating departure 12: planned to leave at 2 + ceil(0.5 * 10) = 7
    left = [
        hedge.slots_left(present, np.array([[12.0 - t, 0.0]]), requested, np.array([t]))[0, 0]
        for t in range(2, 7)
    ]
    assert left == [5, 4, 3, 2, 1]
    # past the planned departure: one slot at a time; past the stated one (told 1 slot)
    assert hedge.slots_left(present, np.array([[5.0, 0.0]]), requested, np.array([7]))[0, 0] == 1
    assert hedge.slots_left(present, np.array([[1.0, 0.0]]), requested, np.array([12]))[0, 0] == 1
    # a new request at the station is a new session: arrival reset to now
    new = hedge.slots_left(present, np.array([[4.0, 0.0]]), requested + 1, np.array([13]))
    assert new[0, 0] == 2
    assert (
        StayHedge(1.0).slots_left(present, np.array([[9.0, 0]]), requested, np.array([0]))[0, 0]
        == 9
    )
    for bad in (0, 1.5, True, "x"):
        with pytest.raises(ValueError, match="stay_share"):
            StayHedge(bad)  # type: ignore[arg-type]
