"""Reading the YAML and JSON files people send each other: data only, each key once.

Both readers build plain data (YAML's safe loader: no object is constructed from a tag) and
refuse a mapping that repeats a key. PyYAML and the json module keep the last value of a
repeated key silently, so a file with ``reserve_kwh: 5`` and, further down, ``reserve_kwh:
39`` would run with 39 while its reader sees 5; here it is an error naming the key and both
lines.

Both also refuse what Python cannot hold as plain data: nesting deeper than
:data:`MAX_NESTING` levels (deeper data overflows the recursion of the parsers, of
``copy.deepcopy`` and of validation) and integers of more than :data:`MAX_DIGITS` digits
(Python refuses to convert one of more than 4,300 digits; no setting needs 1,000).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from smartcharging.config.validation import shorten

#: Deepest nesting of lists and mappings a data file may have.
MAX_NESTING = 32
#: Most digits an integer in a data file may have.
MAX_DIGITS = 1_000
#: The error of data nested deeper than :data:`MAX_NESTING`.
TOO_DEEP = (
    f"nested deeper than {MAX_NESTING} levels of lists and mappings "
    "(MAX_NESTING in smartcharging.config.data_files)"
)


class DuplicateKeyError(ValueError):
    """A mapping repeats a key; the message names the key and where."""


class DataLimitError(ValueError):
    """A JSON file nests too deep or holds too long an integer; the message says which."""


def _too_many_digits(text: str) -> str | None:
    """What is wrong with the integer ``text``, if it has more than :data:`MAX_DIGITS`."""
    digits = sum(character.isdigit() for character in text)
    if digits <= MAX_DIGITS:
        return None
    return (
        f"an integer of {digits:,} digits: at most {MAX_DIGITS:,} are read "
        "(MAX_DIGITS in smartcharging.config.data_files)"
    )


def _check_nesting(data: Any) -> None:
    """A :class:`DataLimitError` if ``data`` nests lists and mappings deeper than
    :data:`MAX_NESTING` or contains itself (a YAML alias inside its own anchor). Each
    container is measured once, so data that YAML aliases share is not walked again."""
    heights: dict[int, int] = {}
    open_: set[int] = set()  # the containers whose contents are being measured
    pending: list[tuple[Any, bool]] = [(data, False)]
    while pending:
        item, measured = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if measured:
            open_.discard(id(item))
            heights[id(item)] = 1 + max((heights.get(id(c), 0) for c in children), default=0)
            if heights[id(item)] > MAX_NESTING:
                raise DataLimitError(TOO_DEEP)
        elif isinstance(item, dict | list) and id(item) not in heights:
            if id(item) in open_:
                raise DataLimitError("a list or mapping contains itself (through an alias)")
            open_.add(id(item))
            pending.append((item, True))
            pending.extend((child, False) for child in children)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats one of its own keys (a merge
    key ``<<`` may still supply defaults that the mapping overrides)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        merges = 0
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges += 1
                if merges > 1 or isinstance(value_node, yaml.SequenceNode):
                    # PyYAML's order among several merged mappings depends on key names
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        "merge one mapping at most (<<: *name): which of several merged "
                        "mappings wins is not reliable",
                        key_node.start_mark,
                    )
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

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        """An integer of at most :data:`MAX_DIGITS` digits."""
        problem = _too_many_digits(node.value)
        if problem is not None:
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return int(self.construct_yaml_int(node))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _UniqueKeyLoader.construct_bounded_int)


def load_yaml(text: str) -> Any:
    """The data of YAML ``text`` (safe loading; a repeated key, too long an integer or too
    deep nesting is a ``yaml.YAMLError`` whose ``problem`` says so, with the position in
    ``problem_mark`` where known)."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
        _check_nesting(data)
    except RecursionError:
        raise yaml.constructor.ConstructorError(None, None, TOO_DEEP, None) from None
    except DataLimitError as error:
        raise yaml.constructor.ConstructorError(None, None, str(error), None) from None
    return data


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKeyError(f"duplicate key {key!r}: each key may appear once")
        data[key] = value
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    problem = _too_many_digits(text)
    if problem is not None:
        raise DataLimitError(problem)
    return int(text)


def _finite_float(text: str) -> float:
    """A JSON number that Python reads as a float, refused if it overflows (``1e999`` is
    Infinity to Python's reader)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{shorten(text)} is not a finite number")
    return value


def load_json(text: str | bytes, finite: bool = True) -> Any:
    """The data of JSON ``text``; a repeated key in any object is a
    :class:`DuplicateKeyError`, too deep nesting or too long an integer a
    :class:`DataLimitError`, and, with ``finite``, ``NaN`` or ``Infinity`` (which Python
    writes but JSON does not have) a ``ValueError``. Invalid JSON is a
    ``json.JSONDecodeError`` (a ``ValueError``)."""
    constant = _no_constant if finite else None
    number = _finite_float if finite else None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_unique_pairs,
            parse_int=_bounded_int,
            parse_float=number,
            parse_constant=constant,
        )
    except RecursionError:
        raise DataLimitError(TOO_DEEP) from None
    _check_nesting(data)
    return data


class DataFileError(ValueError):
    """A data file that cannot be read as a whole; the message is one line naming it."""


def regular_file_bytes(path: Path, limit: int, what: str, limit_name: str) -> bytes:
    """The bytes of ``path``, a regular file (a folder, a FIFO, which would hang, or a
    device is refused) of at most ``limit`` bytes, read no further than that (``/proc``
    files report size 0). ``what`` names the kind of file and ``limit_name`` where the
    limit is set, in the errors."""
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if not path.is_file():
        raise DataFileError(f"{path}: not a regular file")
    with open(path, "rb") as binary:
        data = binary.read(limit + 1)
    if len(data) > limit:
        raise DataFileError(f"{path}: more bytes than {what} may hold ({limit:,}; {limit_name})")
    return data
