"""The RLlib views of the environments against the environments they wrap."""

import numpy as np
import pytest

from smartcharging.agents.scaling import depot_reward_scale, training_env
from smartcharging.config import ChargingConfig
from smartcharging.envs.depot import DepotEnv
from smartcharging.envs.smart_charging import SmartChargingEnv
from smartcharging.rllib.charger_batch_env import ChargerBatchVectorEnv
from smartcharging.rllib.depot_multi_agent_env import DepotMultiAgentEnv
from smartcharging.rllib.registration import make_depot_chargers, make_vehicle
from smartcharging.rllib.vehicle_env import VehicleTrainingVectorEnv


@pytest.mark.parametrize("scenario", ["seed", "seed-physical"])
def test_vehicle_batch_env_is_the_training_env_copy_by_copy(scenario: str) -> None:
    """Copy i seeded s + i sees the scalar training env seeded s + i: same scaled
    observations, expected departure cost and scaled rewards, across autoresets."""
    vector = make_vehicle({"scenario": scenario, "num_envs": 3})
    assert isinstance(vector, VehicleTrainingVectorEnv)
    config = vector.config
    scalars = [training_env(SmartChargingEnv(config=config)) for _ in range(3)]
    observations, _ = vector.reset(seed=7)
    expected = [env.reset(seed=7 + i)[0] for i, env in enumerate(scalars)]
    np.testing.assert_allclose(observations, np.stack(expected), rtol=1e-6)
    rng = np.random.default_rng(0)
    restart = np.zeros(3, dtype=bool)
    for _ in range(3 * config.n_slots + 2):
        actions = rng.integers(0, config.n_actions, size=3)
        observations, rewards, terminated, _, info = vector.step(actions)
        assert info == {}
        for i, env in enumerate(scalars):
            if restart[i]:
                first, _ = env.reset()
                np.testing.assert_allclose(observations[i], first, rtol=1e-6)
                assert rewards[i] == 0.0
                continue
            observation, reward, done, _, _ = env.step(int(actions[i]))
            np.testing.assert_allclose(observations[i], observation, rtol=1e-6)
            assert rewards[i] == pytest.approx(reward, rel=1e-5, abs=1e-12)
            assert terminated[i] == done
        restart = terminated.copy()


def test_charger_rewards_add_up_to_the_depot_reward(small_depot) -> None:
    config = small_depot()
    chargers = ChargerBatchVectorEnv(config, depots=2)
    depot = DepotEnv(config=config)
    observations, _ = chargers.reset(seed=3)
    depot.reset(seed=3)
    assert observations.shape == (2 * config.n_chargers, chargers.single_observation_space.shape[0])
    scale = depot_reward_scale(config) / config.n_chargers
    rng = np.random.default_rng(1)
    for _ in range(config.n_slots):
        levels = rng.integers(0, config.n_actions, size=(2, config.n_chargers))
        _, rewards, terminated, _, _ = chargers.step(levels.reshape(-1))
        _, reward, done, _, _ = depot.step(levels[0])
        assert rewards[: config.n_chargers].sum() * scale == pytest.approx(reward, rel=1e-5)
    assert terminated.all() and done


def test_multi_agent_depot_matches_the_charger_batch(small_depot) -> None:
    """Both RLlib views of one depot give each charger the same observation and reward."""
    config = small_depot()
    agents = DepotMultiAgentEnv(config)
    chargers = ChargerBatchVectorEnv(config, depots=1)
    observations, _ = agents.reset(seed=5)
    batch, _ = chargers.reset(seed=5)
    names = agents.possible_agents
    np.testing.assert_array_equal(np.stack([observations[a] for a in names]), batch)
    rng = np.random.default_rng(2)
    for step in range(config.n_slots):
        levels = rng.integers(0, config.n_actions, size=config.n_chargers)
        observations, rewards, terminateds, _, _ = agents.step(
            dict(zip(names, levels.tolist(), strict=True))
        )
        batch, batch_rewards, batch_terminated, _, _ = chargers.step(levels)
        np.testing.assert_array_equal(np.stack([observations[a] for a in names]), batch)
        np.testing.assert_allclose([rewards[a] for a in names], batch_rewards, rtol=1e-5)
        assert terminateds["__all__"] == batch_terminated.all() == (step == config.n_slots - 1)


def test_env_config_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="vector_entry_point"):
        make_depot_chargers({"scenario": "depot-25-evening"})
    with pytest.raises(ValueError, match="config alone"):
        make_vehicle({"config": ChargingConfig().to_dict(), "capacity_kwh": 60})
    with pytest.raises(ValueError, match=r"multiple of 10\), not 15"):
        make_depot_chargers({"scenario": "depot-10-overnight", "num_envs": 15})
    chargers = make_depot_chargers({"scenario": "depot-10-overnight", "num_envs": 20})
    assert isinstance(chargers, ChargerBatchVectorEnv) and chargers.depots == 2
