"""Writing sessions as the plain session CSV, which :func:`~.reading.read_sessions` reads
back to equal records.

Every column of the layout is written: times in ISO 8601 with their UTC offsets, numbers
as Python's shortest exact ``repr``, ``claimed`` as ``True``/``False``; a value the record
does not have (no request, estimate or station power) is an empty cell.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from smartcharging.atomic_files import write_atomically
from smartcharging.sessions.reading import PLAIN_COLUMNS
from smartcharging.sessions.records import SessionRecord


def _cell(value: str | float | bool | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool | str):
        return str(value)
    return repr(float(value))


def write_sessions_csv(records: Iterable[SessionRecord], path: str | Path) -> None:
    """Write ``records`` to ``path`` as a plain session CSV, atomically (a reader sees the
    old file or the new one, never half of one)."""
    fields = list(PLAIN_COLUMNS)
    rows = [[_cell(getattr(record, field)) for field in fields] for record in records]

    def write(temporary: Path) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(PLAIN_COLUMNS.values())
            writer.writerows(rows)

    write_atomically(Path(path), write)
