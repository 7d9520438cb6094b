"""`smartcharging scenario list | show | validate`."""

from typing import Any

import typer
from rich import box
from rich.table import Table

from smartcharging.cli.options import USAGE_ERROR, fail
from smartcharging.cli.output import console
from smartcharging.config.depot import DepotConfig
from smartcharging.config.scenarios import (
    ScenarioError,
    builtin_names,
    is_depot_scenario,
    load_depot_scenario,
    load_scenario,
)
from smartcharging.config.vehicle import ChargingConfig, ConfigError
from smartcharging.solvers.vehicle.grid import make_grid

scenario_app = typer.Typer(
    help="List, show and validate scenario files.", no_args_is_help=True, rich_markup_mode=None
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
        table.add_row(name, "depot" if is_depot_scenario(name) else "vehicle", scenario.description)
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
    if isinstance(config, DepotConfig):
        summary = f"depot, {config.n_chargers} chargers, {config.n_slots} slots"
    else:
        summary = f"{config.n_slots} slots, {config.cost_model} cost model"
    console.print(
        f"{path}: valid scenario {scenario.name!r} ({summary}, {config.n_profiles} price row(s))"
    )
