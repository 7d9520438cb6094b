import numpy as np
import pytest

from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.policies.depot_planning import MPCPolicy
from smartcharging.solvers.depot.lagrangian import plan_vehicles
from smartcharging.solvers.depot.plan import solve_plan
from tests.solvers.test_lagrangian import episode_of, tiny_depot


def test_plan_respects_windows_capacity_power_and_site() -> None:
    config = tiny_depot(3, 9.0, pv_kw=(2.0, 0.0, 4.0), demand_charge_per_kw=0.03)
    episode = episode_of(config)
    plan = solve_plan(config, plan_vehicles(config, episode), config.prices[0], config.pv)
    assert plan is not None
    energy = plan.energy_kwh
    top = config.power_kw[-1] * config.slot_hours
    assert (energy >= -1e-9).all() and (energy <= top + 1e-9).all()
    for i in range(config.n_chargers):
        outside = np.ones(config.n_slots, dtype=bool)
        outside[episode.arrival[i] : episode.departure[i]] = False
        assert np.allclose(energy[i, outside], 0.0)
        assert energy[i].sum() <= config.capacity_kwh[i] - episode.start_kwh[i] + 1e-9
    draw = energy.sum(axis=0) / config.efficiency
    assert (draw <= (config.grid_limit_kw + config.pv) * config.slot_hours + 1e-9).all()
    assert (plan.site_price >= 0).all()


def test_milp_first_slot_is_a_charger_level() -> None:
    config = tiny_depot(2, 6.0)
    plan = solve_plan(
        config, plan_vehicles(config, episode_of(config)), config.prices[0], config.pv, "milp"
    )
    assert plan is not None and plan.first_levels is not None
    delivered = config.power_kw[plan.first_levels] * config.slot_hours
    # a level chosen is a level delivered: an upper bound alone let the solver pick full
    # power for a vehicle it planned to leave idle (MPC-MILP then charged flat out)
    assert np.allclose(plan.energy_kwh[:, 0], delivered, atol=1e-6)


def test_milp_tops_up_a_nearly_full_battery_with_the_smallest_level(small_depot) -> None:
    """Half a kWh of room takes no level's full slot energy: the chosen level delivers what
    fits, and of the levels that do so the smallest is chosen."""
    config = small_depot(
        n_chargers=1,
        capacity_kwh=(40.0,),
        arrival_slots=((0, 0),),
        departure_slots=((6, 6),),
        start_kwh=((39.5, 39.5),),
        demand_mean_kwh=(40.0,),
        demand_sd_kwh=(4.0,),
        pv_kw=(0.0,) * 6,
        demand_charge_per_kw=0.0,
    )
    policy = MPCPolicy(config, method="milp")
    env = DepotVectorEnv(num_envs=1, config=config)
    observations, _ = env.reset(seed=[0])
    chosen = []
    for _ in range(config.n_slots):
        actions = policy.actions(observations)
        chosen.append(int(actions[0, 0]))
        observations, _, _, _, info = env.step(actions)
    assert info["departure_battery_kwh"][0, 0] == pytest.approx(40.0, abs=1e-9)
    assert sorted(chosen) == [0, 0, 0, 0, 0, 1]  # one top-up at the smallest level


def test_unknown_method_is_rejected() -> None:
    config = tiny_depot(2, 6.0)
    with pytest.raises(ValueError, match="method='qp'"):
        solve_plan(
            config, plan_vehicles(config, episode_of(config)), config.prices[0], config.pv, "qp"
        )
