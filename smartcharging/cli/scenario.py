"""`smartcharging scenario list | show | validate | import-sessions`."""

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from smartcharging.cli.options import USAGE_ERROR, describe_os_error, fail
from smartcharging.cli.output import console
from smartcharging.config.depot import DepotConfig
from smartcharging.config.scenarios import (
    ScenarioError,
    builtin_names,
    is_depot_scenario,
    load_depot_scenario,
    load_scenario,
    scenario_kind,
)
from smartcharging.config.vehicle import ChargingConfig, ConfigError
from smartcharging.solvers.vehicle.grid import make_grid

scenario_app = typer.Typer(
    help="List, show and validate scenario files; import session logs as one.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@scenario_app.command("list")
def scenario_list() -> None:
    """The built-in scenarios."""
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("name")
    table.add_column("kind")
    table.add_column("description")
    for name in builtin_names():
        scenario = _scenario_or_exit(name)
        table.add_row(name, scenario_kind(name), scenario.description)
    console.print(table)


def _scenario_or_exit(name_or_path: str) -> Any:
    """A validated scenario of either kind, checked as the commands check it (including the
    exact solver's size for a vehicle), or one error line and exit code 2."""
    try:
        depot = is_depot_scenario(name_or_path)
        scenario: Any = load_depot_scenario(name_or_path) if depot else load_scenario(name_or_path)
        config = scenario.to_config()
        if isinstance(config, ChargingConfig):
            make_grid(config)
    except ScenarioError as error:
        raise fail(str(error), USAGE_ERROR) from None
    except ConfigError as error:  # a parameter the file's values make invalid: name the file
        raise fail(f"{name_or_path}: {error}", USAGE_ERROR) from None
    return scenario


@scenario_app.command("show")
def scenario_show(name: str = typer.Argument(help="Built-in name or YAML file.")) -> None:
    """Print a scenario as YAML (copy it to a file, edit it, validate it)."""
    print(_scenario_or_exit(name).to_yaml(), end="")


@scenario_app.command("validate")
def scenario_validate(path: str = typer.Argument(help="Scenario YAML file.")) -> None:
    """Check a scenario file; one line per outcome, exit code 2 if invalid."""
    scenario = _scenario_or_exit(path)
    config = scenario.to_config()
    if isinstance(config, DepotConfig) and config.sessions is not None:
        cut = scenario.lay_out().summary()
        summary = (
            f"session days, {config.sessions.n_days} days, {config.sessions.n_sessions} "
            f"sessions ({cut['cut']} cut when laid out), {config.n_chargers} stations, "
            f"{config.n_slots} slots"
        )
    elif isinstance(config, DepotConfig):
        summary = f"depot, {config.n_chargers} chargers, {config.n_slots} slots"
    else:
        summary = f"{config.n_slots} slots, {config.cost_model} cost model"
    console.print(
        f"{path}: valid scenario {scenario.name!r} ({summary}, {config.n_profiles} price row(s))"
    )


@scenario_app.command("import-sessions")
def scenario_import_sessions(
    files: list[Path] = typer.Argument(
        help="Session logs: ACN-Data CSV, ACN-Data API JSON, or a plain CSV (arrival, "
        "departure, energy_kwh; optional station_id, requested_energy_kwh, "
        "estimated_departure, max_power_kw, claimed, session_id)."
    ),
    out: Path = typer.Option(..., "--out", help="The scenario file to write (NAME.yaml)."),
    grid_limit_kw: float = typer.Option(..., "--grid-limit-kw", help="Site grid limit (kW)."),
    timezone: str = typer.Option(..., "--timezone", help="Site time zone (IANA name)."),
    charger_kw: float | None = typer.Option(
        None, "--charger-kw", help="Station top power (kW); default: the logs' max_power_kw."
    ),
    tariff: str | None = typer.Option(
        None, "--tariff", help="A shipped TOU tariff (sce-tou-ev-8, sce-tou-ev-4, pge-a-10)."
    ),
    prices: Path | None = typer.Option(
        None, "--prices", help="A price CSV (timestamp,price_per_kwh) instead of a tariff."
    ),
    currency: str = typer.Option("USD", "--currency", help="Currency of --prices."),
    slot_minutes: float = typer.Option(15.0, "--slot-minutes", help="Slot length (minutes)."),
    day_start: str = typer.Option("00:00", "--day-start", help="Local time each day starts."),
    log_format: str = typer.Option("auto", "--format", help="auto, acn-csv, acn-json or csv."),
    exclude_station: list[str] = typer.Option(
        [], "--exclude-station", help="Leave a station's sessions out (repeatable)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing scenario."),
) -> None:
    """Make a scenario of session days from your own charging logs, validated as every
    command loads it; rows left out are listed in NAME.rejections.csv."""
    from smartcharging.sessions.importing import (
        ImportSettings,
        SessionImportError,
        import_sessions,
    )

    settings = ImportSettings(
        grid_limit_kw=grid_limit_kw,
        timezone=timezone,
        charger_kw=charger_kw,
        tariff=tariff,
        prices_file=prices,
        currency=currency,
        slot_minutes=slot_minutes,
        day_start=day_start,
        format=log_format,
        exclude_stations=tuple(exclude_station),
    )
    try:
        report = import_sessions(files, out, settings, overwrite)
    except (SessionImportError, ScenarioError, ConfigError) as error:
        raise fail(str(error), USAGE_ERROR) from None
    except OSError as error:
        raise fail(f"--out {out}: {describe_os_error(error)}", USAGE_ERROR) from None
    from smartcharging.sessions.days import CLIPPED

    def count(number: int, what: str) -> str:
        return f"{number:,} {what}" + ("" if number == 1 else "s")

    def kinds(counts: dict[str, int], skip: tuple[str, ...]) -> str:
        shown = ", ".join(f"{k} {v:,}" for k, v in counts.items() if k not in skip)
        return f" ({shown})" if shown else ""

    read, laid = report.read, report.laid_out
    parts = [
        count(read.get("rejected", 0), "row")
        + " refused on reading"
        + kinds(read, ("kept", "rejected", "adjusted")),
        count(laid.get("cut", 0), "session") + " cut" + kinds(laid, ("kept", "cut", CLIPPED)),
    ]
    if laid.get(CLIPPED):
        parts.append(count(laid[CLIPPED], "stay") + " clipped at the day's end")
    if read.get("adjusted"):
        parts.append(count(read["adjusted"], "stated departure") + " not after arrival dropped")
    console.print(
        f"{report.scenario}: {count(report.sessions, 'session')} on "
        f"{count(report.days, 'day')} at {count(report.stations, 'station')}; "
        + "; ".join(parts)
        + f". Sessions in {report.sessions_file}"
        + (f"; every row left out in {report.rejections_file}" if report.rejections else "")
    )
    for rejection in report.rejections[:5]:
        console.print(f"  {rejection}")
    if len(report.rejections) > 5:
        console.print(f"  ... and {len(report.rejections) - 5:,} more")
