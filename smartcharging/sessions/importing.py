"""A user's own session logs as a scenario: ``smartcharging scenario import-sessions``.

The logs (any of the formats of :mod:`smartcharging.sessions.reading`) are read, their
sessions written to one plain session CSV beside the scenario (``NAME.sessions.csv``), and a
``kind: sessions`` scenario file (``NAME.yaml``) made that points to it, with the site's
grid limit, charger power levels, prices and costs. The scenario is then loaded as every
command loads it, so that what is written is known to be valid; every row refused on the way
is listed in ``NAME.rejections.csv`` (file, line, kind, reason).
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from smartcharging.atomic_files import write_atomically, write_text
from smartcharging.config import limits
from smartcharging.config.prices import tou_tariffs
from smartcharging.config.scenarios import (
    ScenarioError,
    SessionLog,
    SessionScenario,
    load_depot_scenario,
)
from smartcharging.sessions.csv_writing import write_sessions_csv
from smartcharging.sessions.days import lay_out_days
from smartcharging.sessions.reading import MAX_SESSION_KW, read_sessions
from smartcharging.sessions.records import Rejection, SessionFileError, SessionRecord

#: Charger power levels as shares of the top power (the pilot signal in quarter steps).
LEVEL_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class ImportSettings:
    """What the logs do not say about the site.

    Attributes:
        grid_limit_kw: the site's grid connection.
        charger_kw: every station's top power; None: the most common ``max_power_kw`` of
            the logs (an error if they have none).
        timezone: the site's IANA time zone (days start at ``day_start`` local time).
        tariff: a shipped TOU tariff, each day priced by its own period; or
        prices_file: a price CSV (``timestamp,price_per_kwh``) in ``currency``.
        slot_minutes, day_start, format: as in the scenario's ``sessions`` section.
        exclude_stations: stations left out.
        shortfall_cost_per_kwh, wear_cost_per_kw2h: the physical costs.
        forecast_slots: prices observed ahead.
    """

    grid_limit_kw: float
    timezone: str
    charger_kw: float | None = None
    tariff: str | None = None
    prices_file: Path | None = None
    currency: str = "USD"
    slot_minutes: float = 15.0
    day_start: str = "00:00"
    format: str = "auto"
    exclude_stations: tuple[str, ...] = ()
    shortfall_cost_per_kwh: float = 5.0
    wear_cost_per_kw2h: float = 0.0015
    forecast_slots: int = 8


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote and what it left out."""

    scenario: Path
    sessions_file: Path
    rejections_file: Path
    read: dict[str, int]
    laid_out: dict[str, int]
    days: int
    sessions: int
    stations: int
    rejections: tuple[Rejection, ...] = field(repr=False)


class SessionImportError(ValueError):
    """Logs or settings that give no scenario; the message is one line."""


