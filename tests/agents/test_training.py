import json
from pathlib import Path

import numpy as np
import pytest

from smartcharging import ChargingConfig
from smartcharging.agents.hyperparameters import shipped
from smartcharging.agents.runs import Run, RunError, RunSpec, load_policy, read_curve
from smartcharging.evaluation.vehicle import exact_value, grid_observations
from smartcharging.policies import ConstantPolicy
from smartcharging.solvers import solve_all

CONFIG = ChargingConfig()
SOLUTION = solve_all(CONFIG)
IDLE = exact_value(ConstantPolicy(CONFIG, 0), CONFIG, SOLUTION.grid).expected_return


def train(folder: Path, algo: str, steps: int, num_envs: int, checkpoints: int = 3) -> Run:
    run = Run.start(folder, RunSpec(algo, steps, 7, CONFIG, num_envs, checkpoints))
    run.train()
    return run


@pytest.mark.parametrize(
    ("algo", "steps", "num_envs"),
    [("qlearning", 4_000_000, 4096), ("ppo", 16_384, 64), ("a2c", 16_384, 64), ("dqn", 6_000, 16)],
)
def test_short_runs_beat_idle_by_a_clear_margin(tmp_path, algo, steps, num_envs) -> None:
    run = train(tmp_path / algo, algo, steps, num_envs)
    value = exact_value(run.trainer.policy(), CONFIG, SOLUTION.grid).expected_return
    assert value > IDLE / 3  # idle loses 3.0e10 in expectation; the optimum 7.7e8
    curve = read_curve(tmp_path / algo / "curve.csv")
    assert curve[-1].expected_return == value and curve[-1].steps >= steps


def test_qlearning_reaches_one_percent_of_the_optimum(tmp_path) -> None:
    run = train(tmp_path / "q", "qlearning", 30_000_000, 4096)
    assert read_curve(tmp_path / "q" / "curve.csv")[-1].relative_gap < 0.01
    assert run.trainer.steps_done >= 30_000_000


@pytest.mark.parametrize(
    ("algo", "steps", "num_envs"), [("qlearning", 600_000, 1024), ("ppo", 4096, 64)]
)
def test_same_seed_gives_identical_learning_curves(tmp_path, algo, steps, num_envs) -> None:
    curves = []
    for name in ("a", "b"):
        train(tmp_path / name, algo, steps, num_envs)
        curves.append(
            [(p.steps, p.expected_return) for p in read_curve(tmp_path / name / "curve.csv")]
        )
    assert curves[0] == curves[1]


@pytest.mark.parametrize(
    ("algo", "steps", "num_envs"), [("qlearning", 300_000, 512), ("ppo", 2048, 64), ("dqn", 600, 4)]
)
def test_saved_model_acts_like_the_trained_one_on_every_grid_state(
    tmp_path, algo, steps, num_envs
) -> None:
    run = train(tmp_path / algo, algo, steps, num_envs, checkpoints=1)
    observations = grid_observations(CONFIG, SOLUTION.grid)
    loaded, spec = load_policy(tmp_path / algo, CONFIG, which="last")
    assert spec.algo == algo
    assert np.array_equal(loaded.actions(observations), run.trainer.policy().actions(observations))
    best, _ = load_policy(tmp_path / algo, CONFIG)
    checkpoint = json.loads((tmp_path / algo / "checkpoint.json").read_text())
    best_value = exact_value(best, CONFIG, SOLUTION.grid).expected_return
    assert best_value == pytest.approx(checkpoint["best"]["expected_return"], rel=1e-12)
    curve = read_curve(tmp_path / algo / "curve.csv")
    assert best_value == pytest.approx(max(p.expected_return for p in curve), rel=1e-12)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize(
    ("algo", "steps", "num_envs"), [("qlearning", 1_000_000, 1024), ("dqn", 1_000, 4)]
)
def test_resume_continues_without_gaps_or_duplicates(tmp_path, algo, steps, num_envs) -> None:
    spec = RunSpec(algo, steps, 3, CONFIG, num_envs, checkpoints=5)
    run = Run.start(tmp_path / "run", spec)

    def stop_after_two(point) -> None:
        if point.steps >= 2 * spec.checkpoint_every:
            raise Interrupt

    with pytest.raises(Interrupt):
        run.train(stop_after_two)
    # An interruption after the curve row but before checkpoint.json leaves an extra row:
    with open(tmp_path / "run" / "curve.csv", "a") as file:
        file.write(f"{10**9},1.0,-1.0,-1.0,0.0,0.0,0.0\n")
    resumed = Run.resume(tmp_path / "run")
    assert resumed.trainer.steps_done == read_curve(tmp_path / "run" / "curve.csv")[-1].steps
    resumed.train()
    steps_seen = [p.steps for p in read_curve(tmp_path / "run" / "curve.csv")]
    assert steps_seen == sorted(set(steps_seen)) and steps_seen[0] == 0
    assert steps_seen[-1] >= steps and len(steps_seen) == 6
    if algo == "qlearning":  # exact continuation: the same curve as an uninterrupted run
        train_whole = Run.start(tmp_path / "whole", spec)
        train_whole.train()
        whole = [(p.steps, p.expected_return) for p in read_curve(tmp_path / "whole" / "curve.csv")]
        again = [(p.steps, p.expected_return) for p in read_curve(tmp_path / "run" / "curve.csv")]
        assert whole == again


