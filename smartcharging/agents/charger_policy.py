"""A shared charger network acting for a whole depot, whichever engine trained it.

Both engines train one network for every charger (parameter sharing): Stable-Baselines3
(:mod:`smartcharging.agents.sb3_depot`) and RLlib (:mod:`smartcharging.rllib.policies`).
What the depot needs of that network is the same: the action logits and the value of each
charger's view. :class:`ChargerNetwork` is that interface, one thin adapter per engine;
:class:`SharedChargerPolicy` decides a depot's levels from it as the run's recipe says, and
the imitation of MPC (:mod:`smartcharging.agents.depot_imitation`) trains it, so both
engines see, act and start from a clone of MPC the same way.

Torch is imported only when a network is used (the ``rl`` or ``scale`` extra).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from smartcharging.agents.charger_kernels import rounded_levels
from smartcharging.agents.training_adapter import OWN_VIEW, ChargerLearnerView, ChargerRecipe
from smartcharging.config import DepotConfig


class ChargerNetwork(ABC):
    """A shared charger policy's actor and critic as torch functions of the views.

    Attributes:
        module: the ``torch.nn.Module`` holding every parameter (its ``state_dict`` is the
            network's whole state).
    """

    module: Any

    @abstractmethod
    def logits(self, views: Any) -> Any:
        """``(copies, levels)`` action logits of ``(copies, view size)`` float views."""

    @abstractmethod
    def values(self, views: Any) -> Any:
        """``(copies,)`` the critic's value of each view."""

    def actor_chain(self) -> list[Any] | None:
        """The actor as the torch modules it applies in turn, from a view to the logits
        (``Linear`` layers and element-wise activations); None where it is not such a
        chain (then :meth:`probabilities` runs :meth:`logits`)."""
        return None

    def probabilities(self, views: np.ndarray) -> np.ndarray:
        """The action probabilities of each view (a softmax of the logits, no gradient).
        An actor that is a chain of layers (:meth:`actor_chain`) is applied as the torch
        functions its layers call, on their current weights: a depot step is one call on a
        few dozen views, where the engines' module and feature-extractor calls around the
        same arithmetic were most of the decision's time. The result is the logits' own,
        computed by torch on its thread setting."""
        import torch

        with torch.no_grad():
            inputs = torch.from_numpy(np.require(views, np.float32, ["C", "W"]))
            layers = self._actor_layers()
            if layers is None:
                logits = self.logits(inputs)
            else:
                logits = inputs
                for kind, layer in layers:
                    if kind == "linear":
                        logits = torch.nn.functional.linear(logits, layer.weight, layer.bias)
                    elif kind == "tanh":
                        logits = torch.tanh(logits)
                    else:
                        logits = torch.relu(logits)
            return torch.softmax(logits, dim=-1).numpy()

    def _actor_layers(self) -> list[tuple[str, Any]] | None:
        """:meth:`actor_chain` as ``(kind, layer)`` pairs, found at the first call (the
        layers, whose weights are read at every call, so that training, loading and
        ``load_state_dict(..., assign=True)`` are seen); None if a layer is of another
        type."""
        if not hasattr(self, "_layers"):
            import torch

            kinds = {torch.nn.Linear: "linear", torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}
            chain = self.actor_chain()
            layers = [layer for layer in chain or [] if type(layer) is not torch.nn.Identity]
            known = chain is not None and all(type(layer) in kinds for layer in layers)
            self._layers = [(kinds[type(layer)], layer) for layer in layers] if known else None
        return self._layers


class SharedChargerPolicy:
    """A trained shared charger network acting for every charger of a depot: it sees, asks
    and picks levels as its ``recipe`` says (greedily: each charger its most likely level,
    lowered to its mask; or site-rounded: the expected powers of the occupied chargers
    rounded so that the site's total is kept, :mod:`smartcharging.agents.site_rounding`;
    empty chargers idle)."""

    def __init__(
        self,
        network: ChargerNetwork,
        config: DepotConfig,
        name: str,
        recipe: ChargerRecipe = OWN_VIEW,
    ) -> None:
        self.network, self.config, self.name = network, config, name
        self.learner = ChargerLearnerView(config, recipe)
        self.view = self.learner.view

    def actions(self, observations: np.ndarray) -> np.ndarray:
        observations = np.asarray(observations)
        views = self.learner.observations(observations)
        if self.learner.recipe.decoding != "site-rounded":
            return self.learner.actions(observations, self.probabilities(views).argmax(axis=1))
        occupied = observations[:, self.learner.layout.present] > 0
        probabilities = self.probabilities(views[occupied.reshape(-1)])
        highest = self.learner.highest_levels(observations)
        return rounded_levels(
            self.config.power_kw, probabilities, occupied, highest, self.config.idle_action
        )

    def probabilities(self, views: np.ndarray) -> np.ndarray:
        """The network's action probabilities for each charger's view; a ``ValueError`` if
        they are not finite (weights that are not finite numbers). With site rounding a step
        with no charger occupied does not ask the network (every charger idles), so such
        weights are found at the first step that has one."""
        probabilities = self.network.probabilities(views)
        if not np.isfinite(probabilities).all():
            raise ValueError(
                f"{self.name}: its network gives non-finite action probabilities (weights "
                "that are not finite numbers?)"
            )
        return probabilities
