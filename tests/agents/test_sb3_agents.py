import pytest

from smartcharging import ChargingConfig
from smartcharging.agents.runs import RunSpec
from smartcharging.agents.sb3_agents import ExactGapCallback, SB3Policy, make_model
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.solvers import solve_all

CONFIG = ChargingConfig()
SOLUTION = solve_all(CONFIG)


def model(algo: str, num_envs: int):
    spec = RunSpec(algo, 10_000, 0, CONFIG, num_envs)
    return make_model(CONFIG, 0, None, spec.sb3_hyperparameters())


def test_exact_gap_callback_scores_the_greedy_policy_between_updates() -> None:
    ppo = model("ppo", 4)  # 4 copies x 32 steps: an update every 128 steps
    scores = ExactGapCallback(CONFIG, SOLUTION, every=256)
    ppo.learn(1_024, callback=scores)
    assert [steps for steps, _, _ in scores.curve] == [256, 512, 768]
    times = [seconds for _, _, seconds in scores.curve]
    assert times == sorted(times) and times[0] > 0
    gap = scores.evaluate()  # after training: the final policy
    value = exact_value(SB3Policy(ppo, CONFIG, "ppo"), CONFIG, SOLUTION.grid).expected_return
    optimum = SOLUTION.expected_return
    assert gap == pytest.approx((optimum - value) / abs(optimum))


def test_exact_gap_callback_stops_at_its_target() -> None:
    dqn = model("dqn", 4)
    scores = ExactGapCallback(CONFIG, SOLUTION, every=100, stop_below=1e9)
    dqn.learn(5_000, callback=scores)
    assert len(scores.curve) == 1 and dqn.num_timesteps < 200
