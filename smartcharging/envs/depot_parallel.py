"""PettingZoo view of the depot: one agent per charger, sharing the site's grid limit."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from smartcharging.config import DepotConfig
from smartcharging.envs.charger_rewards import charger_rewards
from smartcharging.envs.depot import DepotEnv
from smartcharging.observations import DepotLayout, depot_state_space


class DepotParallelEnv(ParallelEnv[str, np.ndarray, int]):
    """Each charger ``charger_<i>`` is an agent.

    Observation of an agent (float32): its own vehicle's presence, battery (kWh), slots to
    departure and expected demand (kWh), then the shared time step, price now, price
    forecast and site headroom (kW). Action: its power level (``Discrete``). The site limit
    is shared: all agents' requests are cut together by the depot's allocation rule.

    Reward of an agent: minus its own wear, its own shortfall cost, its share of the energy
    cost (in proportion to its energy drawn) and an equal share of the demand charge
    (:func:`~smartcharging.envs.charger_rewards.charger_rewards`); the agents' rewards add
    up to the depot's reward. All agents end together after the last
    slot (``terminations`` true), so ``agents`` is then empty.

    Centralised training (e.g. a MAPPO critic) reads :meth:`state`, the whole depot's
    observation (every charger and the site, as ``DepotEnv`` observes it), in
    ``state_space``. ``render_mode`` and reset options are those of ``DepotEnv``.
    """

    metadata = {  # noqa: RUF012
        "name": "smartcharging_depot_v0",
        "render_modes": DepotEnv.metadata["render_modes"],
        "render_fps": DepotEnv.metadata["render_fps"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        config: DepotConfig | None = None,
        scenario: str | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        self.depot = DepotEnv(config=config, scenario=scenario, render_mode=render_mode, **params)
        self.render_mode = render_mode
        self.config = cfg = self.depot.config
        self.state_space = depot_state_space(cfg)
        self._started = False
        self.possible_agents = [f"charger_{i}" for i in range(cfg.n_chargers)]
        self.agents: list[str] = []
        full = self.depot.observation_space
        assert isinstance(full, spaces.Box)
        layout = DepotLayout.of(cfg)
        self._own = list(layout.charger_columns)
        self._shared = layout.site_columns
        self._spaces = {
            agent: spaces.Box(
                full.low[np.concatenate([own, self._shared])],
                full.high[np.concatenate([own, self._shared])],
                dtype=np.float32,
            )
            for agent, own in zip(self.possible_agents, self._own, strict=True)
        }
        self._action: spaces.Discrete = spaces.Discrete(cfg.n_actions)
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}

    def observation_space(self, agent: str) -> spaces.Box:
        return self._spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._action

    def _split(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        shared = observation[self._shared]
        return {
            agent: np.concatenate([observation[own], shared])
            for agent, own in zip(self.possible_agents, self._own, strict=True)
        }

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        observation, info = self.depot.reset(seed=seed, options=options)
        self._started = True
        self.agents = list(self.possible_agents)
        per_charger = [key for key in ("arrival_slot", "departure_slot") if key in info]
        infos: dict[str, dict[str, Any]] = {
            agent: {key: int(info[key][i]) for key in per_charger}
            for i, agent in enumerate(self.agents)
        }
        return self._split(observation), infos

    def state(self) -> np.ndarray:
        """The whole depot's observation now (layout in :mod:`smartcharging.observations`)."""
        if not self._started:
            raise gym.error.ResetNeeded("state() before reset(): call reset() first")
        return self.depot.simulator.observations()[0]

    def render(self) -> str | np.ndarray | None:
        """The depot's frame or text line (see ``DepotEnv``)."""
        return self.depot.render()

    def _levels(self, actions: dict[str, int]) -> np.ndarray:
        """Every charger's power level (0 for an agent that did not act), or an
        InvalidAction naming the first agent or value that is not allowed."""
        if not isinstance(actions, dict):
            raise gym.error.InvalidAction(
                f"invalid actions {actions!r}: must be a dict of agent name -> power level"
            )
        unknown = [agent for agent in actions if agent not in self._index]
        if unknown:
            raise gym.error.InvalidAction(
                f"unknown agent {unknown[0]!r}: agents are charger_0 .. "
                f"charger_{self.config.n_chargers - 1}"
            )
        levels = np.zeros(self.config.n_chargers, dtype=np.int64)
        for agent, action in actions.items():
            integer = isinstance(action, int | np.integer) and not isinstance(action, bool)
            if not integer or not 0 <= action < self.config.n_actions:
                raise gym.error.InvalidAction(
                    f"invalid action {action!r} for {agent}: must be an integer in "
                    f"0..{self.config.n_actions - 1}"
                )
            levels[self._index[agent]] = int(action)
        return levels

    def step(
        self, actions: dict[str, int]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        levels = self._levels(actions)
        observation, _, terminated, truncated, info = self.depot.step(levels)
        own = charger_rewards(self.config, info)
        agents = self.agents
        rewards = {agent: float(own[i]) for i, agent in enumerate(agents)}
        infos = {
            agent: {
                "delivered_kw": float(info["delivered_kw"][i]),
                "ignored_action": bool(info["ignored_action"][i]),
            }
            for i, agent in enumerate(agents)
        }
        observations = self._split(observation)
        terminations = dict.fromkeys(agents, bool(terminated))
        truncations = dict.fromkeys(agents, bool(truncated))
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos
