"""Policies behind one :class:`Policy` interface: the single-vehicle baselines, the depot
baselines (``depot``) and the planning depot policies, MPC and the Lagrangian
decomposition (``depot_planning``)."""

from smartcharging.policies.base import Policy
from smartcharging.policies.registry import all_policies, baseline_policies, policy_by_name
from smartcharging.policies.simple import ConstantPolicy, RandomPolicy
from smartcharging.policies.table import TablePolicy
from smartcharging.policies.targets import (
    AsLateAsPossible,
    AsSoonAsPossible,
    CheapestSlotsFirst,
    CheapestToQuantile,
)

__all__ = [
    "AsLateAsPossible",
    "AsSoonAsPossible",
    "CheapestSlotsFirst",
    "CheapestToQuantile",
    "ConstantPolicy",
    "Policy",
    "RandomPolicy",
    "TablePolicy",
    "all_policies",
    "baseline_policies",
    "policy_by_name",
]
