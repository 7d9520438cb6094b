"""What ``tune`` searches, as data, and the check that a study on disk stays inside it.

The search space of each algorithm is a mapping from parameter name to an Optuna
distribution: tuning samples a trial with ``study.ask(search_space(algo))``, and a resumed
``study.db`` is refused (:func:`check_study`) unless everything in it could have come from
that space: the direction tune creates (minimise the gap), finite values, and every trial's
parameters (queued ones too) of this space's distributions and within them. A crafted study
would otherwise name a "best" trial that never ran well, write a ``best.yml`` outside the
limits (``net_arch [1e6, 1e6]``, ``learning_rate 1e30``) or fail on every resume.

Optuna is imported only inside functions (it is part of the ``rl`` extra).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from smartcharging.agents.runs import RunError
from smartcharging.config.validation import shorten

REQUEUED_FROM = "requeued_from"
"""User attribute of a trial queued again after an interruption: the cut trial's number."""


def search_space(algo: str, depot: bool = False) -> dict[str, Any]:
    """The distributions tune samples for ``algo`` on one vehicle, or (``depot``) for a
    policy shared by a depot's chargers (every other hyperparameter, and a depot run's
    imitation of MPC, stays as shipped); :func:`smartcharging.agents.tuning.entry_of` turns
    a sample into an entry."""
    from optuna.distributions import CategoricalDistribution as Choice
    from optuna.distributions import FloatDistribution

    if depot:  # fine-tuning a cloned policy: smaller steps, depots x chargers per rollout
        return {
            "learning_rate": FloatDistribution(3e-5, 1e-3, log=True),
            "learning_rate_schedule": Choice(["linear", "constant"]),
            "net_width": Choice([64, 128, 256]),
            "n_envs": Choice([8, 16, 32]),
            "n_steps": Choice([16, 32, 64, 128]),
            "gae_lambda": Choice([0.95, 1.0]),
        } | (
            {
                "batch_size": Choice([512, 1024, 2048, 4096]),
                "n_epochs": Choice([3, 5, 10]),
                "clip_range": Choice([0.1, 0.2, 0.3]),
            }
            if algo == "ppo"
            else {"vf_coef": Choice([0.25, 0.5, 1.0])}
        )

    space: dict[str, Any] = {
        "learning_rate": FloatDistribution(1e-4, 3e-3, log=True),
        "learning_rate_schedule": Choice(["linear", "constant"]),
        "net_width": Choice([64, 128, 256]),
    }
    if algo == "ppo":
        space |= {
            "n_envs": Choice([32, 64, 128, 256]),
            "n_steps": Choice([16, 32, 64, 128]),
            "batch_size": Choice([256, 512, 1024, 2048]),
            "n_epochs": Choice([5, 10, 20]),
            "gae_lambda": Choice([0.9, 0.95, 1.0]),
            "clip_range": Choice([0.1, 0.2, 0.3]),
        }
    elif algo == "a2c":
        space |= {
            "n_envs": Choice([16, 64, 128]),
            "n_steps": Choice([8, 16, 32]),
            "gae_lambda": Choice([0.9, 0.95, 1.0]),
            "vf_coef": Choice([0.25, 0.5, 1.0]),
        }
    else:
        space |= {
            "n_envs": Choice([4, 16, 64]),
            "batch_size": Choice([64, 128, 256, 512]),
            "target_update_interval": Choice([250, 1000, 4000]),
            "exploration_fraction": FloatDistribution(0.05, 0.5),
            "exploration_final_eps": Choice([0.0, 0.01, 0.02, 0.05]),
            "n_steps": Choice([1, 2, 4, 8]),
            "gradient_steps": Choice([1, 2, 4]),
        }
    return space


def allowed(distribution: Any) -> str:
    """The values of ``distribution``, in words."""
    from optuna.distributions import FloatDistribution

    if isinstance(distribution, FloatDistribution):
        scale = ", log scale" if distribution.log else ""
        return f"{distribution.low:g}..{distribution.high:g}{scale}"
    return "one of " + ", ".join(str(choice) for choice in distribution.choices)


def contains(distribution: Any, value: Any) -> bool:
    """Whether ``value`` (a parameter as the user sees it) is one ``distribution`` draws."""
    from optuna.distributions import FloatDistribution

    if isinstance(distribution, FloatDistribution):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value) and distribution.low <= value <= distribution.high
    return any(type(value) is type(choice) and value == choice for choice in distribution.choices)


def check_study(study: Any, algo: str, path: Path, depot: bool = False) -> None:
    """Refuse a study (``path``: its ``study.db``) that tune did not write for ``algo``
    (on a depot: with its depot search space)."""
    from optuna.study import StudyDirection
    from optuna.trial import TrialState

    def refuse(what: str) -> RunError:
        return RunError(
            f"{path}: {what}; the study was not written by tune --algo {algo}: restore it "
            "from a copy, or start a new tuning with --out"
        )

    if list(study.directions) != [StudyDirection.MINIMIZE]:
        shown = ", ".join(d.name.lower() for d in study.directions)
        raise refuse(f"direction {shown} (allowed: minimize, the gap)")
    space = search_space(algo, depot)
    for trial in study.get_trials(deepcopy=False):
        where = f"trial {trial.number}"
        if trial.state == TrialState.COMPLETE:
            value = trial.value
            if not isinstance(value, float) or not math.isfinite(value):
                raise refuse(f"{where}: value {value} (allowed: a finite gap)")
            if set(trial.params) != set(space):
                missing = sorted(set(space) - set(trial.params))
                raise refuse(f"{where}: parameters {', '.join(missing)} missing")
        queued = trial.system_attrs.get("fixed_params", {})  # enqueued, not yet run
        if not isinstance(queued, dict):
            raise refuse(f"{where}: queued parameters {shorten(repr(queued))} (not a mapping)")
        for name, value in [*queued.items(), *trial.params.items()]:
            if name not in space:
                raise refuse(f"{where}: parameter {shorten(name)!r} is not searched by tune")
            if name in trial.distributions and trial.distributions[name] != space[name]:
                raise refuse(
                    f"{where}: {name} is drawn from {shorten(repr(trial.distributions[name]))} "
                    f"(allowed: {allowed(space[name])})"
                )
            if not contains(space[name], value):
                raise refuse(
                    f"{where}: {name}={shorten(repr(value))} (allowed: {allowed(space[name])})"
                )
