"""Solvers of one vehicle's problem: the battery grid and exact backward induction."""
