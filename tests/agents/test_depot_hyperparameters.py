"""The shipped depot hyperparameters are data, checked like the vehicle entries."""

import copy
from dataclasses import replace

import pytest

from smartcharging.agents.depot_hyperparameters import (
    DEPOT_ALGORITHMS,
    DepotHyperparameters,
    HyperparameterError,
    check_imitation,
    depot_scenario_name,
    shipped_depot,
)
from smartcharging.agents.hyperparameters import read_entries
from smartcharging.config.scenarios import builtin_names, load_depot_scenario, scenario_kind

DEPOTS = [name for name in builtin_names() if scenario_kind(name) == "depot"]


@pytest.mark.parametrize("algo", DEPOT_ALGORITHMS)
def test_every_built_in_depot_gets_a_valid_entry(algo: str) -> None:
    entries = read_entries(f"depot-{algo}.yml")
    assert set(entries) - {"default"} <= set(DEPOTS)  # no entry for a depot that is not
    for name in DEPOTS:
        config = load_depot_scenario(name).to_config()
        assert depot_scenario_name(config) == name
        setup = shipped_depot(algo, config)
        expected = f"depot-{algo}.yml: {name if name in entries else 'default'}"
        assert setup.source == expected
        assert setup.n_envs >= 1 and setup.n_timesteps >= 1
        assert setup.imitation == check_imitation("test", setup.imitation)


def test_a_changed_depot_gets_the_default_entry() -> None:
    config = load_depot_scenario("depot-10-overnight").to_config()
    changed = replace(config, grid_limit_kw=41.0)
    assert depot_scenario_name(changed) is None
    assert shipped_depot("ppo", changed).source == "depot-ppo.yml: default"


def _entry() -> dict:
    return copy.deepcopy(read_entries("depot-ppo.yml")["default"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_envs": 0}, "invalid n_envs=0: must be an int >= 1"),
        ({"n_envs": 10**9}, "depots train on at most"),
        ({"n_timesteps": "many"}, "invalid n_timesteps='many'"),
        ({"imitation": {"rounds": 2}}, "imitation: missing episodes"),
        ({"imitation": "lots"}, "imitation must be a mapping"),
        ({"policy_kwargs": {"net_arch": [10**6, 10**6]}}, "more than"),
        ({"learning_rate": "lin_x"}, "lin_"),
        ({"batch_size": 1}, "batch_size=1"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_key(change: dict, message: str) -> None:
    entry = {**_entry(), **change}
    with pytest.raises(HyperparameterError, match=message):
        DepotHyperparameters.from_dict("ppo", entry, "test.yml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"round": 2}, "unknown setting 'round': known are episodes"),
        ({"rounds": -1}, "invalid rounds=-1: must be an int >= 0"),
        ({"epochs": 0}, "invalid epochs=0: must be an int >= 1"),
        ({"episodes": True}, "invalid episodes=True"),
        ({"learning_rate": 2}, "invalid learning_rate=2: must be a number in"),
        ({"rounds": 10**6}, "must be <= 1000"),
    ],
)
def test_bad_imitation_settings_are_refused(change: dict, message: str) -> None:
    setup = shipped_depot("ppo", load_depot_scenario("depot-10-overnight").to_config())
    with pytest.raises(HyperparameterError, match=message):
        setup.with_imitation(change)
    assert setup.with_imitation({"rounds": 0}).imitation["rounds"] == 0
    assert setup.imitation["rounds"] > 0  # not changed in place


def test_an_unknown_algorithm_is_refused() -> None:
    config = load_depot_scenario("depot-10-overnight").to_config()
    with pytest.raises(HyperparameterError, match="depot agents train with ppo, a2c"):
        shipped_depot("dqn", config)
