"""A user's own prices, from a CSV file, for scenario files (``prices: {kind: file}``).

Two layouts, told apart by the header:

* ``timestamp,price_per_kwh``: a series at a fixed step (15 minutes, an hour, ...), each
  timestamp ISO 8601 with its UTC offset (``2024-03-01T00:00+01:00`` or ``...Z``). Every
  date whose charging window the series covers becomes one price row, drawn per episode, as
  the shipped day-ahead series.
* ``slot,price_per_kwh``: one price per slot of the window, slots ``0, 1, 2, ...`` in
  order: one price row.

Every value is checked (finite, at most :data:`~limits.MAX_PRICE_POINTS` rows, timestamps
rising at one step), and an error names the file and line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path

import numpy as np

from smartcharging.config import limits
from smartcharging.config.data_files import DataFileError, regular_file_bytes
from smartcharging.config.prices import PriceError, PriceSeries
from smartcharging.config.validation import shorten

SERIES_HEADER = ("timestamp", "price_per_kwh")
SLOTS_HEADER = ("slot", "price_per_kwh")


def _rows(path: Path) -> tuple[tuple[str, ...], list[tuple[int, list[str]]]]:
    """The header and the numbered rows of the CSV file ``path``."""
    try:
        data = regular_file_bytes(
            path,
            limits.MAX_PRICE_FILE_BYTES,
            "a price file",
            "MAX_PRICE_FILE_BYTES in smartcharging.config.limits",
        )
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        header = tuple(cell.strip() for cell in next(reader, []))
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except DataFileError as error:
        raise PriceError(str(error)) from None
    except UnicodeDecodeError as error:
        raise PriceError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except csv.Error as error:
        raise PriceError(f"{path}: not a CSV file ({error})") from None
    except OSError as error:
        raise PriceError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(rows) > limits.MAX_PRICE_POINTS:
        raise PriceError(
            f"{path}: {len(rows):,} rows, more than {limits.MAX_PRICE_POINTS:,} "
            "(MAX_PRICE_POINTS in smartcharging.config.limits)"
        )
    return header, rows


def _price(path: Path, line: int, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PriceError(f"{path}:{line}: price {shorten(repr(text))} is not a finite number")
    return value


def _timestamp(path: Path, line: int, text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PriceError(
            f"{path}:{line}: timestamp {shorten(repr(text))} is not ISO 8601 "
            "(e.g. 2024-03-01T00:00+01:00)"
        ) from None
    if moment.utcoffset() is None:
        raise PriceError(
            f"{path}:{line}: timestamp {shorten(repr(text))} has no UTC offset: add one "
            "(+01:00, Z) so that daylight-saving changes are unambiguous"
        )
    return moment.astimezone(dt.UTC)


def _cells(path: Path, line: int, row: list[str]) -> tuple[str, str]:
    if len(row) != 2:
        raise PriceError(f"{path}:{line}: {len(row)} values, must be 2 (as the header)")
    return row[0], row[1]


def read_price_file(path: Path) -> PriceSeries | list[float]:
    """The prices of ``path``: a :class:`PriceSeries` (timestamps) or one price per slot."""
    header, rows = _rows(path)
    if header not in (SERIES_HEADER, SLOTS_HEADER):
        raise PriceError(
            f"{path}:1: header {shorten(','.join(header))!r} must be "
            f"{','.join(SERIES_HEADER)} or {','.join(SLOTS_HEADER)}"
        )
    if not rows:
        raise PriceError(f"{path}: holds no prices")
    if header == SLOTS_HEADER:
        prices = []
        for slot, (line, row) in enumerate(rows):
            index, price = _cells(path, line, row)
            if index.strip() != str(slot):
                raise PriceError(
                    f"{path}:{line}: slot {shorten(repr(index))} must be {slot}: slots run "
                    "0, 1, 2, ... in order"
                )
            prices.append(_price(path, line, price))
        return prices
    moments, values = [], []
    for line, row in rows:
        stamp, price = _cells(path, line, row)
        moments.append(_timestamp(path, line, stamp))
        values.append(_price(path, line, price))
    step = moments[1] - moments[0] if len(moments) > 1 else dt.timedelta(hours=1)
    minutes = step.total_seconds() / 60
    if not (minutes >= 1 and minutes == int(minutes)):
        raise PriceError(f"{path}:3: step {step} must be a positive whole number of minutes")
    for (line, _), before, moment in zip(rows[1:], moments[:-1], moments[1:], strict=True):
        if moment - before != step:
            raise PriceError(
                f"{path}:{line}: timestamp {moment.isoformat()} is not {step} after the "
                f"previous one: the series must rise at one step, without gaps"
            )
    return PriceSeries(str(path), moments[0], int(minutes), np.asarray(values))
