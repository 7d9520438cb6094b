"""Stable-Baselines3 on the batch depot: one policy shared by all chargers.

Each charger sets its own power, and every charger's experience trains the same network
(parameter sharing, as in the PettingZoo view). What a charger sees, may ask for and is paid
is a :class:`~smartcharging.agents.training_adapter.ChargerRecipe`: new runs use
:data:`~smartcharging.agents.training_adapter.SHIPPED_RECIPE` (its view with fleet and price
features and the depot's queue, no request beyond what fills its battery, the depot's
reward with departures in expectation, levels rounded with the site's total kept) and start
from a policy cloned from MPC (:func:`imitate_mpc`: behaviour cloning, then DAgger rounds,
the best on validation episodes kept), which RL then fine-tunes with the settings of
``hyperparams/depot-<algo>.yml``. A policy for the whole depot (one
``MultiDiscrete`` action) learned nothing useful in our tries: after 200k steps it was worse
than uncontrolled charging on depot-25-evening.

Stable-Baselines3 and torch are the optional ``rl`` extra; this module imports them, so the
core package never does.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from smartcharging.agents.depot_hyperparameters import shipped_depot
from smartcharging.agents.hyperparameters import check_sb3_kwargs, use_small_network_threads
from smartcharging.agents.sb3_agents import ALGORITHMS, CheckpointEvery, check_algorithm_keys
from smartcharging.agents.sb3_loading import load_model_safely
from smartcharging.agents.sb3_vec_env import NativeBatchVecEnv
from smartcharging.agents.schedules import resolve_schedules
from smartcharging.agents.site_rounding import site_rounded_levels
from smartcharging.agents.training_adapter import (
    OWN_VIEW,
    ChargerAdapter,
    ChargerLearnerView,
    ChargerRecipe,
)
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


class SB3ChargerVecEnv(NativeBatchVecEnv, ChargerAdapter):
    """The chargers of ``depots`` batch depots as one Stable-Baselines3 ``VecEnv``: copy
    ``d * chargers + i`` is charger ``i`` of depot ``d``, with the view, action and reward
    ``recipe`` gives it, as every engine's learner sees the chargers
    (:class:`~smartcharging.agents.training_adapter.ChargerAdapter`). One policy, trained on
    every charger's experience (parameter sharing), then acts for each charger."""

    def __init__(self, config: DepotConfig, depots: int, recipe: ChargerRecipe = OWN_VIEW) -> None:
        ChargerAdapter.__init__(self, config, depots, recipe)
        NativeBatchVecEnv.__init__(
            self,
            depots * config.n_chargers,
            self.learner_observation_space,
            self.learner_action_space,
        )
        self._actions = np.zeros((depots, config.n_chargers), dtype=np.int64)

    def reset(self) -> np.ndarray:
        seeds = self._seed_list()
        observations, _ = self.env.reset(
            seed=None if seeds is None else seeds[:: self.config.n_chargers]
        )
        self._reset_seeds()
        return self.observe(observations)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = self.learner_actions(actions)

    def step_wait(self) -> VecEnvStepReturn:
        n = self.config.n_chargers
        observations, reward, terminated, truncated, info = self.env.step(self._actions)
        rewards = self.learner_rewards(info, reward)
        dones = np.repeat(terminated | truncated, n)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            # Every depot's episode has the same length, so all end together; the next
            # (autoreset) step of the batch env starts their new episodes.
            final = self.learner.observations(observations)
            for i in range(self.num_envs):
                infos[i]["terminal_observation"] = final[i]
                infos[i]["TimeLimit.truncated"] = False
            observations = self.env.step(np.zeros_like(self._actions))[0]
        return self.observe(observations), rewards, dones, infos


