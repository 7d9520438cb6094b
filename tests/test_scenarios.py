import math
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from smartcharging import ChargingConfig, SmartChargingEnv
from smartcharging.config.scenarios import (
    ScenarioError,
    builtin_names,
    is_depot_scenario,
    load_depot_scenario,
    load_scenario,
    parse_depot_scenario,
    parse_scenario,
    scenario_config,
)
from smartcharging.evaluation.vehicle import compare
from smartcharging.policies import all_policies
from smartcharging.solvers import solve_all

BUILTINS = [name for name in builtin_names() if not is_depot_scenario(name)]
DEPOTS = [name for name in builtin_names() if is_depot_scenario(name)]

TWO_SLOTS = """
name: two-slots
vehicle: {capacity_kwh: 50, power_levels_kw: [0, 10], efficiency: 0.8,
          start: {min_kwh: 20, max_kwh: 20}}
window: {arrival: "15:00", departure: "17:00", slot_minutes: 60}
demand: {mean_kwh: 30, sd_kwh: 2}
cost: {model: physical, wear_cost_per_kw2h: 0.01, shortfall_cost_per_kwh: 3.0}
prices: {kind: tou, tariff: sce-tou-ev-8, period: summer-weekday}
forecast_slots: 1
"""


def test_builtins_are_the_required_ones() -> None:
    assert {"seed", "seed-physical", "tou-evening-peak", "overnight-day-ahead-nl"} <= set(BUILTINS)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_and_passes_check_env(name: str) -> None:
    scenario = load_scenario(name)
    again = parse_scenario(scenario.to_yaml(), "dumped")
    assert again == scenario
    assert again.to_config() == scenario.to_config()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("SmartCharging-v0", scenario=name).unwrapped)


@pytest.mark.parametrize("name", DEPOTS)
def test_depot_scenarios_round_trip_and_refuse_the_wrong_env(name: str) -> None:
    scenario = load_depot_scenario(name)
    assert parse_depot_scenario(scenario.to_yaml(), "dumped") == scenario
    with pytest.raises(ScenarioError, match="is a depot scenario where a vehicle scenario"):
        load_scenario(name)
    with pytest.raises(ScenarioError, match="is a vehicle scenario where a depot scenario"):
        load_depot_scenario("seed")


def test_seed_scenario_is_the_default_config() -> None:
    assert scenario_config("seed") == ChargingConfig()


def test_hand_computed_costs_of_a_two_slot_tou_scenario() -> None:
    config = parse_scenario(TWO_SLOTS, "two-slots").to_config()
    assert config.prices.tolist() == [[0.12597, 0.49619]]  # 15-16 h off-peak, 16-17 h peak
    env = SmartChargingEnv(config=config)
    obs, _ = env.reset(seed=0, options={"demand_kwh": 33.0})
    assert obs.tolist() == pytest.approx([20.0, 2.0, 0.12597, 0.49619])
    obs, reward, _, _, info = env.step(1)  # 10 kW for 1 h: 10 kWh, grid 12.5 kWh
    assert info["energy_cost"] == pytest.approx(0.12597 * 10 / 0.8)
    assert info["wear_cost"] == pytest.approx(0.01 * 100 * 1.0)
    assert reward == pytest.approx(-(0.12597 * 12.5 + 1.0))
    assert obs.tolist() == pytest.approx([30.0, 1.0, 0.49619, 0.0])
    obs, reward, terminated, _, info = env.step(0)  # idle: free; 3 kWh short at departure
    assert terminated and info["ran_out"] and info["shortfall_kwh"] == pytest.approx(3.0)
    assert info["cost"] == 0.0 and info["penalty"] == pytest.approx(9.0)
    assert reward == pytest.approx(-9.0)


def test_dp_matches_enumeration_on_the_two_slot_scenario() -> None:
    from scipy import stats

    config = parse_scenario(TWO_SLOTS, "two-slots").to_config()
    demand = stats.norm(30, 2)
    best = -math.inf
    for a1 in (0, 10):
        for a2 in (0, 10):
            cost = 0.12597 * a1 / 0.8 + 0.01 * a1**2 + 0.49619 * a2 / 0.8 + 0.01 * a2**2
            battery = 20 + a1 + a2
            missing = 2 * stats.norm.pdf((battery - 30) / 2) - (battery - 30) * demand.sf(battery)
            best = max(best, -cost - 3.0 * missing)
    assert solve_all(config).expected_return == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("name", BUILTINS)
def test_optimum_beats_or_equals_every_baseline(name: str) -> None:
    config = scenario_config(name)  # all 365 nights of the day-ahead scenario: ~1 min
    optimum = solve_all(config)
    reports = compare(all_policies(config, optimum).values(), optimum)
    assert reports[0].name == "optimal" and reports[0].gap == 0.0
    assert all(r.gap >= 0 for r in reports)
    assert all(r.exact.exact for r in reports)


def test_day_ahead_dates_and_reset_option() -> None:
    config = scenario_config("overnight-day-ahead-nl")
    assert config.n_profiles == 365 and config.profile_labels[0] == "2024-01-01"
    assert config.n_slots == 48 and config.currency == "EUR"
    env = SmartChargingEnv(config=config)
    obs, info = env.reset(seed=1, options={"profile": "2024-06-15"})
    assert info["profile"] == "2024-06-15"
    row = config.profile_labels.index("2024-06-15")
    assert obs[2:].tolist() == pytest.approx(config.prices[row].astype(np.float32).tolist())
    with pytest.raises(ValueError, match="profile='2023-01-01'"):
        env.reset(options={"profile": "2023-01-01"})


