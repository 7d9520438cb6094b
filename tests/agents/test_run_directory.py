"""Run directories: names read from a run's files never reach outside the run folder."""

import json
import os
from pathlib import Path

import pytest

from smartcharging.agents.depot_runs import load_depot_policy, resume_depot
from smartcharging.agents.run_directory import (
    FileNames,
    RunDirectory,
    RunError,
    RunKind,
    run_file_name,
    run_kind,
)
from smartcharging.agents.runs import Run, load_policy
from smartcharging.config import ChargingConfig, DepotConfig
from tests.cli.cli_runner import run_cli

SMALL = ("--steps", "20000", "--checkpoints", "2")
OUTSIDE_NAMES = ("../outside.txt", "/absolute", ".", "..", "", "a\0b", "sub/model-1.zip", 7)


@pytest.mark.parametrize("name", OUTSIDE_NAMES)
def test_only_plain_names_inside_the_run_folder_are_accepted(name: object) -> None:
    with pytest.raises(RunError, match="is not a file name inside the run folder"):
        run_file_name(name)


def test_names_of_a_role_must_have_its_form() -> None:
    names = FileNames(("model-<steps>.zip",))
    assert run_file_name("model-120.zip", names) == "model-120.zip"
    for name in ("model-.zip", "model-1.zip.bak", "policy-1.npz", "model-x.zip"):
        with pytest.raises(RunError, match=r"of the form model-<steps>\.zip"):
            run_file_name(name, names)


def test_removing_refuses_anything_outside_the_run_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    directory = RunDirectory.create(tmp_path / "run", {}, ("steps", "value"))
    for name in (str(outside), "../outside.txt"):
        with pytest.raises(RunError, match="not a file name inside the run folder"):
            directory.remove(name)
    assert outside.read_text() == "keep"
    directory.release()


def test_the_kind_of_a_run_comes_from_its_run_json(tmp_path: Path) -> None:
    assert run_kind(tmp_path) is None  # no run.json: the engine's loader says what is wrong
    (tmp_path / "run.json").write_text('{"algo": ')
    assert run_kind(tmp_path) is None
    kinds = {
        '{"algo": "ppo", "env": {}}': RunKind("local", False),
        '{"algo": "ppo", "depot": {}}': RunKind("local", True),
        '{"engine": "rllib", "env": {}}': RunKind("rllib", False),
        '{"engine": "rllib", "depot": {}}': RunKind("rllib", True),
    }
    for text, kind in kinds.items():
        (tmp_path / "run.json").write_text(text)
        assert run_kind(tmp_path) == kind


def test_a_start_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path: Path) -> None:
    def fail(directory: RunDirectory) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        RunDirectory.start(tmp_path / "run", {}, ("steps", "value"), fail)
    assert list(tmp_path.iterdir()) == []


def train_qlearning(folder: Path) -> None:
    code, _, err = run_cli("train", "--algo", "qlearning", "--out", str(folder), *SMALL)
    assert code == 0, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.parametrize("field", ["files", "best"])
@pytest.mark.parametrize("absolute", [True, False])
def test_a_crafted_checkpoint_cannot_delete_a_file_outside_the_run(
    tmp_path: Path, field: str, absolute: bool
) -> None:
    run = tmp_path / "run"
    train_qlearning(run)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    name = str(outside) if absolute else "../outside.txt"
    checkpoint = json.loads((run / "checkpoint.json").read_text())
    if field == "files":
        checkpoint["files"][0] = name
    else:
        checkpoint["best"]["file"] = name
    (run / "checkpoint.json").write_text(json.dumps(checkpoint))
    with pytest.raises(RunError, match="checkpoint.json is damaged .its file name"):
        Run.resume(run)
    with pytest.raises(RunError, match="not a file name inside the run folder"):
        load_policy(run, which="best" if field == "best" else "last")
    # evaluate and compare load the final model (--checkpoint best: the best checkpoint's)
    commands = [("train", "--resume"), ("evaluate", "--model"), ("compare", "--model")]
    if field == "best":
        commands += [("evaluate", "--checkpoint", "best", "--model")]
    for command in commands:
        code, _, err = run_cli(*command, str(run))
        assert code == 2 and "not a file name inside the run folder" in one_error_line(err)
    assert outside.read_text() == "keep"