def make_depot_model(
    algo: str,
    config: DepotConfig,
    num_envs: int,
    seed: int | None,
    recipe: ChargerRecipe = OWN_VIEW,
    hyperparameters: dict[str, Any] | None = None,
) -> Any:
    """A new shared charger policy learning on ``num_envs`` batch depots with ``recipe``
    and the SB3 keyword arguments ``hyperparameters`` (None: the shipped ones,
    :func:`~smartcharging.agents.depot_hyperparameters.shipped_depot`; ``seed=None``: leave
    the global random generators alone, as for a template of :func:`load_depot_model`)."""
    use_small_network_threads()  # as the vehicle helpers: small networks, one thread
    if hyperparameters is None:
        hyperparameters = shipped_depot(algo, config).kwargs
    source = f"depot {algo} hyperparameters"
    check_algorithm_keys(source, algo, hyperparameters)
    check_sb3_kwargs(source, algo, num_envs * config.n_chargers, hyperparameters)
    return ALGORITHMS[algo](
        "MlpPolicy",
        SB3ChargerVecEnv(config, num_envs, recipe),
        seed=seed,
        device="cpu",
        # deep copy: SB3 writes into policy_kwargs
        **resolve_schedules(f"depot {algo} hyperparameters", copy.deepcopy(hyperparameters)),
    )


def load_depot_model(
    algo: str,
    path: Path,
    config: DepotConfig,
    num_envs: int,
    recipe: ChargerRecipe = OWN_VIEW,
    hyperparameters: dict[str, Any] | None = None,
) -> Any:
    """A saved shared charger policy on ``num_envs`` batch depots of ``config`` (the depot
    it was trained on, with the recipe and hyperparameters it was trained with), ready to go
    on learning, loaded without unpickling anything from the file
    (:func:`smartcharging.agents.sb3_loading.load_model_safely`)."""
    template = make_depot_model(algo, config, num_envs, None, recipe, hyperparameters)
    return load_model_safely(path, template)


class DepotAgentPolicy:
    """A trained shared charger policy acting for every charger of a depot, seeing, asking
    and picking levels (greedily, or site-rounded) as its ``recipe`` says."""

    def __init__(
        self, model: Any, config: DepotConfig, name: str, recipe: ChargerRecipe = OWN_VIEW
    ) -> None:
        self.model, self.config, self.name = model, config, name
        self.learner = ChargerLearnerView(config, recipe)
        self.view = self.learner.view
        self._idle = np.eye(config.n_actions)[config.idle_action]  # an empty charger's

    def actions(self, observations: np.ndarray) -> np.ndarray:
        views = self.learner.observations(observations)
        if self.learner.recipe.decoding == "site-rounded":
            shape = (len(observations), self.config.n_chargers, -1)
            probabilities = self.probabilities(views).reshape(shape)
            highest = self.learner.highest_levels(observations)
            # an empty charger idles and is no part of the site's total
            empty = np.asarray(observations)[:, self.learner.layout.present] <= 0
            probabilities[empty] = self._idle
            highest[empty] = self.config.idle_action
            return site_rounded_levels(self.config.power_kw, probabilities, highest)
        actions, _ = self.model.predict(views, deterministic=True)
        return self.learner.actions(observations, actions)

    def probabilities(self, views: np.ndarray) -> np.ndarray:
        """The policy's action probabilities for each charger's view: its actor network
        and a softmax, without building SB3's distribution objects (a tenth of the time
        per call, as a depot step is a call on a handful of views)."""
        import torch

        policy = self.model.policy
        with torch.no_grad():
            observations = torch.as_tensor(views, dtype=torch.float32)
            features = policy.extract_features(observations, policy.pi_features_extractor)
            logits = policy.action_net(policy.mlp_extractor.forward_actor(features))
            probabilities = torch.softmax(logits, dim=-1).numpy()
        if not np.isfinite(probabilities).all():
            raise ValueError(
                f"{self.name}: its network gives non-finite action probabilities (weights "
                "that are not finite numbers?)"
            )
        return probabilities


