import pytest

from smartcharging import ChargingConfig
from smartcharging.agents.hyperparameters import HyperparameterError, Hyperparameters, shipped
from smartcharging.agents.schedules import resolve_schedules

ENTRY = shipped("ppo", ChargingConfig()).to_dict()


def test_a_lin_string_becomes_a_schedule_from_its_start_to_zero() -> None:
    kwargs = resolve_schedules("x", {"learning_rate": "lin_0.0003", "clip_range": 0.2})
    schedule = kwargs["learning_rate"]
    assert schedule(1.0) == pytest.approx(3e-4)
    assert schedule(0.25) == pytest.approx(7.5e-5)
    assert schedule(0.0) == 0.0
    assert kwargs["clip_range"] == 0.2


def test_entries_keep_the_string_and_models_get_the_schedule() -> None:
    params = Hyperparameters.from_dict("ppo", ENTRY | {"clip_range": "lin_0.2"}, "e")
    assert params.to_dict()["clip_range"] == "lin_0.2"  # written to run.json as data
    assert params.model_kwargs()["clip_range"](0.5) == pytest.approx(0.1)


@pytest.mark.parametrize("value", ["lin_", "lin_-1", "lin_0", "lin_nan", "lin_inf", "fast", "0.1"])
def test_a_bad_schedule_is_refused_naming_key_and_value(value: str) -> None:
    with pytest.raises(HyperparameterError, match=rf"e: invalid learning_rate='{value}'.*lin_"):
        Hyperparameters.from_dict("ppo", ENTRY | {"learning_rate": value}, "e")
