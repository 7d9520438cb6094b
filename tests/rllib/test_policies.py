"""An RLlib charger module applied layer by layer decides what its torch actor decides."""

import numpy as np
import pytest
import torch

from smartcharging.agents.training_adapter import SHIPPED_RECIPE
from smartcharging.rllib.policies import RLlibChargerNetwork, build_module, charger_spaces


@pytest.mark.parametrize("algo", ["ppo", "appo"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_layer_by_layer_probabilities_are_the_modules(
    small_depot, algo: str, activation: str
) -> None:
    config = small_depot()
    model = {"fcnet_hiddens": [16, 8], "fcnet_activation": activation, "vf_share_layers": False}
    spaces = charger_spaces(config, SHIPPED_RECIPE)
    network = RLlibChargerNetwork(build_module(algo, model, *spaces))
    assert network._actor_layers() is not None
    views = np.random.default_rng(1).uniform(-1, 1, (30, spaces[0].shape[0])).astype(np.float32)
    with torch.no_grad():
        logits = network.logits(torch.as_tensor(views))
    np.testing.assert_allclose(
        network.probabilities(views), torch.softmax(logits, dim=-1).numpy(), atol=1e-6
    )


def test_a_module_with_a_shared_encoder_still_decides_as_torch(small_depot) -> None:
    config = small_depot()
    model = {"fcnet_hiddens": [16], "fcnet_activation": "tanh", "vf_share_layers": True}
    spaces = charger_spaces(config, SHIPPED_RECIPE)
    network = RLlibChargerNetwork(build_module("ppo", model, *spaces))
    views = np.random.default_rng(2).uniform(-1, 1, (5, spaces[0].shape[0])).astype(np.float32)
    with torch.no_grad():
        logits = network.logits(torch.as_tensor(views))
    np.testing.assert_allclose(
        network.probabilities(views), torch.softmax(logits, dim=-1).numpy(), atol=1e-6
    )
