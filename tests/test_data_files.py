"""Files people send each other are read as data, each key once."""

import pytest
import yaml

from smartcharging.config.data_files import (
    MAX_DIGITS,
    MAX_NESTING,
    DataLimitError,
    DuplicateKeyError,
    load_json,
    load_yaml,
)
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


DEEP = 5_000  # deeper than Python's recursion limit


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        '{"a": ' * DEEP + "1" + "}" * DEEP,
        "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1),
    ],
)
def test_json_nested_deeper_than_the_limit_is_refused(text: str) -> None:
    with pytest.raises(DataLimitError, match=f"nested deeper than {MAX_NESTING} levels"):
        load_json(text)


def test_json_nested_to_the_limit_loads() -> None:
    text = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert load_json(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        "a:\n" + "".join(f"{' ' * i}b{i}:\n" for i in range(1, MAX_NESTING + 2)) + "  x: 1\n",
        "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, MAX_NESTING + 2)),
    ],
)
def test_yaml_nested_deeper_than_the_limit_is_refused(text: str) -> None:
    with pytest.raises(yaml.YAMLError, match=f"nested deeper than {MAX_NESTING} levels"):
        load_yaml(text)


def test_yaml_that_contains_itself_is_refused() -> None:
    with pytest.raises(yaml.YAMLError, match="contains itself"):
        load_yaml("a: &a [1, *a]\n")


def test_integers_longer_than_the_limit_are_refused_naming_the_digits() -> None:
    long = "9" * 5_000
    with pytest.raises(DataLimitError, match="an integer of 5,000 digits: at most"):
        load_json(f'{{"seed": {long}}}')
    with pytest.raises(yaml.YAMLError, match="an integer of 5,000 digits: at most") as caught:
        load_yaml(f"name: x\nseed: {long}\n")
    assert caught.value.problem_mark.line == 1  # type: ignore[attr-defined]
    assert len(str(caught.value)) < 400
    assert load_json("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)


def test_merging_several_mappings_is_refused() -> None:
    """PyYAML's result then depends on the keys' names: sd_kwh 9 where the YAML spec
    says 5."""
    for text in ("d:\n  <<: [{m: 1, s: 5}, {s: 9}]\n", "b: &b {x: 1}\nd:\n  <<: *b\n  <<: *b\n"):
        with pytest.raises(yaml.YAMLError, match="merge one mapping at most"):
            load_yaml(text)


def test_a_json_number_that_overflows_is_refused() -> None:
    with pytest.raises(ValueError, match="1e999 is not a finite number"):
        load_json('{"relative_gap": 1e999}')
    assert load_json('{"a": 1e999}', finite=False) == {"a": float("inf")}
