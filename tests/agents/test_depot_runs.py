import json
import sys

import numpy as np
import pytest

from smartcharging import cli
from smartcharging.agents.depot_runs import load_depot_policy, resume_depot, train_depot
from smartcharging.agents.run_directory import RunError
from smartcharging.agents.sb3_depot import SB3ChargerVecEnv
from smartcharging.agents.scaling import ChargerView, normalize_depot_observations
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.envs.depot import depot_spaces
from smartcharging.observations import DepotLayout

CONFIG = load_depot_scenario("depot-10-overnight").to_config()


def test_charger_vec_env_autoresets_with_terminal_observations() -> None:
    env = SB3ChargerVecEnv(CONFIG, 3)
    n = CONFIG.n_chargers
    env.seed(1)
    first = env.reset()
    view = ChargerView(CONFIG)
    assert first.shape == (3 * n, view.size) and np.abs(first).max() <= 1.0
    for step in range(CONFIG.n_slots):
        env.step_async(np.ones(3 * n, dtype=np.int64))
        obs, rewards, dones, infos = env.step_wait()
        assert rewards.shape == (3 * n,) and (rewards <= 0).all()
        assert dones.all() == (step == CONFIG.n_slots - 1)
    assert all("terminal_observation" in info for info in infos)
    assert (obs[:, 4] == 0).all()  # the new episodes' time step
    space, _ = depot_spaces(CONFIG)
    assert np.allclose(normalize_depot_observations(space.high[None], CONFIG), 1.0)


def test_train_save_load_and_compare(tmp_path, monkeypatch, capsys) -> None:
    run_dir = tmp_path / "ppo"
    final = train_depot(CONFIG, "ppo", 2048, 0, run_dir, num_envs=16, checkpoints=2)
    assert final.steps >= 2048 and final.hindsight_bound > final.mean_return
    files = {p.name for p in run_dir.iterdir()}
    assert {"run.json", "versions.json", "checkpoint.json", "curve.csv"} <= files
    assert sum(name.startswith("model-") for name in files) == 1
    assert json.loads((run_dir / "run.json").read_text())["algo"] == "ppo"
    policy = load_depot_policy(run_dir, CONFIG)
    observations = np.zeros((2, DepotLayout.of(CONFIG).size), dtype=np.float32)
    assert policy.actions(observations).shape == (2, CONFIG.n_chargers)
    assert json.loads((run_dir / "run.json").read_text())["hyperparameters"]["n_epochs"] == 5
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "smartcharging",
            "compare",
            "--scenario",
            "depot-10-overnight",
            "--model",
            str(run_dir),
            "--episodes",
            "3",
            "--json",
        ],
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0
    names = {row["policy"] for row in json.loads(capsys.readouterr().out)["policies"]}
    assert "ppo:ppo" in names and "least-laxity-first" in names
    with pytest.raises(RunError, match="exists and is not empty"):
        train_depot(CONFIG, "ppo", 10, 0, run_dir)
    with pytest.raises(RunError, match="depot agents train with ppo, a2c"):
        train_depot(CONFIG, "dqn", 10, 0, tmp_path / "dqn")
    other = load_depot_scenario("depot-25-evening").to_config()
    with pytest.raises(RunError, match="trained on another depot"):
        load_depot_policy(run_dir, other)


class Interrupt(Exception):
    pass


def test_resume_continues_without_gaps_or_duplicates(tmp_path) -> None:
    run_dir = tmp_path / "run"

    def stop(point) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        train_depot(CONFIG, "a2c", 3000, 0, run_dir, num_envs=2, checkpoints=3, on_checkpoint=stop)
    with open(run_dir / "curve.csv", "a") as file:  # a row written after the checkpoint
        file.write("999999,1.0,-1.0,-1.0,0.0\n")
    final = resume_depot(run_dir)
    with open(run_dir / "curve.csv") as file:
        steps = [int(line.split(",")[0]) for line in file.readlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == final.steps >= 3000
    assert len(steps) == 3
    assert sum(p.name.startswith("model-") for p in run_dir.iterdir()) == 1
    (run_dir / "checkpoint.json").write_text("{")
    with pytest.raises(RunError, match="checkpoint.json is damaged .not valid JSON"):
        resume_depot(run_dir)
