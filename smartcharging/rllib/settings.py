"""The one schema check of an RLlib run's settings (``settings`` in ``run.json``).

The settings go into RLlib's ``AlgorithmConfig`` as keyword arguments, and RLlib resolves
some of them by name: a replay buffer's ``type`` names a class it imports and calls, so a
crafted ``run.json`` could run any callable on ``train --resume``. A network or buffer size
is allocated before any weight is read. So every settings dict, whether new, resumed or
loaded for evaluation, must match the shipped settings of its algorithm key for key and
type for type (bool, int and float apart), with numbers finite and within
:mod:`smartcharging.config.limits`; nothing in it is imported, called or resolved by name
here, and unknown keys are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from smartcharging.agents.run_directory import RunError
from smartcharging.config import limits
from smartcharging.config.validation import shorten
from smartcharging.rllib.algorithms import default_settings

#: The settings' own keys; ``training`` and ``model`` are checked below.
TOP_LEVEL_KEYS = ("num_envs_per_env_runner", "rollout_fragment_length", "training", "model")
#: Activations RLlib's torch networks take by these names (RLlib looks any other name up).
ACTIVATIONS = ("tanh", "relu", "elu", "swish", "silu", "linear")
#: The only replay buffer: RLlib imports and builds whatever class ``type`` names.
REPLAY_BUFFER = "EpisodeReplayBuffer"
#: Passes over a training batch (PPO's ``num_epochs``), and hidden layers of a network.
MAX_EPOCHS = 1_000
MAX_LAYERS = 100

_WHERE = "run.json settings"


def _name(field: str) -> str:
    """Where ``field`` is in the run's files."""
    return f"{_WHERE}.{field}" if field else _WHERE


def _refuse(field: str, value: object, allowed: str) -> RunError:
    return RunError(f"invalid {_name(field)}={shorten(repr(value))}: must be {allowed}")


