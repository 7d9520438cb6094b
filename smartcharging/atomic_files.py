"""Files written whole or not at all: a reader (or an interrupted writer) sees the old file
or the new one, never half of one. Run folders, plots and session logs are written so."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Make ``path`` by ``write(temporary)`` on a hidden file beside it, flushed to disk and
    renamed over ``path``: a reader (or an interrupted run) sees the old file or the new
    one, never half of one. The temporary name keeps ``path``'s suffix, for writers that
    choose a format by it (matplotlib), and is removed if ``write`` fails."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(temporary)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`write_atomically`)."""
    write_atomically(path, lambda temporary: temporary.write_text(text))


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half."""
    write_text(path, json.dumps(data, indent=2))
