import numpy as np
import pytest

import smartcharging.policies.depot_planning as planning
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot_planning import (
    LagrangianDecomposition,
    MPCPolicy,
    profile_of,
    round_to_levels,
)


@pytest.mark.parametrize("make", [lambda c: LagrangianDecomposition(c, samples=4), MPCPolicy])
def test_batch_actions_match_one_depot_at_a_time(small_depot, make) -> None:
    config = small_depot()
    policy = make(config)
    run, _ = run_policy(policy, config, episodes=3, seed=1)
    assert np.isfinite(run.returns).all()
    from smartcharging.envs.depot_vector import DepotVectorEnv

    env = DepotVectorEnv(num_envs=3, config=config)
    observations, _ = env.reset(seed=1)
    batch = policy.actions(observations)
    single = np.stack([policy.act(observations[i]) for i in range(3)])
    assert (batch == single).all()


def test_failed_solves_fall_back_and_are_counted(
    small_depot, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = small_depot()
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] % 2:
            return None
        raise ValueError("solver exploded")

    monkeypatch.setattr(planning, "solve_plan", flaky)
    policy = MPCPolicy(config, fallback="round-robin")
    run, _ = run_policy(policy, config, episodes=2, seed=0)
    stats = policy.stats()
    assert stats["failed_solves"] == stats["solves"] == calls["n"] > 0
    assert stats["fallback"] == "round-robin"
    assert run.policy_stats["failed_solves"] == calls["n"]


def test_mpc_reports_solve_time_and_horizon_option(small_depot) -> None:
    config = small_depot()
    policy = MPCPolicy(config, horizon=2)
    run_policy(policy, config, episodes=1, seed=0)
    stats = policy.stats()
    assert stats["solves"] > 0 and stats["failed_solves"] == 0
    assert 0 < stats["mean_solve_ms"] <= stats["max_solve_ms"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon=0"),
        ({"method": "qp"}, "method='qp'"),
        ({"fallback": "nobody"}, "fallback='nobody'"),
        ({"time_limit_s": 0.0}, "time_limit_s=0.0"),
    ],
)
def test_bad_mpc_options_are_rejected(small_depot, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        MPCPolicy(small_depot(), **kwargs)


def test_bad_sample_count_is_rejected(small_depot) -> None:
    with pytest.raises(ValueError, match="samples=0"):
        LagrangianDecomposition(small_depot(), samples=0)


def test_rounding_keeps_the_planned_total() -> None:
    levels = np.array([0.0, 7.0, 14.0, 22.0])
    spread = np.full(10, 1.6)  # 16 kW of PV shared by ten vehicles
    chosen = round_to_levels(spread, levels)
    assert levels[chosen].sum() == 14.0
    assert (round_to_levels(np.array([0.0, 22.0, 14.0]), levels) == [0, 3, 2]).all()


def test_price_row_is_recognised_from_the_observation() -> None:
    config = load_depot_scenario("depot-10-overnight").to_config()
    from smartcharging.envs.depot_vector import DepotVectorEnv

    env = DepotVectorEnv(num_envs=4, config=config)
    observations, _ = env.reset(seed=3)
    assert (profile_of(config, observations) == env.simulator.profile).all()
