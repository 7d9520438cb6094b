"""Whether a trained model fits the problem it is asked to act on, for every engine.

A model acts by index: its inputs are columns of an observation layout and its outputs are
power levels. A model trained on another vehicle would read other columns, and one trained
with other power levels would ask for other powers, so loading refuses both, naming the
run and what differs.
"""

from __future__ import annotations

from pathlib import Path

from smartcharging.agents.run_directory import RunError
from smartcharging.agents.scaling import ChargerView
from smartcharging.config import ChargingConfig, DepotConfig


def check_same_vehicle(folder: Path, trained: ChargingConfig, config: ChargingConfig) -> None:
    """Refuse a single-vehicle model trained on another configuration than ``config``."""
    if config != trained:
        differ = [k for k, v in trained.to_dict().items() if config.to_dict()[k] != v]
        raise RunError(
            f"--model {folder} was trained on another configuration ({', '.join(differ)} "
            "differ): pass the same environment options"
        )


def check_same_depot(folder: Path, trained: DepotConfig, depot: DepotConfig) -> None:
    """Refuse a shared charger model whose charger view or power levels differ from
    ``depot``'s (other sizes of depot are fine: the model acts per charger)."""
    size, expected = ChargerView(trained).size, ChargerView(depot).size
    if size != expected:
        raise RunError(
            f"--model {folder} was trained on another depot (observation size ({size},), "
            f"this scenario has {expected})"
        )
    if trained.power_levels_kw != depot.power_levels_kw:
        raise RunError(
            f"--model {folder} was trained with power levels {list(trained.power_levels_kw)} "
            f"kW, this scenario has {list(depot.power_levels_kw)}: its actions would mean "
            "other powers"
        )
