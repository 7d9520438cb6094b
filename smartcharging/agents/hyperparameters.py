"""Shipped hyperparameters of the SB3 agents, per algorithm and scenario, as data.

Like rl-baselines3-zoo's ``hyperparams/*.yml``: ``smartcharging/agents/hyperparams/<algo>.yml``
holds a ``default`` entry and, per built-in scenario, the keys that differ for it (found
with ``smartcharging tune``). A configuration gets its scenario's entry when it *is* that
built-in scenario (same parameters, however it was built: ``--scenario``, ``gym.make``, a
copied file), otherwise ``default``. Besides the algorithm's own keyword arguments an entry
holds ``n_envs`` (copies of the batch environment), ``n_timesteps`` (the default training
budget) and ``expected_shortfall`` (see :mod:`smartcharging.agents.expected_shortfall`);
a learning rate or clip range may be a ``lin_<start>`` schedule
(:mod:`smartcharging.agents.schedules`). Files are read with ``yaml.safe_load``: data only.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from smartcharging.agents.schedules import check_schedules, resolve_schedules
from smartcharging.config import ChargingConfig, limits
from smartcharging.config.validation import shorten

SB3_ALGORITHMS = ("dqn", "ppo", "a2c")
#: Keys of an entry that are not arguments of the SB3 algorithm.
SETUP_KEYS = ("n_envs", "n_timesteps", "expected_shortfall")
#: Activation functions an entry may name: classes of ``torch.nn``.
ACTIVATIONS = ("ELU", "GELU", "LeakyReLU", "ReLU", "SiLU", "Sigmoid", "Tanh")
#: Keys of an entry's ``policy_kwargs`` (any other would reach SB3 unchecked).
POLICY_KWARGS = ("activation_fn", "net_arch")
#: Units of a DQN ``train_freq`` given as ``[frequency, unit]``.
TRAIN_FREQ_UNITS = ("step", "episode")


#: Torch threads for these agents' small networks (64-unit layers, batches of a few
#: hundred): thread hand-offs cost more than they save. Measured on a 2-core machine, the
#: README's DQN snippet ran 10k steps in 69.5 s with torch's default of 2 threads and in
#: 5.2 s with 1.
SMALL_NETWORK_THREADS = 1
#: Environment variables by which a user chooses torch's thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def use_small_network_threads(threads: int = SMALL_NETWORK_THREADS) -> int:
    """Lower torch's thread count to ``threads`` (one by default) for small networks,
    unless the user chose a count: through ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, or
    by calling ``torch.set_num_threads`` (seen as a count other than torch's default, which
    is that of its inter-op pool). Never raises the count. Returns the count in use.

    The training helpers (:meth:`Hyperparameters.model_kwargs`,
    :func:`~smartcharging.agents.scaling.training_env`, the CLI's models) call it, so that
    scripts run at the CLI's speed without environment variables; it applies to the whole
    process: call ``torch.set_num_threads(n)`` afterwards to train a large network.
    Without torch installed it does nothing and returns 0."""
    try:
        import torch
    except ImportError:
        return 0
    current = torch.get_num_threads()
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return current
    if threads < current == torch.get_num_interop_threads():
        torch.set_num_threads(max(1, threads))
    return torch.get_num_threads()


class HyperparameterError(ValueError):
    """A hyperparameter entry is malformed; the message names the key and the value."""


@dataclass(frozen=True)
class Hyperparameters:
    """One algorithm's training setup: batch size of the env, budget, reward, SB3 kwargs."""

    algo: str
    n_envs: int
    n_timesteps: int
    expected_shortfall: bool
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = "custom"

    def model_kwargs(self) -> dict[str, Any]:
        """The SB3 keyword arguments as SB3 takes them (:func:`sb3_arguments`; A2C adds its
        optimizer class to the ``policy_kwargs`` it is given, which must not leak back
        here). Sets torch's thread count for small networks unless the user chose one
        (:func:`use_small_network_threads`)."""
        use_small_network_threads()
        return sb3_arguments(self.source, self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The entry as it is written to YAML or ``run.json``."""
        return {
            "n_envs": self.n_envs,
            "n_timesteps": self.n_timesteps,
            "expected_shortfall": self.expected_shortfall,
            **copy.deepcopy(self.kwargs),
        }

    @classmethod
    def from_dict(cls, algo: str, data: dict[str, Any], source: str = "custom") -> Hyperparameters:
        """Validate an entry (all of ``SETUP_KEYS`` plus SB3 keyword arguments)."""
        check_entry_keys(source, algo, data, SB3_ALGORITHMS, SETUP_KEYS)
        kwargs = {k: v for k, v in data.items() if k not in SETUP_KEYS}
        for key in ("n_envs", "n_timesteps"):
            check_count(source, key, data[key])
        if not isinstance(data["expected_shortfall"], bool):
            raise HyperparameterError(
                f"{source}: invalid expected_shortfall={data['expected_shortfall']!r}: "
                "must be true or false"
            )
        check_sb3_kwargs(source, algo, data["n_envs"], kwargs)
        return cls(
            algo, data["n_envs"], data["n_timesteps"], data["expected_shortfall"], kwargs, source
        )


def sb3_arguments(source: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of checked SB3 keyword arguments as SB3 takes them: ``lin_<start>``
    strings turned into schedules, an activation function named in ``policy_kwargs`` into
    its ``torch.nn`` class, a ``[frequency, unit]`` ``train_freq`` into a tuple (needs the
    ``rl`` extra). A copy: SB3 writes into the ``policy_kwargs`` it is given."""
    kwargs = resolve_schedules(source, copy.deepcopy(kwargs))
    policy_kwargs = kwargs.get("policy_kwargs") or {}
    if "activation_fn" in policy_kwargs:
        import torch

        policy_kwargs["activation_fn"] = getattr(torch.nn, policy_kwargs["activation_fn"])
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    return kwargs


def check_entry_keys(
    source: str,
    algo: str,
    data: Any,
    algorithms: tuple[str, ...],
    setup_keys: tuple[str, ...],
    who: str = "hyperparameters exist for",
) -> None:
    """Refuse an entry for an algorithm not in ``algorithms``, one that is not a mapping,
    or one without every one of ``setup_keys``; the error names ``source``."""
    if algo not in algorithms:
        raise HyperparameterError(f"invalid algo={algo!r}: {who} {', '.join(algorithms)}")
    if not isinstance(data, dict):
        raise HyperparameterError(f"{source}: expected a mapping of hyperparameters")
    missing = [key for key in setup_keys if key not in data]
    if missing:
        raise HyperparameterError(f"{source}: missing {', '.join(missing)}")


def check_count(source: str, key: str, value: Any) -> int:
    """``value`` if it is an int >= 1; a :class:`HyperparameterError` naming ``key``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise HyperparameterError(f"{source}: invalid {key}={value!r}: must be an int >= 1")
    return value


def check_sb3_kwargs(source: str, algo: str, n_envs: int, kwargs: dict[str, Any]) -> None:
    """Refuse SB3 keyword arguments (for ``n_envs`` copies) that are not plain data, that
    exceed the limits of :mod:`smartcharging.config.limits`, that SB3 would refuse deep
    inside, or whose ``lin_`` schedules are malformed; the error names ``source``."""
    for key, value in kwargs.items():
        if not isinstance(key, str) or not _plain(value):
            raise HyperparameterError(
                f"{source}: invalid {key}={shorten(repr(value))}: values must be numbers, "
                "strings, booleans, lists or mappings"
            )
    _check_sizes(source, n_envs, kwargs)
    try:  # first: a lin_ schedule on a key that takes none is named as such
        check_schedules(source, kwargs)
    except ValueError as error:
        raise HyperparameterError(str(error)) from None
    _check_sb3_rules(source, algo, n_envs, kwargs)


def check_net_arch(source: str, net_arch: Any) -> Any:
    """``net_arch`` if it is what SB3 accepts (a list of layer widths, or a mapping of
    ``pi``/``vf``/``qf`` to such lists) and describes at most
    :data:`~limits.MAX_NETWORK_WEIGHTS` weights between hidden layers, so that building the
    network (before any weight is read) cannot fill the memory; a
    :class:`HyperparameterError` naming ``source`` otherwise."""
    shown = shorten(repr(net_arch))
    allowed = "a list of layer widths (integers >= 1), or pi/vf/qf lists of them"
    if isinstance(net_arch, dict) and not set(net_arch) <= {"pi", "vf", "qf"}:
        raise HyperparameterError(f"{source}: its net_arch {shown} is not {allowed}")
    weights = 0
    for widths in net_arch.values() if isinstance(net_arch, dict) else [net_arch]:
        if not isinstance(widths, list) or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise HyperparameterError(f"{source}: its net_arch {shown} is not {allowed}")
        weights += sum(a * b for a, b in itertools.pairwise(widths)) + sum(widths)
    if weights > limits.MAX_NETWORK_WEIGHTS:
        raise HyperparameterError(
            f"{source}: its net_arch {shown} describes a network of more than "
            f"{limits.MAX_NETWORK_WEIGHTS:,} weights (MAX_NETWORK_WEIGHTS in "
            "smartcharging.config.limits)"
        )
    return net_arch


def _check_sizes(source: str, n_envs: int, kwargs: dict[str, Any]) -> None:
    """Refuse buffer sizes and networks beyond the limits of :mod:`smartcharging.config.limits`
    before SB3 allocates them."""
    for key in ("buffer_size", "n_steps", "batch_size"):
        value = kwargs.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise HyperparameterError(f"{source}: invalid {key}={value!r}: must be an int >= 1")
    transitions = {
        "buffer_size": kwargs.get("buffer_size", 1),
        "n_steps * n_envs": kwargs.get("n_steps", 1) * n_envs,
    }
    for key, value in transitions.items():
        if value > limits.MAX_BUFFER_TRANSITIONS:
            raise HyperparameterError(
                f"{source}: invalid {key}={value:,}: must be at most "
                f"{limits.MAX_BUFFER_TRANSITIONS:,} transitions (MAX_BUFFER_TRANSITIONS in "
                "smartcharging.config.limits)"
            )


def _check_sb3_rules(source: str, algo: str, n_envs: int, kwargs: dict[str, Any]) -> None:
    """Refuse what SB3 would refuse deep inside, with an ``AssertionError`` or a
    ``TypeError`` that names neither the entry nor what is allowed: advantages normalised
    over a single transition, a minibatch of one, a train frequency of zero, a policy
    setting SB3 would take as code (an activation function given by name)."""
    normalized = kwargs.get("normalize_advantage", algo == "ppo")
    if normalized and kwargs.get("n_steps", 1) * n_envs < 2 and algo != "dqn":
        raise HyperparameterError(
            f"{source}: invalid n_steps * n_envs={kwargs.get('n_steps', 1) * n_envs}: must be "
            "at least 2 (advantages are normalized over the rollout)"
        )
    batch = kwargs.get("batch_size", 2)
    if algo == "ppo" and normalized and batch < 2:
        raise HyperparameterError(
            f"{source}: invalid batch_size={batch}: must be an int >= 2 (PPO normalizes "
            "advantages over each minibatch)"
        )
    if "train_freq" in kwargs:
        _check_train_freq(source, n_envs, kwargs["train_freq"])
    _check_policy_kwargs(source, kwargs.get("policy_kwargs") or {})
    _check_numbers(source, kwargs)


#: SB3 arguments that are plain numbers, with the closed range each must lie in (schedule
#: keys are checked by :mod:`smartcharging.agents.schedules`).
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "gamma": (0.0, 1.0),
    "gae_lambda": (0.0, 1.0),
    "tau": (0.0, 1.0),
    "exploration_fraction": (0.0, 1.0),
    "exploration_initial_eps": (0.0, 1.0),
    "exploration_final_eps": (0.0, 1.0),
    "ent_coef": (0.0, math.inf),
    "vf_coef": (0.0, math.inf),
    "max_grad_norm": (0.0, math.inf),
    "rms_prop_eps": (0.0, math.inf),
}


def _check_numbers(source: str, kwargs: dict[str, Any]) -> None:
    """Refuse a number argument that is not a finite number in its range (``gamma: high``
    reached SB3 and failed mid-run with a ``TypeError``)."""
    for key, (low, high) in NUMBER_RANGES.items():
        if key not in kwargs:
            continue
        value = kwargs[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        # an int of any size compares exactly; math.isfinite would overflow converting it
        if not number or not (isinstance(value, int) or math.isfinite(value)):
            number = False
        if not number or not low <= value <= high:
            allowed = f"[{low:g}, {high:g}]" if math.isfinite(high) else f">= {low:g}"
            raise HyperparameterError(
                f"{source}: invalid {key}={shorten(repr(value))}: must be a number {allowed}"
            )


def _check_train_freq(source: str, n_envs: int, value: Any) -> None:
    frequency, unit = value if isinstance(value, list) and len(value) == 2 else (value, "step")
    if (
        isinstance(frequency, bool)
        or not isinstance(frequency, int)
        or frequency < 1
        or unit not in TRAIN_FREQ_UNITS
    ):
        raise HyperparameterError(
            f"{source}: invalid train_freq={shorten(repr(value))}: must be an int >= 1 or "
            f"[int >= 1, unit] with a unit of {' or '.join(TRAIN_FREQ_UNITS)}"
        )
    if unit == "episode" and n_envs != 1:
        raise HyperparameterError(
            f"{source}: invalid train_freq={value!r}: the unit 'episode' needs n_envs=1, "
            f"not {n_envs}"
        )


def _check_policy_kwargs(source: str, policy_kwargs: Any) -> None:
    """The network settings an entry may hold: a checked ``net_arch`` and an activation
    function named from :data:`ACTIVATIONS`."""
    if not isinstance(policy_kwargs, dict):
        raise HyperparameterError(
            f"{source}: invalid policy_kwargs={shorten(repr(policy_kwargs))}: must be a "
            f"mapping of {', '.join(POLICY_KWARGS)}"
        )
    unknown = sorted(set(policy_kwargs) - set(POLICY_KWARGS))
    if unknown:
        raise HyperparameterError(
            f"{source}: unsupported policy_kwargs key {shorten(repr(unknown[0]))}: allowed: "
            f"{', '.join(POLICY_KWARGS)}"
        )
    if "net_arch" in policy_kwargs:
        check_net_arch(source, policy_kwargs["net_arch"])
    activation = policy_kwargs.get("activation_fn", "Tanh")
    if activation not in ACTIVATIONS:
        raise HyperparameterError(
            f"{source}: invalid activation_fn={shorten(repr(activation))}: allowed: "
            f"{', '.join(ACTIVATIONS)} (classes of torch.nn, by name)"
        )


def _plain(value: Any) -> bool:
    if isinstance(value, bool | int | float | str) or value is None:
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


@functools.cache
def read_entries(file_name: str) -> dict[str, dict[str, Any]]:
    """The entries of the shipped ``hyperparams/<file_name>`` (``yaml.safe_load``: data
    only), which must hold a ``default`` entry."""
    path = resources.files("smartcharging.agents.hyperparams") / file_name
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or "default" not in data:
        raise HyperparameterError(f"{file_name}: needs a 'default' entry")
    return data


@functools.cache
def _builtin_configs() -> tuple[tuple[str, ChargingConfig], ...]:
    from smartcharging.config.scenarios import builtin_names, is_depot_scenario, load_scenario

    configs = []
    for name in builtin_names():
        if is_depot_scenario(name):  # by its kind: depot and sessions scenarios
            continue
        configs.append((name, load_scenario(name).to_config()))
    return tuple(configs)


def scenario_name(config: ChargingConfig) -> str | None:
    """The built-in scenario this configuration is, or None."""
    return next((name for name, known in _builtin_configs() if known == config), None)


def shipped(algo: str, config: ChargingConfig) -> Hyperparameters:
    """The shipped hyperparameters of ``algo`` for this configuration's scenario."""
    if algo not in SB3_ALGORITHMS:
        raise HyperparameterError(
            f"invalid algo={algo!r}: hyperparameters exist for {', '.join(SB3_ALGORITHMS)}"
        )
    entries = read_entries(f"{algo}.yml")
    name = scenario_name(config)
    entry = copy.deepcopy(entries["default"])
    source = f"{algo}.yml: default"
    if name is not None and name in entries:
        entry.update(copy.deepcopy(entries[name]))
        source = f"{algo}.yml: {name}"
    return Hyperparameters.from_dict(algo, entry, source)
