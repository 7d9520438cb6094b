import numpy as np
import pytest

from smartcharging import ChargingConfig
from smartcharging.policies import (
    AsLateAsPossible,
    AsSoonAsPossible,
    CheapestToQuantile,
    ConstantPolicy,
    RandomPolicy,
    baseline_policies,
    policy_by_name,
)
from smartcharging.solvers import solve_all

CONFIG = ChargingConfig()


def obs(battery: float, t: int) -> np.ndarray:
    return np.array([battery, t], dtype=np.float32)


def test_constant_and_idle() -> None:
    assert ConstantPolicy(CONFIG, 0).name == "idle"
    assert ConstantPolicy(CONFIG, 2).act(obs(10, 3)) == 2
    with pytest.raises(ValueError, match="invalid action 4: must be in 0..3"):
        ConstantPolicy(CONFIG, 4)


def test_asap_charges_full_power_then_the_lowest_power_that_reaches_target() -> None:
    policy = AsSoonAsPossible(CONFIG, 40.0)
    assert policy.act(obs(10, 0)) == 3
    assert policy.act(obs(38, 0)) == 2  # 2 kWh needed: 14 kW adds 3.5
    assert policy.act(obs(39, 5)) == 1  # 1 kWh needed: 7 kW adds 1.75
    assert policy.act(obs(40, 0)) == 0


def test_alap_waits_for_the_last_slot_that_still_reaches_target() -> None:
    policy = AsLateAsPossible(CONFIG, 40.0)
    # 22 kW adds 5.5 kWh per slot: from 10 kWh, 30 kWh need 6 slots (33 kWh)
    assert policy.act(obs(10, 0)) == 0
    assert policy.act(obs(10, 2)) == 2  # 5 later slots add only 27.5: 2.5 kWh now, 14 kW
    assert policy.act(obs(10, 1)) == 0  # 7 slots left, 6 later slots add 33 >= 30


def test_quantile_spreads_energy_at_the_cheapest_power() -> None:
    policy = CheapestToQuantile(CONFIG, 0.99)
    assert policy.target_kwh == pytest.approx(30 + 5 * 2.3263478740408408)
    assert policy.act(obs(30, 0)) == 1  # 11.6 kWh over 8 slots: 1.45 per slot -> 7 kW
    assert policy.act(obs(10, 0)) == 3  # 31.6 / 8 = 3.95 kWh per slot: 14 kW adds 3.5
    with pytest.raises(ValueError, match="quantile=1.5"):
        CheapestToQuantile(CONFIG, 1.5)


def test_random_policy_is_seeded_and_uniform() -> None:
    first = RandomPolicy(CONFIG, 3).actions(np.zeros((1000, 2), np.float32))
    again = RandomPolicy(CONFIG, 3).actions(np.zeros((1000, 2), np.float32))
    assert np.array_equal(first, again)
    assert set(first.tolist()) == {0, 1, 2, 3}
    assert not RandomPolicy(CONFIG).deterministic
    assert np.allclose(RandomPolicy(CONFIG).probabilities(np.zeros((2, 2))), 0.25)


def test_registry_names_and_errors() -> None:
    names = set(baseline_policies(CONFIG))
    assert {"idle", "constant-7kW", "random", "quantile-0.99"} <= names
    assert policy_by_name("optimal", CONFIG, lambda: solve_all(CONFIG)).name == "optimal"
    with pytest.raises(KeyError, match="unknown policy 'nope': choose one of idle"):
        policy_by_name("nope", CONFIG, lambda: solve_all(CONFIG))
