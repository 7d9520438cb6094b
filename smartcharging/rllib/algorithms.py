"""RLlib algorithm configurations for smartcharging runs (PPO, DQN, APPO, IMPALA).

A run's settings are plain data (stored in ``run.json``): how many environment copies each
env runner steps in its batch env, the rollout length, the algorithm's ``training``
arguments and the network (``model``). The defaults follow the project's SB3 settings
(``agents/hyperparams/*.yml``, the depot's ``depot-*.yml`` there) where the algorithm has
the same knob: a 64-64 tanh network, gamma 1 (the return is an undiscounted sum), no
entropy bonus, PPO's 10 epochs of 512-sample minibatches without a KL penalty.
"""

from __future__ import annotations

import copy
from typing import Any

from smartcharging.agents.run_directory import RunError
from smartcharging.config import limits

RLLIB_ALGORITHMS = ("ppo", "dqn", "appo", "impala")
#: The algorithms that learn from the batch they have just sampled.
ON_POLICY = ("ppo", "appo", "impala")

_MODEL = {"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh", "vf_share_layers": False}

#: Per algorithm: copies per env runner, rollout length, ``training(...)`` arguments, model.
VEHICLE_SETTINGS: dict[str, dict[str, Any]] = {
    "ppo": {
        "num_envs_per_env_runner": 64,
        "rollout_fragment_length": 64,
        "training": {
            "train_batch_size_per_learner": 4096,
            "minibatch_size": 512,
            "num_epochs": 10,
            "lr": 3e-4,
            "gamma": 1.0,
            "lambda_": 0.95,
            "clip_param": 0.2,
            "use_kl_loss": False,
            "kl_coeff": 0.0,
            "entropy_coeff": 0.0,
            "vf_loss_coeff": 0.5,
            "grad_clip": 0.5,
        },
        "model": _MODEL,
    },
    "dqn": {
        "num_envs_per_env_runner": 16,
        "rollout_fragment_length": 4,
        "training": {
            "lr": 5e-4,
            "gamma": 1.0,
            "train_batch_size_per_learner": 256,
            "target_network_update_freq": 1000,
            "num_steps_sampled_before_learning_starts": 2000,
            "replay_buffer_config": {"type": "EpisodeReplayBuffer", "capacity": 200_000},
            "epsilon": [[0, 1.0], [45_000, 0.02]],
            "dueling": False,
            "double_q": True,
        },
        "model": {"fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"},
    },
    "appo": {
        "num_envs_per_env_runner": 64,
        "rollout_fragment_length": 64,
        "training": {
            "train_batch_size_per_learner": 4096,
            "lr": 3e-4,
            "gamma": 1.0,
            "lambda_": 0.95,
            "entropy_coeff": 0.0,
            "vf_loss_coeff": 0.5,
            "grad_clip": 0.5,
        },
        "model": _MODEL,
    },
    "impala": {
        "num_envs_per_env_runner": 64,
        "rollout_fragment_length": 64,
        "training": {
            "train_batch_size_per_learner": 4096,
            "lr": 3e-4,
            "gamma": 1.0,
            "entropy_coeff": 0.0,
            "vf_loss_coeff": 0.5,
            "grad_clip": 0.5,
        },
        "model": _MODEL,
    },
}

#: Depots: ``num_envs_per_env_runner`` counts depots (each n_chargers charger copies).
DEPOT_SETTINGS: dict[str, dict[str, Any]] = {
    algo: {
        **copy.deepcopy(settings),
        "num_envs_per_env_runner": 8,
        "rollout_fragment_length": 64,
    }
    for algo, settings in VEHICLE_SETTINGS.items()
    if algo != "dqn"
}
for _algo in ("ppo", "appo", "impala"):
    # depots x chargers x rollout: 8 x 25 x 64 = 12,800 charger steps per batch on the
    # 25-charger depot; PPO as in the SB3 depot settings (5 epochs of 1,024).
    DEPOT_SETTINGS[_algo]["training"]["train_batch_size_per_learner"] = 12_800
