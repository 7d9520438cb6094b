"""`train --tensorboard DIR`: SB3's training log and each checkpoint's exact gap as
TensorBoard scalars; an unusable folder or a run that cannot log is one error line."""

import sys
from pathlib import Path

import pytest

from smartcharging.agents.runs import read_curve
from tests.cli.cli_runner import run_cli

pytest.importorskip("stable_baselines3")
pytest.importorskip("tensorboard")

SMALL = ("--steps", "512", "--num-envs", "4", "--checkpoints", "2")


def scalars(folder: Path) -> dict[str, list[int]]:
    """Tag -> steps of every scalar logged in ``folder``'s event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found: dict[str, list[int]] = {}
    for events in sorted(folder.glob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            found.setdefault(tag, []).extend(e.step for e in accumulator.Scalars(tag))
    return found


def test_train_logs_sb3_and_the_exact_gap(tmp_path: Path) -> None:
    logs, run = tmp_path / "tb", tmp_path / "run"
    code, _, err = run_cli(
        "train", "--algo", "ppo", *SMALL, "--out", str(run), "--tensorboard", str(logs)
    )
    assert code == 0, err
    found = scalars(logs)
    steps = [point.steps for point in read_curve(run / "curve.csv")]
    assert found["exact/relative_gap"] == steps and len(steps) >= 2
    assert "exact/expected_return" in found
    assert any(tag.startswith("train/") for tag in found), found
    code, _, err = run_cli(
        "train", "--resume", str(run), "--tensorboard", str(logs)
    )  # nothing left to train: the resumed run logs nothing new, and fails nothing
    assert code == 0, err
    assert scalars(logs)["exact/relative_gap"] == steps


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", "qlearning"], "--tensorboard applies to dqn, ppo and a2c"),
        (["--algo", "ppo", "--engine", "rllib"], "--tensorboard applies to --engine local"),
        (["--algo", "ppo", "--scenario", "depot-25-evening"], "single-vehicle"),
    ],
)
def test_runs_that_cannot_log_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = run_cli(
        "train", *args, "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb")
    )
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "tb").exists()


def test_an_unusable_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(
        "train", "--algo", "ppo", *SMALL, "--out", str(tmp_path / "run"),
        "--tensorboard", str(tmp_path / "file"),
    )  # fmt: skip
    assert code == 1 and err.count("\n") == 1, err
    assert f"--tensorboard {tmp_path / 'file'}: is a file, not a directory" in err
    assert not (tmp_path / "run").exists()


def test_tensorboard_missing_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    code, _, err = run_cli(
        "train", "--algo", "ppo", *SMALL, "--out", str(tmp_path / "run"),
        "--tensorboard", str(tmp_path / "tb"),
    )  # fmt: skip
    assert code == 2 and "pip install tensorboard" in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()
