import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env

from smartcharging import ChargingConfig, SmartChargingEnv
from smartcharging.agents.sb3_vec_env import SB3BatchVecEnv
from smartcharging.agents.scaling import (
    ScaleObservation,
    ScaleReward,
    default_reward_scale,
    training_env,
)

ENV_IDS = [env_id for env_id in gym.registry if env_id.startswith("SmartCharging-")]


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("wrapped", [False, True])
def test_sb3_check_env_passes(env_id: str, wrapped: bool) -> None:
    env = gym.make(env_id)
    check_env(training_env(env) if wrapped else env, warn=True)


def test_sb3_check_env_passes_for_the_depot() -> None:
    check_env(gym.make("SmartChargingDepot-v0", scenario="depot-10-overnight"), warn=True)


def test_scaling_is_linear_and_keeps_the_raw_reward() -> None:
    env = ScaleReward(ScaleObservation(SmartChargingEnv()), 4.0)
    obs, _ = env.reset(seed=0, options={"battery_kwh": 36.0, "demand_kwh": 20.0})
    assert obs.tolist() == [0.5, 0.0]
    obs, reward, *_, info = env.step(1)
    assert reward == info["raw_reward"] / 4.0
    assert obs.tolist() == pytest.approx([37.75 / 72, 1 / 8])
    assert default_reward_scale(ChargingConfig()) == pytest.approx(2 * np.exp(22) * 10)
    assert default_reward_scale(ChargingConfig(penalty_factor=0)) == 1.0
    with pytest.raises(ValueError, match="reward_scale=0"):
        ScaleReward(SmartChargingEnv(), 0)


def test_sb3_adapter_follows_vecenv_conventions() -> None:
    env = SB3BatchVecEnv(ChargingConfig(), 3, reward_scale=1.0, expected_shortfall=False)
    env.seed(5)
    first = env.reset()
    assert first.shape == (3, 2) and first.dtype == np.float32
    scalar = [SmartChargingEnv() for _ in range(3)]
    expected = [s.reset(seed=5 + i)[0][0] / 72 for i, s in enumerate(scalar)]
    assert first[:, 0].tolist() == pytest.approx(expected)
    for step in range(8):
        env.step_async(np.array([1, 2, 3]))
        obs, rewards, dones, infos = env.step_wait()
        raw = [s.step(a)[1] for s, a in zip(scalar, [1, 2, 3], strict=True)]
        assert rewards.tolist() == pytest.approx(raw)
        assert dones.all() == (step == 7)
    assert all("terminal_observation" in info for info in infos)
    assert infos[0]["terminal_observation"][1] == 1.0
    assert (obs[:, 1] == 0).all()


def test_the_old_wrapper_name_warns_and_is_the_new_wrapper() -> None:
    from smartcharging.agents import scaling

    with pytest.warns(DeprecationWarning, match="use ScaleObservation"):
        old = scaling.NormalizeObservation
    assert old is ScaleObservation
    assert old is not gym.wrappers.NormalizeObservation
    with pytest.raises(AttributeError, match="no_such_name"):
        scaling.no_such_name  # noqa: B018