def test_run_directory_contents(tmp_path) -> None:
    train(tmp_path / "r", "qlearning", 200_000, 256, checkpoints=2)
    files = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"run.json", "versions.json", "curve.csv", "checkpoint.json"} <= files
    assert sum(name.startswith("model-") for name in files) == 1
    assert sum(name.startswith("best-model-") for name in files) == 1
    run_json = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run_json["seed"] == 7 and run_json["env"]["capacity_kwh"] == 72.0
    assert "numpy" in json.loads((tmp_path / "r" / "versions.json").read_text())


def test_bad_runs_are_refused(tmp_path) -> None:
    with pytest.raises(RunError, match="unknown algorithm 'sac'"):
        RunSpec("sac", 10, 0, CONFIG, 1)
    with pytest.raises(RunError, match="invalid total_steps=0"):
        RunSpec("ppo", 0, 0, CONFIG, 1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(RunError, match="exists and is not empty"):
        Run.start(tmp_path / "full", RunSpec("qlearning", 10, 0, CONFIG, 1))
    train(tmp_path / "r", "qlearning", 100_000, 256, checkpoints=1)
    checkpoint = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
    (tmp_path / "r" / checkpoint["files"][1]).write_bytes(b"not a pickle")
    with pytest.raises(RunError, match="state-.*npz is not an .npz archive"):
        Run.resume(tmp_path / "r")
    with pytest.raises(RunError, match="not a run directory"):
        load_policy(tmp_path / "full")
    with pytest.raises(RunError, match="trained on another configuration"):
        load_policy(tmp_path / "r", ChargingConfig(capacity_kwh=60))


def test_schedules_span_the_whole_run_not_each_checkpoint_chunk(tmp_path) -> None:
    """SB3 measures progress per learn() call; a run's schedules must follow the run, also
    across a resume: DQN's exploration and a lin_ learning rate, seen at each checkpoint."""
    seen: list[tuple[int, float, float]] = []

    def record(run: Run) -> None:
        model = run.trainer.model  # type: ignore[attr-defined]
        rate = model.policy.optimizer.param_groups[0]["lr"]
        seen.append((model.num_timesteps, model.exploration_rate, rate))
        if model.num_timesteps == 1_000:
            raise KeyboardInterrupt  # stopped halfway, after a checkpoint

    entry = shipped("dqn", CONFIG).to_dict() | {
        "learning_rate": "lin_0.001",
        "learning_starts": 100,
        "exploration_fraction": 0.3,
    }
    spec = RunSpec("dqn", 2_000, 0, CONFIG, 4, checkpoints=4, hyperparameters=entry)
    run = Run.start(tmp_path / "d", spec)
    with pytest.raises(KeyboardInterrupt):
        run.train(lambda _: record(run))
    resumed = Run.resume(tmp_path / "d")
    resumed.train(lambda _: record(resumed))
    steps = [s for s, _, _ in seen]
    assert steps == [500, 1_000, 1_500, 2_000]
    exploration = 1.0 - 0.98 * min(500 / 600, 1.0)  # exploration_fraction 0.3 of 2,000
    assert seen[0][1] == pytest.approx(exploration, abs=0.01)
    assert seen[-1][1] == pytest.approx(0.02)
    for steps_done, _, rate in seen[:-1]:  # the rate used by the last update before
        assert rate == pytest.approx(0.001 * (1 - steps_done / 2_000), abs=2e-5)


def test_a_run_from_before_shipped_entries_still_loads_and_resumes(tmp_path) -> None:
    """Old run.json files hold bare SB3 kwargs; those runs learned on the drawn penalty."""
    train(tmp_path / "old", "a2c", 128, 8, checkpoints=1)
    run_json = json.loads((tmp_path / "old" / "run.json").read_text())
    for key in ("n_envs", "n_timesteps", "expected_shortfall"):
        del run_json["hyperparameters"][key]
    (tmp_path / "old" / "run.json").write_text(json.dumps(run_json))
    load_policy(tmp_path / "old", CONFIG)
    resumed = Run.resume(tmp_path / "old")
    assert resumed.spec.sb3_hyperparameters().expected_shortfall is False
    assert resumed.trainer.model.env.expected_shortfall is False  # type: ignore[attr-defined]