def _integer(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(field, value, f"an integer in {low:,}..{high:,}")
    return value


def _float(field: str, value: object, low: float, high: float, open_low: bool = False) -> float:
    """A float (not an int or a bool) in ``[low, high]`` (``(low, high]`` if ``open_low``)."""
    bracket = "(" if open_low else "["
    allowed = f"a finite float in {bracket}{low:g}, {high:g}]"
    if not isinstance(value, float) or not math.isfinite(value):
        raise _refuse(field, value, allowed)
    if value > high or value < low or (open_low and value == low):
        raise _refuse(field, value, allowed)
    return value


def _boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _refuse(field, value, "true or false")
    return value


def _positive(field: str, value: object) -> float:
    return _float(field, value, 0.0, limits.MAX_COST, open_low=True)


def _non_negative(field: str, value: object) -> float:
    return _float(field, value, 0.0, limits.MAX_COST)


def _fraction(field: str, value: object) -> float:
    return _float(field, value, 0.0, 1.0)


def _transitions(field: str, value: object) -> int:
    return _integer(field, value, 1, limits.MAX_BUFFER_TRANSITIONS)


def _steps(field: str, value: object) -> int:
    return _integer(field, value, 0, limits.MAX_TRAINING_STEPS)


def _replay_buffer(field: str, value: object) -> dict[str, Any]:
    allowed = (
        f'{{"type": "{REPLAY_BUFFER}", "capacity": an integer in '
        f"1..{limits.MAX_BUFFER_TRANSITIONS:,}}}"
    )
    if not isinstance(value, dict) or set(value) != {"type", "capacity"}:
        raise _refuse(field, value, allowed)
    if value["type"] != REPLAY_BUFFER:
        raise _refuse(f"{field}.type", value["type"], f"{REPLAY_BUFFER!r}")
    _transitions(f"{field}.capacity", value["capacity"])
    return value


def _epsilon(field: str, value: object) -> list[Any]:
    allowed = (
        "a list of [steps, epsilon] pairs (integer steps from 0, increasing; "
        "epsilon a float in [0, 1])"
    )
    if not isinstance(value, list) or not value:
        raise _refuse(field, value, allowed)
    for point in value:
        if not isinstance(point, list) or len(point) != 2:
            raise _refuse(field, value, allowed)
        _steps(f"{field} step", point[0])
        _fraction(f"{field} value", point[1])
    steps = [point[0] for point in value]
    if steps[0] != 0 or any(b <= a for a, b in pairwise(steps)):
        raise _refuse(field, value, allowed)
    return value


#: How each ``training`` key of the shipped settings is checked.
_TRAINING: dict[str, Callable[[str, Any], object]] = {
    "train_batch_size_per_learner": _transitions,
    "minibatch_size": _transitions,
    "num_epochs": lambda field, value: _integer(field, value, 1, MAX_EPOCHS),
    "lr": _positive,
    "gamma": _fraction,
    "lambda_": _fraction,
    "clip_param": _positive,
    "use_kl_loss": _boolean,
    "kl_coeff": _non_negative,
    "entropy_coeff": _non_negative,
    "vf_loss_coeff": _non_negative,
    "grad_clip": _positive,
    "target_network_update_freq": lambda field, value: _integer(
        field, value, 1, limits.MAX_TRAINING_STEPS
    ),
    "num_steps_sampled_before_learning_starts": _steps,
    "replay_buffer_config": _replay_buffer,
    "epsilon": _epsilon,
    "dueling": _boolean,
    "double_q": _boolean,
}


def _keys(field: str, value: object, allowed: tuple[str, ...], exact: bool) -> dict[str, Any]:
    """``value`` if it is a JSON object whose keys are ``allowed`` (all of them if ``exact``)."""
    what = "exactly" if exact else "only"
    if not isinstance(value, dict):
        raise _refuse(field, value, f"a JSON object with {what} the keys {', '.join(allowed)}")
    unknown = [key for key in value if key not in allowed]
    if unknown:
        raise RunError(
            f"invalid {_name(field)}: unknown key {shorten(repr(unknown[0]))}; allowed: "
            f"{', '.join(allowed)}"
        )
    missing = [key for key in allowed if key not in value] if exact else []
    if missing:
        raise RunError(f"invalid {_name(field)}: it has no {missing[0]!r} entry")
    return value


def _model(value: object) -> None:
    model = _keys("model", value, ("fcnet_hiddens", "fcnet_activation", "vf_share_layers"), False)
    if "fcnet_hiddens" not in model or "fcnet_activation" not in model:
        raise _refuse("model", value, "a JSON object with fcnet_hiddens and fcnet_activation")
    widths = model["fcnet_hiddens"]
    allowed = (
        f"a list of 1..{MAX_LAYERS} layer widths (integers >= 1) of at most "
        f"{limits.MAX_NETWORK_WEIGHTS:,} weights (MAX_NETWORK_WEIGHTS)"
    )
    if not isinstance(widths, list) or not 1 <= len(widths) <= MAX_LAYERS:
        raise _refuse("model.fcnet_hiddens", widths, allowed)
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise _refuse("model.fcnet_hiddens", widths, allowed)
        if width > limits.MAX_NETWORK_WEIGHTS:
            raise _refuse("model.fcnet_hiddens", widths, allowed)
    if sum(a * b for a, b in pairwise(widths)) > limits.MAX_NETWORK_WEIGHTS:
        raise _refuse("model.fcnet_hiddens", widths, allowed)
    if model["fcnet_activation"] not in ACTIVATIONS:
        raise _refuse("model.fcnet_activation", model["fcnet_activation"], f"one of {ACTIVATIONS}")
    if "vf_share_layers" in model:
        _boolean("model.vf_share_layers", model["vf_share_layers"])


def check_settings(algo: str, depot: bool, settings: object) -> dict[str, Any]:
    """``settings`` if they fit the schema of ``algo``'s shipped settings (vehicle or
    ``depot``), else a one-line :class:`RunError` naming the field, its value and what is
    allowed. ``algo`` must already be checked."""
    checked = _keys("", settings, TOP_LEVEL_KEYS, True)
    copies_limit = limits.MAX_DEPOTS if depot else limits.MAX_COPIES
    copies = _integer(
        "num_envs_per_env_runner", checked["num_envs_per_env_runner"], 1, copies_limit
    )
    length = _transitions("rollout_fragment_length", checked["rollout_fragment_length"])
    if copies * length > limits.MAX_BUFFER_TRANSITIONS:
        raise _refuse(
            "rollout_fragment_length",
            length,
            f"at most {limits.MAX_BUFFER_TRANSITIONS // copies:,} with {copies:,} envs per env "
            f"runner (MAX_BUFFER_TRANSITIONS: {limits.MAX_BUFFER_TRANSITIONS:,} transitions)",
        )
    shipped = default_settings(algo, depot)["training"]
    training = _keys("training", checked["training"], tuple(shipped), False)
    for key, value in training.items():
        _TRAINING[key](f"training.{key}", value)
    _model(checked["model"])
    return checked
