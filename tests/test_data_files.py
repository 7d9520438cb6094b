"""Files people send each other are read as data, each key once."""

import pytest
import yaml

from smartcharging.config.data_files import DuplicateKeyError, load_json, load_yaml
from smartcharging.config.scenarios import ScenarioError, parse_depot_scenario


def test_a_repeated_yaml_key_is_refused_naming_it_and_both_lines() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        load_yaml("v2g:\n  reserve_kwh: 5\n  efficiency: 0.9\n  reserve_kwh: 39\n")
    message = str(caught.value)
    assert "duplicate key 'reserve_kwh'" in message
    assert "first at line 2" in message and "line 4" in message


def test_yaml_keys_may_repeat_in_different_mappings_and_merge_keys_still_work() -> None:
    assert load_yaml("a: {x: 1}\nb: {x: 2}\n") == {"a": {"x": 1}, "b": {"x": 2}}
    merged = load_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert merged["use"] == {"x": 1, "y": 3}


def test_yaml_loading_builds_no_objects() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")


def test_a_scenario_with_a_repeated_key_is_refused() -> None:
    text = "name: t\nkind: depot\nname: u\n"
    with pytest.raises(ScenarioError, match="duplicate key 'name'.*line 3"):
        parse_depot_scenario(text, "t.yaml")


def test_a_repeated_json_key_and_non_numbers_are_refused() -> None:
    assert load_json('{"a": {"b": 1}, "c": [1.5]}') == {"a": {"b": 1}, "c": [1.5]}
    with pytest.raises(DuplicateKeyError, match="duplicate key 'b'"):
        load_json('{"a": {"b": 1, "b": 2}}')
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not a JSON number"):
            load_json(f'{{"a": {constant}}}')
