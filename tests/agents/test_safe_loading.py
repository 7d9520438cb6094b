"""Crafted run directories run nothing: each file a run directory holds is loaded as data.

Every crafted file carries a payload that creates a marker file when unpickled
(:func:`test_payloads_run_code_when_unpickled` proves it does); each test then resumes,
evaluates or compares the crafted run and asserts that it is refused with one line or
loaded safely, and that the marker never appears.
"""

import base64
import io
import json
import pickle
import shutil
import sys
import zipfile
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
import torch

from smartcharging import cli
from smartcharging.agents.depot_runs import load_depot_policy
from smartcharging.agents.run_directory import RunError
from smartcharging.agents.runs import Run, RunSpec, load_policy
from smartcharging.agents.safe_loading import load_archive, save_archive
from smartcharging.agents.sb3_agents import make_model
from smartcharging.agents.sb3_depot import make_depot_model
from smartcharging.agents.sb3_loading import check_torch_version
from smartcharging.config import ChargingConfig, limits
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.evaluation.vehicle import grid_observations
from smartcharging.observations import DepotLayout
from smartcharging.solvers import solve_all

CONFIG = ChargingConfig()
OBSERVATIONS = grid_observations(CONFIG, solve_all(CONFIG).grid)
DEPOT = load_depot_scenario("depot-10-overnight").to_config()
#: Tiny runs: (steps, copies) per algorithm, one checkpoint after step 0.
RUNS = {"qlearning": (20_000, 256), "dqn": (64, 4), "ppo": (512, 8)}


class Payload:
    """What a crafted file runs when unpickled: it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """One tiny finished run directory per algorithm (copied, never changed, by tests)."""
    folders = {}
    for algo, (steps, num_envs) in RUNS.items():
        folder = tmp_path_factory.mktemp("runs") / algo
        Run.start(folder, RunSpec(algo, steps, 0, CONFIG, num_envs, checkpoints=1)).train()
        folders[algo] = folder
    return folders


def copy_run(trained: dict[str, Path], algo: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained[algo], tmp_path / algo))


def checkpoint_files(folder: Path) -> list[str]:
    return json.loads((folder / "checkpoint.json").read_text())["files"]


def replace_checkpoint_file(folder: Path, index: int, name: str, content: bytes) -> None:
    """Put ``content`` in the run as the checkpoint's file ``index``, named ``name``."""
    checkpoint = json.loads((folder / "checkpoint.json").read_text())
    (folder / checkpoint["files"][index]).unlink()
    checkpoint["files"][index] = name
    (folder / name).write_bytes(content)
    (folder / "checkpoint.json").write_text(json.dumps(checkpoint))


def object_archive(marker: Path, names: tuple[str, ...]) -> bytes:
    """An .npz whose arrays ``names`` are object arrays holding the payload."""
    buffer = io.BytesIO()
    payload = np.array([Payload(marker)], dtype=object)
    np.savez(buffer, meta=np.array("{}"), **dict.fromkeys(names, payload))
    return buffer.getvalue()


def rewrite_zip(path: Path, replace: dict[str, bytes]) -> None:
    """Rewrite the zip at ``path`` with the members of ``replace`` replaced or added."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(replace)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def with_serialized_entry(path: Path, key: str, marker: Path) -> None:
    """Set the model zip's ``data[key]`` to a cloudpickled payload, as SB3 stores objects."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    encoded = base64.b64encode(cloudpickle.dumps(Payload(marker))).decode()
    data[key] = {":type:": "<class 'type'>", ":serialized:": encoded}
    rewrite_zip(path, {"data": json.dumps(data).encode()})