def imitate_mpc(
    model: Any,
    config: DepotConfig,
    recipe: ChargerRecipe,
    seed: int,
    plan: dict[str, Any],
    on_round: Callable[[int, int, float], None] | None = None,
) -> int:
    """Clone MPC into ``model``'s policy (behaviour cloning, then DAgger) as ``plan`` says
    (:data:`~smartcharging.agents.depot_hyperparameters.IMITATION_KEYS`): each round runs
    ``episodes`` batch depots for an episode, labels every occupied charger's view with
    MPC's action in that state, and trains the policy's action distribution on all labels
    so far (cross-entropy, ``epochs`` passes of Adam). The first round's depots follow MPC,
    the later ones the policy being cloned, so that it learns MPC's action in the states
    it reaches itself. The critic learns at the same time the return that followed each
    charger's state in these episodes (the training reward of ``recipe``, scaled), so that
    RL starts with advantages that mean something. After each round the policy is scored
    on the validation episodes (:func:`validation_return`); the model ends with the best
    round's weights. ``on_round(round, labels, validation return)`` after each round;
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
    acting = DepotAgentPolicy(model, config, "imitation", recipe)
    policy = model.policy
    optimizer = torch.optim.Adam(policy.parameters(), lr=float(plan["learning_rate"]))
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
        policy.set_training_mode(True)
        batch = int(plan["batch_size"])
        for _ in range(int(plan["epochs"])):
            order = torch.as_tensor(rng.permutation(len(inputs)))
            for start in range(0, len(order), batch):
                chosen = order[start : start + batch]
                labelled = targets[chosen] >= 0
                predicted = policy.predict_values(inputs[chosen]).flatten()
                loss = torch.nn.functional.mse_loss(predicted, values[chosen])
                if labelled.any():  # a minibatch of empty chargers trains the critic only
                    distribution = policy.get_distribution(inputs[chosen][labelled])
                    loss = loss - distribution.log_prob(targets[chosen][labelled]).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        policy.set_training_mode(False)
        score = validation_return(acting, config)
        if best is None or score > best[0]:
            best = (score, copy.deepcopy(policy.state_dict()))
        if on_round is not None:
            on_round(k, int((targets >= 0).sum()), score)
    if best is not None:
        policy.load_state_dict(best[1])
    return int(sum((label >= 0).sum() for label in labels))


def validation_return(policy: DepotAgentPolicy, config: DepotConfig) -> float:
    """``policy``'s mean expected return on the validation episodes (``VALIDATION_SEED``)."""
    from smartcharging.evaluation.depot import run_policy

    result, _ = run_policy(policy, config, VALIDATION_EPISODES, VALIDATION_SEED)
    return float(result.expected_returns.mean())


class DepotCheckpoints(CheckpointEvery):
    """:class:`~smartcharging.agents.sb3_agents.CheckpointEvery`, which also tells
    ``measured(steps, seconds)`` how fast training runs, once: at the first update that
    ends at least :data:`RATE_SECONDS` after training started (or at the first checkpoint,
    if that comes sooner), so that a long run can say how long it will take."""

    RATE_SECONDS = 3.0

    def __init__(
        self,
        start: int,
        every: int,
        checkpoint: Callable[[], None],
        measured: Callable[[int, float], None],
    ) -> None:
        super().__init__(start, every, checkpoint)
        self.start = start
        self.measured: Callable[[int, float], None] | None = measured
        self._started = 0.0

    def _on_training_start(self) -> None:
        self._started = time.perf_counter()

    def _on_rollout_start(self) -> None:
        seconds = time.perf_counter() - self._started
        done = int(self.model.num_timesteps) - self.start
        due = self.model.num_timesteps - self.last >= self.every
        if self.measured is not None and done > 0 and (seconds >= self.RATE_SECONDS or due):
            self.measured(done, seconds)
            self.measured = None
        super()._on_rollout_start()
