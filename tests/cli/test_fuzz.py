"""Random option values and scenario files: whatever comes in, the CLI exits 0, 1 or 2 with
no traceback and never prints NaN as a result."""

import math
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcharging.config.scenarios import ScenarioError, parse_scenario
from smartcharging.config.validation import ConfigError
from tests.cli.cli_runner import run_cli

NAN = re.compile(r"\bnan\b", re.IGNORECASE)

numbers = st.one_of(
    st.sampled_from(["0", "-1", "1e-300", "1e300", "nan", "inf", "-inf", "1e12", "abc", ""]),
    st.floats(min_value=-50, max_value=120, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.integers(min_value=-5, max_value=40).map(str),
)
levels = st.one_of(
    st.sampled_from(["0,7,14,22", "0,709", "22,7", "", "0,,7", "a,b", "-7,0", "0,1e300"]),
    st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=5).map(
        lambda values: ",".join(map(str, values))
    ),
)
OPTIONS = {
    "--capacity": numbers,
    "--slots": numbers,
    "--slot-hours": numbers,
    "--demand-mean": numbers,
    "--demand-sd": numbers,
    "--penalty-factor": numbers,
    "--start-min": numbers,
    "--start-step": numbers,
    "--power-levels": levels,
}


def check(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert not NAN.search(out), out
    if code:
        assert err.strip().startswith("error:"), err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(OPTIONS)), st.data(), max_size=4), st.data())
def test_random_options_never_crash_or_print_nan(chosen: dict, data: st.DataObject) -> None:
    args = ["solve", "--json"]
    for option in chosen:
        args += [option, data.draw(OPTIONS[option])]
    check(*run_cli(*args))


sections = {
    "vehicle": st.fixed_dictionaries(
        {"capacity_kwh": st.one_of(st.floats(), st.booleans(), st.text(max_size=3))},
        optional={"power_levels_kw": st.lists(st.floats(), max_size=4)},
    ),
    "window": st.fixed_dictionaries(
        {"arrival": st.sampled_from(["14:00", "25:00", "x"]), "departure": st.just("16:00")},
        optional={"slot_minutes": st.floats()},
    ),
    "demand": st.fixed_dictionaries({"mean_kwh": st.floats(), "sd_kwh": st.floats()}),
    "cost": st.fixed_dictionaries({"model": st.sampled_from(["seed", "physical", "x"])}),
}


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({"name": st.text(max_size=5)}, optional=sections))
def test_random_scenario_files_are_valid_or_one_clear_error(document: dict) -> None:
    text = yaml.safe_dump(document)
    try:
        config = parse_scenario(text, "fuzz.yaml").to_config()
    except (ScenarioError, ConfigError) as error:
        message = str(error)
        assert "\n" not in message.strip() and message
        return
    assert math.isfinite(config.capacity_kwh) and math.isfinite(config.fixed_shortfall_penalty)


def test_a_capacity_that_is_no_exact_multiple_in_floats_solves_without_nan() -> None:
    """188 steps of 0.01 kWh are 1.8800000000000001 kWh: the grid's top level is the
    capacity, not a level above it (found by the fuzz test above)."""
    code, out, err = run_cli("solve", "--json", "--capacity", "1.88")
    check(code, out, err)
    assert code == 0 and "RuntimeWarning" not in err
