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
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smartcharging.atomic_files import write_atomically, write_text
from smartcharging.config.scenarios import ScenarioError, SessionScenario, load_depot_scenario
from smartcharging.sessions.csv_writing import write_sessions_csv
from smartcharging.sessions.days import lay_out_days
from smartcharging.sessions.reading import read_sessions
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
    existing scenario or session file there is replaced only with ``overwrite``."""
    scenario_path = Path(out)
    if scenario_path.suffix not in (".yaml", ".yml"):
        raise SessionImportError(f"--out {out}: must name a .yaml file")
    name = scenario_path.stem
    sessions_path = scenario_path.with_name(f"{name}.sessions.csv")
    rejections_path = scenario_path.with_name(f"{name}.rejections.csv")
    for path in (scenario_path, sessions_path):
        if path.exists() and not overwrite:
            raise SessionImportError(f"{path} exists: choose another --out, or --overwrite")
    records: list[SessionRecord] = []
    rejections: list[Rejection] = []
    read = Counter[str]()
    for log_path in files:
        try:
            log = read_sessions(log_path, settings.format, settings.timezone)
        except SessionFileError as error:
            raise SessionImportError(str(error)) from None
        records.extend(log.records)
        rejections.extend(log.rejections)
        read.update(log.summary())
    if not records:
        raise SessionImportError(f"no session could be read ({sum(read.values()):,} rows refused)")
    charger_kw = settings.charger_kw or _common_power(records)
    data = _scenario(name, sessions_path.name, charger_kw, settings, scenario_path.parent)
    folder = scenario_path.parent
    if folder != Path() and not folder.is_dir():
        raise SessionImportError(f"--out {out}: folder {folder} does not exist")
    write_sessions_csv(records, sessions_path)
    write_text(scenario_path, yaml.safe_dump(data, sort_keys=False))
    try:
        scenario = load_depot_scenario(scenario_path)
        assert isinstance(scenario, SessionScenario)
        config = scenario.to_config()
        # the same layout, of the records as read, so that cuts name the logs' own lines
        laid_out = lay_out_days(records, scenario.layout())
    except (ScenarioError, ValueError) as error:
        for path in (scenario_path, sessions_path):
            path.unlink(missing_ok=True)
        raise SessionImportError(str(error)) from None
    everything = tuple(rejections) + tuple(laid_out.cut)
    _write_rejections(rejections_path, everything)
    return ImportReport(
        scenario=scenario_path,
        sessions_file=sessions_path,
        rejections_file=rejections_path,
        read=dict(read),
        laid_out=laid_out.summary(),
        days=config.sessions.n_days if config.sessions is not None else 0,
        stations=config.n_chargers,
        rejections=everything,
    )


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
    if (settings.tariff is None) == (settings.prices_file is None):
        raise SessionImportError("give exactly one of --tariff NAME or --prices FILE.csv")
    if not charger_kw > 0:
        raise SessionImportError(f"--charger-kw {charger_kw}: must be > 0")
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