def depot_run(folder: Path, depot: DepotConfig, file: object) -> Path:
    """A depot run directory whose checkpoint names ``file`` (nothing trained)."""
    folder.mkdir()
    spec = {
        "algo": "ppo",
        "total_steps": 100,
        "seed": 0,
        "depot": depot.to_dict(),
        "num_envs": 1,
        "checkpoints": 1,
    }
    (folder / "run.json").write_text(json.dumps(spec))
    checkpoint = {"steps": 0, "wall_time_s": 0.0, "file": file}
    (folder / "checkpoint.json").write_text(json.dumps(checkpoint))
    (folder / "curve.csv").write_text("steps,wall_time_s,mean_return,hindsight_bound,gap\n")
    return folder


@pytest.mark.parametrize("absolute", [True, False])
def test_a_depot_checkpoint_naming_a_file_outside_the_run_is_refused(
    tmp_path: Path, small_depot, absolute: bool
) -> None:
    outside = tmp_path / "outside.zip"
    outside.write_text("keep")
    depot = small_depot()
    run = depot_run(tmp_path / "run", depot, str(outside) if absolute else "../outside.zip")
    with pytest.raises(RunError, match=r"checkpoint.json is damaged .its file name"):
        resume_depot(run)
    with pytest.raises(RunError, match=r"model-<steps>\.zip"):
        load_depot_policy(run, depot)
    assert outside.read_text() == "keep"


def test_a_vehicle_model_is_loaded_only_by_a_checked_name(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_qlearning(run)
    checkpoint = json.loads((run / "checkpoint.json").read_text())
    model = run / checkpoint["best"]["file"]
    moved = tmp_path / model.name
    model.replace(moved)
    checkpoint["best"]["file"] = f"../{moved.name}"
    (run / "checkpoint.json").write_text(json.dumps(checkpoint))
    with pytest.raises(RunError, match="not a file name inside the run folder"):
        load_policy(run, ChargingConfig(), which="best")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"steps": 1, "steps": 2}', "duplicate key 'steps'"),
        ('{"steps": NaN}', "NaN is not a JSON number"),
        ('{"wall_time_s": Infinity}', "Infinity is not a JSON number"),
    ],
)
def test_a_run_file_with_a_repeated_key_or_a_non_number_is_damaged(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "checkpoint.json").write_text(text)
    with pytest.raises(RunError, match=f"checkpoint.json is damaged \\({problem}"):
        RunDirectory(tmp_path, ("steps",)).read("checkpoint.json")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"surprise": 1}, "unknown entry 'surprise'"),
        ({"total_steps": "20000"}, "its total_steps '20000' is not an integer"),
        ({"total_steps": 2e4}, "its total_steps 20000.0 is not an integer"),
        ({"seed": True}, "its seed True is not an integer"),
        ({"env": [1]}, "its env [1] is not a JSON object"),
        ({"reward_scale": "big"}, "its reward_scale 'big' is not a finite number or null"),
    ],
)
def test_run_json_entries_are_checked_for_kind_and_unknown_ones_refused(
    tmp_path: Path, change: dict, problem: str
) -> None:
    folder = tmp_path / "run"
    train_qlearning(folder)
    spec = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**spec, **change}))
    for command in (("evaluate", "--model"), ("train", "--resume")):
        code, _, err = run_cli(*command, str(folder))
        assert code == 2 and problem in one_error_line(err), err


def test_links_and_fifos_in_a_run_folder_are_refused_before_anything_is_read_or_written(
    tmp_path: Path,
) -> None:
    """A resumed run used to write its next checkpoint through a link planted in the run
    folder (overwriting the file it pointed to), and evaluate read through one."""
    run = tmp_path / "run"
    train_qlearning(run)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    spec = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**spec, "total_steps": 40_000}))
    (run / "model-40960.npz").symlink_to(victim)
    for command in (("train", "--resume"), ("evaluate", "--model")):
        code, _, err = run_cli(*command, str(run))
        assert code == 2 and "is a symbolic link" in one_error_line(err), err
    assert victim.read_text() == "precious"
    (run / "model-40960.npz").unlink()
    os.mkfifo(run / "best-model-20480.npz.fifo")
    code, _, err = run_cli("evaluate", "--model", str(run))
    assert code == 2 and "is not a regular file" in one_error_line(err), err
    (run / "best-model-20480.npz.fifo").unlink()
    link = tmp_path / "link"
    link.symlink_to(run)
    code, _, err = run_cli("evaluate", "--model", str(link))
    assert code == 2 and "is a symbolic link" in one_error_line(err), err
