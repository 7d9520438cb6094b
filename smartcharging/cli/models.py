"""``--model`` of `evaluate` and `compare`: a training run directory of any engine, or a
Stable-Baselines3 model file saved by one's own script, loaded the same way by both.

A run directory gives its final model (``--checkpoint final``, the default) or the
checkpoint with the best exact expected return (``--checkpoint best``); a model file sees
observations scaled to ``[0, 1]`` or raw ones as its ``observation_space`` says
(``--raw-observations`` or ``--scaled-observations`` override it) and its algorithm is
read from it (``--algo`` overrides it). What was chosen is named in the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from smartcharging.agents.hyperparameters import SB3_ALGORITHMS
from smartcharging.cli.options import CliError
from smartcharging.cli.routing import load_depot_agent, load_vehicle_agent
from smartcharging.config.depot import DepotConfig
from smartcharging.config.vehicle import ChargingConfig

#: ``--checkpoint`` value → the ``which`` of the run loaders.
CHECKPOINTS = {"final": "last", "best": "best"}
#: How the output names the observations a model file sees.
SCALED, RAW = "scaled", "raw"


def algo_option() -> Any:
    return typer.Option(
        None,
        "--algo",
        help="Algorithm of a model file: dqn, ppo or a2c [read from the file].",
        show_default=False,
    )


def raw_observations_option() -> Any:
    return typer.Option(
        False,
        "--raw-observations",
        help="A model file sees the environment's own observations, whatever its "
        "observation_space says [read from the file].",
    )


def scaled_observations_option() -> Any:
    return typer.Option(
        False,
        "--scaled-observations",
        help="A model file sees observations scaled to [0, 1] (ScaleObservation, as "
        "training_env and `smartcharging train` give them), whatever its observation_space "
        "says [read from the file].",
    )


def checkpoint_option() -> Any:
    return typer.Option(
        None,
        "--checkpoint",
        help="Model of a run directory: final (its last checkpoint) or best (the checkpoint "
        "with the best exact expected return) [final].",
        show_default=False,
    )


@dataclass(frozen=True)
class ModelOptions:
    """The checked options that say how ``--model`` paths are loaded."""

    algo: str | None = None
    #: True: scaled, False: raw, None: as the file's observation_space says.
    scaled: bool | None = None
    checkpoint: str = "final"

    @classmethod
    def checked(
        cls,
        models: list[Path],
        algo: str | None,
        raw_observations: bool,
        scaled_observations: bool,
        checkpoint: str | None,
    ) -> ModelOptions:
        """The options, after refusing, before anything is read or solved, a missing
        model, contradictory flags, and a flag that applies to none of ``models``."""
        for model in models:
            if not model.exists():
                raise CliError(f"--model {model}: no such run directory or model file")
            if not model.is_dir() and not model.is_file():
                raise CliError(f"--model {model}: not a regular file or a run directory")
        if raw_observations and scaled_observations:
            raise CliError(
                "--raw-observations and --scaled-observations exclude each other: give the "
                "one the model file was trained with, or neither to read it from the file"
            )
        if algo is not None and algo not in SB3_ALGORITHMS:
            raise CliError(f"--algo {algo!r}: must be one of {', '.join(SB3_ALGORITHMS)}")
        if checkpoint is not None and checkpoint not in CHECKPOINTS:
            raise CliError(f"--checkpoint {checkpoint!r}: must be {' or '.join(CHECKPOINTS)}")
        files = any(not model.is_dir() for model in models)
        for name, given in (
            ("--algo", algo is not None),
            ("--raw-observations", raw_observations),
            ("--scaled-observations", scaled_observations),
        ):
            if given and not files:
                raise CliError(
                    f"{name} applies to a model file given with --model (not a run directory)"
                )
        if checkpoint is not None and not any(model.is_dir() for model in models):
            raise CliError(
                "--checkpoint applies to a run directory given with --model (not a model file)"
            )
        scaled = True if scaled_observations else False if raw_observations else None
        return cls(algo, scaled, checkpoint or "final")


@dataclass
class LoadedModel:
    """A ``--model``'s policy and what was chosen in loading it."""

    policy: Any
    #: A run directory's checkpoint (final or best); None for a model file.
    checkpoint: str | None = None
    #: A model file's observations (scaled or raw); None for a run directory.
    observations: str | None = None

    def fields(self) -> dict[str, str]:
        """The entries the JSON and CSV output add for this model."""
        if self.checkpoint is not None:
            return {"checkpoint": self.checkpoint}
        return {"observations": self.observations} if self.observations else {}

    def describe(self) -> str:
        """``final checkpoint``, ``best checkpoint``, ``raw observations`` or
        ``observations scaled to [0, 1]``."""
        if self.checkpoint is not None:
            return f"{self.checkpoint} checkpoint"
        return "raw observations" if self.observations == RAW else "observations scaled to [0, 1]"


def load_vehicle_model(path: Path, config: ChargingConfig, options: ModelOptions) -> LoadedModel:
    """The policy of a single-vehicle run directory (any engine) or model file."""
    if path.is_dir():
        policy, _ = load_vehicle_agent(path, config, CHECKPOINTS[options.checkpoint])
        return LoadedModel(policy, checkpoint=options.checkpoint)
    from smartcharging.agents.sb3_agents import load_user_model

    policy = load_user_model(path, config, options.algo, options.scaled)
    seen = "scaled to [0, 1]" if policy.scale_observations else "as the environment emits them"
    source = (
        "read from its observation_space"
        if options.scaled is None
        else "--scaled-observations"
        if options.scaled
        else "--raw-observations"
    )
    Console(stderr=True, soft_wrap=True).print(
        f"{policy.name}: the model sees observations {seen} ({source})", highlight=False
    )
    return LoadedModel(policy, observations=SCALED if policy.scale_observations else RAW)


def load_depot_model(path: Path, depot: DepotConfig, options: ModelOptions) -> LoadedModel:
    """The shared charger policy of a depot run directory (any engine), which keeps only
    its final model."""
    if not path.is_dir():
        raise CliError(
            f"--model {path}: a model file applies to single-vehicle scenarios; a depot agent "
            "loads from its run directory (smartcharging train --scenario depot-...)"
        )
    if options.checkpoint != "final":
        raise CliError(
            f"--checkpoint {options.checkpoint}: a depot run keeps only its final model "
            "(leave --checkpoint out, or give final)"
        )
    return LoadedModel(load_depot_agent(path, depot), checkpoint="final")
