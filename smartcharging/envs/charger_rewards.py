"""A charger's own reward in a depot step: the one rule every per-charger view uses.

Each charger pays its own wear and shortfall cost, its share of the energy cost (in
proportion to the energy it drew) and an equal share of the demand charge, so the chargers'
rewards add up to the depot's. The PettingZoo view, the SB3 and RLlib charger batch envs and
the RLlib multi-agent view all read it from here.

It is not what new depot runs learn from: a charger pays nothing here for a request its full
battery cannot take, though under a binding limit that request takes power from the vehicles
served after it, so full power is the best action of every state of this reward (on
depot-10-overnight PPO learned exactly that: uncontrolled charging). Training pays every
charger the depot's reward instead (:mod:`smartcharging.agents.training_adapter`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smartcharging.config.depot import DepotConfig

#: Per-charger cost keys of a depot step's info (each charger pays its own; the demand
#: charge is shared equally).
OWN_COST_KEYS = ("wear_cost", "shortfall_cost", "energy_cost_share")


def charger_rewards(config: DepotConfig, info: dict[str, Any]) -> np.ndarray:
    """Minus each charger's own costs of a depot step: ``(depots, chargers)`` for a batch
    step's info, ``(chargers,)`` for one depot's."""
    own = sum(np.asarray(info[key], dtype=np.float64) for key in OWN_COST_KEYS)
    shared = np.asarray(info["demand_charge"], dtype=np.float64)[..., None] / config.n_chargers
    return -(own + shared)
