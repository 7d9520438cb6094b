"""`train --engine rllib`: option errors are one line and exit 2 (no Ray needed)."""

import pytest

from tests.cli.cli_runner import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark", "--algo", "ppo", "--out", "OUT"], "unknown engine 'spark'"),
        (["--algo", "ppo", "--out", "OUT", "--num-env-runners", "2"], "need --engine rllib"),
        (["--engine", "rllib", "--algo", "ppo", "--out", "OUT", "--num-envs", "4"], "--num-envs"),
        (["--engine", "rllib", "--algo", "a2c", "--out", "OUT"], "ppo, dqn, appo, impala"),
        (
            [
                "--engine",
                "rllib",
                "--algo",
                "dqn",
                "--scenario",
                "depot-25-evening",
                "--out",
                "OUT",
            ],
            "ppo, appo, impala",
        ),
        (["--engine", "rllib", "--algo", "ppo", "--out", "OUT", "--steps", "0"], "--steps"),
    ],
)
def test_bad_rllib_options_are_one_line_usage_errors(
    args: list[str], message: str, tmp_path
) -> None:
    out_dir = tmp_path / "x"
    code, _, err = run_cli("train", *[str(out_dir) if arg == "OUT" else arg for arg in args])
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out_dir.exists()
