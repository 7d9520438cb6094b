import itertools

import numpy as np
import pytest
from scipy import stats

from smartcharging import ChargingConfig
from smartcharging.config.seed_costs import cost_rate, shortfall_penalty
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.policies import TablePolicy, all_policies
from smartcharging.sim import dynamics
from smartcharging.solvers import evaluate_table, make_grid, one_hot, solve, solve_all
from smartcharging.solvers.vehicle.grid import common_step

TINY = ChargingConfig(
    capacity_kwh=10.0,
    power_levels_kw=(0.0, 2.0, 4.0, 6.0),
    slot_hours=0.5,
    n_slots=3,
    start_max_kwh=10.0,
    demand_mean_kwh=6.0,
    demand_sd_kwh=2.0,
    penalty_factor=0.05,
)


def brute_force(config: ChargingConfig) -> float:
    """Best open-loop action sequence per arrival level, averaged: with randomness only at
    arrival and departure, that is the optimum of the closed-loop problem too."""
    rates = cost_rate(config.power_kw)
    penalty = shortfall_penalty(
        config.n_slots, config.slot_hours, float(rates[-1]), config.penalty_factor
    )
    demand = stats.norm(config.demand_mean_kwh, config.demand_sd_kwh)
    best = []
    for start in config.start_levels_kwh:
        returns = []
        for actions in itertools.product(range(config.n_actions), repeat=config.n_slots):
            battery, total = float(start), 0.0
            for a in actions:
                battery, _, hours = dynamics.charge_slot(
                    battery, config.power_levels_kw[a], config.capacity_kwh, config.slot_hours
                )
                total -= hours * rates[a]
            returns.append(total - penalty * demand.sf(battery))
        best.append(max(returns))
    return float(np.mean(best))


@pytest.mark.parametrize(
    "config",
    [TINY, ChargingConfig(**{**TINY.to_dict(), "penalty_factor": 1e-4, "n_slots": 4})],
)
def test_dp_equals_brute_force_enumeration(config: ChargingConfig) -> None:
    solution = solve(config)
    assert solution.grid.exact and solution.error_bound == 0.0
    assert solution.expected_return == pytest.approx(brute_force(config), rel=1e-13)


def test_seed_grid_is_exact_quarter_kwh() -> None:
    grid = make_grid(ChargingConfig())
    assert grid.exact and grid.size == 289 and grid.step_kwh == 0.25


def test_common_step() -> None:
    assert common_step([72.0, 1.75, 3.5, 5.5, 1.0]) == 0.25
    assert common_step([1 / 3, 1.0]) == pytest.approx(1 / 3)
    assert common_step([np.pi]) is None


def test_optimum_beats_every_baseline_and_equals_its_own_evaluation() -> None:
    config = ChargingConfig()
    solution = solve_all(config)
    policies = all_policies(config, solution)
    values = {name: exact_value(p, config, solution.grid) for name, p in policies.items()}
    for name, value in values.items():
        assert value.exact
        assert value.expected_return <= solution.expected_return * (1 - 1e-12), name
    optimal = values["optimal"].expected_return
    assert optimal == pytest.approx(solution.expected_return, rel=1e-12)
    table = evaluate_table(config, one_hot(solution.policies[0], config.n_actions), solution.grid)
    assert table.expected_return == pytest.approx(solution.expected_return, rel=1e-12)


def test_values_are_consistent_with_action_values() -> None:
    solution = solve(ChargingConfig())
    assert np.array_equal(solution.values[:-1], solution.action_values.max(axis=2))
    assert np.array_equal(solution.policy, solution.action_values.argmax(axis=2))


def test_idle_policy_value_by_hand() -> None:
    config = ChargingConfig()
    idle = evaluate_table(config, one_hot(np.zeros((8, 289), dtype=int), 4), make_grid(config))
    starts = np.arange(73)
    shortfall = stats.norm(30, 5).sf(starts).mean()
    assert idle.shortfall_probability == pytest.approx(shortfall, rel=1e-12)
    assert idle.expected_charging_cost == pytest.approx(2.0)
    assert idle.expected_return == pytest.approx(-2.0 - 2 * np.exp(22) * 10 * shortfall, rel=1e-12)


def test_fallback_grid_reports_a_bound_that_holds() -> None:
    config = ChargingConfig(power_levels_kw=(0.0, 7.123456789, 14.2), penalty_factor=1e-6)
    coarse = solve(config)
    assert not coarse.grid.exact and coarse.error_bound > 0
    fine = solve(config, make_grid(config, fallback_levels=40_001))
    assert (
        abs(coarse.expected_return - fine.expected_return) <= coarse.error_bound + fine.error_bound
    )
    assert "approximate" in coarse.grid.describe()


def test_policy_table_shape_is_checked() -> None:
    with pytest.raises(
        ValueError, match=r"policy table has shape \(2, 3, 4\): must be \(8, 289, 4\)"
    ):
        evaluate_table(ChargingConfig(), np.zeros((2, 3, 4)))


def test_table_policy_matches_dp_on_grid_states() -> None:
    solution = solve_all(ChargingConfig())
    policy = TablePolicy.optimal(solution)
    obs = np.array([[30.25, 2], [72, 7], [0, 0]], dtype=np.float32)
    table = solution.policies[0]
    expected = [table[2, 121], table[7, 288], table[0, 0]]
    assert policy.actions(obs).tolist() == expected
