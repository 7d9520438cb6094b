"""The exact optimum with vehicle-to-grid: brute force, arbitrage by hand, no discharge
when it cannot pay."""

import functools
import itertools

import numpy as np
import pytest
from scipy import stats

from smartcharging import ChargingConfig
from smartcharging.evaluation.vehicle import compare
from smartcharging.policies.registry import all_policies
from smartcharging.sim import dynamics
from smartcharging.solvers import solve, solve_all
from smartcharging.solvers.vehicle.dp import hindsight_value

TINY_V2G = ChargingConfig(
    capacity_kwh=10.0,
    power_levels_kw=(-4.0, -2.0, 0.0, 2.0, 4.0),
    slot_hours=0.5,
    n_slots=3,
    start_max_kwh=10.0,
    demand_mean_kwh=6.0,
    demand_sd_kwh=2.0,
    cost_model="physical",
    efficiency=0.9,
    wear_cost_per_kw2h=0.01,
    shortfall_cost_per_kwh=2.0,
    price_profiles=((0.6, 0.1, 0.5),),
    v2g=True,
    discharge_efficiency=0.8,
    reserve_kwh=2.0,
    export_fee_per_kwh=0.05,
    degradation_cost_per_kwh=0.02,
    residual_value_per_kwh=0.15,
)


def brute_force(config: ChargingConfig) -> float:
    """Best open-loop action sequence per arrival level, averaged (randomness only at
    arrival and departure), with the departure cost and credit integrated numerically."""
    demand = stats.norm(config.demand_mean_kwh, config.demand_sd_kwh)
    prices, exports = config.prices[0], config.export_prices[0]

    @functools.cache
    def departure_cost(battery: float) -> float:
        missing = demand.expect(lambda d: max(d - battery, 0.0))
        left = demand.expect(lambda d: max(battery - max(d, 0.0), 0.0))
        return config.shortfall_cost_per_kwh * missing - config.residual_value_per_kwh * left

    best = []
    for start in config.start_levels_kwh:
        returns = []
        for actions in itertools.product(range(config.n_actions), repeat=config.n_slots):
            battery, total = float(start), 0.0
            for t, a in enumerate(actions):
                power = config.power_levels_kw[a]
                battery, energy, hours = dynamics.move_slot(
                    battery, power, config.capacity_kwh, config.reserve_kwh, config.slot_hours
                )
                total -= dynamics.bidirectional_costs(
                    energy,
                    power,
                    hours,
                    prices[t],
                    exports[t],
                    config.efficiency,
                    config.discharge_efficiency,
                    config.wear_cost_per_kw2h,
                    config.degradation_cost_per_kwh,
                )[0]
            returns.append(total - departure_cost(round(battery, 9)))
        best.append(max(returns))
    return float(np.mean(best))


def test_dp_with_discharge_levels_equals_brute_force() -> None:
    solution = solve(TINY_V2G)
    assert solution.grid.exact
    assert solution.expected_return == pytest.approx(brute_force(TINY_V2G), rel=1e-7)
    discharges = np.asarray(TINY_V2G.power_levels_kw)[solution.policy] < 0
    assert discharges.any()  # the 0.6 first slot pays for a discharge from some levels


def two_slot(**overrides: object) -> ChargingConfig:
    """Start at 15 kWh, need 14 (almost surely), prices 0.5 then 0.1, 1-hour slots."""
    params: dict[str, object] = {
        "capacity_kwh": 20.0,
        "power_levels_kw": (-10.0, 0.0, 10.0),
        "slot_hours": 1.0,
        "n_slots": 2,
        "start_min_kwh": 15.0,
        "start_max_kwh": 15.0,
        "demand_mean_kwh": 14.0,
        "demand_sd_kwh": 0.01,
        "cost_model": "physical",
        "shortfall_cost_per_kwh": 100.0,
        "price_profiles": ((0.5, 0.1),),
        "v2g": True,
        "discharge_efficiency": 0.9,
        "reserve_kwh": 5.0,
        "degradation_cost_per_kwh": 0.02,
    }
    return ChargingConfig(**{**params, **overrides})


def test_two_slot_arbitrage_equals_the_hand_computed_value() -> None:
    config = two_slot()
    # discharge 10 kWh: 9 reach the grid at 0.5 (4.5), ageing 0.2; recharge 10 kWh at 0.1
    # (1.0), ageing 0.2; leave with 15 kWh >= 14: value 4.5 - 0.2 - 1.0 - 0.2 = 3.1
    optimum = solve_all(config)
    assert optimum.expected_return == pytest.approx(3.1, abs=1e-12)
    assert solve_all(config.without_v2g()).expected_return == pytest.approx(0.0, abs=1e-12)
    first, then = optimum.policies[0, 0, 15], optimum.policies[0, 1, 5]  # grid step 1 kWh
    assert (config.power_levels_kw[first], config.power_levels_kw[then]) == (-10.0, 10.0)
    assert hindsight_value(config, 15.0, 14.0) == pytest.approx(3.1, abs=1e-12)


def test_no_discharge_when_the_spread_does_not_cover_losses_and_ageing() -> None:
    # 0.5 vs 0.45: selling 9 kWh earns 4.05, buying 10 back costs 4.5 before ageing
    optimum = solve_all(two_slot(price_profiles=((0.5, 0.45),)))
    assert optimum.expected_return == pytest.approx(0.0, abs=1e-12)


def test_flat_prices_with_ageing_never_discharge() -> None:
    config = ChargingConfig(
        capacity_kwh=40.0,
        power_levels_kw=(-11.0, -5.5, 0.0, 5.5, 11.0),
        n_slots=12,
        start_max_kwh=40.0,
        demand_mean_kwh=20.0,
        demand_sd_kwh=5.0,
        cost_model="physical",
        efficiency=0.92,
        wear_cost_per_kw2h=0.0015,
        shortfall_cost_per_kwh=5.0,
        price_profiles=((0.3,) * 12,),
        v2g=True,
        discharge_efficiency=0.92,
        reserve_kwh=8.0,
        degradation_cost_per_kwh=0.02,
        residual_value_per_kwh=0.3,
    )
    optimum = solve_all(config)
    assert (optimum.config.power_kw[optimum.policies] >= 0).all()
    charge_only = solve_all(config.without_v2g())
    assert optimum.expected_return == pytest.approx(charge_only.expected_return, rel=1e-12)


def test_v2g_optimum_beats_every_baseline_and_the_charge_only_optimum() -> None:
    config = TINY_V2G
    optimum = solve_all(config)
    reports = compare(all_policies(config, optimum).values(), optimum)
    assert reports[0].name == "optimal" and reports[0].gap == 0.0
    assert all(r.gap >= 0 for r in reports)
    by_name = {r.name: r for r in reports}
    charge_only = solve_all(config.without_v2g()).expected_return
    assert by_name["optimal-without-v2g"].exact.expected_return == pytest.approx(
        charge_only, rel=1e-12
    )
