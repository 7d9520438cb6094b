"""Real charging sessions from logs: ACN-Data's CSV and API JSON, and a plain CSV.

:func:`read_sessions` reads a log into a :class:`SessionFile` (every row kept or rejected
with its line and reason); :func:`write_sessions_csv` writes sessions as the plain CSV.
:mod:`smartcharging.sessions.days` lays sessions out as depot days, and
:mod:`smartcharging.sessions.importing` makes a scenario of a user's logs
(``smartcharging scenario import-sessions``).
"""

from smartcharging.sessions.csv_writing import write_sessions_csv
from smartcharging.sessions.reading import FORMATS, read_sessions
from smartcharging.sessions.records import (
    ADJUSTMENT_KINDS,
    REJECTION_KINDS,
    Adjustment,
    Rejection,
    SessionFile,
    SessionFileError,
    SessionRecord,
)

__all__ = [
    "ADJUSTMENT_KINDS",
    "FORMATS",
    "REJECTION_KINDS",
    "Adjustment",
    "Rejection",
    "SessionFile",
    "SessionFileError",
    "SessionRecord",
    "read_sessions",
    "write_sessions_csv",
]
