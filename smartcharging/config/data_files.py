"""Reading the YAML and JSON files people send each other: data only, each key once.

Both readers build plain data (YAML's safe loader: no object is constructed from a tag) and
refuse a mapping that repeats a key. PyYAML and the json module keep the last value of a
repeated key silently, so a file with ``reserve_kwh: 5`` and, further down, ``reserve_kwh:
39`` would run with 39 while its reader sees 5; here it is an error naming the key and both
lines.
"""

from __future__ import annotations

import json
from typing import Any

import yaml


class DuplicateKeyError(ValueError):
    """A mapping repeats a key; the message names the key and where."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats one of its own keys (a merge
    key ``<<`` may still supply defaults that the mapping overrides)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base loader says so
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {first}; each key may appear once)",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """The data of YAML ``text`` (safe loading; a repeated key is a ``yaml.YAMLError``
    whose ``problem`` names it, with its position in ``problem_mark``)."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKeyError(f"duplicate key {key!r}: each key may appear once")
        data[key] = value
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str | bytes, finite: bool = True) -> Any:
    """The data of JSON ``text``; a repeated key in any object is a
    :class:`DuplicateKeyError`, and, with ``finite``, ``NaN`` or ``Infinity`` (which
    Python writes but JSON does not have) a ``ValueError``. Invalid JSON is a
    ``json.JSONDecodeError`` (a ``ValueError``)."""
    if finite:
        return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    return json.loads(text, object_pairs_hook=_unique_pairs)
