import collections
import json
import math
import random
import signal
import sys
import time

import optuna
import pytest
import yaml
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from smartcharging import ChargingConfig, cli
from smartcharging.agents import tuning as tuning_module
from smartcharging.agents.depot_hyperparameters import DepotHyperparameters
from smartcharging.agents.hyperparameters import Hyperparameters
from smartcharging.agents.run_directory import read_curve_rows
from smartcharging.agents.runs import RunError, read_curve
from smartcharging.agents.sb3_agents import make_model
from smartcharging.agents.search_space import search_space
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


def test_a_depot_study_scores_trials_by_the_lagrangian_gap_and_writes_a_depot_entry(
    tmp_path, small_depot
) -> None:
    config = small_depot()
    spec = TuneSpec("ppo", trials=2, steps=2_048, seed=0, config=config, checkpoints=1)
    tuning = Tuning.start(tmp_path / "t", spec)
    entry = tuning.run()
    trials = tuning.study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 2
    for trial in trials:
        assert set(trial.params) == set(search_space("ppo", depot=True))
        rows = read_curve_rows(tmp_path / "t" / f"trial-{trial.number:03d}" / "curve.csv")
        assert trial.value == pytest.approx(float(rows[-1]["gap_percent"]) / 100, rel=1e-6)
    best = yaml.safe_load((tmp_path / "t" / "best.yml").read_text())
    assert best == {"default": entry}  # not a built-in depot: its default entry
    setup = DepotHyperparameters.from_dict("ppo", entry, "best.yml")
    assert setup.n_timesteps == 2_048
    assert setup.n_envs == tuning.study.best_trial.params["n_envs"]
    resumed = Tuning.resume(tmp_path / "t")  # tune.json holds the depot
    resumed.directory.release()
    assert resumed.spec.depot and resumed.spec.to_json() == spec.to_json()
    # tune.json edited to another depot, or to a count that is not an integer, is refused
    tune_file = tmp_path / "t" / "tune.json"
    saved = json.loads(tune_file.read_text())
    other = {**saved, "depot": {**saved["depot"], "grid_limit_kw": 99.0}}
    tune_file.write_text(json.dumps(other))
    with pytest.raises(RunError, match="depot, steps, checkpoints or seed are not those"):
        Tuning.resume(tmp_path / "t")
    tune_file.write_text(json.dumps({**saved, "steps": 500_000}))  # trials would not compare
    with pytest.raises(RunError, match="depot, steps, checkpoints or seed are not those"):
        Tuning.resume(tmp_path / "t")
    for bad, message in (
        ({"steps": 2000.7}, "steps 2000.7 is not an integer"),
        ({"interrupted": [0.9, True]}, r"interrupted \[0.9, True\] is not a list of trial"),
    ):
        tune_file.write_text(json.dumps({**saved, **bad}))
        with pytest.raises(RunError, match=message):
            Tuning.resume(tmp_path / "t")
    tune_file.write_text(json.dumps(saved))
    tuning.study.set_user_attr("problem", 5)  # study.db's record damaged
    with pytest.raises(RunError, match=r"study.db: its record of what it tunes \(5\)"):
        Tuning.resume(tmp_path / "t")


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
        (
            ("--algo", "dqn", "--scenario", "depot-25-evening", "--out", "y"),
            "choose one of ppo, a2c (on a depot)",
        ),
    ]:
        code, _, err = run(*bad)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def fast_training(monkeypatch, seconds: float = 0.002) -> list[int]:
    """Replace a trial's training by a short wait and a gap made of its parameters; the
    numbers of the trials whose training returned."""
    trained: list[int] = []

    def train(self, trial):
        time.sleep(seconds)
        trained.append(trial.number)
        gap = trial.params["learning_rate"] * trial.params["net_width"]
        return gap, gap, seconds

    monkeypatch.setattr(Tuning, "_train", train)
    return trained


