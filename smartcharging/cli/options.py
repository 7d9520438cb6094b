"""Environment options shared by the commands, and turning them into a configuration."""

import functools
import inspect
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from smartcharging.agents.run_directory import RunError
from smartcharging.config.depot import DepotConfig
from smartcharging.config.scenarios import (
    ScenarioError,
    is_depot_scenario,
    load_depot_scenario,
    load_scenario,
)
from smartcharging.config.validation import shorten
from smartcharging.config.vehicle import ChargingConfig, ConfigError
from smartcharging.rllib.session import check_address


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class OutputError(Exception):
    """An output folder cannot be made or written: printed as one line, exit code 1."""


#: Exit status of a usage error (a bad option, value, scenario or run directory).
USAGE_ERROR = 2
#: Exit status of an environment error (a file system or memory problem).
ENVIRONMENT_ERROR = 1
#: Exit status of a Ctrl-C (128 + SIGINT), as the README's exit-code table says.
INTERRUPTED = 130


def print_json(data: object) -> None:
    """Print ``data`` as one line of JSON. NaN and Infinity are not JSON: a result that
    holds one is an error (exit 1), never printed."""
    try:
        line = json.dumps(data, allow_nan=False)
    except ValueError:
        raise fail(
            "a result is not a finite number (NaN or Infinity), so it cannot be printed as "
            "JSON: please report the command and its inputs",
            ENVIRONMENT_ERROR,
        ) from None
    print(line)


def fail(message: str, code: int) -> typer.Exit:
    """Print ``message`` as one error line on stderr (line breaks inside it, as some
    libraries' messages have, become spaces); the ``typer.Exit`` to raise."""
    line = " ".join(message.split())
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(line)}", highlight=False
    )
    return typer.Exit(code=code)


