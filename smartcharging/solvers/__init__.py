"""Solvers: one vehicle's exact optimum (`vehicle`) and the depot's bounds and plans (`depot`).

The single-vehicle names are re-exported here, as the package's public entry points."""

from smartcharging.solvers.vehicle.dp import (
    Optimum,
    PolicyValue,
    Solution,
    evaluate_table,
    one_hot,
    solve,
    solve_all,
)
from smartcharging.solvers.vehicle.grid import BatteryGrid, make_grid

__all__ = [
    "BatteryGrid",
    "Optimum",
    "PolicyValue",
    "Solution",
    "evaluate_table",
    "make_grid",
    "one_hot",
    "solve",
    "solve_all",
]
