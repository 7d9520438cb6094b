import pytest

from smartcharging.agents.checkpoint_scores import EVALUATION_SEED
from smartcharging.agents.depot_imitation import (
    VALIDATION_EPISODES,
    VALIDATION_SEED,
    imitate_mpc,
    validation_return,
)
from smartcharging.agents.sb3_depot import DepotAgentPolicy, SB3ChargerNetwork, make_depot_model
from smartcharging.agents.training_adapter import SHIPPED_RECIPE


def test_imitation_keeps_the_round_that_scores_best_on_the_validation_episodes(
    small_depot,
) -> None:
    config = small_depot()
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE)
    scores: list[float] = []
    plan = {"episodes": 2, "rounds": 3, "epochs": 1, "learning_rate": 0.05, "batch_size": 64}
    network = SB3ChargerNetwork(model.policy)
    imitate_mpc(network, config, SHIPPED_RECIPE, 0, plan, lambda k, n, score: scores.append(score))
    assert len(scores) == 3
    kept = validation_return(DepotAgentPolicy(model, config, "kept", SHIPPED_RECIPE), config)
    assert kept == pytest.approx(max(scores), rel=1e-9, abs=1e-9)
    # validation episodes are none of the evaluation episodes
    assert VALIDATION_SEED + VALIDATION_EPISODES <= EVALUATION_SEED