def torch_payload(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": Payload(marker)}, buffer)
    return buffer.getvalue()


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["smartcharging", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    _, err = capsys.readouterr()
    return int(exit_info.value.code or 0), err


def test_payloads_run_code_when_unpickled(tmp_path) -> None:
    """The crafted files below are live: each loader that unpickles runs their payload."""
    loaders = {
        "pickle": lambda m: pickle.loads(pickle.dumps(Payload(m))),
        "cloudpickle": lambda m: cloudpickle.loads(cloudpickle.dumps(Payload(m))),
        "torch": lambda m: torch.load(io.BytesIO(torch_payload(m)), weights_only=False),
        "numpy": lambda m: np.load(io.BytesIO(object_archive(m, ("q",))), allow_pickle=True)["q"],
    }
    for name, load in loaders.items():
        marker = tmp_path / name
        load(marker)
        assert marker.exists(), name


@pytest.mark.parametrize(
    ("algo", "index", "name"),
    [("qlearning", 1, "state-9.pkl"), ("dqn", 1, "replay-9.pkl")],
)
def test_pickled_learner_state_of_old_runs_is_refused_unread(
    trained, tmp_path, monkeypatch, capsys, algo, index, name
) -> None:
    folder = copy_run(trained, algo, tmp_path)
    marker = tmp_path / "ran"
    replace_checkpoint_file(folder, index, name, pickle.dumps({"env": Payload(marker)}))
    with pytest.raises(RunError, match=rf"{name}' is not a \.npz archive.*never loaded"):
        Run.resume(folder)
    code, err = run_cli(monkeypatch, capsys, "train", "--resume", str(folder))
    assert code == 2 and "never loaded" in err and len(err.strip().splitlines()) == 1
    assert not marker.exists()


@pytest.mark.parametrize(
    ("algo", "index", "arrays"),
    [
        ("qlearning", 1, ("q", "visits", "observations")),
        ("dqn", 1, ("observations", "actions", "rewards")),
    ],
)
def test_learner_state_archives_with_pickled_objects_are_refused(
    trained, tmp_path, algo, index, arrays
) -> None:
    folder = copy_run(trained, algo, tmp_path)
    marker = tmp_path / "ran"
    name = checkpoint_files(folder)[index]
    replace_checkpoint_file(folder, index, name, object_archive(marker, arrays))
    with pytest.raises(
        RunError, match=f"cannot resume .*{name}: its array .* holds Python objects"
    ):
        Run.resume(folder)
    assert not marker.exists()


def test_qlearning_model_with_pickled_objects_is_refused(
    trained, tmp_path, monkeypatch, capsys
) -> None:
    folder = copy_run(trained, "qlearning", tmp_path)
    marker = tmp_path / "ran"
    best = json.loads((folder / "checkpoint.json").read_text())["best"]["file"]
    (folder / best).write_bytes(object_archive(marker, ("q", "grid_levels_kwh")))
    with pytest.raises(
        RunError, match=f"cannot load its model: .*{best}: its array .* Python objects"
    ):
        load_policy(folder)
    code, err = run_cli(
        monkeypatch, capsys, "evaluate", "--model", str(folder), "--checkpoint", "best"
    )
    assert code == 2 and "holds Python objects, which are never loaded" in err
    assert "allow_pickle" not in err
    assert not marker.exists()


def model_zips(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.zip"))


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
@pytest.mark.parametrize("key", ["policy_class", "observation_space", "lr_schedule", "_last_obs"])
def test_pickled_entries_sb3_saves_are_rebuilt_not_unpickled(trained, tmp_path, algo, key) -> None:
    """A payload under an entry SB3 itself pickles is replaced by our own object: the model
    loads and acts exactly as the genuine one, for evaluation and for resuming."""
    folder = copy_run(trained, algo, tmp_path)
    genuine, _ = load_policy(trained[algo])
    marker = tmp_path / "ran"
    for path in model_zips(folder):
        with_serialized_entry(path, key, marker)
    crafted, _ = load_policy(folder)
    assert np.array_equal(crafted.actions(OBSERVATIONS), genuine.actions(OBSERVATIONS))
    resumed = Run.resume(folder)
    assert resumed.trainer.steps_done == RUNS[algo][0]
    assert not marker.exists()


@pytest.mark.parametrize("algo", ["dqn", "ppo"])
def test_unknown_pickled_entries_are_refused(trained, tmp_path, monkeypatch, capsys, algo) -> None:
    folder = copy_run(trained, algo, tmp_path)
    marker = tmp_path / "ran"
    for path in model_zips(folder):
        with_serialized_entry(path, "exploit", marker)
    with pytest.raises(RunError, match=r"refusing to load it.*pickled entries \['exploit'\]"):
        load_policy(folder)
    with pytest.raises(RunError, match="refusing to load it"):
        Run.resume(folder)
    for command in (["evaluate"], ["compare", "--episodes", "10"]):
        code, err = run_cli(monkeypatch, capsys, *command, "--model", str(folder))
        assert code == 2 and "refusing to load it" in err
    assert not marker.exists()


@pytest.mark.parametrize("member", ["policy.pth", "policy.optimizer.pth", "extra.pth"])
def test_model_tensors_that_need_unpickling_are_refused(
    trained, tmp_path, monkeypatch, capsys, member
) -> None:
    folder = copy_run(trained, "ppo", tmp_path)
    marker = tmp_path / "ran"
    for path in model_zips(folder):
        rewrite_zip(path, {member: torch_payload(marker)})
    with pytest.raises(RunError, match=f"refusing to load it: its {member} holds objects"):
        load_policy(folder)
    with pytest.raises(RunError, match="refusing to load it"):
        Run.resume(folder)
    code, err = run_cli(monkeypatch, capsys, "compare", "--model", str(folder))
    assert code == 2 and "refusing to load it" in err
    assert not marker.exists()


def depot_run(folder: Path) -> Path:
    """A depot run directory as training writes it, with an untrained model."""
    folder.mkdir()
    make_depot_model("a2c", DEPOT, 1, 0).save(folder / "model-0.zip")
    spec = {"algo": "a2c", "depot": DEPOT.to_dict(), "num_envs": 1}
    (folder / "run.json").write_text(json.dumps(spec))
    checkpoint = {"steps": 0, "wall_time_s": 0.0, "file": "model-0.zip"}
    (folder / "checkpoint.json").write_text(json.dumps(checkpoint))
    return folder


def test_depot_models_load_without_unpickling(tmp_path, monkeypatch, capsys) -> None:
    folder = depot_run(tmp_path / "depot")
    genuine = load_depot_policy(folder, DEPOT)
    observations = np.random.default_rng(0).random((3, DepotLayout.of(DEPOT).size))
    marker = tmp_path / "ran"
    with_serialized_entry(folder / "model-0.zip", "policy_kwargs", marker)
    crafted = load_depot_policy(folder, DEPOT)
    assert np.array_equal(crafted.actions(observations), genuine.actions(observations))
    with_serialized_entry(folder / "model-0.zip", "exploit", marker)
    with pytest.raises(RunError, match="refusing to load it"):
        load_depot_policy(folder, DEPOT)
    code, err = run_cli(
        monkeypatch, capsys, "compare", "--scenario", "depot-10-overnight", "--model", str(folder)
    )
    assert code == 2 and "refusing to load it" in err
    assert not marker.exists()


def test_torch_older_than_2_6_is_refused() -> None:
    with pytest.raises(RunError, match=r"torch 2\.5\.1\+cpu cannot load model files safely"):
        check_torch_version("2.5.1+cpu")
    check_torch_version("2.6.0")
    check_torch_version(torch.__version__)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize(("algo", "steps", "num_envs"), [("ppo", 1024, 8), ("dqn", 96, 4)])
def test_sb3_runs_resume_from_their_saved_state(tmp_path, algo, steps, num_envs) -> None:
    """Resuming restores the weights and (DQN) the replay buffer; the finished run's model
    loads for evaluation and acts as the trainer's."""
    spec = RunSpec(algo, steps, 1, CONFIG, num_envs, checkpoints=2)
    run = Run.start(tmp_path / algo, spec)

    def stop_after_one(point) -> None:
        if point.steps >= spec.checkpoint_every:
            raise Interrupt

    with pytest.raises(Interrupt):
        run.train(stop_after_one)
    resumed = Run.resume(tmp_path / algo)
    before, after = run.trainer.model, resumed.trainer.model
    assert after.num_timesteps == before.num_timesteps
    for name, tensor in before.policy.state_dict().items():
        assert torch.equal(after.policy.state_dict()[name], tensor), name
    if algo == "dqn":
        for name in ("observations", "next_observations", "actions", "rewards", "dones"):
            assert np.array_equal(
                getattr(after.replay_buffer, name), getattr(before.replay_buffer, name)
            )
        assert (after.replay_buffer.pos, after.replay_buffer.full) == (
            before.replay_buffer.pos,
            before.replay_buffer.full,
        )
    resumed.train()
    loaded, _ = load_policy(tmp_path / algo, which="last")
    trained_actions = resumed.trainer.policy().actions(OBSERVATIONS)
    assert np.array_equal(loaded.actions(OBSERVATIONS), trained_actions)


def deflated_zeros(name: str, size: int = 16 * 2**20) -> bytes:
    """A zip whose one member ``name`` is ``size`` zero bytes, deflated (about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, bytes(size))
    return buffer.getvalue()


@pytest.mark.parametrize("where", ["model zip", "pth inside the model zip", "npz state"])
def test_zip_bombs_are_refused_before_extraction(
    trained, tmp_path, monkeypatch, capsys, where
) -> None:
    algo = "qlearning" if where == "npz state" else "ppo"
    folder = copy_run(trained, algo, tmp_path)
    if where == "npz state":
        replace_checkpoint_file(folder, 1, "state-0.npz", deflated_zeros("q.npy"))
        bomb = folder / "state-0.npz"
    else:
        for path in model_zips(folder):
            if where == "model zip":
                with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr("padding", bytes(16 * 2**20))
            else:
                rewrite_zip(path, {"policy.pth": deflated_zeros("archive/data/0")})
        bomb = folder / checkpoint_files(folder)[0]
    with pytest.raises(RunError, match=r"expands 1,0\d\d-fold .* a zip bomb") as error:
        Run.resume(folder)
    assert str(bomb) in str(error.value)
    if where != "npz state":
        code, err = run_cli(monkeypatch, capsys, "evaluate", "--model", str(bomb))
        assert code == 2 and str(bomb) in err and "zip bomb" in err


def test_archives_larger_than_the_limit_are_refused_unread(trained, tmp_path, monkeypatch) -> None:
    folder = copy_run(trained, "qlearning", tmp_path)
    state = folder / checkpoint_files(folder)[1]
    monkeypatch.setattr(limits, "MAX_ARCHIVE_BYTES", state.stat().st_size - 1)
    with pytest.raises(RunError, match=f"{state} is .* bytes long, more than"):
        Run.resume(folder)
    state.write_bytes(deflated_zeros("q.npy", 2 * 2**20))  # a small file declaring 2 MiB
    monkeypatch.setattr(limits, "MAX_ARCHIVE_BYTES", 2**20)
    with pytest.raises(RunError, match=f"{state} expands to more than 1,048,576 bytes"):
        Run.resume(folder)


def test_damaged_model_tensors_and_bad_algo_are_one_usage_error(
    trained, tmp_path, monkeypatch, capsys
) -> None:
    model = tmp_path / "model.zip"
    shutil.copy(trained["ppo"] / checkpoint_files(trained["ppo"])[0], model)
    rewrite_zip(model, {"policy.pth": b"junk" * 4})
    code, err = run_cli(monkeypatch, capsys, "evaluate", "--model", str(model))
    assert code == 2 and f"{model}: its policy.pth is damaged" in err
    assert len(err.strip().splitlines()) == 1
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self))
    code, err = run_cli(monkeypatch, capsys, "evaluate", "--model", str(model), "--algo", "bogus")
    assert code == 2 and "--algo 'bogus'" in err and not read


@pytest.mark.parametrize(
    ("net_arch", "message"),
    [
        ("x", "is not a list of layer widths"),
        ([64, "64"], "is not a list of layer widths"),
        ({"pi": [64], "evil": [1]}, "is not a list of layer widths"),
        ([10**9], "more than 100,000,000 weights"),
        ([50_000, 50_000], "more than 100,000,000 weights"),
    ],
)
def test_model_files_cannot_ask_for_any_network(
    trained, tmp_path, monkeypatch, capsys, net_arch, message
) -> None:
    """The network is built from the file's net_arch before its weights are read: a bad or
    huge one is refused in one line instead of a TypeError or filling the memory."""
    model = tmp_path / "model.zip"
    shutil.copy(trained["ppo"] / checkpoint_files(trained["ppo"])[0], model)
    with zipfile.ZipFile(model) as archive:
        data = json.loads(archive.read("data"))
    data["policy_kwargs"] = {"net_arch": net_arch}
    rewrite_zip(model, {"data": json.dumps(data).encode()})
    code, err = run_cli(monkeypatch, capsys, "evaluate", "--model", str(model))
    assert code == 2 and f"{model}: its net_arch" in err and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_model_of_another_configuration_is_one_line(trained, monkeypatch, capsys) -> None:
    model = trained["ppo"] / checkpoint_files(trained["ppo"])[0]
    code, err = run_cli(
        monkeypatch, capsys, "evaluate", "--model", str(model), "--power-levels", "0,7,14"
    )
    assert code == 2 and "does not fit this configuration" in err and "size mismatch" in err
    assert len(err.strip().splitlines()) == 1


def test_learner_state_cannot_ask_for_unbounded_copies(trained, tmp_path) -> None:
    folder = copy_run(trained, "qlearning", tmp_path)
    state = folder / checkpoint_files(folder)[1]
    meta, arrays = load_archive(state)
    meta["params"]["num_envs"] = 10**12
    save_archive(state, meta, arrays)
    message = f"cannot resume {folder}: invalid num_envs=1000000000000: must be in"
    with pytest.raises(RunError, match=message):
        Run.resume(folder)


@pytest.mark.parametrize(
    ("algo", "crafted"),
    [
        ("dqn", {"buffer_size": 10**12, "batch_size": 1, "gamma": 0.5, "train_freq": [0, "step"]}),
        ("ppo", {"n_steps": 10**9, "batch_size": 1, "n_epochs": 10**6, "tensorboard_log": "/"}),
    ],
)
def test_resume_takes_the_hyperparameters_of_run_json_not_the_model_zip(
    trained, tmp_path, algo, crafted
) -> None:
    """A model zip's settings are unchecked data: on resume every hyperparameter comes from
    the checked run.json (a zip's buffer_size of 1e12 never reaches the allocator)."""
    folder = copy_run(trained, algo, tmp_path)
    model = folder / checkpoint_files(folder)[0]
    with zipfile.ZipFile(model) as archive:
        data = json.loads(archive.read("data"))
    data.update(crafted)
    rewrite_zip(model, {"data": json.dumps(data).encode()})
    run = Run.resume(folder)
    spec = run.spec
    template = make_model(spec.config, None, spec.reward_scale, spec.sb3_hyperparameters())
    for key in crafted:
        assert getattr(run.trainer.model, key) == getattr(template, key), key
