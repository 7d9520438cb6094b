"""The schema check of RLlib settings: crafted run.json files run nothing and allocate
nothing; every shipped setting passes."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from smartcharging.agents.run_directory import RunError
from smartcharging.config import ChargingConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.rllib.algorithms import DEPOT_SETTINGS, VEHICLE_SETTINGS, default_settings
from smartcharging.rllib.runs import RLlibRun, RLlibRunSpec, new_spec
from smartcharging.rllib.settings import check_settings
from tests.cli.cli_runner import run_cli


@pytest.mark.parametrize(
    ("algo", "depot"),
    [(algo, False) for algo in VEHICLE_SETTINGS] + [(algo, True) for algo in DEPOT_SETTINGS],
)
def test_every_shipped_setting_passes(algo: str, depot: bool) -> None:
    settings = default_settings(algo, depot)
    assert check_settings(algo, depot, settings) == settings


@pytest.mark.parametrize("runners", [0, 1, 3, 4])
@pytest.mark.parametrize(
    ("algo", "scenario"),
    [("ppo", None), ("ppo", "depot-v2g-peak"), ("ppo", "depot-25-evening"), ("impala", None)],
)
def test_rllib_accepts_every_shipped_setting_with_any_env_runners_and_depot_size(
    algo: str, scenario: str | None, runners: int
) -> None:
    """RLlib refuses a batch that is not a whole number of sampling rounds: 4 env runners
    (the docs' example) and 10-charger depots were refused before batches were rounded."""
    from smartcharging.rllib.algorithms import algorithm_config

    if scenario is None:
        name, env_config, copies = "smartcharging-vehicle", {}, 1
    else:
        depot = load_depot_scenario(scenario).to_config()
        name, env_config = "smartcharging-depot-chargers", {"config": depot.to_dict()}
        copies = depot.n_chargers
    settings = default_settings(algo, scenario is not None)
    config = algorithm_config(algo, name, env_config, settings, runners, 0, copies)
    config.validate()
    batch = config.train_batch_size_per_learner
    assert batch >= settings["training"]["train_batch_size_per_learner"]


def dqn_with(change: Any) -> dict[str, Any]:
    settings = default_settings("dqn", False)
    change(settings)
    return settings


def payload_buffer(marker: Path) -> dict[str, Any]:
    """A replay buffer whose ``type`` RLlib would import and call: ``os.system``."""
    inner = json.dumps({"type": "os.system", "_args": [f"touch {marker}"]})
    return {"type": inner}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(extra=1), "unknown key 'extra'"),
        (lambda s: s.pop("model"), "it has no 'model' entry"),
        (lambda s: s["training"].update(callbacks="os.system"), "unknown key 'callbacks'"),
        (lambda s: s["training"].update(minibatch_size=64), "unknown key 'minibatch_size'"),
        (
            lambda s: s["training"].update(replay_buffer_config={"type": "os.system"}),
            "replay_buffer_config=",
        ),
        (
            lambda s: s["training"]["replay_buffer_config"].update(type="os.system"),
            "replay_buffer_config.type='os.system': must be 'EpisodeReplayBuffer'",
        ),
        (
            lambda s: s["training"]["replay_buffer_config"].update(capacity=10**12),
            "capacity=1000000000000: must be an integer in 1..10,000,000",
        ),
        (lambda s: s["training"].update(lr=float("nan")), "training.lr=nan"),
        (lambda s: s["training"].update(lr=-1e-3), "training.lr=-0.001"),
        (lambda s: s["training"].update(gamma=1), "training.gamma=1: must be a finite float"),
        (lambda s: s["training"].update(dueling=1), "training.dueling=1: must be true or false"),
        (
            lambda s: s["training"].update(target_network_update_freq=True),
            "target_network_update_freq=True: must be an integer",
        ),
        (lambda s: s["training"].update(epsilon=[[0, 1.5]]), "training.epsilon value=1.5"),
        (lambda s: s["training"].update(epsilon=[[5, 1.0], [1, 0.1]]), "training.epsilon="),
        (lambda s: s["training"].update(epsilon="1.0"), "training.epsilon='1.0'"),
        (lambda s: s["model"].update(fcnet_hiddens=[2_000_000] * 2), "model.fcnet_hiddens="),
        (lambda s: s["model"].update(fcnet_hiddens=[64, 0]), "model.fcnet_hiddens=[64, 0]"),
        (
            lambda s: s["model"].update(fcnet_activation="Module"),
            "model.fcnet_activation='Module': must be one of",
        ),
        (lambda s: s["model"].update(custom="x"), "unknown key 'custom'"),
        (lambda s: s.update(num_envs_per_env_runner=10**9), "num_envs_per_env_runner="),
        (lambda s: s.update(rollout_fragment_length=10**6), "rollout_fragment_length="),
    ],
)
def test_crafted_settings_are_refused_by_field_value_and_allowed(change, message) -> None:
    settings = dqn_with(change)
    with pytest.raises(RunError, match="invalid run.json settings") as caught:
        check_settings("dqn", False, settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_spec_checks_its_settings_on_every_path() -> None:
    spec = new_spec("dqn", 100, 0, 0, 1, config=ChargingConfig())
    data = spec.to_json()
    assert RLlibRunSpec.from_json(copy.deepcopy(data)) == spec
    data["settings"]["training"]["replay_buffer_config"] = {"type": "os.system", "capacity": 1}
    with pytest.raises(RunError, match="replay_buffer_config.type"):
        RLlibRunSpec.from_json(data)


def crafted_run(folder: Path, change: Any) -> Path:
    """A one-vehicle DQN run directory (nothing trained) with ``change`` applied to its
    run.json and checkpoint.json."""
    folder.mkdir()
    spec = new_spec("dqn", 100, 0, 0, 1, config=ChargingConfig()).to_json()
    checkpoint = {"steps": 0, "wall_time_s": 0.0, "files": ["policy-0.npz"], "best": None}
    change(spec, checkpoint)
    (folder / "run.json").write_text(json.dumps(spec))
    (folder / "checkpoint.json").write_text(json.dumps(checkpoint))
    (folder / "curve.csv").write_text(
        "steps,wall_time_s,expected_return,optimal_return,gap,relative_gap,"
        "shortfall_probability\n0,0,0,0,0,0,0\n"
    )
    return folder


@pytest.mark.usefixtures("ray_session")
def test_resuming_a_run_with_a_payload_in_its_settings_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"

    def plant(spec: dict, _: dict) -> None:
        spec["settings"]["training"]["replay_buffer_config"] = payload_buffer(marker)

    run = crafted_run(tmp_path / "run", plant)
    with pytest.raises(RunError, match="replay_buffer_config"):
        RLlibRun.resume(run)
    for command in ("train", "--resume"), ("evaluate", "--model"), ("compare", "--model"):
        code, _, err = run_cli(*command, str(run))
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "replay_buffer_config" in lines[0], err
    assert not marker.exists()


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("files", "../outside"),
        ("files", "/absolute/policy-0.npz"),
        ("best", "../outside"),
        ("rllib_checkpoint", "../outside"),
        ("rllib_checkpoint", "OUTSIDE"),
    ],
)
def test_a_checkpoint_naming_something_outside_the_run_is_refused(
    tmp_path: Path, field: str, name: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    name = str(outside) if name == "OUTSIDE" else name

    def plant(_: dict, checkpoint: dict) -> None:
        if field == "files":
            checkpoint["files"] = [name]
        elif field == "best":
            best = {"steps": 0, "expected_return": 0.0, "relative_gap": 0.0, "file": name}
            checkpoint["best"] = best
        else:
            checkpoint["rllib_checkpoint"] = name

    run = crafted_run(tmp_path / "run", plant)
    with pytest.raises(RunError, match="not a file name inside the run folder"):
        RLlibRun.resume(run)
    assert (outside / "keep").read_text() == "keep"


def test_a_batch_rounded_beyond_the_transition_limit_is_refused() -> None:
    """Rounding to whole sampling rounds multiplies by env runners and copies: the settings
    check alone let 10,000 runners of 25-charger depots ask for a 128M-step batch."""
    from smartcharging.rllib.algorithms import algorithm_config

    depot = load_depot_scenario("depot-25-evening").to_config()
    settings = default_settings("ppo", True)
    env_config = {"config": depot.to_dict()}
    with pytest.raises(RunError, match="invalid train batch of 128,000,000 steps"):
        algorithm_config("ppo", "smartcharging-depot-chargers", env_config, settings, 10_000, 0, 25)
