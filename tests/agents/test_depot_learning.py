"""A short depot run learns: on a tiny depot its final policy beats every baseline."""

from smartcharging.agents.checkpoint_scores import EVALUATION_EPISODES, EVALUATION_SEED
from smartcharging.agents.depot_runs import train_depot
from smartcharging.evaluation.depot import run_policy
from smartcharging.policies.depot import depot_baselines


def test_a_short_run_on_a_tiny_depot_beats_its_best_baseline(tmp_path, small_depot) -> None:
    """The shipped recipe (imitating MPC, then PPO on the depot's reward), a few seconds of
    training on 3 chargers and 6 slots: the last checkpoint's E[return] on the evaluation
    episodes is above that of the best baseline on the same episodes, and below the
    Lagrangian bound. A property of the recipe, not a timing."""
    config = small_depot()
    final = train_depot(config, "ppo", 20_000, 0, tmp_path / "run", num_envs=16, checkpoints=1)
    baselines = {
        name: float(
            run_policy(policy, config, EVALUATION_EPISODES, EVALUATION_SEED)[
                0
            ].expected_returns.mean()
        )
        for name, policy in depot_baselines(config).items()
    }
    best = max(baselines, key=baselines.__getitem__)
    assert final.expected_return > baselines[best], (final, baselines)
    assert final.expected_return < final.lagrangian_bound
