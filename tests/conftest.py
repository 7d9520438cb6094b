"""Fixtures shared by the test modules."""

from collections.abc import Callable

import pytest

from smartcharging import DepotConfig
from smartcharging.config.scenarios import load_depot_scenario


def small_depot(**changes) -> DepotConfig:
    params = dict(
        n_chargers=3,
        power_levels_kw=(0.0, 3.7, 11.0),
        grid_limit_kw=15.0,
        slot_hours=0.5,
        n_slots=6,
        capacity_kwh=(40.0, 60.0, 50.0),
        arrival_slots=((0, 1), (0, 0), (1, 2)),
        departure_slots=((4, 6), (5, 5), (3, 6)),
        start_kwh=((5.0, 20.0), (10.0, 10.0), (0.0, 30.0)),
        demand_mean_kwh=(20.0, 25.0, 15.0),
        demand_sd_kwh=(4.0, 3.0, 5.0),
        price_profiles=((0.3, 0.2, 0.1, 0.1, 0.25, 0.4), (0.1, 0.1, 0.3, 0.3, 0.2, -0.05)),
        efficiency=0.9,
        wear_cost_per_kw2h=0.002,
        shortfall_cost_per_kwh=4.0,
        forecast_slots=2,
        pv_kw=(5.0, 4.0, 2.0, 0.0, 0.0, 0.0),
        demand_charge_per_kw=0.05,
    )
    params.update(changes)
    return DepotConfig(**params)


@pytest.fixture(name="small_depot", scope="session")
def small_depot_factory() -> Callable[..., DepotConfig]:
    """A 3-charger depot with PV, two price rows and a limit that binds; keyword arguments
    override its fields."""
    return small_depot


def named_depot(name: str) -> DepotConfig:
    """``small``, ``small-priority`` (the small depot, earliest departure first under a
    tighter limit) or a built-in depot scenario."""
    if name == "small":
        return small_depot()
    if name == "small-priority":
        return small_depot(allocation="priority", grid_limit_kw=8.0)
    return load_depot_scenario(name).to_config()


@pytest.fixture(name="named_depot", scope="session")
def named_depot_factory() -> Callable[[str], DepotConfig]:
    """Depot configurations by name (see :func:`named_depot`)."""
    return named_depot
