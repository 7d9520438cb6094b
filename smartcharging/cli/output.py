"""What the commands print: the console, progress bars and tables."""

import sys

import numpy as np
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import format_clock
from smartcharging.evaluation.v2g import NIGHTS_PER_YEAR, V2gValue
from smartcharging.evaluation.vehicle import PolicyReport
from smartcharging.solvers.vehicle.dp import Optimum

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
#: For the wider tables (V2G reports have four more columns), off a terminal.
wide_console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 170)


def table_console(config: ChargingConfig) -> Console:
    """The console that prints ``config``'s report tables without cutting numbers."""
    return wide_console if config.v2g_physics else console


def progress_bar(*columns: ProgressColumn, transient: bool = True) -> Progress:
    """A progress bar on stderr (by default: description, bar, count, time), shown only on a
    terminal: in a log or a pipe it would leave a line (or a blank one) before an error
    line, which must stay the only line."""
    stderr = Console(stderr=True)
    return Progress(
        *(columns or (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())),
        *(() if columns else (TimeElapsedColumn(),)),
        console=stderr,
        transient=transient,
        disable=not stderr.is_terminal,
    )


def policy_view(optimum: Optimum, rows: int = 13, columns: int = 12) -> Table:
    """Power of the optimal policy (first price row) at evenly spaced battery levels and
    slots (every slot when there are at most ``columns``)."""
    config = optimum.config
    label = config.profile_labels[0] if config.n_profiles > 1 else ""
    title = "Optimal power (kW) by battery level at slot start" + (
        f" (prices of {label})" if label else ""
    )
    table = Table(title=title, box=box.SIMPLE_HEAD)
    table.add_column("battery", justify="right")
    slots = np.unique(np.linspace(0, config.n_slots - 1, min(columns, config.n_slots)).round())
    for t in slots.astype(int):
        table.add_column(format_clock(config.arrival_hour + t * config.slot_hours), justify="right")
    levels = np.linspace(config.capacity_kwh, 0, rows)
    index = np.rint(np.interp(levels, optimum.grid.levels_kwh, np.arange(optimum.grid.size)))
    for level, i in zip(levels, index.astype(int), strict=True):
        powers = [
            f"{config.power_levels_kw[optimum.policies[0, t, i]]:g}" for t in slots.astype(int)
        ]
        table.add_row(f"{level:.1f} kWh", *powers)
    return table


def profiles_table(optimum: Optimum, shown: int = 5) -> Table:
    """Optimal expected return per price row: the cheapest, the dearest and the spread."""
    config = optimum.config
    order = np.argsort(optimum.profile_returns)
    table = Table(title=f"Optimum per price day ({config.n_profiles} days)", box=box.SIMPLE_HEAD)
    table.add_column("day")
    table.add_column(f"optimal expected return ({config.currency})", justify="right")
    picks = dict.fromkeys([*order[-shown:][::-1], *order[:shown][::-1]])  # each day once
    for i in picks:
        table.add_row(config.profile_labels[i], f"{optimum.profile_returns[i]:.4f}")
    return table


def _mc_cell(row: PolicyReport) -> str:
    mc = row.monte_carlo
    if mc is None:
        return ""
    return f"{mc.mean_return:.3g} ± {(mc.ci_high - mc.ci_low) / 2:.2g}"


def reports_table(reports: list[PolicyReport], title: str, config: ChargingConfig) -> Table:
    """Exact figures per policy; the gap is to the optimum's expected return."""
    physical, bidirectional = config.physical, config.v2g_physics
    unit = f" {config.currency}" if config.currency else ""
    caption = (
        f"exact expected values; costs in{unit}: energy + wear = charging, shortfall at departure"
        if physical
        else "exact expected values; cost excludes the penalty"
    )
    names = ["policy", r"E\[return]", "gap", "gap %", "P(run out)", "kWh"]
    names += ["energy", "wear", "shortfall"] if physical else ["cost"]
    if bidirectional:
        caption = (
            f"exact expected values; costs in{unit}: energy (net of export revenue) + wear + "
            "ageing (cycle ageing) = charging, shortfall at departure, left: credit for the "
            "energy left after the shift; kWh charged in, out"
        )
        names = ["policy", r"E\[return]", "gap %", "P(run out)", "in", "out"]
        names += ["energy", "wear", "ageing", "shortfall", "left"]
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1))
    for name in names:
        table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=True)
    if any(r.monte_carlo for r in reports):
        table.add_column("MC mean ± 95% CI", justify="right", no_wrap=True)
    for row in reports:
        value = row.exact
        cells = [
            row.name,
            f"{value.expected_return:.4g}",
            f"{row.gap:.3g}",
            f"{100 * row.relative_gap:.2f}",
            f"{value.shortfall_probability:.2e}",
            f"{value.expected_energy_kwh:.1f}",
        ]
        if bidirectional:
            del cells[2]
            cells.append(f"{value.expected_discharged_kwh:.1f}")
        if physical:
            cells += [f"{value.expected_energy_cost:.3f}", f"{value.expected_wear_cost:.3f}"]
            if bidirectional:
                cells.append(f"{value.expected_degradation_cost:.3f}")
            cells.append(f"{value.expected_shortfall_cost:.3f}")
            if bidirectional:
                cells.append(f"{value.expected_residual_value:.3f}")
        else:
            cells.append(f"{value.expected_charging_cost:.3g}")
        if row.monte_carlo is not None:
            cells.append(_mc_cell(row))
        table.add_row(*cells)
    return table


def v2g_table(value: V2gValue, config: ChargingConfig) -> Table:
    """The value of V2G per night and per year, split into its parts."""
    unit = config.currency or "currency"
    summary = value.as_dict()
    table = Table(
        title="Value of V2G: exact optimum with V2G minus the optimum without it",
        caption=(
            f"{unit}; positive = gain; {len(value.per_night)} price nights, per year = mean x "
            f"{NIGHTS_PER_YEAR}; export revenue {value.export_revenue:.3f} per night, "
            f"{value.discharged_kwh:.2f} kWh discharged per night; gain on "
            f"{summary['nights_with_gain']} nights, best {summary['best_night']} "
            f"({summary['best_night_value']:.3f})"
        ),
        box=box.SIMPLE_HEAD,
    )
    for name in ("", "per night", "per year"):
        table.add_column(name, justify="left" if not name else "right")
    for name, part in value.parts().items():
        table.add_row(name, f"{part:.4f}", f"{part * NIGHTS_PER_YEAR:.2f}")
    table.add_row("value of V2G", f"{value.total:.4f}", f"{value.per_year:.2f}", style="bold")
    return table