def interrupt_after(seconds: float) -> None:
    """Send this process a SIGINT (a Ctrl-C) ``seconds`` from now."""
    signal.signal(signal.SIGALRM, lambda *_: signal.raise_signal(signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, seconds)


def test_ctrl_c_at_random_times_counts_each_trial_once_and_reruns_each_cut_one_once(
    tmp_path, monkeypatch
) -> None:
    trained = fast_training(monkeypatch)
    trials = 40  # enough that ten cuts come before the study is done, on a fast or slow machine
    spec = TuneSpec("a2c", trials=trials, steps=256, seed=0, config=CONFIG, checkpoints=1)
    folder = tmp_path / "t"
    Tuning.start(folder, spec).directory.release()
    rng = random.Random(0)
    interruptions = attempts = 0
    while interruptions < 10 and attempts < 200:  # cut in training, in ask, in tell, ...
        attempts += 1
        tuning = Tuning.resume(folder)
        try:
            interrupt_after(rng.uniform(1e-4, 0.05))
            tuning.run()
        except KeyboardInterrupt:
            interruptions += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            tuning.directory.release()
    assert interruptions == 10
    tuning = Tuning.resume(folder)
    tuning.run()
    study = tuning.study
    states = collections.Counter(t.state for t in study.trials)
    assert set(states) <= {TrialState.COMPLETE, TrialState.FAIL}
    assert states[TrialState.COMPLETE] == trials  # every finished trial counted, once
    cut = [t for t in study.trials if t.state == TrialState.FAIL]
    assert (
        sorted(t.number for t in cut)
        == json.loads((folder / "tune.json").read_text())["interrupted"]
    )
    for trial in cut:  # queued again exactly once, with its parameters if it had any
        again = [t for t in study.trials if t.user_attrs.get("requeued_from") == trial.number]
        assert len(again) == 1 and again[0].params.items() >= trial.params.items()
    completed = {t.number for t in study.trials if t.state == TrialState.COMPLETE}
    assert set(trained) >= completed and len(trained) == len(set(trained))


def test_a_ctrl_c_while_a_finished_trial_is_told_keeps_it(tmp_path, monkeypatch) -> None:
    trained = fast_training(monkeypatch)
    tuning = Tuning.start(tmp_path / "t", SPEC)
    real_tell = optuna.Study.tell

    def interrupted_tell(self, *args, **kwargs):
        signal.raise_signal(signal.SIGINT)  # recorded, raised once the tell is done
        return real_tell(self, *args, **kwargs)

    monkeypatch.setattr(optuna.Study, "tell", interrupted_tell)
    with pytest.raises(KeyboardInterrupt):
        tuning.run()
    monkeypatch.setattr(optuna.Study, "tell", real_tell)
    assert [t.state for t in tuning.study.trials] == [TrialState.COMPLETE]
    resumed = Tuning.resume(tmp_path / "t")
    assert len(resumed.finished) == 1 and resumed.interrupted == []
    resumed.run()
    assert len(resumed.study.trials) == 2 and trained == [0, 1]


def test_tune_command_exits_130_with_one_line_on_ctrl_c(tmp_path, monkeypatch, capsys) -> None:
    def interrupted(self, trial):
        raise KeyboardInterrupt

    monkeypatch.setattr(Tuning, "_train", interrupted)
    out = tmp_path / "cli"
    argv = ["smartcharging", "tune", "--algo", "a2c", "--trials", "2", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    _, err = capsys.readouterr()
    assert exit_info.value.code == 130
    assert err.strip().splitlines() == [
        f"error: interrupted: 0 of 2 trials finished; continue with smartcharging tune "
        f"--resume {out}"
    ]


def crafted_study(folder, direction: str = "minimize") -> optuna.Study:
    """A tuning directory whose study.db is replaced by a new study of tune's name."""
    Tuning.start(folder, SPEC).directory.release()
    (folder / "study.db").unlink()
    storage = f"sqlite:///{folder / 'study.db'}"
    return optuna.create_study(study_name="smartcharging", storage=storage, direction=direction)


def a2c_trial(value: float, **changes) -> optuna.trial.FrozenTrial:
    space = search_space("a2c")
    params = {name: d.low if hasattr(d, "low") else d.choices[0] for name, d in space.items()}
    distributions = {**space, **{name: d for name, (_, d) in changes.items()}}
    params |= {name: v for name, (v, _) in changes.items()}
    return optuna.trial.create_trial(params=params, distributions=distributions, value=value)


@pytest.mark.parametrize(
    ("craft", "message"),
    [
        (lambda s: None, "direction maximize (allowed: minimize, the gap)"),
        (lambda s: s.add_trial(a2c_trial(-math.inf)), "trial 0: value -inf"),
        (
            lambda s: s.add_trial(
                a2c_trial(0.1, net_width=(1_000_000, CategoricalDistribution([1_000_000])))
            ),
            "trial 0: net_width is drawn from CategoricalDistribution",
        ),
        (
            lambda s: s.enqueue_trial({"learning_rate": 1e30}),
            "trial 0: learning_rate=1e+30 (allowed: 0.0001..0.003, log scale)",
        ),
        (
            lambda s: s.enqueue_trial({"activation_fn": "os.system"}),
            "trial 0: parameter 'activation_fn' is not searched by tune",
        ),
    ],
)
def test_a_crafted_study_is_refused_naming_the_trial_and_field(tmp_path, craft, message) -> None:
    folder = tmp_path / "t"
    study = crafted_study(folder, "maximize" if "direction" in message else "minimize")
    craft(study)
    with pytest.raises(RunError) as error:
        Tuning.resume(folder)
    assert str(error.value).startswith(f"{folder / 'study.db'}: {message}")
    assert "\n" not in str(error.value)
    (folder / "study.db").unlink()  # a good study resumes: the refusal released the lock
    optuna.create_study(study_name="smartcharging", storage=f"sqlite:///{folder / 'study.db'}")
    assert Tuning.resume(folder).study.trials == []


def test_a_study_db_that_is_not_a_database_is_refused(tmp_path) -> None:
    folder = tmp_path / "t"
    crafted_study(folder)
    (folder / "study.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(RunError, match="study.db: not a readable Optuna study"):
        Tuning.resume(folder)
