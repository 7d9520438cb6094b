"""Solvers of the depot's problem: its linear programs (the hindsight bound and the
expected-cost plan that MPC re-solves, built from one model of named rules) and the
Lagrangian bound on the best non-anticipative policy."""
