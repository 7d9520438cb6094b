"""Exact solvers: dynamic programming over the battery grid."""

from smartcharging.solvers.dp import PolicyValue, Solution, evaluate_table, one_hot, solve
from smartcharging.solvers.grid import BatteryGrid, make_grid

__all__ = [
    "BatteryGrid",
    "PolicyValue",
    "Solution",
    "evaluate_table",
    "make_grid",
    "one_hot",
    "solve",
]
