"""The Lagrangian bound against the exact joint optimum of tiny depots.

With the schedule fixed, the only randomness is each vehicle's demand, revealed when it
leaves and affecting nothing after; so the best closed-loop policy is an open-loop
sequence of joint requests, and enumerating every sequence through the depot simulator
(its allocation, charging and costs) gives the exact joint optimum. Shortfall enters as its
expectation for the battery at departure.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from smartcharging.config.depot import DepotConfig
from smartcharging.evaluation.depot import compare_depot
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import LagrangianDecomposition, MPCPolicy
from smartcharging.sim.depot import DepotSimulator
from smartcharging.solvers.depot.hindsight import Episode, limit_can_bind
from smartcharging.solvers.depot.lagrangian import (
    dual_value,
    fleet_vehicle,
    lagrangian_bound,
    vehicle_config,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, solve


def tiny_depot(n: int, limit_kw: float, **overrides: object) -> DepotConfig:
    """``n`` vehicles with fixed schedules (2 vehicles: 4 slots, 3 vehicles: 3 slots), so
    that every joint request sequence can be enumerated."""
    slots = 4 if n == 2 else 3
    params: dict = {
        "n_chargers": n,
        "power_levels_kw": (0.0, 4.0, 8.0),
        "grid_limit_kw": limit_kw,
        "slot_hours": 0.5,
        "n_slots": slots,
        "capacity_kwh": (10.0,) * n,
        "arrival_slots": ((0, 0), (1, 1), (0, 0))[:n],
        "departure_slots": ((slots - 1, slots - 1), (slots, slots), (slots, slots))[:n],
        "start_kwh": ((1.0, 1.0), (2.0, 2.0), (0.0, 0.0))[:n],
        "demand_mean_kwh": (6.0, 5.0, 7.0)[:n],
        "demand_sd_kwh": (1.5, 1.0, 2.0)[:n],
        "price_profiles": ((0.2, 0.5, 0.3, 0.1)[:slots],),
        "efficiency": 0.9,
        "wear_cost_per_kw2h": 0.01,
        "shortfall_cost_per_kwh": 2.0,
    }
    params.update(overrides)
    return DepotConfig(**params)  # type: ignore[arg-type]


def episode_of(config: DepotConfig) -> Episode:
    return Episode(
        arrival=np.array([pair[0] for pair in config.arrival_slots]),
        departure=np.array([pair[0] for pair in config.departure_slots]),
        start_kwh=np.array([pair[0] for pair in config.start_kwh]),
        demand_kwh=np.asarray(config.demand_mean_kwh),
        profile=0,
    )


def expected_returns(config: DepotConfig, choose) -> np.ndarray:
    """Expected return of each row of a batch of depots whose actions ``choose(sim, t)``
    gives; shortfall as its expectation at the departure battery."""
    sim = DepotSimulator(config, choose.rows)
    sim.start_episodes(slice(None))
    total = np.zeros(choose.rows)
    for t in range(config.n_slots):
        _, info = sim.step(choose(sim, t))
        total -= info["cost"] - info["site_shortfall_cost"]
        departed = info["departed"]
        missing = normal_shortfall(
            info["departure_battery_kwh"],
            np.asarray(config.demand_mean_kwh),
            np.asarray(config.demand_sd_kwh),
        )[1]
        total -= config.shortfall_cost_per_kwh * (missing * departed).sum(axis=1)
    return total


class _Sequences:
    """Every joint request sequence, one per simulated depot."""

    def __init__(self, config: DepotConfig) -> None:
        choices = itertools.product(range(config.n_actions), repeat=config.n_chargers)
        joint = np.array(list(choices))
        index = np.array(list(itertools.product(range(len(joint)), repeat=config.n_slots)))
        self.actions = joint[index]  # (sequences, slots, chargers)
        self.rows = len(index)

    def __call__(self, sim: DepotSimulator, t: int) -> np.ndarray:
        return self.actions[:, t]


class _Follow:
    rows = 1

    def __init__(self, policy) -> None:
        self.policy = policy

    def __call__(self, sim: DepotSimulator, t: int) -> np.ndarray:
        return self.policy.actions(sim.observations())


def joint_optimum(config: DepotConfig) -> float:
    return float(expected_returns(config, _Sequences(config)).max())


def policy_value(config: DepotConfig, policy) -> float:
    return float(expected_returns(config, _Follow(policy))[0])


@pytest.mark.parametrize(
    "config",
    [
        tiny_depot(2, 8.0),
        tiny_depot(2, 6.0, pv_kw=(3.0, 0.0, 0.0, 2.0), demand_charge_per_kw=0.05),
        tiny_depot(3, 10.0, pv_kw=(2.0, 0.0, 4.0), demand_charge_per_kw=0.03),
        tiny_depot(3, 9.0, allocation="priority"),
    ],
    ids=["2-vehicles", "2-vehicles-pv-demand-charge", "3-vehicles-pv-demand-charge", "priority"],
)
def test_policies_below_joint_optimum_below_bound(config: DepotConfig) -> None:
    assert limit_can_bind(config)
    optimum = joint_optimum(config)
    bound = lagrangian_bound(config, episode_of(config))
    assert not bound.exact_levels
    assert optimum <= bound.value + 1e-9
    # not vacuous: the bound is within reach of the optimum on these depots
    assert bound.value - optimum < 0.5 * abs(optimum)
    policies = [
        *depot_baselines(config).values(),
        LagrangianDecomposition(config, samples=2),
        MPCPolicy(config),
        MPCPolicy(config, method="milp"),
    ]
    for policy in policies:
        assert policy_value(config, policy) <= optimum + 1e-9, policy.name


def test_bound_equals_sum_of_single_vehicle_optima_when_limit_never_binds() -> None:
    config = tiny_depot(2, 100.0)
    assert not limit_can_bind(config)
    episode = episode_of(config)
    bound = lagrangian_bound(config, episode)
    assert bound.exact_levels
    prices = config.prices[0]
    singles = 0.0
    for i in range(config.n_chargers):
        solution = solve(
            vehicle_config(config, fleet_vehicle(config, i), int(episode.departure[i]), prices)
        )
        level = int(solution.grid.locate(np.array([episode.start_kwh[i]]))[0][0])
        singles += solution.values[int(episode.arrival[i]), level]
    assert bound.value == pytest.approx(singles, abs=1e-9)
    assert bound.value == pytest.approx(joint_optimum(config), abs=1e-9)


def test_continuous_relaxation_is_above_the_charger_levels() -> None:
    """At the same multipliers, allowing any power (needed when the limit binds) can only
    raise each vehicle's optimum."""
    config = tiny_depot(3, 10.0, pv_kw=(2.0, 0.0, 4.0))
    episode = episode_of(config)
    rng = np.random.default_rng(0)
    for _ in range(5):
        mu = rng.uniform(0.0, 0.8, config.n_slots)
        w = np.full(config.n_slots, 1.0 / config.n_slots)
        levels = dual_value(config, episode, mu, w, exact_levels=True)[0]
        continuous = dual_value(config, episode, mu, w, exact_levels=False)[0]
        assert continuous >= levels - 1e-9


