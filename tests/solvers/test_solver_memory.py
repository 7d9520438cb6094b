"""The exact solver's memory estimate holds: a configuration just inside the limit solves
under an address-space cap of the limit, one just outside is refused before allocating."""

import subprocess
import sys

import pytest

from smartcharging.config import ChargingConfig, ConfigError, limits
from smartcharging.solvers.vehicle.grid import make_grid, solver_bytes

LIMIT = 256 * 2**20
SCRIPT = """
import resource, sys
from smartcharging.config import ChargingConfig, ConfigError, limits
from smartcharging.solvers.vehicle.dp import solve_all
from smartcharging.solvers.vehicle.grid import make_grid

limits.MAX_SOLVER_BYTES = {limit}
config = ChargingConfig(**{config!r})
with open("/proc/self/status") as status:
    used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
cap = used + limits.MAX_SOLVER_BYTES
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
try:
    solve_all(config, make_grid(config))
except ConfigError as error:
    sys.exit(f"refused: {{error}}")
print("solved")
"""


def config(capacity_kwh: float) -> dict[str, object]:
    """100 power levels (0 to 9.9 kW) over 16 slots: 40 battery levels per kWh."""
    return {
        "capacity_kwh": capacity_kwh,
        "power_levels_kw": tuple(round(0.1 * i, 1) for i in range(100)),
        "n_slots": 16,
        "demand_mean_kwh": capacity_kwh / 2,
    }


def solve_capped(capacity_kwh: float) -> subprocess.CompletedProcess[str]:
    code = SCRIPT.format(limit=LIMIT, config=config(capacity_kwh))
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "PATH": "/usr/bin:/bin"},
    )


def test_a_config_just_inside_the_memory_limit_solves_within_it() -> None:
    grid_levels = 40 * 250 + 1
    assert 0.9 * LIMIT < solver_bytes(ChargingConfig(**config(250)), grid_levels) <= LIMIT
    result = solve_capped(250)
    assert result.returncode == 0 and result.stdout.strip() == "solved", result.stderr[-2000:]


def test_a_config_just_outside_it_is_refused_naming_its_sizes() -> None:
    result = solve_capped(280)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "refused: the exact solver would need about 0.27 GiB of memory for 11,201 battery "
        "levels x 16 slots x 100 actions: must be at most 0.25 GiB (fewer slots or power "
        "levels, or a capacity and power levels with a coarser common step)"
    ]


def test_a_thousand_power_levels_over_16_slots_is_refused_before_allocating() -> None:
    """Within the work limit (2.56e9 steps), but some 40 GiB: the kernel killed it."""
    levels = tuple(round(0.1 * i, 1) for i in range(1000))
    big = ChargingConfig(capacity_kwh=4000, power_levels_kw=levels, n_slots=16)
    with pytest.raises(ConfigError, match=r"160,001 battery levels x 16 slots x 1000 actions"):
        make_grid(big)
    assert limits.MAX_SOLVER_BYTES == 16 * 2**30
