"""Engine x run kind: the one place that maps a run folder, or the options of `train`, to
the module that trains or loads it.

A run's kind (:func:`smartcharging.agents.run_directory.run_kind`) is its engine (local:
Q-learning and Stable-Baselines3; RLlib) and its problem (one vehicle, a depot). The engine
modules know nothing of each other; this module imports each one only when a run of its
kind is used, so that the core commands need neither torch nor Ray.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from smartcharging.agents.run_directory import ENGINES, RunKind, run_kind
from smartcharging.cli.options import CliError
from smartcharging.cli.quiet import quiet_ray_logs
from smartcharging.config import ChargingConfig, DepotConfig

if TYPE_CHECKING:
    from smartcharging.agents.runs import RunSpec
    from smartcharging.agents.sb3_depot import DepotAgentPolicy
    from smartcharging.policies.base import Policy
    from smartcharging.rllib.policies import RLlibDepotPolicy


def training_kind(engine: str, depot: DepotConfig | None, resume: Path | None) -> RunKind:
    """The kind of run `train` starts (``--engine``, and a depot scenario or not) or
    resumes: a resumed RLlib run trains on RLlib whatever ``--engine`` says, a resumed
    depot run as a depot run."""
    if engine not in ENGINES:
        raise CliError(f"unknown engine {engine!r} for --engine: choose local or rllib")
    kind = run_kind(resume) if resume is not None else None
    if kind is not None and kind.engine == "rllib":
        engine = "rllib"
    return RunKind(engine, depot is not None or (kind is not None and kind.depot))


def algorithms(kind: RunKind) -> tuple[str, ...]:
    """The algorithms a new run of ``kind`` trains with."""
    if kind.engine == "rllib":
        from smartcharging.rllib.algorithms import DEPOT_SETTINGS, RLLIB_ALGORITHMS

        return tuple(DEPOT_SETTINGS) if kind.depot else RLLIB_ALGORITHMS
    from smartcharging.agents.depot_runs import DEPOT_ALGORITHMS
    from smartcharging.agents.runs import ALGORITHMS

    return DEPOT_ALGORITHMS if kind.depot else ALGORITHMS


def run_training(
    kind: RunKind,
    config: ChargingConfig,
    depot: DepotConfig | None,
    algo: str | None,
    steps: int | None,
    seed: int,
    out: Path | None,
    resume: Path | None,
    num_envs: int | None,
    num_env_runners: int | None,
    address: str | None,
    checkpoints: int,
    reward_scale: float | None,
    tensorboard: Path | None = None,
) -> None:
    """Train (or resume) a run of ``kind`` with the checked options of `train`
    (``tensorboard``: single-vehicle SB3 runs only)."""
    if kind.engine == "rllib":
        from smartcharging.cli.rllib_train import run_rllib_training

        run_rllib_training(
            config, depot, algo, steps, seed, out, resume, num_env_runners, address, checkpoints
        )
    elif kind.depot:
        from smartcharging.agents.hyperparameters import use_small_network_threads
        from smartcharging.cli.depot import run_depot_training

        use_small_network_threads()  # SB3 models: single-vehicle ones set it when built

        run_depot_training(depot, algo, steps, seed, out, resume, num_envs, checkpoints)
    else:
        from smartcharging.cli.vehicle_train import run_vehicle_training

        run_vehicle_training(
            config, algo, steps, seed, out, resume, num_envs, checkpoints, reward_scale, tensorboard
        )


def load_vehicle_agent(
    folder: Path, config: ChargingConfig | None = None, which: str = "best"
) -> tuple[Policy, RunSpec | None]:
    """The trained policy of a single-vehicle run of any engine (see
    :func:`smartcharging.agents.runs.load_policy`); an RLlib run has no local
    :class:`~smartcharging.agents.runs.RunSpec`, its spec is None."""
    kind = run_kind(folder) if folder.is_dir() else None
    if kind is not None and kind.engine == "rllib":
        from smartcharging.rllib.runs import load_rllib_policy

        quiet_ray_logs()

        return load_rllib_policy(folder, config, which), None
    from smartcharging.agents.runs import load_policy

    return load_policy(folder, config, which)


def load_depot_agent(folder: Path, depot: DepotConfig) -> DepotAgentPolicy | RLlibDepotPolicy:
    """The trained shared charger policy of a depot run of any engine, for ``depot``."""
    kind = run_kind(folder) if folder.is_dir() else None
    if kind is not None and kind.engine == "rllib":
        from smartcharging.rllib.runs import load_rllib_depot_policy

        quiet_ray_logs()

        return load_rllib_depot_policy(folder, depot)
    from smartcharging.agents.depot_runs import load_depot_policy

    return load_depot_policy(folder, depot)
