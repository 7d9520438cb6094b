"""Exact solvers: dynamic programming over the battery grid."""

from smartcharging.solvers.dp import (
    Optimum,
    PolicyValue,
    Solution,
    evaluate_table,
    one_hot,
    solve,
    solve_all,
)
from smartcharging.solvers.grid import BatteryGrid, make_grid

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
