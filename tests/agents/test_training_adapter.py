"""Every engine's learner sees the same problem: one adapter base, one per-charger reward."""

import numpy as np
import pytest

from smartcharging.agents.sb3_depot import SB3ChargerVecEnv
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.config import ChargingConfig
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot_parallel import DepotParallelEnv
from smartcharging.rllib.charger_batch_env import ChargerBatchVectorEnv
from smartcharging.rllib.vehicle_env import VehicleTrainingVectorEnv


@pytest.mark.parametrize("adapter", [SB3BatchVecEnv, VehicleTrainingVectorEnv])
def test_every_vehicle_adapter_refuses_a_reward_scale_that_overflows(adapter) -> None:
    with pytest.raises(ValueError, match=r"invalid reward_scale=1e-25 .*MAX_SCALED_COST"):
        adapter(ChargingConfig(), 4, reward_scale=1e-25)


def test_sb3_and_rllib_vehicle_adapters_give_the_learner_the_same_rewards() -> None:
    """Same seeds, same actions: the same scaled observations and rewards on both engines
    (SB3 resets a departing copy in the same step, RLlib in the next)."""
    config = ChargingConfig()
    sb3, rllib = SB3BatchVecEnv(config, 4), VehicleTrainingVectorEnv(config, 4)
    sb3.seed(7)
    first = sb3.reset()
    observations, _ = rllib.reset(seed=[7, 8, 9, 10])
    np.testing.assert_array_equal(first, observations)
    actions = np.array([0, 1, 2, 3])
    for _ in range(config.n_slots):
        sb3.step_async(actions)
        _, sb3_rewards, _, _ = sb3.step_wait()
        _, rllib_rewards, _, _, _ = rllib.step(actions)
        np.testing.assert_array_equal(sb3_rewards, rllib_rewards)


def test_every_charger_view_pays_each_charger_the_same_reward(small_depot) -> None:
    config = small_depot()
    sb3, rllib = SB3ChargerVecEnv(config, 1), ChargerBatchVectorEnv(config, 1)
    parallel = DepotParallelEnv(config=config)
    sb3.seed(3)
    sb3.reset()
    rllib.reset(seed=3)
    parallel.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(config.n_slots):
        levels = rng.integers(0, config.n_actions, size=config.n_chargers)
        sb3.step_async(levels)
        _, sb3_rewards, _, _ = sb3.step_wait()
        _, rllib_rewards, _, _, _ = rllib.step(levels)
        actions = {f"charger_{i}": int(level) for i, level in enumerate(levels)}
        _, rewards, _, _, _ = parallel.step(actions)
        raw = np.array([rewards[f"charger_{i}"] for i in range(config.n_chargers)])
        np.testing.assert_array_equal(sb3_rewards, rllib_rewards)
        np.testing.assert_allclose(sb3_rewards, raw / sb3.reward_scale, rtol=1e-6)


def test_charger_rewards_of_one_depot_and_of_a_batch_agree() -> None:
    class Depot:
        n_chargers = 2

    info = {
        "wear_cost": np.array([[1.0, 2.0], [0.5, 0.0]]),
        "shortfall_cost": np.array([[0.0, 4.0], [0.0, 0.0]]),
        "energy_cost_share": np.array([[3.0, 1.0], [2.0, 2.0]]),
        "demand_charge": np.array([2.0, 0.0]),
    }
    batch = charger_rewards(Depot(), info)  # type: ignore[arg-type]
    np.testing.assert_array_equal(batch, [[-5.0, -8.0], [-2.5, -2.0]])
    one = {key: value[0] for key, value in info.items()}
    np.testing.assert_array_equal(charger_rewards(Depot(), one), batch[0])  # type: ignore[arg-type]
