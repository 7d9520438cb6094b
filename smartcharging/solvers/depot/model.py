"""The depot's linear programs, built from named variables and rules.

Every depot program (the hindsight bound, the expected-cost plan that MPC re-solves and
the Lagrangian bound starts from, with or without V2G) is a :class:`LinearModel`: blocks of
variables added by name with their bounds and costs, and blocks of constraint rows added by
the rules below. A program reads as the list of rules it uses, so a new site rule is one
function here.

The rules, each stated on the columns it is given:

* :func:`segments`: the energy segments between charger levels and their chord wear slopes
  (the plan's piecewise-linear wear, exact at every level);
* :func:`add_wear_tangents`: wear ``c * e**2 / h`` bounded below by its tangents at the
  levels (the bounds' wear, below the true wear everywhere);
* :func:`add_departure_tangents`: a vehicle's expected departure cost bounded below by its
  tangents at demand quantiles;
* :func:`add_peak`: the peak import at least every slot's import;
* the site rows (energy balance, grid limit, export cap) are written by each program from
  the configuration's ``headroom_kw`` and ``export_cap_kw``, where the charge-only and V2G
  balances differ.

HiGHS solves each model (``scipy.optimize.linprog`` when duals are wanted, otherwise
``scipy.optimize.milp``); no commercial solver is involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse


@dataclass
class _RowBlock:
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def count(self) -> int:
        return len(self.low)

    @property
    def equality(self) -> bool:
        return bool(np.array_equal(self.low, self.high))


@dataclass(frozen=True)
class ModelSolution:
    """A solved model: the variables' values, the objective, and each row block's shadow
    prices (what one more unit of its right-hand side is worth; linear programs only)."""

    x: np.ndarray
    objective: float
    columns: dict[str, np.ndarray]
    shadow_prices: dict[str, np.ndarray] = field(default_factory=dict)

    def value(self, name: str) -> np.ndarray:
        """The values of the variable block ``name``."""
        return self.x[self.columns[name]]


class LinearModel:
    """A linear (or mixed-integer) program of named variable and row blocks, minimised."""

    def __init__(self) -> None:
        self._columns: dict[str, np.ndarray] = {}
        self._cost: list[np.ndarray] = []
        self._low: list[np.ndarray] = []
        self._high: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._rows: dict[str, _RowBlock] = {}
        self.n_variables = 0

    def variables(
        self,
        name: str,
        count: int,
        low: float | np.ndarray = 0.0,
        high: float | np.ndarray = np.inf,
        cost: float | np.ndarray = 0.0,
        integer: bool = False,
    ) -> np.ndarray:
        """Add ``count`` variables called ``name``; returns their column indices."""
        if name in self._columns:
            raise ValueError(f"variable block {name!r} exists")
        columns = np.arange(self.n_variables, self.n_variables + count)
        self._columns[name] = columns
        self._cost.append(np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,)).copy())
        self._low.append(np.broadcast_to(np.asarray(low, dtype=np.float64), (count,)).copy())
        self._high.append(np.broadcast_to(np.asarray(high, dtype=np.float64), (count,)).copy())
        self._integer.append(np.full(count, 1.0 if integer else 0.0))
        self.n_variables += count
        return columns

    def columns(self, name: str) -> np.ndarray:
        return self._columns[name]

    def add_cost(self, columns: np.ndarray, values: float | np.ndarray) -> None:
        """Add ``values`` to the cost of ``columns`` (repeated columns add up)."""
        cost = np.concatenate(self._cost)
        np.add.at(cost, np.asarray(columns), values)
        self._cost = [cost]

    def rows(
        self,
        name: str,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: float | np.ndarray,
        low: float | np.ndarray = -np.inf,
        high: float | np.ndarray = np.inf,
        count: int | None = None,
    ) -> None:
        """Add the row block ``name``: ``low <= A x <= high`` with ``A[rows, cols] = vals``
        (``rows`` counted from the block's first row; ``count`` rows, by default as many as
        ``low`` or ``high`` has values)."""
        if name in self._rows:
            raise ValueError(f"row block {name!r} exists")
        if count is None:
            sizes = [np.size(bound) for bound in (low, high) if np.ndim(bound) > 0]
            if not sizes:
                raise ValueError(f"row block {name!r}: give count or an array of bounds")
            count = sizes[0]
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        self._rows[name] = _RowBlock(
            rows,
            cols,
            np.broadcast_to(np.asarray(vals, dtype=np.float64), rows.shape).copy(),
            np.broadcast_to(np.asarray(low, dtype=np.float64), (count,)).copy(),
            np.broadcast_to(np.asarray(high, dtype=np.float64), (count,)).copy(),
        )

    def _matrix(self, blocks: list[_RowBlock]) -> sparse.csr_array:
        offsets = np.cumsum([0] + [b.count for b in blocks])
        data = (
            np.concatenate([b.vals for b in blocks]),
            (
                np.concatenate([b.rows + o for b, o in zip(blocks, offsets, strict=False)]),
                np.concatenate([b.cols for b in blocks]),
            ),
        )
        return sparse.csr_array(data, shape=(int(offsets[-1]), self.n_variables))

    def solve(
        self,
        duals: bool = False,
        time_limit_s: float | None = None,
        mip_rel_gap: float | None = None,
    ) -> ModelSolution | None:
        """Minimise with HiGHS; None if it finds no optimum. With ``duals`` (linear
        programs only) every row block's shadow prices are reported: equality blocks and
        ``<=`` blocks (``low`` all ``-inf``) are passed to ``linprog`` as written."""
        cost, low, high = (np.concatenate(p) for p in (self._cost, self._low, self._high))
        integrality = np.concatenate(self._integer)
        options: dict[str, float] = {}
        if time_limit_s is not None:
            options["time_limit"] = float(time_limit_s)
        blocks = list(self._rows.values())
        if not duals:
            if mip_rel_gap is not None:
                options["mip_rel_gap"] = mip_rel_gap
            constraint = optimize.LinearConstraint(
                self._matrix(blocks),
                np.concatenate([b.low for b in blocks]),
                np.concatenate([b.high for b in blocks]),
            )
            result = optimize.milp(
                cost,
                constraints=constraint,
                integrality=integrality,
                bounds=optimize.Bounds(low, high),
                options=options,
            )
            if result.status != 0 or result.x is None:
                return None
            return ModelSolution(result.x, float(result.fun), dict(self._columns))
        if integrality.any():
            raise ValueError("duals are only defined for linear programs")
        equal = [b for b in blocks if b.equality]
        below = [b for b in blocks if not b.equality]
        if any(np.isfinite(b.low).any() for b in below):
            raise ValueError("with duals, inequality rows must be written as <= rows")
        result = optimize.linprog(
            cost,
            A_ub=self._matrix(below) if below else None,
            b_ub=np.concatenate([b.high for b in below]) if below else None,
            A_eq=self._matrix(equal) if equal else None,
            b_eq=np.concatenate([b.low for b in equal]) if equal else None,
            bounds=np.column_stack([low, high]),
            method="highs",
            options=options,
        )
        if result.status != 0 or result.x is None:
            return None
        prices: dict[str, np.ndarray] = {}
        for kind, group in (("eqlin", equal), ("ineqlin", below)):
            marginals = -np.asarray(getattr(result, kind).marginals) if group else np.zeros(0)
            start = 0
            for name, block in self._rows.items():
                if any(block is b for b in group):
                    prices[name] = marginals[start : start + block.count]
                    start += block.count
        return ModelSolution(result.x, float(result.fun), dict(self._columns), prices)


def window_cells(
    first: np.ndarray, last: np.ndarray, n_slots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (vehicle, slot) cells where each vehicle is planned (``first <= slot < last``),
    vehicle by vehicle: their flat index ``vehicle * n_slots + slot``, vehicle and slot."""
    slot = np.arange(n_slots)
    window = (slot[None, :] >= np.asarray(first)[:, None]) & (
        slot[None, :] < np.asarray(last)[:, None]
    )
    cells = np.flatnonzero(window.ravel())
    vehicle_of, slot_of = np.divmod(cells, n_slots)
    return cells, vehicle_of, slot_of