def import_sessions(
    files: Sequence[str | Path],
    out: str | Path,
    settings: ImportSettings,
    overwrite: bool = False,
) -> ImportReport:
    """Make the scenario ``out`` (a ``.yaml`` path) from the session logs ``files``; an
    existing scenario, session or rejections file there is replaced only with
    ``overwrite``. The settings are checked before anything is written, and the three files
    are made in a staging folder beside them and moved into place only once the scenario
    loads: a failed import leaves every file as it was."""
    scenario_path = Path(out)
    if scenario_path.suffix not in (".yaml", ".yml"):
        raise SessionImportError(f"--out {out}: must name a .yaml file")
    folder = scenario_path.parent
    if not folder.is_dir():
        raise SessionImportError(f"--out {out}: folder {folder} does not exist")
    name = scenario_path.stem
    sessions_path = scenario_path.with_name(f"{name}.sessions.csv")
    rejections_path = scenario_path.with_name(f"{name}.rejections.csv")
    targets = (sessions_path, scenario_path, rejections_path)
    for path in targets:
        if path.exists() and not overwrite:
            raise SessionImportError(f"{path} exists: choose another --out, or --overwrite")
    _check_settings(settings)
    _check_distinct(files)
    records, rejections, read = _read_all(files, settings)
    charger_kw = settings.charger_kw if settings.charger_kw is not None else _common_power(records)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.import-", dir=folder))
    try:
        staged = [staging / path.name for path in targets]
        write_sessions_csv(records, staged[0])
        # loaded from the staging folder first: its own relative paths to any price file
        data = _scenario(name, sessions_path.name, charger_kw, settings, staging)
        write_text(staged[1], yaml.safe_dump(data, sort_keys=False))
        try:
            scenario = load_depot_scenario(staged[1])
            assert isinstance(scenario, SessionScenario)
            config = scenario.to_config()
            # the same layout of the records as read, so that cuts name the logs' own lines
            laid_out = lay_out_days(records, scenario.layout())
        except (ScenarioError, ValueError) as error:
            message = str(error).replace(str(staged[1]), str(scenario_path))
            message = message.replace(str(staging), str(folder))
            raise SessionImportError(message) from None
        everything = tuple(rejections) + tuple(laid_out.cut)
        _write_rejections(staged[2], everything)
        data = _scenario(name, sessions_path.name, charger_kw, settings, folder)
        write_text(staged[1], yaml.safe_dump(data, sort_keys=False))
        for source, target in zip(staged, targets, strict=True):
            os.replace(source, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert config.sessions is not None
    return ImportReport(
        scenario=scenario_path,
        sessions_file=sessions_path,
        rejections_file=rejections_path,
        read=dict(read),
        laid_out=laid_out.summary(),
        days=config.sessions.n_days,
        sessions=config.sessions.n_sessions,
        stations=config.n_chargers,
        rejections=everything,
    )


def _check_settings(settings: ImportSettings) -> None:
    """Refuse settings the scenario could not take, naming the option."""
    for option, value, top in (
        ("--grid-limit-kw", settings.grid_limit_kw, limits.MAX_POWER_KW),
        ("--charger-kw", settings.charger_kw, MAX_SESSION_KW),
    ):
        if value is not None and not (math.isfinite(value) and 0 < value <= top):
            raise SessionImportError(f"{option} {value:g}: must be > 0 and at most {top:g} kW")
    if settings.tariff is not None and settings.tariff not in tou_tariffs():
        raise SessionImportError(
            f"--tariff {settings.tariff!r}: must be one of {', '.join(sorted(tou_tariffs()))}"
        )
    if settings.prices_file is not None and not settings.prices_file.is_file():
        raise SessionImportError(f"--prices {settings.prices_file}: not a file")
    if (settings.tariff is None) == (settings.prices_file is None):
        raise SessionImportError("give exactly one of --tariff NAME or --prices FILE.csv")
    if not settings.currency.isprintable() or not settings.currency.strip():
        raise SessionImportError(f"--currency {settings.currency!r}: must be a printable name")
    try:
        SessionLog(
            files=["-"],
            timezone=settings.timezone,
            day_start=settings.day_start,
            slot_minutes=settings.slot_minutes,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        for name, option in (
            ("timezone", "--timezone"),
            ("day_start", "--day-start"),
            ("slot_minutes", "--slot-minutes"),
        ):
            message = message.replace(f"{name}=", f"{option} ")
            if field == name:
                message = f"{option} {first.get('input')!r}: {message}"
        raise SessionImportError(message) from None


def _check_distinct(files: Sequence[str | Path]) -> None:
    """Refuse a log given twice (its sessions would be counted twice)."""
    seen: dict[Path, str | Path] = {}
    for path in files:
        key = Path(path).resolve()
        if key in seen:
            raise SessionImportError(f"{path}: given twice (also as {seen[key]})")
        seen[key] = path


def _read_all(
    files: Sequence[str | Path], settings: ImportSettings
) -> tuple[list[SessionRecord], list[Rejection], Counter[str]]:
    """The sessions of every log, each session id once across the logs (a later repeat
    is refused naming the first), the rows refused and the counts."""
    records: list[SessionRecord] = []
    rejections: list[Rejection] = []
    read = Counter[str]()
    first: dict[str, SessionRecord] = {}
    for log_path in files:
        try:
            log = read_sessions(log_path, settings.format, settings.timezone)
        except SessionFileError as error:
            raise SessionImportError(str(error)) from None
        for record in log.records:
            earlier = first.get(record.session_id)
            if earlier is not None:
                reason = (
                    f"session_id {record.session_id!r} was already kept from "
                    f"{earlier.source}:{earlier.line}"
                )
                rejections.append(
                    Rejection(record.source, record.line, reason, "duplicate_session_id")
                )
                continue
            first[record.session_id] = record
            records.append(record)
        rejections.extend(log.rejections)
        read["adjusted"] += len(log.adjustments)
    read["kept"] = len(records)
    read["rejected"] = len(rejections)
    read.update(rejection.kind for rejection in rejections)
    if not records:
        shown = "; ".join(str(rejection) for rejection in rejections[:3])
        raise SessionImportError(
            f"no session could be read ({len(rejections):,} rows refused"
            + (f": {shown}" if shown else "")
            + ")"
        )
    return records, rejections, read


def _common_power(records: Sequence[SessionRecord]) -> float:
    """The most common per-session maximum power of the logs."""
    powers = Counter(r.max_power_kw for r in records if r.max_power_kw is not None)
    if not powers:
        raise SessionImportError(
            "the logs give no max_power_kw: pass --charger-kw (every station's top power)"
        )
    return float(powers.most_common(1)[0][0])


def _scenario(
    name: str, sessions_file: str, charger_kw: float, settings: ImportSettings, folder: Path
) -> dict[str, Any]:
    """The scenario's YAML data."""
    if settings.tariff is not None:
        prices: dict[str, Any] = {"kind": "tou", "tariff": settings.tariff, "period": "by-date"}
    else:
        assert settings.prices_file is not None
        prices = {
            "kind": "file",
            "path": os.path.relpath(settings.prices_file.resolve(), folder.resolve()),
            "currency": settings.currency,
            "timezone": settings.timezone,
        }
    log: dict[str, Any] = {
        "files": [sessions_file],
        "format": "csv",
        "timezone": settings.timezone,
        "day_start": settings.day_start,
        "slot_minutes": settings.slot_minutes,
    }
    if settings.exclude_stations:
        log["exclude_stations"] = list(settings.exclude_stations)
    return {
        "name": name,
        "kind": "sessions",
        "description": f"Charging sessions imported by smartcharging from {sessions_file}.",
        "site": {
            "power_levels_kw": [round(share * charger_kw, 6) for share in LEVEL_SHARES],
            "grid_limit_kw": settings.grid_limit_kw,
            "allocation": "proportional",
            "efficiency": 1.0,
        },
        "sessions": log,
        "cost": {
            "model": "physical",
            "wear_cost_per_kw2h": settings.wear_cost_per_kw2h,
            "shortfall_cost_per_kwh": settings.shortfall_cost_per_kwh,
        },
        "prices": prices,
        "forecast_slots": settings.forecast_slots,
    }


def _write_rejections(path: Path, rejections: Sequence[Rejection]) -> None:
    """Every refused row: file, line, kind, reason."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "line", "kind", "reason"])
    writer.writerows((r.source, r.line, r.kind, r.reason) for r in rejections)
    write_atomically(path, lambda temporary: temporary.write_text(text.getvalue()))
