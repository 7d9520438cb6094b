"""Baseline policies by name, as the CLI and the comparison table know them."""

from __future__ import annotations

from collections.abc import Callable

from smartcharging.config import ChargingConfig
from smartcharging.policies.base import Policy
from smartcharging.policies.simple import ConstantPolicy, RandomPolicy
from smartcharging.policies.table import TablePolicy
from smartcharging.policies.targets import (
    VEHICLE_TARGET_QUANTILE,
    AsLateAsPossible,
    AsSoonAsPossible,
    CheapestSlotsFirst,
    CheapestToQuantile,
)
from smartcharging.policies.v2g import ChargeOnlyOptimum, PriceThreshold
from smartcharging.solvers.vehicle.dp import Optimum


def baseline_policies(config: ChargingConfig, seed: int | None = 0) -> dict[str, Policy]:
    """Every heuristic baseline for ``config``, keyed by name."""
    policies: list[Policy] = [ConstantPolicy(config, a) for a in range(config.n_actions)]
    target = config.demand_quantile_kwh(VEHICLE_TARGET_QUANTILE)
    policies += [
        AsSoonAsPossible(config, target),
        AsLateAsPossible(config, target),
        CheapestToQuantile(config, 0.99),
        CheapestToQuantile(config, VEHICLE_TARGET_QUANTILE),
        RandomPolicy(config, seed),
    ]
    if config.physical:
        policies.append(CheapestSlotsFirst(config, VEHICLE_TARGET_QUANTILE))
    if config.v2g:
        policies.append(PriceThreshold(config, VEHICLE_TARGET_QUANTILE))
    return {policy.name: policy for policy in policies}


def all_policies(
    config: ChargingConfig, solution: Optimum, seed: int | None = 0
) -> dict[str, Policy]:
    """The baselines and the DP-optimal policy (with V2G, also the charge-only optimum)."""
    policies = {**baseline_policies(config, seed), "optimal": TablePolicy.optimal(solution)}
    if config.v2g:
        policies[ChargeOnlyOptimum.name] = ChargeOnlyOptimum(config)
    return policies


def policy_by_name(
    name: str,
    config: ChargingConfig,
    solution_factory: Callable[[], Optimum],
    seed: int | None = 0,
) -> Policy:
    """One policy by name; ``optimal`` solves the DP (through ``solution_factory``)."""
    if name == "optimal":
        return TablePolicy.optimal(solution_factory())
    if name == ChargeOnlyOptimum.name and config.v2g:
        return ChargeOnlyOptimum(config)
    baselines = baseline_policies(config, seed)
    if name not in baselines:
        extra = [ChargeOnlyOptimum.name] if config.v2g else []
        known = ", ".join([*baselines, "optimal", *extra])
        raise KeyError(f"unknown policy {name!r}: choose one of {known}")
    return baselines[name]
