"""A shared charger network applied layer by layer decides what its torch actor decides."""

import numpy as np
import pytest
import torch

from smartcharging.agents.sb3_depot import SB3ChargerNetwork, make_depot_model
from smartcharging.agents.training_adapter import SHIPPED_RECIPE, ChargerLearnerView

#: float32 probabilities: the same torch functions, called directly or through the modules.
TOLERANCE = 1e-6


def torch_probabilities(network, views: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = network.logits(torch.as_tensor(views, dtype=torch.float32))
        return torch.softmax(logits, dim=-1).numpy()


@pytest.mark.parametrize("activation", ["Tanh", "ReLU"])
def test_layer_by_layer_probabilities_are_the_torch_actors_and_follow_its_training(
    small_depot, activation
) -> None:
    config = small_depot()
    kwargs = {"policy_kwargs": {"net_arch": [16, 8], "activation_fn": activation}}
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE, kwargs)
    network = SB3ChargerNetwork(model.policy)
    size = ChargerLearnerView(config, SHIPPED_RECIPE).size
    views = np.random.default_rng(0).uniform(-1, 1, (40, size)).astype(np.float32)
    before = network.probabilities(views)
    np.testing.assert_allclose(before, torch_probabilities(network, views), atol=TOLERANCE)
    optimizer = torch.optim.Adam(network.module.parameters(), lr=0.05)
    loss = network.logits(torch.as_tensor(views))[:, 0].sum()  # push every view off level 0
    loss.backward()
    optimizer.step()
    after = network.probabilities(views)
    np.testing.assert_allclose(after, torch_probabilities(network, views), atol=TOLERANCE)
    assert after[:, 0].mean() < before[:, 0].mean() - 1e-3  # it saw the new weights


def test_an_actor_that_is_not_a_chain_of_layers_runs_in_torch(small_depot) -> None:
    config = small_depot()
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE, {"policy_kwargs": {}})
    network = SB3ChargerNetwork(model.policy)
    network.module.mlp_extractor.policy_net.append(torch.nn.Softplus())
    assert network._actor_layers() is None
    views = np.zeros((3, ChargerLearnerView(config, SHIPPED_RECIPE).size), dtype=np.float32)
    np.testing.assert_allclose(
        network.probabilities(views), torch_probabilities(network, views), atol=TOLERANCE
    )


def test_weights_assigned_anew_are_the_ones_used(small_depot) -> None:
    config = small_depot()
    kwargs = {"policy_kwargs": {"net_arch": [8]}}
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE, kwargs)
    other = make_depot_model("ppo", config, 2, 1, SHIPPED_RECIPE, kwargs)
    network = SB3ChargerNetwork(model.policy)
    views = np.random.default_rng(3).uniform(
        -1, 1, (6, ChargerLearnerView(config, SHIPPED_RECIPE).size)
    )
    before = network.probabilities(views)
    network.module.load_state_dict(other.policy.state_dict(), assign=True)
    after = network.probabilities(views)
    np.testing.assert_allclose(
        after, SB3ChargerNetwork(other.policy).probabilities(views), atol=TOLERANCE
    )
    assert np.abs(after - before).max() > 1e-3
