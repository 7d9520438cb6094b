"""The depot with V2G: scalar and batch agree, both site limits hold, energy adds up."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.config import ConfigError
from smartcharging.envs import DepotEnv

V2G = {
    "power_levels_kw": (-11.0, -3.7, 0.0, 3.7, 11.0),
    "v2g": True,
    "discharge_efficiency": 0.85,
    "reserve_kwh": 8.0,
    "export_limit_kw": 10.0,
    "degradation_cost_per_kwh": 0.01,
    "residual_value_per_kwh": 0.05,
}


@settings(max_examples=40, deadline=None)
@given(
    limit=st.floats(1.0, 40.0),
    export_share=st.floats(0.02, 1.0),
    seed=st.integers(0, 10**6),
    data=st.data(),
)
def test_both_site_limits_hold_and_costs_add_up(
    small_depot, limit, export_share, seed, data
) -> None:
    export_limit = limit * export_share
    config = small_depot(**{**V2G, "export_limit_kw": export_limit}, grid_limit_kw=limit)
    env = DepotEnv(config=config)
    env.reset(seed=seed)
    sim = env.simulator
    battery = sim.battery[0].copy()
    floor = np.minimum(battery, config.reserve_kwh)
    for t in range(config.n_slots):
        actions = np.array(data.draw(st.lists(st.integers(0, 4), min_size=3, max_size=3)))
        _, reward, _, _, info = env.step(actions)
        energy = info["energy_kwh"]
        supplied = -np.minimum(energy, 0.0).sum() * config.discharge_efficiency
        assert info["grid_kw"] <= limit * (1 + 1e-9)
        assert info["export_kw"] <= export_limit * (1 + 1e-9)
        assert supplied <= export_limit * config.slot_hours * (1 + 1e-9)
        drawn = np.maximum(energy, 0.0).sum() / config.efficiency
        balance = drawn - supplied - config.pv[t] * config.slot_hours
        net = (info["grid_kw"] - info["export_kw"]) * config.slot_hours
        assert net >= balance - 1e-9  # PV surplus is curtailed, never exported
        battery = battery + energy
        assert (battery <= np.asarray(config.capacity_kwh) + 1e-9).all()
        assert (battery >= floor - 1e-9).all()
        sim_battery = sim.battery[0]
        battery = np.where(info["departed"], sim_battery, battery)
        floor = np.minimum(floor, battery)
        parts = (
            info["energy_cost"]
            + info["site_wear_cost"]
            + info["site_shortfall_cost"]
            + info["demand_charge"]
        )
        assert math.isclose(-reward, parts, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(
            info["energy_cost_share"].sum(), info["energy_cost"], rel_tol=1e-9, abs_tol=1e-12
        )
        assert math.isclose(
            info["energy_cost"],
            info["price"] * info["grid_kw"] * config.slot_hours
            - info["export_price"] * info["export_kw"] * config.slot_hours,
            rel_tol=1e-9,
            abs_tol=1e-12,
        )


def test_cycle_ageing_without_v2g_steps_and_charges_the_throughput(small_depot) -> None:
    config = small_depot(degradation_cost_per_kwh=0.01)
    env = DepotEnv(config=config)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.full(config.n_chargers, config.n_actions - 1))
    assert np.allclose(info["degradation_cost"], 0.01 * np.abs(info["energy_kwh"]))
    assert (info["export_kw"] == 0.0).all()


def test_export_limit_may_not_exceed_the_grid_limit(small_depot) -> None:
    with pytest.raises(ConfigError, match=r"export_limit_kw=20.0: must be <= grid_limit_kw=15.0"):
        small_depot(**{**V2G, "export_limit_kw": 20.0})
