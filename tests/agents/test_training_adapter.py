"""Every engine's learner sees the same problem: one adapter base, one per-charger reward."""

import numpy as np
import pytest

from smartcharging.agents.sb3_depot import SB3ChargerVecEnv
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.training_adapter import (
    FLEET_FEATURES,
    OWN_VIEW,
    QUEUE_FEATURES_PER_CHARGER,
    SHIPPED_RECIPE,
    ChargerLearnerView,
    ChargerRecipe,
    fleet_features,
    queue_features,
)
from smartcharging.config import ChargingConfig
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot_parallel import DepotParallelEnv
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.evaluation.depot import run_policy
from smartcharging.observations import DepotLayout
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


def test_the_action_mask_asks_at_most_what_fills_the_battery(small_depot) -> None:
    config = small_depot()  # levels 0, 3.7, 11 kW; 0.5 h slots: 0, 1.85, 5.5 kWh
    learner = ChargerLearnerView(config, SHIPPED_RECIPE)
    layout = DepotLayout.of(config)
    observations = np.zeros((1, layout.size), dtype=np.float32)
    capacity = np.asarray(config.capacity_kwh)
    observations[0, layout.battery] = capacity - np.array([0.0, 1.0, 3.0])
    top = config.n_actions - 1
    levels = learner.actions(observations, np.full(config.n_chargers, top))
    np.testing.assert_array_equal(levels, [[0, 1, 2]])  # full; 1.85 fills 1 kWh; 5.5 fills 3
    np.testing.assert_array_equal(learner.actions(observations, np.zeros(3)), [[0, 0, 0]])
    unmasked = ChargerLearnerView(config, OWN_VIEW)
    np.testing.assert_array_equal(unmasked.actions(observations, np.full(3, top)), [[top] * 3])


def test_the_team_reward_adds_up_to_the_depots_expected_return(small_depot) -> None:
    """Each charger is paid the depot's reward / chargers, with every departure's cost in
    expectation: the sum is what compare's E[return] counts, episode by episode."""
    config = small_depot()
    env = SB3ChargerVecEnv(config, 1, SHIPPED_RECIPE)
    env.seed(5)
    env.reset()
    learner = env.learner
    total = 0.0
    for _ in range(config.n_slots):
        env.step_async(np.full(config.n_chargers, config.n_actions - 1))
        _, rewards, _, _ = env.step_wait()
        assert np.all(rewards == rewards[0])
        total += float(rewards.sum()) * env.reward_scale

    class FullPower:
        name = "full"

        def actions(self, observations: np.ndarray) -> np.ndarray:
            return learner.actions(observations, np.full(config.n_chargers, config.n_actions - 1))

    run, _ = run_policy(FullPower(), config, 1, 5)
    assert total == pytest.approx(float(run.expected_returns[0]), rel=1e-5)
    assert total != pytest.approx(float(run.returns[0]), rel=1e-5)  # the demand drawn differs


def test_fleet_features_are_bounded_and_zero_for_empty_chargers(named_depot) -> None:
    for name in ("small", "depot-10-overnight", "depot-v2g-peak"):
        config = named_depot(name)
        env = DepotVectorEnv(num_envs=4, config=config)
        observations, _ = env.reset(seed=0)
        layout = DepotLayout.of(config)
        for _ in range(config.n_slots):
            features = fleet_features(config, observations)
            assert features.shape == (4, config.n_chargers, FLEET_FEATURES)
            assert np.abs(features).max() <= 1.0 and np.isfinite(features).all()
            empty = observations[:, layout.present] == 0
            assert (features[empty][:, [0, 1, 2, 3, 5, 6]] == 0).all()
            observations = env.step(env.action_space.sample())[0]
        learner = ChargerLearnerView(config, SHIPPED_RECIPE)
        assert learner.observations(observations).shape == (4 * config.n_chargers, learner.size)


def test_queue_features_follow_the_vehicles_not_the_charger_numbers(named_depot) -> None:
    config = named_depot("depot-10-overnight")
    env = DepotVectorEnv(num_envs=3, config=config)
    observations, _ = env.reset(seed=4)
    layout = DepotLayout.of(config)
    n = config.n_chargers
    for _ in range(6):  # into the arrivals, so that some chargers are empty, some not
        observations = env.step(np.ones((3, n), dtype=np.int64))[0]
    queue = queue_features(config, observations)
    assert queue.shape == (3, n, QUEUE_FEATURES_PER_CHARGER * n)
    assert np.abs(queue).max() <= 1.0 and np.isfinite(queue).all()
    present = observations[:, layout.present] > 0
    assert 0 < present.sum() < present.size
    assert (queue[~present][:, n:] == 0).all()  # an empty charger has no place in the queue
    # the needs block: the same for every charger, as many nonzero as vehicles that need
    assert np.allclose(queue[:, :1, :n], queue[:, :, :n], atol=1e-7)
    # renumbering the chargers renumbers the rows and changes nothing else
    order = np.random.default_rng(0).permutation(n)
    renumbered = observations.copy()
    for field in (layout.present, layout.battery, layout.slots_left, layout.expected_demand):
        columns = np.arange(observations.shape[1])[field]
        renumbered[:, columns] = observations[:, columns[order]]
    again = queue_features(config, renumbered)
    assert np.allclose(again, queue[:, order], atol=1e-7)


def test_a_recipe_reads_back_and_a_bad_one_is_refused() -> None:
    assert ChargerRecipe.from_json(SHIPPED_RECIPE.to_json()) == SHIPPED_RECIPE
    before_queue = {"features": True, "action_mask": True, "reward": "team-expected"}
    assert ChargerRecipe.from_json(before_queue) == ChargerRecipe(True, True, "team-expected")
    with pytest.raises(ValueError, match="must be true or false"):
        ChargerRecipe.from_json({**before_queue, "queue": "yes"})
    with pytest.raises(ValueError, match="invalid reward='shared'"):
        ChargerRecipe.from_json({"features": True, "action_mask": True, "reward": "shared"})
    with pytest.raises(ValueError, match="its recipe has no action_mask: its keys are features"):
        ChargerRecipe.from_json({"features": True})
    with pytest.raises(ValueError, match="its recipe has unknown key 'colour'"):
        ChargerRecipe.from_json({**SHIPPED_RECIPE.to_json(), "colour": "red"})
    with pytest.raises(ValueError, match="its recipe .* is not a JSON object"):
        ChargerRecipe.from_json(["features"])
