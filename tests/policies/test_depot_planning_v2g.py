import numpy as np
import pytest

from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import (
    LagrangianDecomposition,
    MPCPolicy,
    estimated_import_kw,
    round_both_ways,
)
from smartcharging.sim.depot import DepotSimulator
from smartcharging.solvers.depot.lagrangian import lagrangian_bound
from tests.solvers.test_lagrangian_v2g import tiny_v2g


def test_mpc_discharges_and_beats_the_charge_only_baselines_on_depot_v2g_peak() -> None:
    config = load_depot_scenario("depot-v2g-peak").to_config()
    mpc, _ = run_policy(MPCPolicy(config), config, 4, seed=0)
    assert mpc.ignored_actions.sum() == 0
    charge_only = [
        run_policy(policy, config, 4, seed=0)[0].expected_returns.mean()
        for name, policy in depot_baselines(config).items()
        if name != "price-threshold"
    ]
    assert mpc.expected_returns.mean() > max(charge_only)


def test_mpc_plans_discharging_into_a_high_price() -> None:
    """A full van facing 0.6 now and 0.1 later sells now (planned and applied)."""
    config = tiny_v2g(20.0, price_profiles=((0.9, 0.1, 0.1, 0.1),), wear_cost_per_kw2h=0.0)
    sim = DepotSimulator(config, 1)
    sim.start_episodes(slice(None))
    actions = MPCPolicy(config).actions(sim.observations())
    assert config.power_kw[actions[0, 0]] < 0


def test_rounding_both_ways_keeps_each_side_and_never_discharges_an_idle_plan() -> None:
    levels = np.array([-11.0, -5.5, 0.0, 5.5, 11.0])
    planned = np.array([0.0, 0.2, -0.2, -8.0, 3.0, 3.0, -3.0])
    chosen = round_both_ways(planned, levels)
    assert levels[chosen[:3]].tolist() == [0.0, 0.0, 0.0]
    assert (levels[chosen] * planned >= 0).all()
    assert levels[chosen][planned > 0].sum() == 5.5
    assert levels[chosen][planned < 0].sum() == -11.0


@pytest.mark.parametrize(
    ("limit_kw", "overrides"),
    [
        (100.0, {}),
        (3.0, {}),  # the grid limit binds: requests are cut
        (6.0, {"allocation": "priority", "export_limit_kw": 2.0}),  # both limits bind
    ],
)
def test_estimated_import_is_the_depot_steps(limit_kw: float, overrides: dict) -> None:
    config = tiny_v2g(limit_kw, pv_kw=(3.0, 0.0, 0.0, 2.0), **overrides)
    rng = np.random.default_rng(0)
    sim = DepotSimulator(config, 1)
    sim.start_episodes(slice(None))
    for t in range(config.n_slots):
        present = sim._present[0, t]
        actions = rng.integers(0, config.n_actions, config.n_chargers)
        battery = sim.battery[0].copy()
        slots_left = sim.departure[0] - t
        _, info = sim.step(actions[None, :])
        estimate = estimated_import_kw(config, actions, present, battery, slots_left, t)
        assert estimate == pytest.approx(info["grid_kw"][0], abs=1e-9)


def test_decomposition_runs_on_depot_v2g_peak_below_the_bound() -> None:
    """Its vehicles follow their V2G optima at the site prices (any action, discharging
    included, is a charger level; absent chargers idle)."""
    config = load_depot_scenario("depot-v2g-peak").to_config()
    policy = LagrangianDecomposition(config, samples=2)
    run, episodes = run_policy(policy, config, 1, seed=0)
    assert run.ignored_actions.sum() == 0
    assert np.isfinite(run.expected_returns).all()
    bound = lagrangian_bound(config, episodes[0], subgradient_steps=3).value
    assert run.expected_returns[0] <= bound + 1e-9
