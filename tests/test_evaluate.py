import pytest

from smartcharging import ChargingConfig
from smartcharging.evaluation.vehicle import compare, monte_carlo, report
from smartcharging.policies import all_policies
from smartcharging.solvers import solve_all

CONFIG = ChargingConfig()


@pytest.mark.parametrize("name", ["constant-7kW", "quantile-0.99", "optimal", "random"])
def test_monte_carlo_agrees_with_exact_value(name: str) -> None:
    solution = solve_all(CONFIG)
    policy = all_policies(CONFIG, solution, seed=1)[name]
    result = report(policy, solution, episodes=3000, seed=11)
    mc = result.monte_carlo
    assert mc is not None and mc.episodes == 3000
    assert mc.ci_low <= result.exact.expected_return <= mc.ci_high
    assert mc.mean_energy_kwh == pytest.approx(result.exact.expected_energy_kwh, rel=0.05)


def test_gap_is_zero_for_optimum_and_positive_for_baselines() -> None:
    solution = solve_all(CONFIG)
    reports = compare(all_policies(CONFIG, solution).values(), solution)
    assert reports[0].name == "optimal" and reports[0].gap == 0.0
    assert all(r.gap > 0 and r.relative_gap > 0 for r in reports[1:])
    returns = [r.exact.expected_return for r in reports]
    assert returns == sorted(returns, reverse=True)
    row = reports[1].as_dict()
    assert set(row) >= {"policy", "expected_return", "gap_to_optimum", "relative_gap"}


def test_monte_carlo_needs_two_episodes() -> None:
    solution = solve_all(CONFIG)
    with pytest.raises(ValueError, match="episodes=1: must be >= 2"):
        monte_carlo(all_policies(CONFIG, solution)["idle"], CONFIG, 1)
