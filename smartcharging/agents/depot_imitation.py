"""Cloning MPC into a shared charger network: behaviour cloning, then DAgger.

A depot run starts from MPC's behaviour rather than from scratch: RL alone learned nothing
useful on ``depot-10-overnight`` (always full power, 885% from the Lagrangian bound after
1.5M steps). The imitation works on a :class:`~smartcharging.agents.charger_policy.ChargerNetwork`,
so a Stable-Baselines3 run and an RLlib run start from the same clone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from smartcharging.agents.charger_policy import ChargerNetwork, SharedChargerPolicy
from smartcharging.agents.training_adapter import ChargerAdapter, ChargerLearnerView, ChargerRecipe
from smartcharging.config import DepotConfig

#: Imitation episodes are drawn from seeds ``IMITATION_SEED + seed + k``: above every
#: training seed (below 2**32 plus the copy index) and below the evaluation episodes'.
IMITATION_SEED = 2**33
#: After each imitation round the policy is scored on ``VALIDATION_EPISODES`` episodes from
#: seeds ``VALIDATION_SEED + i`` (disjoint from training, imitation and the evaluation
#: episodes of :mod:`~smartcharging.agents.checkpoint_scores`), and the imitation returns
#: the round that scored best there, as DAgger does (Ross, Gordon & Bagnell 2011).
VALIDATION_SEED = 2**39
VALIDATION_EPISODES = 16


def imitate_mpc(
    network: ChargerNetwork,
    config: DepotConfig,
    recipe: ChargerRecipe,
    seed: int,
    plan: dict[str, Any],
    on_round: Callable[[int, int, float], None] | None = None,
) -> int:
    """Clone MPC into ``network`` (behaviour cloning, then DAgger) as ``plan`` says
    (:data:`~smartcharging.agents.depot_hyperparameters.IMITATION_KEYS`): each round runs
    ``episodes`` batch depots for an episode, labels every occupied charger's view with
    MPC's action in that state, and trains the policy's action distribution on all labels
    so far (cross-entropy, ``epochs`` passes of Adam). The first round's depots follow MPC,
    the later ones the policy being cloned, so that it learns MPC's action in the states
    it reaches itself. The critic learns at the same time the return that followed each
    charger's state in these episodes (the training reward of ``recipe``, scaled), so that
    RL starts with advantages that mean something. After each round the policy is scored
    on the validation episodes (:func:`validation_return`); the network ends with the
    best round's weights. ``on_round(round, labels, validation return)`` after each round;
    returns the labels.

    Measured with the former recipe (fleet features only, greedy levels) on
    ``depot-10-overnight``, seed 0: 20.9% from the Lagrangian bound after cloning, 15.8% and
    14.1% after one and two DAgger rounds (MPC 2.4%), 100 s on a busy 2-core machine, most
    of it MPC's solves. The round-to-round spread is wide (on ``depot-25-evening`` 11.5% to
    14.3% over three rounds), hence the validation."""
    import torch

    from smartcharging.envs.depot_vector import DepotVectorEnv
    from smartcharging.policies.depot_planning import MPCPolicy

    episodes, rounds = int(plan["episodes"]), int(plan["rounds"])
    learner = ChargerLearnerView(config, recipe)
    rewarding = ChargerAdapter(config, episodes, recipe)
    mpc = MPCPolicy(config)
    acting = SharedChargerPolicy(network, config, "imitation", recipe)
    module = network.module
    optimizer = torch.optim.Adam(module.parameters(), lr=float(plan["learning_rate"]))
    rng = np.random.default_rng(seed)
    views: list[np.ndarray] = []  # every copy's view, for the critic
    labels: list[np.ndarray] = []  # MPC's action, -1 where the charger is empty
    returns: list[np.ndarray] = []
    best: tuple[float, dict[str, Any]] | None = None  # the best round on validation
    layout = learner.layout
    for k in range(rounds):
        env = DepotVectorEnv(num_envs=episodes, config=config)
        first = IMITATION_SEED + seed + k * episodes
        observations, _ = env.reset(seed=[first + i for i in range(episodes)])
        rewards = []
        for _ in range(config.n_slots):
            mpc_actions = learner.actions(observations, mpc.actions(observations))
            occupied = (observations[:, layout.present] > 0).reshape(-1)
            views.append(rewarding.observe(observations))
            labels.append(np.where(occupied, mpc_actions.reshape(-1), -1))
            actions = mpc_actions if k == 0 else acting.actions(observations)
            observations, reward, _, _, info = env.step(actions)
            rewards.append(rewarding.learner_rewards(info, reward))
        returns.extend(np.cumsum(rewards[::-1], axis=0)[::-1])  # gamma = 1: rewards to go
        inputs = torch.as_tensor(np.concatenate(views))
        targets = torch.as_tensor(np.concatenate(labels))
        values = torch.as_tensor(np.concatenate(returns), dtype=torch.float32)
        module.train(True)
        batch = int(plan["batch_size"])
        for _ in range(int(plan["epochs"])):
            order = torch.as_tensor(rng.permutation(len(inputs)))
            for start in range(0, len(order), batch):
                chosen = order[start : start + batch]
                labelled = targets[chosen] >= 0
                predicted = network.values(inputs[chosen]).flatten()
                loss = torch.nn.functional.mse_loss(predicted, values[chosen])
                if labelled.any():  # a minibatch of empty chargers trains the critic only
                    logits = network.logits(inputs[chosen][labelled])
                    loss = loss + torch.nn.functional.cross_entropy(
                        logits, targets[chosen][labelled]
                    )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        module.train(False)
        score = validation_return(acting, config)
        if best is None or score > best[0]:
            best = (score, copy.deepcopy(module.state_dict()))
        if on_round is not None:
            on_round(k, int((targets >= 0).sum()), score)
    if best is not None:
        module.load_state_dict(best[1])
    return int(sum((label >= 0).sum() for label in labels))


def validation_return(policy: SharedChargerPolicy, config: DepotConfig) -> float:
    """``policy``'s mean expected return on the validation episodes (``VALIDATION_SEED``)."""
    from smartcharging.evaluation.depot import run_policy

    result, _ = run_policy(policy, config, VALIDATION_EPISODES, VALIDATION_SEED)
    return float(result.expected_returns.mean())
