import math

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
    assert Hyperparameters.from_dict("ppo", ENTRY | {"clip_range_vf": None}, "e")


@pytest.mark.parametrize(
    "value",
    [
        "lin_",
        "lin_-1",
        "lin_0",
        "lin_nan",
        "lin_inf",
        "lin_1e308",  # overflows torch's float32 step size
        "lin_1e-320",  # no step at all
        "lin_0.001 ",
        "lin_1_0e-3",
        "lin_\u0661e-3",
        "LIN_0.001",
        "fast",
        None,
        True,
        [0.001],
        -1,
        math.nan,
        2.0,
    ],
)
def test_a_bad_learning_rate_is_refused_naming_key_value_and_what_is_allowed(value) -> None:
    with pytest.raises(HyperparameterError) as error:
        Hyperparameters.from_dict("ppo", ENTRY | {"learning_rate": value}, "e")
    message = str(error.value)
    assert message.startswith(f"e: invalid learning_rate={value!r}: must be a number in")
    assert "lin_<start>" in message


def test_a_number_written_as_text_gets_a_yaml_hint() -> None:
    with pytest.raises(HyperparameterError, match="YAML reads 3e-4 as text: write 3.0e-4"):
        Hyperparameters.from_dict("ppo", ENTRY | {"learning_rate": "3e-4"}, "e")


def test_lin_on_a_key_without_schedules_is_refused() -> None:
    with pytest.raises(HyperparameterError, match="invalid gamma='lin_0.9': lin_ schedules"):
        Hyperparameters.from_dict("ppo", ENTRY | {"gamma": "lin_0.9"}, "e")
