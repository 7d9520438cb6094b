"""What the commands print: the console, progress bars and tables."""

import os
import shutil
import sys

import numpy as np
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.envs.smart_charging import format_clock
from smartcharging.evaluation.v2g import NIGHTS_PER_YEAR, V2gValue
from smartcharging.evaluation.vehicle import PolicyReport
from smartcharging.solvers.vehicle.dp import Optimum

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
#: Tables are never printed narrower than this (their title and caption wrap at it).
MIN_TABLE_WIDTH = 80


def table_width() -> int | None:
    """The width a table must fit in: ``COLUMNS`` if set, else the terminal's when stdout
    is one; None off a terminal (a file or a pipe gets every table at its full width)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def print_table(table: Table) -> None:
    """Print ``table`` on stdout without cutting a cell: whole where it fits (off a
    terminal, always), else as several tables stacked, each with the first column (the
    row's name) and as many of the others as fit; a table of one row, or where not even
    one column fits beside the first, as a list of header and value per row."""
    width = table_width()
    natural = natural_width(table)
    if width is None or natural <= width:
        Console(width=max(natural, MIN_TABLE_WIDTH)).print(table)
        return
    out = Console(width=width)
    for part in narrow_tables(table, width):
        out.print(part)
    if table.caption:  # once, at the full width, below the last part
        out.print(table.caption, style="table.caption")


def natural_width(table: Table) -> int:
    """The width ``table`` takes when nothing in it is wrapped or cut."""
    wide = Console(width=100_000)
    return Measurement.get(wide, wide.options, table).maximum


def narrow_tables(table: Table, width: int) -> list[Table]:
    """``table`` as tables of at most ``width`` columns each, its title on the first,
    without its caption (see :func:`print_table`)."""
    if len(table.rows) == 1:  # one row reads best as a list
        return _records(table)
    key, *others = table.columns
    groups: list[list[Column]] = []
    for column in others:
        if groups and natural_width(_part(table, [key, *groups[-1], column])) <= width:
            groups[-1].append(column)
        else:
            groups.append([column])
    parts = [_part(table, [key, *group]) for group in groups]
    if all(natural_width(part) <= width for part in parts):
        parts[0].title = table.title
        return parts
    return _records(table)


def _part(table: Table, columns: list[Column]) -> Table:
    """A table of some of ``table``'s columns, with every row, no title or caption."""
    part = Table(
        *(column.copy() for column in columns),
        box=table.box,
        padding=table.padding,
        show_edge=table.show_edge,
        highlight=table.highlight,
    )
    cells = [list(column.cells) for column in columns]
    for index, row in enumerate(table.rows):
        part.add_row(*(column[index] for column in cells), style=row.style)
    return part


def _records(table: Table) -> list[Table]:
    """Each row of ``table`` as a two-column table of header and value, folded at the
    console's width rather than cut; the first is titled with the table's title."""
    key, *others = table.columns
    keys = [str(name) for name in key.cells]
    records = []
    for index, name in enumerate(keys):
        title = f"{table.title}: {name}" if index == 0 and table.title else name
        record = Table(
            Column(overflow="fold"),
            Column(justify="right", overflow="fold"),
            title=title,
            show_header=False,
            box=box.SIMPLE,
        )
        for column in others:
            record.add_row(column.header, list(column.cells)[index])
        records.append(record)
    return records


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
    kw = "kW, negative: discharging" if config.v2g else "kW"
    title = f"Optimal power ({kw}) by battery level at slot start" + (
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
    """Optimal expected return per price row: the ``shown`` best and worst days (every day
    if there are at most twice as many), best first."""
    config = optimum.config
    order = np.argsort(optimum.profile_returns)
    which = (
        f"the {shown} best and the {shown} worst of {config.n_profiles} days"
        if config.n_profiles > 2 * shown
        else f"all {config.n_profiles} days, best first"
    )
    table = Table(title=f"Optimum per price day: {which}", box=box.SIMPLE_HEAD)
    table.add_column("day")
    table.add_column(f"optimal expected return ({config.currency})", justify="right")
    picks = dict.fromkeys([*order[-shown:][::-1], *order[:shown][::-1]])  # each day once
    for i in picks:
        table.add_row(config.profile_labels[i], f"{optimum.profile_returns[i]:.4f}")
    return table


def problem_line(config: ChargingConfig) -> str | None:
    """What kind of problem a V2G configuration is (None for charge-only ones)."""
    if not config.v2g:
        return None
    unit = f" {config.currency}" if config.currency else ""
    if config.export_tariff_per_kwh is not None:
        paid = f"a feed-in tariff of {config.export_tariff_per_kwh:g}{unit}/kWh"
    elif config.export_fee_per_kwh:
        paid = f"the slot's price minus a fee of {config.export_fee_per_kwh:g}{unit}/kWh"
    else:
        paid = "the slot's price"
    levels = ", ".join(f"{power:g}" for power in config.power_levels_kw)
    return (
        f"V2G (vehicle-to-grid) problem: power levels {levels} kW; negative power discharges "
        f"into the grid, down to a {config.reserve_kwh:g} kWh reserve, and exports earn {paid}"
    )


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
        names = ["policy", r"E\[return]", "gap %", "P(run out)", "kWh\nin", "kWh\nout"]
        names += [
            "energy\nnet of exports",
            "wear\n(power)",
            "ageing\n(cycles)",
            "shortfall",
            "left\n(credit)",
        ]
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
