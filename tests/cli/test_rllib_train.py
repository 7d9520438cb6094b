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


class FakeRun:
    """Stands in for an RLlib run: one checkpoint, no Ray."""

    def __init__(self, folder, spec) -> None:
        self.folder, self.spec, self.best = folder, spec, None

    def train(self, show):
        row = [2000, 1.5, -2.0, -1.0, 1.0, 1.0]
        show(row)
        return row


def test_rllib_training_off_a_terminal_prints_no_progress_line(tmp_path, monkeypatch) -> None:
    """Redirected, `train --engine rllib` writes its result line and nothing else: no
    progress bar on stderr (it was cut to '2000/2…' and left before any error line)."""
    pytest.importorskip("ray")
    import smartcharging.agents.runs
    import smartcharging.plots
    import smartcharging.rllib.registration
    import smartcharging.rllib.runs
    import smartcharging.rllib.session

    monkeypatch.setattr(smartcharging.rllib.session, "ensure_ray", lambda address: None)
    monkeypatch.setattr(smartcharging.rllib.registration, "register_envs", lambda: None)
    monkeypatch.setattr(smartcharging.rllib.runs.RLlibRun, "start", FakeRun)
    monkeypatch.setattr(smartcharging.agents.runs, "read_curve", lambda path: [])
    monkeypatch.setattr(smartcharging.plots, "learning_curve", lambda *args: None)
    out_dir = tmp_path / "run"
    code, out, err = run_cli("train", "--engine", "rllib", "--algo", "ppo", "--out", str(out_dir))
    assert code == 0, err
    assert err == "" and out.startswith("ppo (RLlib): 2,000 steps") and out.count("\n") == 1


class FakeDepotRun(FakeRun):
    def train(self, show):
        row = [2000, 1.5, -52.0, -50.0, 2.0, 4.0, -51.0, 2.0, -53.0]
        show(row)
        return row


def test_rllib_depot_training_says_it_imitates_mpc_and_prints_its_result(
    tmp_path, monkeypatch
) -> None:
    pytest.importorskip("ray")
    import smartcharging.rllib.registration
    import smartcharging.rllib.runs
    import smartcharging.rllib.session

    monkeypatch.setattr(smartcharging.rllib.session, "ensure_ray", lambda address: None)
    monkeypatch.setattr(smartcharging.rllib.registration, "register_envs", lambda: None)
    monkeypatch.setattr(smartcharging.rllib.runs.RLlibRun, "start", FakeDepotRun)
    out_dir = tmp_path / "run"
    code, out, err = run_cli(
        "train", "--engine", "rllib", "--scenario", "depot-10-overnight", "--algo", "ppo",
        "--out", str(out_dir),
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("scoring MPC and the Lagrangian bound") and "imitating MPC" in out
    # the square brackets survive rich's markup
    assert "E[return] -52.00 on the evaluation episodes (4.0% from" in lines[-1]