BASE = TWO_SLOTS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "not valid YAML"),
        (BASE.replace("demand: {mean_kwh: 30, sd_kwh: 2}\n", ""), "demand: missing (required)"),
        (BASE.replace("capacity_kwh: 50", "capacity_kwh: 50 kWh"), "vehicle.capacity_kwh='50 kWh'"),
        (
            BASE.replace("forecast_slots: 1", "forecast_slots: 1\ncolour: red"),
            "colour: unknown key",
        ),
        (BASE.replace('departure: "17:00"', 'departure: "13:00"'), "must be after arrival"),
        (
            BASE.replace(
                "{kind: tou, tariff: sce-tou-ev-8, period: summer-weekday}",
                "{kind: day_ahead, market: nl-2024, dates: []}",
            ),
            "prices.day_ahead.dates=[]",
        ),
        (BASE.replace("period: summer-weekday", "period: spring"), "no period 'spring'"),
        (BASE.replace("sd_kwh: 2", "sd_kwh: -2"), "demand.sd_kwh=-2"),
        (
            BASE.replace("prices: {kind: tou, tariff: sce-tou-ev-8, period: summer-weekday}\n", ""),
            "needs a prices section",
        ),
        ("- 1\n- 2\n", "must be a YAML mapping"),
    ],
)
def test_bad_scenario_files_give_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        scenario_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value) or "prices" in str(error.value)
    assert "\n" not in str(error.value)


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope': not a file, and not one of"):
        load_scenario("nope")


def test_overrides_are_validated() -> None:
    assert scenario_config("seed", capacity_kwh=60.0, start_max_kwh=None).capacity_kwh == 60.0
    with pytest.raises(ScenarioError, match="capacity_kwh=-1"):
        scenario_config("seed", capacity_kwh=-1)


def test_discharge_levels_need_a_v2g_section(tmp_path: Path) -> None:
    text = load_scenario("v2g-overnight-nl").to_yaml()
    assert "\nv2g:" in text
    path = tmp_path / "no-v2g.yaml"
    path.write_text(text.split("\nv2g:")[0] + "\n")
    with pytest.raises(ScenarioError, match="negative .discharging. levels: they need a v2g"):
        load_scenario(path)


def test_v2g_scenario_config() -> None:
    config = scenario_config("v2g-overnight-nl")
    assert config.v2g and config.power_levels_kw == (-11.0, -5.5, 0.0, 5.5, 11.0)
    assert (config.reserve_kwh, config.discharge_efficiency) == (15.0, 0.92)
    assert config.n_slots == 48 and config.n_profiles == 365
    assert (config.export_prices == config.prices).all()


def test_a_v2g_flag_instead_of_a_section_says_so_in_one_short_line(tmp_path: Path) -> None:
    text = load_scenario("v2g-overnight-nl").to_yaml().split("\nv2g:")[0] + "\nv2g: true\n"
    path = tmp_path / "flag.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"v2g=True: Input should be a valid dictionary") as err:
        load_scenario(path)
    assert len(str(err.value)) < 200


def test_session_scenarios_refuse_what_their_days_fix(tmp_path) -> None:
    from importlib import resources

    from smartcharging.config.scenarios import load_depot_scenario
    from smartcharging.config.validation import ConfigError

    with pytest.raises(ConfigError, match="'slot_hours' cannot be overridden"):
        load_depot_scenario("caltech-2021").to_config(slot_hours=1.0)
    text = resources.files("smartcharging.builtin_scenarios").joinpath("caltech-2021.yaml")
    base = text.read_text()
    unquoted = base.replace('day_start: "00:00"', "day_start: 18:00")
    (tmp_path / "a.yaml").write_text(unquoted)
    with pytest.raises(ScenarioError, match='quote it: day_start: "18:00"'):
        load_depot_scenario(tmp_path / "a.yaml")
    acn = resources.files("smartcharging.data").joinpath("acn")
    log = acn.joinpath("caltech_2021-05-01_2021-08-31.csv.gz")
    twice = base.replace("    - caltech_2021-05-01_2021-08-31.csv.gz", f"    - {log}\n    - {log}")
    (tmp_path / "b.yaml").write_text(twice)
    with pytest.raises(ScenarioError, match="lists a file twice"):
        load_depot_scenario(tmp_path / "b.yaml")
    numbered = base.replace('day_start: "00:00"', 'day_start: "00:00"\n  first_date: 20210504')
    (tmp_path / "c.yaml").write_text(numbered)
    with pytest.raises(ScenarioError, match="first_date=20210504: a date is written YYYY-MM-DD"):
        load_depot_scenario(tmp_path / "c.yaml")
    quoted = base.replace('day_start: "00:00"', 'day_start: "00:00"\n  last_date: "1556668800"')
    (tmp_path / "d.yaml").write_text(quoted)
    with pytest.raises(ScenarioError, match="last_date='1556668800': a date is written"):
        load_depot_scenario(tmp_path / "d.yaml")
