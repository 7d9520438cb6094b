"""The simulation layer: the physics (``dynamics``), the per-episode random draws
(``episode_draws``), one vehicle's step (``vehicle``), one slot of a depot site (``site``)
and the depot simulator (``depot``).

Everything above it — environments, solvers, evaluation — calls these functions instead of
re-deriving the physics.
"""