def add_cumulative_rows(
    model: LinearModel,
    name: str,
    vehicle_of: np.ndarray,
    columns: np.ndarray,
    values: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    own: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """``low[v] <= (sum of the vehicle's cells up to this one) + own term <= high[v]``
    after every cell: the battery path of each vehicle. Cells come vehicle by vehicle in
    slot order; a cell's energy is ``values[c] @ x[columns[c]]`` (both ``(cells, terms)``),
    and ``own = (column, value)`` adds ``value[c] * x[column[c]]`` to cell ``c``'s row."""
    rows, cols, vals = [], [], []
    first_of = np.flatnonzero(np.r_[True, vehicle_of[1:] != vehicle_of[:-1]])
    for first, end in zip(first_of, [*first_of[1:], len(vehicle_of)], strict=True):
        row, cell = np.tril_indices(end - first)
        rows.append(np.repeat(first + row, columns.shape[1]))
        cols.append(columns[first + cell].ravel())
        vals.append(values[first + cell].ravel())
    if own is not None:
        rows.append(np.arange(len(vehicle_of)))
        cols.append(own[0])
        vals.append(own[1])
    model.rows(
        name,
        np.concatenate([*rows, np.zeros(0, np.int64)]),
        np.concatenate([*cols, np.zeros(0, np.int64)]),
        np.concatenate([*vals, np.zeros(0)]),
        low=low[vehicle_of],
        high=high[vehicle_of],
        count=len(vehicle_of),
    )


def add_group_sums(
    model: LinearModel,
    name: str,
    group_of: np.ndarray,
    columns: np.ndarray,
    values: np.ndarray,
    groups: int,
    extra: list[tuple[np.ndarray, float]],
    low: np.ndarray | float,
    high: np.ndarray | float,
) -> None:
    """One row per group (a slot: the site; a vehicle: its total): ``low <= sum of the
    terms of the group's cells + sum of value * x[column[group]] over extra <= high``
    (cells' terms as in :func:`add_cumulative_rows`)."""
    group = np.arange(groups)
    terms = columns.shape[1]
    model.rows(
        name,
        np.concatenate([np.repeat(group_of, terms), *(group for _ in extra)]),
        np.concatenate([columns.ravel(), *(column for column, _ in extra)]),
        np.concatenate([values.ravel(), *(np.full(groups, value) for _, value in extra)]),
        low=low,
        high=high,
        count=groups,
    )


def segments(levels_kw: np.ndarray, hours: float, wear: float) -> tuple[np.ndarray, np.ndarray]:
    """Widths (kWh) and chord wear slopes of the energy segments between 0 and each of the
    power levels ``levels_kw`` (magnitudes): the wear ``c * e**2 / h`` is exact at every
    level and linear between them, and the slopes rise, so segments fill in order."""
    edges = np.concatenate([[0.0], np.sort(levels_kw)]) * hours
    return np.diff(edges), wear / hours * (edges[1:] + edges[:-1])


def add_wear_tangents(
    model: LinearModel,
    name: str,
    energy: np.ndarray,
    wear: np.ndarray,
    levels_kw: np.ndarray,
    hours: float,
    coefficient: float,
) -> None:
    """``wear[j] >= c * energy[j]**2 / h`` replaced by its tangents at the slot energies of
    ``levels_kw``: one row per column pair and level, pairs first."""
    energies = np.asarray(levels_kw, dtype=np.float64) * hours
    pairs, k = len(energy), len(energies)
    index = np.arange(pairs * k)
    model.rows(
        name,
        np.concatenate([index, index]),
        np.concatenate([np.repeat(energy, k), np.repeat(wear, k)]),
        np.concatenate([np.tile(2 * coefficient * energies / hours, pairs), -np.ones(pairs * k)]),
        high=np.tile(coefficient * energies**2 / hours, pairs),
    )


def add_departure_tangents(
    model: LinearModel,
    name: str,
    level_columns: list[np.ndarray],
    cost: np.ndarray,
    slope: np.ndarray,
    high: np.ndarray,
) -> None:
    """``slope[v, j] * level_v - cost[v] <= high[v, j]`` for every vehicle ``v`` and
    tangent ``j``, where ``level_v`` is the sum of the columns ``level_columns[v]``: a
    convex departure cost of the vehicle's final level replaced by the maximum of its
    tangents (``high`` holds each tangent's value and point). Rows vehicle by vehicle within
    each tangent."""
    vehicles, tangents = slope.shape
    counts = np.array([len(c) for c in level_columns])
    columns = np.concatenate([*level_columns, np.zeros(0, np.int64)]).astype(np.int64)
    owner = np.repeat(np.arange(vehicles), counts)
    rows, cols, vals = [], [], []
    for j in range(tangents):
        base = j * vehicles
        rows += [base + owner, base + np.arange(vehicles)]
        cols += [columns, cost]
        vals += [slope[owner, j], -np.ones(vehicles)]
    model.rows(
        name, np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), high=high.T.ravel()
    )


def add_peak(model: LinearModel, imports: np.ndarray, peak: int, hours: float) -> None:
    """``imports[t] / h <= peak`` for every slot (the demand charge's peak power)."""
    n = len(imports)
    slot = np.arange(n)
    model.rows(
        "peak",
        np.concatenate([slot, slot]),
        np.concatenate([imports, np.full(n, peak)]),
        np.concatenate([np.full(n, 1.0 / hours), -np.ones(n)]),
        high=np.zeros(n),
    )
