import dataclasses
import math

import pytest

from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.config.vehicle import ChargingConfig, ConfigError


def test_defaults_are_the_seed_notebooks() -> None:
    cfg = ChargingConfig()
    assert cfg.capacity_kwh == 72.0
    assert cfg.power_levels_kw == (0.0, 7.0, 14.0, 22.0)
    assert (cfg.slot_hours, cfg.n_slots) == (0.25, 8)
    assert cfg.start_levels_kwh.tolist() == list(range(73))
    assert (cfg.demand_mean_kwh, cfg.demand_sd_kwh, cfg.penalty_factor) == (30.0, 5.0, 10.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"capacity_kwh": -1}, "capacity_kwh=-1: must be a finite number > 0"),
        ({"capacity_kwh": math.nan}, "capacity_kwh=nan"),
        ({"capacity_kwh": math.inf}, "capacity_kwh=inf"),
        (
            {"power_levels_kw": (0, 14, 7)},
            "power_levels_kw=(0, 14, 7): must be a non-empty, strictly increasing",
        ),
        ({"power_levels_kw": (-7, 0)}, "power_levels_kw=(-7, 0)"),
        ({"power_levels_kw": ()}, "power_levels_kw=()"),
        ({"power_levels_kw": "0,7"}, "power_levels_kw='0,7'"),
        ({"demand_sd_kwh": 0}, "demand_sd_kwh=0: must be a finite number > 0"),
        ({"demand_sd_kwh": -2.0}, "demand_sd_kwh=-2.0"),
        ({"n_slots": 0}, "n_slots=0: must be an integer >= 1"),
        ({"n_slots": 2.5}, "n_slots=2.5"),
        ({"slot_hours": 0}, "slot_hours=0"),
        ({"penalty_factor": math.nan}, "penalty_factor=nan: must be a finite number"),
        ({"start_max_kwh": 80}, "start_max_kwh=80: must be between"),
        ({"start_step_kwh": 5, "start_max_kwh": 72}, "start_step_kwh=5: must be a divisor"),
        ({"arrival_hour": 25}, "arrival_hour=25"),
        ({"demand_mean_kwh": "30"}, "demand_mean_kwh='30'"),
    ],
)
def test_invalid_parameters_name_field_value_and_rule(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid parameter") as error:
        ChargingConfig(**params)
    assert message in str(error.value)


def test_unknown_parameter_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown parameter 'capacity'.*capacity_kwh"):
        ChargingConfig.from_kwargs(capacity=50)


def test_to_dict_round_trips() -> None:
    cfg = ChargingConfig(capacity_kwh=60, power_levels_kw=[0, 11])
    assert ChargingConfig(**cfg.to_dict()) == cfg


V2G = {
    "cost_model": "physical",
    "price_profiles": ((0.1,) * 8,),
    "power_levels_kw": (-11.0, 0.0, 11.0),
    "v2g": True,
}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**V2G, "v2g": False}, "power_levels_kw=(-11.0, 0.0, 11.0)"),
        ({**V2G, "v2g": "yes"}, "v2g='yes': must be true or false"),
        ({**V2G, "power_levels_kw": (-11.0, 11.0)}, "include 0 kW (idle)"),
        ({**V2G, "power_levels_kw": (0.0, 11.0)}, "at least one negative"),
        ({**V2G, "cost_model": "seed", "price_profiles": ()}, "v2g=True: must be false"),
        ({**V2G, "discharge_efficiency": 1.5}, "discharge_efficiency=1.5: must be in [0.01, 1]"),
        ({**V2G, "discharge_efficiency": 1e-308}, "discharge_efficiency=1e-308: must be in [0.01"),
        ({**V2G, "efficiency": 1e-308}, "efficiency=1e-308: must be in [0.01, 1]"),
        ({**V2G, "reserve_kwh": 80}, "reserve_kwh=80: must be <= capacity_kwh=72.0"),
        ({**V2G, "export_fee_per_kwh": -0.1}, "export_fee_per_kwh=-0.1"),
        ({**V2G, "export_tariff_per_kwh": math.inf}, "export_tariff_per_kwh=inf"),
        ({"reserve_kwh": 10.0}, "reserve_kwh=10.0: must be 0.0 unless v2g=True"),
        ({"degradation_cost_per_kwh": 0.02}, "degradation_cost_per_kwh=0.02: must be 0"),
        ({"residual_value_per_kwh": 0.1}, "residual_value_per_kwh=0.1: must be 0"),
        ({**V2G, "degradation_cost_per_kwh": -1}, "degradation_cost_per_kwh=-1"),
        (
            {**V2G, "export_fee_per_kwh": 0.01, "export_tariff_per_kwh": 0.05},
            "export_fee_per_kwh=0.01: must be 0 when export_tariff_per_kwh is given",
        ),
        (
            {**V2G, "shortfall_cost_per_kwh": 1.0, "residual_value_per_kwh": 2.0},
            "residual_value_per_kwh=2.0: must be <= shortfall_cost_per_kwh=1.0",
        ),
    ],
)
def test_invalid_v2g_parameters_name_field_value_and_rule(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid parameter") as error:
        ChargingConfig(**params)
    assert message in str(error.value)


def test_v2g_derived_values() -> None:
    config = ChargingConfig(**V2G, export_fee_per_kwh=0.02)
    assert config.idle_action == 1 and config.v2g_physics
    assert config.export_prices.tolist() == [[0.1 - 0.02] * 8]
    tariff = ChargingConfig(**V2G, export_tariff_per_kwh=0.07)
    assert tariff.export_prices.tolist() == [[0.07] * 8]
    charge_only = tariff.without_v2g()
    assert charge_only.power_levels_kw == (0.0, 11.0) and not charge_only.v2g
    assert ChargingConfig().idle_action == 0 and not ChargingConfig().v2g_physics


@pytest.mark.parametrize("field", ["efficiency", "discharge_efficiency"])
def test_a_depot_efficiency_near_zero_is_refused(field: str) -> None:
    """The physics divides by efficiencies: 1e-308 turned every draw into Infinity."""
    config = load_depot_scenario("depot-v2g-peak").to_config()
    with pytest.raises(ConfigError, match=f"{field}=1e-308: must be in \\[0.01, 1\\]"):
        dataclasses.replace(config, **{field: 1e-308})
