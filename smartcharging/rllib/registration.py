"""Every smartcharging environment registered with RLlib by name.

RLlib builds environments inside its env-runner processes, which have not imported
``smartcharging``: a Gymnasium id such as ``"SmartCharging-v0"`` is unknown there. RLlib's
``register_env`` ships each creator below to every process of the Ray cluster, and
unpickling it there imports this module, hence the package. Call :func:`register_envs`
once in the driver before building an algorithm. The names:

==============================  =================================================================
``SmartCharging-v0``            the single-vehicle env as Gymnasium registers it (raw rewards);
                                ``num_envs`` (RLlib's ``vector_entry_point`` mode) gives the
                                native batch env
``SmartChargingDepot-v0``       the depot, one ``MultiDiscrete`` action for all chargers
``smartcharging-vehicle``       the single-vehicle env as agents learn on it (expected
                                departure cost, observations in [0, 1], reward / penalty);
                                the native batch env with ``num_envs``
``smartcharging-depot-chargers`` batch depots as ``depots x chargers`` single-charger copies,
                                for one shared charger policy; ``num_envs`` counts copies
``smartcharging-depot``         the depot as a multi-agent env, one agent per charger
==============================  =================================================================

``env_config`` holds a ``scenario`` (built-in name or file) and parameter overrides, or
``config``: a configuration's ``to_dict()``; the training views also take
``reward_scale`` and ``expected_shortfall`` (vehicle), and the depot chargers a ``recipe``
(:class:`~smartcharging.agents.training_adapter.ChargerRecipe` as JSON; by default each
charger's own view and costs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from ray.tune.registry import register_env

from smartcharging.agents.scaling import training_env
from smartcharging.agents.training_adapter import OWN_VIEW, ChargerRecipe
from smartcharging.config import ChargingConfig, ConfigError, DepotConfig
from smartcharging.envs.depot import DepotEnv, resolve_depot_config
from smartcharging.envs.depot_vector import DepotVectorEnv
from smartcharging.envs.smart_charging import SmartChargingEnv, resolve_config
from smartcharging.envs.smart_charging_vector import SmartChargingVectorEnv
from smartcharging.rllib.charger_batch_env import ChargerBatchVectorEnv
from smartcharging.rllib.depot_multi_agent_env import DepotMultiAgentEnv
from smartcharging.rllib.vehicle_env import VehicleTrainingVectorEnv

VEHICLE = "smartcharging-vehicle"
DEPOT_CHARGERS = "smartcharging-depot-chargers"
DEPOT_MULTI_AGENT = "smartcharging-depot"


def _split(env_config: dict[str, Any], extra: tuple[str, ...]) -> tuple[dict, dict, int | None]:
    """(configuration parameters, training options, num_envs) of an RLlib env_config."""
    params = dict(env_config)  # RLlib's EnvContext is a dict with runner attributes besides
    num_envs = params.pop("num_envs", None)
    options = {key: params.pop(key) for key in extra if key in params}
    return params, options, None if num_envs is None else int(num_envs)


def vehicle_config(params: dict[str, Any]) -> ChargingConfig:
    """The configuration of an env_config: ``config`` (a ``to_dict()``) or a scenario."""
    if "config" in params:
        if len(params) > 1:
            raise ConfigError(f"env_config: pass config alone, not with {sorted(params)}")
        return ChargingConfig(**params["config"])
    params = dict(params)
    return resolve_config(None, params.pop("scenario", None), params)


def depot_config(params: dict[str, Any]) -> DepotConfig:
    """The depot configuration of an env_config: ``config`` or a depot scenario."""
    if "config" in params:
        if len(params) > 1:
            raise ConfigError(f"env_config: pass config alone, not with {sorted(params)}")
        return DepotConfig(**params["config"])
    params = dict(params)
    return resolve_depot_config(None, params.pop("scenario", None), params)


def make_vehicle(env_config: dict[str, Any]) -> gym.Env | gym.vector.VectorEnv:
    params, options, num_envs = _split(env_config, ("reward_scale", "expected_shortfall"))
    config = vehicle_config(params)
    if num_envs is None:
        return training_env(SmartChargingEnv(config=config), **options)
    return VehicleTrainingVectorEnv(config, num_envs, **options)


def make_depot_chargers(env_config: dict[str, Any]) -> ChargerBatchVectorEnv:
    params, options, num_envs = _split(env_config, ("recipe",))
    config = depot_config(params)
    if num_envs is None or num_envs % config.n_chargers:
        raise ConfigError(
            f"{DEPOT_CHARGERS} is a batch of depots: set gym_env_vectorize_mode="
            "'vector_entry_point' and num_envs_per_env_runner to depots x chargers "
            f"(a multiple of {config.n_chargers}), not {num_envs}"
        )
    recipe = ChargerRecipe.from_json(options["recipe"]) if "recipe" in options else OWN_VIEW
    return ChargerBatchVectorEnv(config, num_envs // config.n_chargers, recipe)


def make_depot_multi_agent(env_config: dict[str, Any]) -> DepotMultiAgentEnv:
    params, _, _ = _split(env_config, ())
    return DepotMultiAgentEnv(depot_config(params))


def make_seed_env(env_config: dict[str, Any]) -> gym.Env | gym.vector.VectorEnv:
    params, _, num_envs = _split(env_config, ())
    config = vehicle_config(params)
    if num_envs is None:
        return SmartChargingEnv(config=config)
    return SmartChargingVectorEnv(num_envs=num_envs, config=config)


def make_depot(env_config: dict[str, Any]) -> gym.Env | gym.vector.VectorEnv:
    params, _, num_envs = _split(env_config, ())
    config = depot_config(params)
    if num_envs is None:
        return DepotEnv(config=config)
    return DepotVectorEnv(num_envs=num_envs, config=config)


CREATORS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "SmartCharging-v0": make_seed_env,
    "SmartChargingDepot-v0": make_depot,
    VEHICLE: make_vehicle,
    DEPOT_CHARGERS: make_depot_chargers,
    DEPOT_MULTI_AGENT: make_depot_multi_agent,
}


def register_envs() -> list[str]:
    """Register every name of the module docstring with RLlib; return the names."""
    for name, creator in CREATORS.items():
        register_env(name, creator)
    return list(CREATORS)
