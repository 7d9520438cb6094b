"""Trained RLlib policies, saved and read back without unpickling anything.

RLlib's own checkpoints are pickles (``algorithm_state.pkl``, ``class_and_ctor_args.pkl``,
``module_state.pkl``, ...): loading one can run code from the file. A smartcharging run
therefore also writes the policy network's weights as a NumPy archive
(:func:`smartcharging.agents.safe_loading.save_archive`), and every loader here rebuilds
the network from the run's ``run.json`` (algorithm, network settings, spaces) and copies
the archive's arrays into it after checking each name, shape and dtype. RLlib's checkpoint
directory is kept for RLlib's own tools and never read by smartcharging.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from smartcharging.agents.charger_policy import ChargerNetwork, SharedChargerPolicy
from smartcharging.agents.safe_loading import (
    check_finite,
    load_archive,
    restore_arrays,
    save_archive,
)
from smartcharging.agents.scaling import normalize_observations
from smartcharging.agents.training_adapter import OWN_VIEW, ChargerLearnerView, ChargerRecipe
from smartcharging.config import ChargingConfig, DepotConfig
from smartcharging.observations import vehicle_normalized_space
from smartcharging.policies.base import Policy

WEIGHTS_FORMAT = "smartcharging-rllib-module-weights"


def module_arrays(module: Any) -> dict[str, np.ndarray]:
    """The RL module's parameters as NumPy arrays, by name."""
    return {name: np.asarray(value) for name, value in module.get_state().items()}


def save_weights(path: Path, module: Any, algo: str) -> None:
    """Write the module's parameters as a NumPy archive (no pickle)."""
    save_archive(path, {"format": WEIGHTS_FORMAT, "algo": algo}, module_arrays(module))


def build_module(
    algo: str, model: dict[str, Any], observation_space: spaces.Space, action_space: spaces.Space
) -> Any:
    """A fresh RL module of ``algo``'s default class with the ``model`` settings."""
    from smartcharging.rllib.algorithms import algorithm_class

    spec = algorithm_class(algo)().get_default_rl_module_spec()
    spec.observation_space = observation_space
    spec.action_space = action_space
    spec.model_config = dict(model)
    return spec.build()


def load_module(
    path: Path,
    algo: str,
    model: dict[str, Any],
    observation_space: spaces.Space,
    action_space: spaces.Space,
) -> Any:
    """A module rebuilt from the settings, with the weights of the archive at ``path``
    (every parameter must be there with the module's shape and dtype, and finite)."""
    meta, arrays = load_archive(path)
    if meta.get("format") != WEIGHTS_FORMAT or meta.get("algo") != algo:
        raise ValueError(
            f"{path.name} is not the {algo} module weights of an RLlib run "
            f"(format {meta.get('format')!r}, algo {meta.get('algo')!r})"
        )
    check_finite(str(path), arrays)
    module = build_module(algo, model, observation_space, action_space)
    targets = module_arrays(module)
    restore_arrays(path, arrays, targets)
    module.set_state(targets)
    module.eval()
    return module


def greedy_actions(module: Any, observations: np.ndarray) -> np.ndarray:
    """The module's deterministic action for each row of (already scaled) observations."""
    import torch

    with torch.no_grad():
        out = module.forward_inference({"obs": torch.as_tensor(observations, dtype=torch.float32)})
    if "actions" in out:
        return np.asarray(out["actions"], dtype=np.int64)
    return out["action_dist_inputs"].argmax(dim=-1).numpy().astype(np.int64)


class RLlibPolicy(Policy):
    """A trained RLlib module as a deterministic single-vehicle policy on raw observations
    (the module sees them scaled to ``[0, 1]``, as it did in training)."""

    def __init__(self, module: Any, config: ChargingConfig, name: str) -> None:
        self.module, self.config, self.name = module, config, name
        self.n_actions = config.n_actions

    @classmethod
    def load(
        cls, path: Path, algo: str, model: dict[str, Any], config: ChargingConfig, name: str
    ) -> RLlibPolicy:
        action_space: spaces.Discrete = spaces.Discrete(config.n_actions)
        module = load_module(path, algo, model, vehicle_normalized_space(config), action_space)
        return cls(module, config, name)

    def actions(self, observations: np.ndarray) -> np.ndarray:
        return greedy_actions(self.module, normalize_observations(observations, self.config))


def charger_spaces(
    config: DepotConfig, recipe: ChargerRecipe = OWN_VIEW
) -> tuple[spaces.Box, spaces.Discrete]:
    """A charger's observation and action spaces under ``recipe`` (as in the charger batch
    env)."""
    size = ChargerLearnerView(config, recipe).size
    return spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32), spaces.Discrete(config.n_actions)


class RLlibChargerNetwork(ChargerNetwork):
    """An RLlib actor-critic module (the learner's: env runners' copies have no value
    network) as a :class:`~smartcharging.agents.charger_policy.ChargerNetwork`."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def logits(self, views: Any) -> Any:
        return self.module.forward_train({"obs": views})["action_dist_inputs"]

    def values(self, views: Any) -> Any:
        return self.module.compute_values({"obs": views})

    def actor_chain(self) -> list[Any] | None:
        try:
            return [*self.module.encoder.actor_encoder.net.mlp, *self.module.pi.net.mlp]
        except AttributeError:  # a shared encoder or another kind of module
            return None


class RLlibDepotPolicy(SharedChargerPolicy):
    """A trained shared charger module acting for every charger of a depot as its
    ``recipe`` says."""

    def __init__(
        self, module: Any, config: DepotConfig, name: str, recipe: ChargerRecipe = OWN_VIEW
    ) -> None:
        super().__init__(RLlibChargerNetwork(module), config, name, recipe)
        self.module = module

    @classmethod
    def load(
        cls,
        path: Path,
        algo: str,
        model: dict[str, Any],
        config: DepotConfig,
        name: str,
        recipe: ChargerRecipe = OWN_VIEW,
    ) -> RLlibDepotPolicy:
        module = load_module(path, algo, model, *charger_spaces(config, recipe))
        return cls(module, config, name, recipe)