def describe_os_error(error: OSError) -> str:
    """An OSError as one line naming the file and the problem."""
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def check_output_folder(option: str, folder: Path) -> None:
    """Refuse, before any work, an output folder that cannot be made or written: a file, a
    path through a file, or one whose nearest existing folder is not writable (tried by
    creating and deleting a temporary file there). Missing parents are created later, as
    ``mkdir -p`` does."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        where = (
            "is a file" if existing == folder.absolute() else f"goes through the file {existing}"
        )
        raise OutputError(f"{option} {folder}: {where}, not a directory")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise OutputError(
            f"{option} {folder}: cannot write in {existing}: {error.strerror or error}"
        ) from None


def refuse_with_resume(given: dict[str, bool]) -> None:
    """Refuse the first option of ``given`` (option name → whether the user set it): a
    resumed run or tuning would ignore it, as it keeps the settings it was started with."""
    clashing = [name for name, set_ in given.items() if set_]
    if clashing:
        raise CliError(
            f"{clashing[0]} cannot be combined with --resume: a resumed run keeps the "
            "settings it was started with (its run.json or tune.json)"
        )


#: CLI option → ChargingConfig field, so config errors can name the option the user typed.
OPTION_FIELDS = {
    "capacity": ("--capacity", "capacity_kwh"),
    "power_levels": ("--power-levels", "power_levels_kw"),
    "slots": ("--slots", "n_slots"),
    "slot_hours": ("--slot-hours", "slot_hours"),
    "demand_mean": ("--demand-mean", "demand_mean_kwh"),
    "demand_sd": ("--demand-sd", "demand_sd_kwh"),
    "penalty_factor": ("--penalty-factor", "penalty_factor"),
    "start_min": ("--start-min", "start_min_kwh"),
    "start_max": ("--start-max", "start_max_kwh"),
    "start_step": ("--start-step", "start_step_kwh"),
}

#: Option name → (type, help). Every default is None: "take the scenario's value" (the
#: seed scenario's unless --scenario names another).
_ENV_HELP: dict[str, tuple[Any, str]] = {
    "capacity": (float | None, "Battery capacity (kWh) [seed: 72]."),
    "power_levels": (
        str | None,
        "Charger power of each action (kW), comma-separated [seed: 0,7,14,22].",
    ),
    "slots": (int | None, "Charging slots before departure [seed: 8]."),
    "slot_hours": (float | None, "Length of one slot (hours) [seed: 0.25]."),
    "demand_mean": (float | None, "Mean next-shift energy demand (kWh) [seed: 30]."),
    "demand_sd": (float | None, "Standard deviation of the demand (kWh) [seed: 5]."),
    "penalty_factor": (
        float | None,
        "Running out costs the worst charging bill times this [seed: 10].",
    ),
    "start_min": (float | None, "Lowest arrival battery level (kWh) [seed: 0]."),
    "start_max": (float | None, "Highest arrival level (kWh) [seed: capacity]."),
    "start_step": (float | None, "Spacing of the uniform arrival levels (kWh) [seed: 1]."),
}


def _parse_power_levels(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise CliError(
            f"--power-levels {shorten(repr(text))}: must be comma-separated numbers such as "
            "0,7,14,22"
        ) from None


def config_from_options(scenario: str | None, **options: Any) -> ChargingConfig:
    """The scenario's config (the seed's by default) with the options the user set,
    validated; an error names the option."""
    params = {
        field: options[name]
        for name, (_, field) in OPTION_FIELDS.items()
        if options[name] is not None
    }
    if options["power_levels"] is not None:
        params["power_levels_kw"] = _parse_power_levels(options["power_levels"])
    if "start_max_kwh" not in params and ("capacity_kwh" in params or "start_step_kwh" in params):
        params["start_max_kwh"] = None  # recomputed from the new capacity or step
    try:
        return load_scenario(scenario or "seed").to_config(**params)
    except ScenarioError as error:
        raise CliError(f"--scenario: {error}") from None
    except ConfigError as error:
        option = next(
            (flag for flag, field in OPTION_FIELDS.values() if field == error.field), None
        )
        raise CliError(f"{option}: {error}" if option else str(error)) from None


def _depot_config(
    scenario: str | None, env: dict[str, Any], takes_depots: bool, command: str
) -> DepotConfig | None:
    """The depot configuration if ``scenario`` is a depot scenario, else None."""
    if scenario is None:
        return None
    try:
        if not is_depot_scenario(scenario):
            return None
        if not takes_depots:
            name = command.removesuffix("_command")
            raise CliError(
                f"--scenario {scenario} is a depot scenario: `smartcharging {name}` works on "
                "single-vehicle scenarios; use compare or evaluate"
            )
        given = [OPTION_FIELDS[name][0] for name, value in env.items() if value is not None]
        if given:
            raise CliError(
                f"{given[0]} does not apply to a depot scenario: edit a copy of the "
                "scenario file instead"
            )
        return load_depot_scenario(scenario).to_config()
    except ScenarioError as error:
        raise CliError(f"--scenario: {error}") from None


def env_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the environment options to a command; it receives them as ``config``."""
    extra = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, OPTION_FIELDS[name][0], help=text, show_default=False),
            annotation=kind,
        )
        for name, (kind, text) in _ENV_HELP.items()
    ]
    extra.insert(
        0,
        inspect.Parameter(
            "scenario",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None,
                "--scenario",
                help="Built-in scenario name or YAML file "
                "(see `smartcharging scenario list`); options override it.",
                show_default=False,
            ),
            annotation=str | None,
        ),
    )
    parameters = inspect.signature(command).parameters
    own = [p for p in parameters.values() if p.name not in ("config", "depot")]
    takes_depots = "depot" in parameters

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        env = {name: kwargs.pop(name) for name in _ENV_HELP}
        scenario = kwargs.pop("scenario")
        try:
            if kwargs.get("resume") is not None:
                given = {"--scenario": scenario is not None}
                given.update({OPTION_FIELDS[k][0]: v is not None for k, v in env.items()})
                refuse_with_resume(given)
            depot = _depot_config(scenario, env, takes_depots, command.__name__)
            if depot is not None:
                command(config=None, depot=depot, **kwargs)
            elif takes_depots:
                command(config=config_from_options(scenario, **env), depot=None, **kwargs)
            else:
                command(config=config_from_options(scenario, **env), **kwargs)
        except (
            CliError,
            ConfigError,
            RunError,
            ScenarioError,
            ValueError,
            KeyError,
            ImportError,
        ) as error:
            message = error.args[0] if isinstance(error, KeyError) else str(error)
            raise fail(message, USAGE_ERROR) from None
        except OutputError as error:
            raise fail(str(error), ENVIRONMENT_ERROR) from None
        except OSError as error:
            raise fail(describe_os_error(error), ENVIRONMENT_ERROR) from None
        except MemoryError:
            raise fail("out of memory: ask for fewer copies, episodes or slots", 1) from None

    wrapper.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
    del wrapper.__wrapped__
    return wrapper


def address_option(address: str | None) -> str | None:
    """``--address``, checked before Ray starts (:func:`check_address`)."""
    try:
        return None if address is None else check_address(address)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
