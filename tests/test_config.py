import math

import pytest

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
