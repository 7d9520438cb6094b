"""The Lagrangian bound on V2G depots against the exact joint optimum of tiny depots (every
joint request sequence through the depot simulator), and against every policy on
depot-v2g-peak."""

from __future__ import annotations

import numpy as np
import pytest

from smartcharging.config.depot import DepotConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import LagrangianDecomposition, MPCPolicy
from smartcharging.sim.depot import DepotSimulator
from smartcharging.solvers.depot.lagrangian import (
    dual_value,
    exact_levels,
    fleet_vehicle,
    lagrangian_bound,
    vehicle_config,
)
from smartcharging.solvers.vehicle.dp import normal_shortfall, normal_surplus, solve
from tests.solvers.test_lagrangian import _Follow, _Sequences, episode_of


def tiny_v2g(limit_kw: float, **overrides: object) -> DepotConfig:
    """Two bidirectional chargers over four slots: a full van that may sell at the first
    slot's high price and an empty one that must charge."""
    params: dict = {
        "n_chargers": 2,
        "power_levels_kw": (-4.0, 0.0, 4.0, 8.0),
        "grid_limit_kw": limit_kw,
        "slot_hours": 0.5,
        "n_slots": 4,
        "capacity_kwh": (10.0, 10.0),
        "arrival_slots": ((0, 0), (1, 1)),
        "departure_slots": ((3, 3), (4, 4)),
        "start_kwh": ((6.0, 6.0), (2.0, 2.0)),
        "demand_mean_kwh": (6.0, 5.0),
        "demand_sd_kwh": (1.5, 1.0),
        "price_profiles": ((0.6, 0.2, 0.5, 0.1),),
        "efficiency": 0.9,
        "wear_cost_per_kw2h": 0.01,
        "shortfall_cost_per_kwh": 2.0,
        "v2g": True,
        "discharge_efficiency": 0.9,
        "reserve_kwh": 1.0,
        "degradation_cost_per_kwh": 0.01,
        "residual_value_per_kwh": 0.05,
    }
    params.update(overrides)
    return DepotConfig(**params)  # type: ignore[arg-type]


def expected_returns(config: DepotConfig, choose) -> np.ndarray:
    """Expected return of each simulated depot, the departure cost (shortfall net of the
    credit for the energy left) as its expectation at the departure battery."""
    sim = DepotSimulator(config, choose.rows)
    sim.start_episodes(slice(None))
    mean, sd = np.asarray(config.demand_mean_kwh), np.asarray(config.demand_sd_kwh)
    total = np.zeros(choose.rows)
    for t in range(config.n_slots):
        _, info = sim.step(choose(sim, t))
        total -= info["cost"] - info["site_shortfall_cost"]
        battery = info["departure_battery_kwh"]
        missing = normal_shortfall(battery, mean, sd)[1]
        left = normal_surplus(battery, mean, sd, missing)
        cost = config.shortfall_cost_per_kwh * missing - config.residual_value_per_kwh * left
        total -= (cost * info["departed"]).sum(axis=1)
    return total


CONFIGS = {
    "binding": tiny_v2g(6.0),
    "export-limit": tiny_v2g(7.0, export_limit_kw=2.0, export_fee_per_kwh=0.05),
    "pv-demand-charge": tiny_v2g(6.0, pv_kw=(3.0, 0.0, 0.0, 2.0), demand_charge_per_kw=0.05),
    "feed-in-tariff": tiny_v2g(7.0, export_tariff_per_kwh=0.3, allocation="priority"),
}
OPTIMA: dict[str, float] = {}


def joint_optimum(name: str) -> float:
    if name not in OPTIMA:
        config = CONFIGS[name]
        OPTIMA[name] = float(expected_returns(config, _Sequences(config)).max())
    return OPTIMA[name]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_v2g_policies_below_joint_optimum_below_bound(name: str) -> None:
    config = CONFIGS[name]
    assert not exact_levels(config)
    optimum = joint_optimum(name)
    bound = lagrangian_bound(config, episode_of(config))
    assert not bound.exact_levels
    assert optimum <= bound.value + 1e-9
    assert bound.value - optimum < 0.5 * abs(optimum)  # not vacuous
    policies = [
        *depot_baselines(config).values(),
        LagrangianDecomposition(config, samples=2),
        MPCPolicy(config),
        MPCPolicy(config, method="milp"),
    ]
    for policy in policies:
        value = float(expected_returns(config, _Follow(policy))[0])
        assert value <= optimum + 1e-9, policy.name


@pytest.mark.parametrize("name", ["binding", "export-limit"])
def test_any_multipliers_bound_the_joint_optimum(name: str) -> None:
    """The derivation, not the search: random site, sell prices and peak weights (the
    sell price far from the site price too) all give a bound."""
    config = CONFIGS[name]
    episode = episode_of(config)
    optimum = joint_optimum(name)
    rng = np.random.default_rng(1)
    for _ in range(8):
        mu = rng.uniform(0.0, 1.0, config.n_slots)
        sigma = rng.uniform(-0.5, 1.5, config.n_slots)
        w = rng.dirichlet(np.ones(config.n_slots))
        assert dual_value(config, episode, mu, w, False, sigma)[0] >= optimum - 1e-9


def test_bound_is_the_single_vehicle_optima_when_no_limit_binds() -> None:
    """Neither limit can bind and exports earn the price: the bound at the prices is the
    sum of the vehicles' exact V2G optima (discharge levels, reserve, ageing, credit), and
    that is the joint optimum."""
    config = tiny_v2g(100.0)
    assert exact_levels(config)
    episode = episode_of(config)
    bound = lagrangian_bound(config, episode)
    assert bound.exact_levels
    singles = 0.0
    for i in range(config.n_chargers):
        vcfg = vehicle_config(
            config, fleet_vehicle(config, i), int(episode.departure[i]), config.prices[0]
        )
        assert vcfg.v2g and vcfg.reserve_kwh == config.reserve_kwh
        solution = solve(vcfg)
        level = int(solution.grid.locate(np.array([episode.start_kwh[i]]))[0][0])
        singles += solution.values[int(episode.arrival[i]), level]
    optimum = float(expected_returns(config, _Sequences(config)).max())
    assert bound.value == pytest.approx(singles, abs=1e-9)
    assert bound.value == pytest.approx(optimum, abs=1e-9)


def test_a_binding_export_limit_tightens_the_bound() -> None:
    """The sell price prices the export limit: a tight limit can only lower the bound."""
    loose = lagrangian_bound(tiny_v2g(7.0), episode_of(tiny_v2g(7.0)))
    tight_config = tiny_v2g(7.0, export_limit_kw=0.5)
    tight = lagrangian_bound(tight_config, episode_of(tight_config))
    assert tight.value < loose.value - 1e-6
    assert tight.sell_price is not None


def test_depot_v2g_peak_every_policy_below_the_bound() -> None:
    """Per episode, no policy's expected return (given the schedule) passes the bound."""
    config = load_depot_scenario("depot-v2g-peak").to_config()
    policies = [*depot_baselines(config).values(), MPCPolicy(config)]
    assert "price-threshold" in [policy.name for policy in policies]
    runs = []
    for policy in policies:
        run, episodes = run_policy(policy, config, 3, seed=0)
        runs.append(run)
    bounds = np.array([lagrangian_bound(config, e, subgradient_steps=5).value for e in episodes])
    for run in runs:
        assert (run.expected_returns <= bounds + 1e-9).all(), run.name