def test_minimising_over_multipliers_never_loosens_the_bound() -> None:
    config = tiny_depot(2, 6.0, pv_kw=(3.0, 0.0, 0.0, 2.0), demand_charge_per_kw=0.05)
    episode = episode_of(config)
    at_prices = dual_value(
        config,
        episode,
        config.prices[0],
        np.full(config.n_slots, 1 / config.n_slots),
        exact_levels=False,
    )[0]
    bound = lagrangian_bound(config, episode)
    assert bound.value <= at_prices + 1e-12
    assert np.isclose(bound.peak_weights.sum(), 1.0)
    assert (bound.site_price >= 0).all()


def test_bad_subgradient_steps_are_rejected() -> None:
    config = tiny_depot(2, 8.0)
    with pytest.raises(ValueError, match="subgradient_steps=-1"):
        lagrangian_bound(config, episode_of(config), subgradient_steps=-1)


@pytest.mark.parametrize("name", ["small", "small-priority", "depot-10-overnight"])
def test_every_episode_expected_return_is_below_its_bound(named_depot, name: str) -> None:
    """Given the schedule, no policy's expected return passes the episode's bound (returns
    realised with lucky demands may)."""
    config = named_depot(name)
    policies = [*depot_baselines(config).values(), MPCPolicy(config, horizon=8)]
    comparison = compare_depot(config, policies, episodes=3, seed=5)
    for run in comparison.runs:
        assert (comparison.lagrangian >= run.expected_returns - 1e-9).all(), run.name
