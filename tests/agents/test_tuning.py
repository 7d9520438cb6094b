import json
import sys

import optuna
import pytest
import yaml

from smartcharging import ChargingConfig, cli
from smartcharging.agents import tuning as tuning_module
from smartcharging.agents.hyperparameters import Hyperparameters
from smartcharging.agents.runs import read_curve
from smartcharging.agents.sb3_agents import make_model
from smartcharging.agents.tuning import TuneSpec, Tuning, entry_of

CONFIG = ChargingConfig()
SPEC = TuneSpec("a2c", trials=2, steps=256, seed=0, config=CONFIG, checkpoints=1)


def test_trials_are_scored_by_their_last_checkpoint_and_best_yml_is_an_entry(tmp_path) -> None:
    tuning = Tuning.start(tmp_path / "t", SPEC)
    entry = tuning.run()
    trials = tuning.study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 2
    for trial in trials:
        curve = read_curve(tmp_path / "t" / f"trial-{trial.number:03d}" / "curve.csv")
        assert trial.value == curve[-1].relative_gap  # the final gap, not the best
        assert trial.user_attrs["best_checkpoint_gap"] <= trial.value
    best = yaml.safe_load((tmp_path / "t" / "best.yml").read_text())
    assert list(best) == ["seed"] and best["seed"] == entry
    assert Hyperparameters.from_dict("a2c", entry).n_timesteps == 256
    params = tuning.study.best_trial.params
    linear = params["learning_rate_schedule"] == "linear"
    rate = f"lin_{params['learning_rate']:.6g}" if linear else params["learning_rate"]
    assert entry["learning_rate"] == rate and "learning_rate_schedule" not in entry
    make_model(CONFIG, 0, None, Hyperparameters.from_dict("a2c", entry, "best.yml"))


def test_a_trial_entry_keeps_its_linear_schedule_and_network() -> None:
    params = {"learning_rate": 0.0012345678, "learning_rate_schedule": "linear", "net_width": 128}
    assert entry_of(params) == {
        "learning_rate": "lin_0.00123457",
        "policy_kwargs": {"net_arch": [128, 128]},
    }
    assert (
        entry_of(params | {"learning_rate_schedule": "constant"})["learning_rate"] == 0.0012345678
    )


def test_an_interrupted_study_resumes_and_reruns_the_cut_trial(tmp_path, monkeypatch) -> None:
    tuning = Tuning.start(tmp_path / "t", SPEC)
    real_train = tuning_module.Run.train
    calls = {"n": 0}

    def train_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_train(self, *args, **kwargs)

    monkeypatch.setattr(tuning_module.Run, "train", train_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        tuning.run()
    cut = tuning.study.trials[tuning.interrupted[0]]
    assert cut.state == optuna.trial.TrialState.FAIL and cut.params
    monkeypatch.undo()
    resumed = Tuning.resume(tmp_path / "t", trials=3)
    assert len(resumed.finished) == 1
    resumed.run()
    assert len(resumed.finished) == 3
    rerun = [t for t in resumed.study.trials if t.number > cut.number]
    assert rerun[0].params == cut.params
    assert json.loads((tmp_path / "t" / "tune.json").read_text())["interrupted"] == [cut.number]


def test_tune_command_runs_and_refuses_bad_input(tmp_path, monkeypatch, capsys) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["smartcharging", "tune", *args])
        with pytest.raises(SystemExit) as exit_info:
            cli.main()
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    out = tmp_path / "cli"
    args = ("--algo", "a2c", "--trials", "1", "--steps", "128", "--checkpoints", "1")
    code, text, _ = run(*args, "--out", str(out))
    assert code == 0 and "final exact gap" in text and (out / "best.yml").exists()
    for bad, message in [
        (("--algo", "sac", "--out", str(tmp_path / "x")), "choose one of dqn, ppo, a2c"),
        ((*args, "--out", str(out)), "exists and is not empty"),
        (("--resume", str(tmp_path / "nothing")), "not a tuning directory"),
        (("--algo", "ppo", "--scenario", "depot-25-evening", "--out", "y"), "not on depots"),
    ]:
        code, _, err = run(*bad)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1