DEPOT_SETTINGS["ppo"]["training"].update(minibatch_size=1024, num_epochs=5)


def check_rllib_algorithm(algo: str, depot: bool) -> str:
    """``algo`` if RLlib runs it here, else a :class:`RunError` naming the choices."""
    allowed = tuple(DEPOT_SETTINGS) if depot else RLLIB_ALGORITHMS
    if algo not in allowed:
        where = "depot agents" if depot else "--engine rllib"
        raise RunError(
            f"unknown algorithm {algo!r} for --algo: {where} train with {', '.join(allowed)}"
        )
    return algo


def default_settings(algo: str, depot: bool) -> dict[str, Any]:
    """A copy of the shipped settings of ``algo`` (vehicle or depot)."""
    return copy.deepcopy(
        (DEPOT_SETTINGS if depot else VEHICLE_SETTINGS)[check_rllib_algorithm(algo, depot)]
    )


def algorithm_class(algo: str) -> Any:
    """RLlib's ``AlgorithmConfig`` class of ``algo``."""
    from ray.rllib.algorithms.appo import APPOConfig
    from ray.rllib.algorithms.dqn import DQNConfig
    from ray.rllib.algorithms.impala import IMPALAConfig
    from ray.rllib.algorithms.ppo import PPOConfig

    classes = {"ppo": PPOConfig, "dqn": DQNConfig, "appo": APPOConfig, "impala": IMPALAConfig}
    return classes[algo]


def algorithm_config(
    algo: str,
    env: str,
    env_config: dict[str, Any],
    settings: dict[str, Any],
    num_env_runners: int,
    seed: int,
    copies_per_env: int = 1,
) -> Any:
    """RLlib's ``AlgorithmConfig`` of a run: the batch env in every env runner
    (``vector_entry_point``), CPU only, the settings' hyperparameters and network. Each
    env runner steps ``num_envs_per_env_runner`` environments of ``copies_per_env``
    copies each (a depot's chargers), as RLlib counts the copies of a vector env.

    An on-policy algorithm samples its batch in rounds (every env runner steps every copy
    for a rollout fragment), and RLlib refuses a batch that is not about a whole number of
    rounds; its batch is therefore rounded up to whole rounds (:func:`whole_rounds`), so
    that more env runners or a depot with fewer chargers train on larger batches instead of
    failing. (DQN's batch is a replay sample, left as it is.)"""
    copies = int(settings["num_envs_per_env_runner"]) * copies_per_env
    fragment = int(settings["rollout_fragment_length"])
    training = copy.deepcopy(settings["training"])
    if algo in ON_POLICY:
        batch = whole_rounds(
            int(training["train_batch_size_per_learner"]),
            max(num_env_runners, 1) * copies * fragment,
        )
        if batch > limits.MAX_BUFFER_TRANSITIONS:
            raise RunError(
                f"invalid train batch of {batch:,} steps ({max(num_env_runners, 1):,} env runners "
                f"x {copies:,} copies x rollout_fragment_length {fragment:,}): must be at most "
                f"{limits.MAX_BUFFER_TRANSITIONS:,} (MAX_BUFFER_TRANSITIONS in "
                "smartcharging.config.limits); use fewer env runners or copies"
            )
        training["train_batch_size_per_learner"] = batch
    return (
        algorithm_class(algo)()
        .environment(env, env_config=env_config)
        .env_runners(
            num_env_runners=num_env_runners,
            num_envs_per_env_runner=copies,
            gym_env_vectorize_mode="vector_entry_point",
            rollout_fragment_length=fragment,
        )
        .training(**training)
        .rl_module(model_config=copy.deepcopy(settings["model"]))
        .learners(num_learners=0, num_gpus_per_learner=0)
        .resources(num_gpus=0)
        .debugging(seed=seed, log_level="ERROR")
        .reporting(min_sample_timesteps_per_iteration=0)
    )


def whole_rounds(batch: int, round_size: int) -> int:
    """The smallest whole number of sampling rounds of ``round_size`` steps that holds
    ``batch`` steps."""
    return -(-batch // round_size) * round_size
