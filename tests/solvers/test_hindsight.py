import numpy as np
import pytest

from smartcharging import ChargingConfig
from smartcharging.config.depot import DepotConfig
from smartcharging.config.scenarios import load_depot_scenario, scenario_config
from smartcharging.evaluation.depot import compare_depot, run_policy
from smartcharging.policies.depot import depot_baselines
from smartcharging.solvers.depot.hindsight import Episode, hindsight_bound, limit_can_bind
from smartcharging.solvers.vehicle.dp import hindsight_value
from tests.envs.test_depot_v2g import V2G


class RandomDepotPolicy:
    name = "random"

    def __init__(self, config: DepotConfig) -> None:
        self.config = config
        self.rng = np.random.default_rng(0)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        shape = (len(observations), self.config.n_chargers)
        return self.rng.integers(0, self.config.n_actions, shape)


@pytest.mark.parametrize(
    "name", ["small", "small-priority", "depot-25-evening", "depot-10-overnight"]
)
def test_bound_is_above_every_policy_in_every_episode(named_depot, name: str) -> None:
    config = named_depot(name)
    policies = [*depot_baselines(config).values(), RandomDepotPolicy(config)]
    comparison = compare_depot(config, policies, episodes=6, seed=2)
    for run in comparison.runs:
        assert (comparison.bounds >= run.returns - 1e-7 * np.abs(run.returns)).all(), run.name


def one_vehicle_depot(vehicle: ChargingConfig, start: float, **changes: object) -> DepotConfig:
    """A depot of one charger whose vehicle is ``vehicle``, there for the whole window,
    under a limit that never binds."""
    params: dict[str, object] = {
        "n_chargers": 1,
        "power_levels_kw": vehicle.power_levels_kw,
        "grid_limit_kw": 1000.0,
        "slot_hours": vehicle.slot_hours,
        "n_slots": vehicle.n_slots,
        "capacity_kwh": (vehicle.capacity_kwh,),
        "arrival_slots": ((0, 0),),
        "departure_slots": ((vehicle.n_slots, vehicle.n_slots),),
        "start_kwh": ((start, start),),
        "demand_mean_kwh": (vehicle.demand_mean_kwh,),
        "demand_sd_kwh": (vehicle.demand_sd_kwh,),
        "price_profiles": vehicle.price_profiles,
        "efficiency": vehicle.efficiency,
        "wear_cost_per_kw2h": vehicle.wear_cost_per_kw2h,
        "shortfall_cost_per_kwh": vehicle.shortfall_cost_per_kwh,
    }
    return DepotConfig(**{**params, **changes})


@pytest.mark.parametrize(
    ("start", "demand"), [(10.0, 33.3), (60.0, 30.0), (0.0, 80.0), (71.0, 72.5), (40.0, 41.0)]
)
def test_single_vehicle_bound_equals_the_exact_dp_with_known_demand(start, demand) -> None:
    vehicle: ChargingConfig = scenario_config("tou-evening-peak")
    depot = one_vehicle_depot(vehicle, start, demand_mean_kwh=(30.0,), demand_sd_kwh=(5.0,))
    assert not limit_can_bind(depot)
    episode = Episode(
        np.array([0]), np.array([vehicle.n_slots]), np.array([start]), np.array([demand]), 0
    )
    bound = hindsight_bound(depot, episode)
    assert bound.exact_levels
    assert bound.value == pytest.approx(hindsight_value(vehicle, start, demand), abs=1e-9)


def test_exact_levels_refused_when_the_limit_binds(small_depot) -> None:
    config = small_depot()
    episode = Episode(np.array([0, 0, 1]), np.array([4, 5, 3]), np.zeros(3), np.ones(3), 0)
    with pytest.raises(ValueError, match="only a valid bound when the limit cannot bind"):
        hindsight_bound(config, episode, exact_levels=True)


@pytest.mark.parametrize("name", ["small-v2g", "depot-v2g-peak"])
def test_v2g_bound_is_above_every_policy_and_the_charge_only_bound(small_depot, name) -> None:
    config = small_depot(**V2G) if name == "small-v2g" else load_depot_scenario(name).to_config()
    policies = [*depot_baselines(config).values(), RandomDepotPolicy(config)]
    episodes = 4
    for policy in policies:
        run, drawn = run_policy(policy, config, episodes, seed=5)
        bounds = np.array([hindsight_bound(config, e).value for e in drawn])
        assert (bounds >= run.returns - 1e-7 * np.abs(run.returns)).all(), policy.name
    charge_only = config.without_v2g()
    for episode in drawn:
        assert (
            hindsight_bound(config, episode).value
            >= hindsight_bound(charge_only, episode).value - 1e-9
        )


def test_v2g_single_vehicle_bound_is_above_the_exact_dp_with_known_demand() -> None:
    vehicle = scenario_config("v2g-overnight-nl")
    row = 340  # a night with a wide spread
    depot = one_vehicle_depot(
        vehicle,
        50.0,
        price_profiles=(vehicle.price_profiles[row],),
        v2g=True,
        discharge_efficiency=vehicle.discharge_efficiency,
        reserve_kwh=vehicle.reserve_kwh,
        export_limit_kw=1000.0,
        degradation_cost_per_kwh=vehicle.degradation_cost_per_kwh,
        residual_value_per_kwh=vehicle.residual_value_per_kwh,
    )
    for start, demand in ((50.0, 40.0), (20.0, 60.0), (72.0, 10.0)):
        episode = Episode(
            np.array([0]), np.array([vehicle.n_slots]), np.array([start]), np.array([demand]), 0
        )
        exact = hindsight_value(vehicle, start, demand, profile=row)
        relaxed = hindsight_bound(depot, episode).value
        assert relaxed >= exact - 1e-9
        assert relaxed <= exact + 0.05 * abs(exact) + 0.5  # the LP relaxes levels only
