"""Session-days benchmark (the Caltech ACN-Data scenarios): importing a period of sessions,
replaying a year of session days in the batch depot, and `compare` on a held-out day with
both bounds and MPC.

* **import**: `scenario import-sessions` of the 2019-05..08 period (3,527 sessions), seconds.
* **replay**: 365 session days of caltech-2019 stepped at once in the batch depot under
  full-power actions, days per second; the in-run reference is the scalar depot stepping
  the same number of days (the ratio says what batching buys on this machine).
* **compare**: every baseline, the decomposition and MPC on the busiest day of caltech-2021
  (the test period) and of caltech-2019 (busier: about 50 sessions at 53 stations), with
  both bounds, seconds.

    python benchmarks/sessions.py [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.envs.depot import DepotEnv
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.evaluation.depot import compare_depot
from smartcharging.policies.depot import depot_baselines
from smartcharging.policies.depot_planning import planning_policies
from smartcharging.sessions.importing import ImportSettings, import_sessions

ACN = Path(__file__).parents[1] / "smartcharging" / "data" / "acn"


def import_seconds() -> tuple[float, int]:
    """Seconds to import one period of ACN-Data, and the sessions kept."""
    settings = ImportSettings(
        grid_limit_kw=150, timezone="America/Los_Angeles", charger_kw=6.656, tariff="sce-tou-ev-8"
    )
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        report = import_sessions(
            [ACN / "caltech_2019-05-01_2019-08-31.csv.gz"], Path(folder) / "c.yaml", settings
        )
        return time.perf_counter() - start, report.laid_out["kept"]


def replay_days_per_second(days: int) -> tuple[float, float]:
    """Days per second of the batch depot and of the scalar depot (full power)."""
    config = load_depot_scenario("caltech-2019").to_config()
    full = np.full(config.n_chargers, config.n_actions - 1, dtype=np.int64)
    batch = DepotVectorEnv(num_envs=days, config=config)
    start = time.perf_counter()
    batch.reset(seed=0)
    actions = np.broadcast_to(full, (days, config.n_chargers)).copy()
    for _ in range(config.n_slots):
        batch.step(actions)
    batch_rate = days / (time.perf_counter() - start)
    scalar = DepotEnv(config=config)
    start = time.perf_counter()
    for day in range(days):
        scalar.reset(seed=day)
        for _ in range(config.n_slots):
            scalar.step(full)
    return batch_rate, days / (time.perf_counter() - start)


def busiest_seed(config: object, candidates: int = 200) -> tuple[int, int]:
    """The seed (of the first ``candidates``) whose first episode has the most sessions."""
    env = DepotEnv(config=config)  # type: ignore[arg-type]
    best = (0, -1)
    for seed in range(candidates):
        env.reset(seed=seed)
        count = len(env.simulator.visits[0])
        if count > best[1]:
            best = (seed, count)
    return best


def compare_seconds(scenario: str) -> dict[str, float | int]:
    """`compare` of every depot policy on the busiest day of ``scenario`` found in 200
    draws, with both bounds."""
    config = load_depot_scenario(scenario).to_config()
    seed, sessions = busiest_seed(config)
    policies = [*depot_baselines(config).values(), *planning_policies(config).values()]
    start = time.perf_counter()
    comparison = compare_depot(config, policies, episodes=1, seed=seed)
    seconds = time.perf_counter() - start
    mpc = next(run for run in comparison.runs if run.name == "mpc")
    return {
        "seconds": seconds,
        "sessions": sessions,
        "stations": config.n_chargers,
        "slots": config.n_slots,
        "mpc_ms_per_step": 1e3 * mpc.seconds_per_step,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds, kept = import_seconds()
    batch, scalar = replay_days_per_second(args.days)
    compare = {name: compare_seconds(name) for name in ("caltech-2021", "caltech-2019")}
    result = {
        "machine": f"{platform.machine()}, {platform.processor() or 'unknown cpu'}",
        "import_seconds": seconds,
        "import_sessions": kept,
        "replay_days_per_second_batch": batch,
        "replay_days_per_second_scalar": scalar,
        "batch_over_scalar": batch / scalar,
        "compare": compare,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"import of one ACN period: {seconds:.2f} s ({kept:,} sessions laid out)")
    print(
        f"replay of {args.days} caltech-2019 days: batch {batch:,.0f} days/s, scalar "
        f"{scalar:,.0f} days/s (x{batch / scalar:.1f})"
    )
    for name, figures in compare.items():
        print(
            f"compare on the busiest {name} day ({figures['sessions']} sessions, "
            f"{figures['stations']} stations, {figures['slots']} slots), every policy and both "
            f"bounds: {figures['seconds']:.1f} s; MPC {figures['mpc_ms_per_step']:.1f} ms per step"
        )


if __name__ == "__main__":
    main()
