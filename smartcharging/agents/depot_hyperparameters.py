"""Shipped hyperparameters of the depot agents (a policy shared by the chargers), as data.

``smartcharging/agents/hyperparams/depot-<algo>.yml`` holds, as the single-vehicle files do,
a ``default`` entry and per built-in depot scenario the keys that differ for it. A
configuration gets its scenario's entry when it *is* that built-in depot (same parameters,
however it was built), otherwise ``default``. Besides the algorithm's own keyword arguments
an entry holds ``n_envs`` (batch depots learning at once), ``n_timesteps`` (the default
budget in charger transitions) and ``imitation``: how the run clones MPC before RL
(:func:`~smartcharging.agents.depot_imitation.imitate_mpc`), whose keys a scenario's entry
overrides one by one. Files are read with ``yaml.safe_load``: data only.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from smartcharging.agents.hyperparameters import (
    HyperparameterError,
    check_count,
    check_entry_keys,
    check_sb3_kwargs,
    read_entries,
)
from smartcharging.config import DepotConfig, limits
from smartcharging.config.validation import shorten

__all__ = [
    "DEPOT_ALGORITHMS",
    "DepotHyperparameters",
    "HyperparameterError",
    "check_imitation",
    "depot_scenario_name",
    "shipped_depot",
]
#: The algorithms a depot agent trains with.
DEPOT_ALGORITHMS = ("ppo", "a2c")
#: Keys of an entry that are not arguments of the SB3 algorithm.
DEPOT_SETUP_KEYS = ("n_envs", "n_timesteps", "imitation")
#: The imitation settings: ``rounds`` rounds of ``episodes`` MPC-labelled batch depots (the
#: first driven by MPC, the others by the policy being cloned: DAgger), ``epochs`` passes
#: of Adam (``learning_rate``, minibatches of ``batch_size`` labels) over all labels so far
#: after each round. ``rounds: 0`` starts RL from scratch.
IMITATION_KEYS = ("episodes", "rounds", "epochs", "learning_rate", "batch_size")


@dataclass(frozen=True)
class DepotHyperparameters:
    """One algorithm's depot training setup: depots at once, budget, imitation, SB3 kwargs."""

    algo: str
    n_envs: int
    n_timesteps: int
    imitation: dict[str, Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = "custom"

    @classmethod
    def from_dict(cls, algo: str, data: Any, source: str = "custom") -> DepotHyperparameters:
        """Validate an entry (all of :data:`DEPOT_SETUP_KEYS` plus SB3 keyword arguments)."""
        who = "depot agents train with"
        check_entry_keys(source, algo, data, DEPOT_ALGORITHMS, DEPOT_SETUP_KEYS, who)
        n_envs = check_count(source, "n_envs", data["n_envs"])
        if n_envs > limits.MAX_DEPOTS:
            raise HyperparameterError(
                f"{source}: invalid n_envs={n_envs:,}: depots train on at most "
                f"{limits.MAX_DEPOTS:,}"
            )
        n_timesteps = check_count(source, "n_timesteps", data["n_timesteps"])
        kwargs = {k: v for k, v in data.items() if k not in DEPOT_SETUP_KEYS}
        check_sb3_kwargs(source, algo, n_envs, kwargs)
        imitation = check_imitation(source, data["imitation"])
        return cls(algo, n_envs, n_timesteps, imitation, copy.deepcopy(kwargs), source)

    def to_dict(self) -> dict[str, Any]:
        """The entry as it is written to YAML (``best.yml`` of a depot tuning)."""
        return {
            "n_envs": self.n_envs,
            "n_timesteps": self.n_timesteps,
            **copy.deepcopy(self.kwargs),
            "imitation": dict(self.imitation),
        }

    def with_imitation(self, changes: dict[str, Any] | None) -> DepotHyperparameters:
        """This setup with the imitation settings ``changes`` applied (checked)."""
        if not changes:
            return self
        imitation = check_imitation("imitation", {**self.imitation, **changes})
        return DepotHyperparameters(
            self.algo, self.n_envs, self.n_timesteps, imitation, self.kwargs, self.source
        )


def check_imitation(source: str, plan: Any) -> dict[str, Any]:
    """The imitation settings ``plan`` (all of :data:`IMITATION_KEYS`), checked; a
    :class:`HyperparameterError` naming ``source``, the key and what is allowed."""
    if not isinstance(plan, dict):
        raise HyperparameterError(
            f"{source}: imitation must be a mapping of {', '.join(IMITATION_KEYS)}"
        )
    where = source if source == "imitation" else f"{source}: imitation"
    unknown = sorted(set(plan) - set(IMITATION_KEYS), key=str)
    if unknown:
        raise HyperparameterError(
            f"{where}: unknown setting {shorten(repr(unknown[0]))}: known are "
            f"{', '.join(IMITATION_KEYS)}"
        )
    missing = [key for key in IMITATION_KEYS if key not in plan]
    if missing:
        raise HyperparameterError(f"{where}: missing {', '.join(missing)}")
    for key in ("episodes", "rounds", "epochs", "batch_size"):
        value = plan[key]
        low = 0 if key == "rounds" else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise HyperparameterError(
                f"{where}: invalid {key}={shorten(repr(value))}: must be an int >= {low}"
            )
    if plan["episodes"] > limits.MAX_DEPOTS:
        raise HyperparameterError(
            f"{where}: invalid episodes={plan['episodes']:,}: must be <= {limits.MAX_DEPOTS:,}"
        )
    if plan["rounds"] > limits.MAX_IMITATION_ROUNDS or plan["epochs"] > limits.MAX_IMITATION_ROUNDS:
        raise HyperparameterError(
            f"{where}: rounds={plan['rounds']} and epochs={plan['epochs']} must be "
            f"<= {limits.MAX_IMITATION_ROUNDS}"
        )
    rate = plan["learning_rate"]
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 < rate < 1:
        raise HyperparameterError(
            f"{where}: invalid learning_rate={shorten(repr(rate))}: must be a number in (0, 1)"
        )
    return dict(plan)


@functools.cache
def _builtin_depots() -> tuple[tuple[str, str], ...]:
    """Every built-in fleet depot scenario's name and configuration (as sorted JSON)."""
    from smartcharging.config.scenarios import builtin_names, load_depot_scenario, scenario_kind

    return tuple(
        (name, _key(load_depot_scenario(name).to_config()))
        for name in builtin_names()
        if scenario_kind(name) == "depot"
    )


def _key(config: DepotConfig) -> str:
    return json.dumps(config.to_dict(), sort_keys=True)


def depot_scenario_name(config: DepotConfig) -> str | None:
    """The built-in fleet depot scenario this configuration is, or None."""
    key = _key(config)
    return next((name for name, known in _builtin_depots() if known == key), None)


def shipped_depot(algo: str, config: DepotConfig) -> DepotHyperparameters:
    """The shipped depot hyperparameters of ``algo`` for this configuration's scenario."""
    if algo not in DEPOT_ALGORITHMS:
        raise HyperparameterError(
            f"invalid algo={algo!r}: depot agents train with {', '.join(DEPOT_ALGORITHMS)}"
        )
    file_name = f"depot-{algo}.yml"
    entries = read_entries(file_name)
    entry = copy.deepcopy(entries["default"])
    source = f"{file_name}: default"
    name = depot_scenario_name(config)
    if name is not None and name in entries:
        override = copy.deepcopy(entries[name])
        imitation = {**entry.get("imitation", {}), **override.pop("imitation", {})}
        entry.update(override)
        entry["imitation"] = imitation
        source = f"{file_name}: {name}"
    return DepotHyperparameters.from_dict(algo, entry, source)
