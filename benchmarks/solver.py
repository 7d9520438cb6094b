"""Exact-solver timings: the seed problem, a 10,000-level x 96-slot x 4-action problem,
the overnight NL day-ahead scenario for one date and for every date of 2024, and its V2G
version (v2g-overnight-nl: 5 levels, two of them discharging) beside the same van with its
charge-only levels.

The reference in the same run is the textbook form of the same backward induction, a
Python loop over states and actions calling the same ``dynamics`` functions on floats; the
ratio says how much the vectorised solver gains on this machine.

    python benchmarks/solver.py [--repeats R] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

from scipy import stats

from smartcharging import ChargingConfig
from smartcharging.config.scenarios import scenario_config
from smartcharging.config.seed_costs import cost_rate, shortfall_penalty
from smartcharging.sim import dynamics
from smartcharging.solvers import solve, solve_all
from smartcharging.solvers.vehicle.grid import make_grid

SEED = ChargingConfig()
LARGE = ChargingConfig(capacity_kwh=2499.75, n_slots=96)  # 0.25 kWh grid: 10,000 levels


def loop_solve(config: ChargingConfig) -> float:
    """Backward induction with Python loops: the reference."""
    grid = make_grid(config)
    levels = grid.levels_kwh.tolist()
    rates = cost_rate(config.power_kw).tolist()
    penalty = shortfall_penalty(config.n_slots, config.slot_hours, rates[-1], config.penalty_factor)
    demand = stats.norm(config.demand_mean_kwh, config.demand_sd_kwh)
    values = (-penalty * demand.sf(grid.levels_kwh)).tolist()
    for _ in range(config.n_slots):
        new = []
        for level in levels:
            best = -float("inf")
            for power, rate in zip(config.power_levels_kw, rates, strict=True):
                after, _, hours = dynamics.charge_slot(
                    level, power, config.capacity_kwh, config.slot_hours
                )
                best = max(best, values[round(after / grid.step_kwh)] - hours * rate)
            new.append(best)
        values = new
    starts = [values[round(s / grid.step_kwh)] for s in config.start_levels_kwh]
    return sum(starts) / len(starts)


def best_time(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    seed_s = best_time(args.repeats * 10, lambda: solve(SEED))
    seed_loop_s = best_time(args.repeats, lambda: loop_solve(SEED))
    large = solve(LARGE)
    large_s = best_time(args.repeats, lambda: solve(LARGE))
    overnight = scenario_config("overnight-day-ahead-nl")
    one_date_s = best_time(args.repeats, lambda: solve(overnight, profile=0))
    start = time.perf_counter()
    all_dates = solve_all(overnight)
    all_dates_s = time.perf_counter() - start
    v2g = scenario_config("v2g-overnight-nl")
    charge_only = v2g.without_v2g()
    v2g_one_s = best_time(args.repeats, lambda: solve(v2g, profile=0))
    charge_only_one_s = best_time(args.repeats, lambda: solve(charge_only, profile=0))
    start = time.perf_counter()
    v2g_all = solve_all(v2g)
    v2g_all_s = time.perf_counter() - start
    assert abs(loop_solve(SEED) - solve(SEED).expected_return) < 1e-6 * abs(
        solve(SEED).expected_return
    )
    result = {
        "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        "seed_ms": round(seed_s * 1e3, 3),
        "seed_python_loop_ms": round(seed_loop_s * 1e3, 1),
        "seed_speedup_vs_loop": round(seed_loop_s / seed_s, 1),
        "large_grid": f"{large.grid.size} levels x {LARGE.n_slots} slots x {LARGE.n_actions} "
        "actions",
        "large_ms": round(large_s * 1e3, 1),
        "overnight_grid": all_dates.grid.describe(),
        "overnight_one_date_ms": round(one_date_s * 1e3, 1),
        "overnight_dates": overnight.n_profiles,
        "overnight_all_dates_s": round(all_dates_s, 2),
        "v2g_grid": v2g_all.grid.describe(),
        "v2g_one_night_ms": round(v2g_one_s * 1e3, 1),
        "v2g_charge_only_one_night_ms": round(charge_only_one_s * 1e3, 1),
        "v2g_over_charge_only": round(v2g_one_s / charge_only_one_s, 2),
        "v2g_all_nights_s": round(v2g_all_s, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"machine: {result['machine']}")
    print(f"seed problem (289 levels x 8 slots x 4 actions): {seed_s * 1e3:8.3f} ms")
    print(
        f"  same, Python-loop reference:                   {seed_loop_s * 1e3:8.1f} ms "
        f"({seed_loop_s / seed_s:.0f}x slower)"
    )
    print(f"{result['large_grid']}: {large_s * 1e3:8.1f} ms")
    print(f"overnight-day-ahead-nl ({result['overnight_grid']}, 48 slots):")
    print(f"  one date:  {one_date_s * 1e3:8.1f} ms")
    print(f"  all {overnight.n_profiles} dates: {all_dates_s:8.2f} s")
    print(f"v2g-overnight-nl ({result['v2g_grid']}, 48 slots, 5 levels):")
    print(
        f"  one night: {v2g_one_s * 1e3:8.1f} ms (charge-only levels: "
        f"{charge_only_one_s * 1e3:.1f} ms, {v2g_one_s / charge_only_one_s:.2f}x)"
    )
    print(f"  all {v2g.n_profiles} nights: {v2g_all_s:8.2f} s")


if __name__ == "__main__":
    main()
