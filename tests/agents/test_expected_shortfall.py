import numpy as np
import pytest

from smartcharging import ChargingConfig, SmartChargingEnv
from smartcharging.agents.expected_shortfall import ExpectedShortfallCost
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.config.scenarios import load_scenario
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.policies import ConstantPolicy
from smartcharging.solvers import solve_all


def wrapped_return(env: ExpectedShortfallCost, battery: float, demand: float, action: int):
    env.reset(seed=0, options={"battery_kwh": battery, "demand_kwh": demand})
    total, raw, terminated = 0.0, 0.0, False
    while not terminated:
        _, reward, terminated, _, info = env.step(np.int64(action))
        total += float(reward)
        raw += float(info["raw_reward"])
    return total, raw


@pytest.mark.parametrize("scenario", ["seed", "seed-physical"])
def test_every_policy_keeps_its_exact_expected_return(scenario) -> None:
    """The wrapped return no longer depends on the demand, and averaged over the arrival
    levels it is the policy's exact expected return."""
    config = load_scenario(scenario).to_config()
    solution = solve_all(config)
    env = ExpectedShortfallCost(SmartChargingEnv(config=config))
    for action in (1, 2):
        returns = []
        for battery in config.start_levels_kwh:
            low, raw_low = wrapped_return(env, battery, 5.0, action)
            high, raw_high = wrapped_return(env, battery, 60.0, action)
            assert low == pytest.approx(high, rel=1e-7)  # float32 observations
            assert raw_low >= raw_high  # the raw reward still pays the drawn demand
            returns.append(low)
        exact = exact_value(ConstantPolicy(config, action), config, solution.grid)
        assert np.mean(returns) == pytest.approx(exact.expected_return, rel=1e-6)


def test_batch_env_learns_on_the_same_rewards_as_the_wrapper() -> None:
    config = ChargingConfig()
    vec = SB3BatchVecEnv(config, 16, reward_scale=1.0)
    vec.seed(3)
    observations = vec.reset()
    starts = observations[:, 0] * config.capacity_kwh
    returns = np.zeros(16)
    for _ in range(config.n_slots):
        _, rewards, dones, _ = vec.step(np.full(16, 2))
        returns += rewards.astype(np.float64)
    assert dones.all()
    env = ExpectedShortfallCost(SmartChargingEnv(config=config))
    expected = [wrapped_return(env, float(b), 30.0, 2)[0] for b in starts]
    # Both read the departing battery from float32 observations (a few 1e-6 kWh off).
    np.testing.assert_allclose(returns, expected, rtol=1e-5)
