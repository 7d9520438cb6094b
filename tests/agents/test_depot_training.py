import json
import sys

import numpy as np
import pytest

from smartcharging import cli
from smartcharging.agents.depot_training import (
    SB3DepotVecEnv,
    load_depot_policy,
    normalize_depot_observations,
    train_depot,
)
from smartcharging.agents.runs import RunError
from smartcharging.envs.depot import depot_spaces
from smartcharging.scenarios import load_depot_scenario

CONFIG = load_depot_scenario("depot-10-overnight").to_config()


def test_vec_env_adapter_autoresets_with_terminal_observations() -> None:
    env = SB3DepotVecEnv(CONFIG, 3)
    env.seed(1)
    first = env.reset()
    space, _ = depot_spaces(CONFIG)
    assert first.shape == (3, CONFIG.observation_size) and np.abs(first).max() <= 1.0
    for step in range(CONFIG.n_slots):
        env.step_async(np.ones((3, CONFIG.n_chargers), dtype=np.int64))
        obs, _, dones, infos = env.step_wait()
        assert dones.all() == (step == CONFIG.n_slots - 1)
    assert all("terminal_observation" in info for info in infos)
    assert (obs[:, 4 * CONFIG.n_chargers] == 0).all()  # the new episodes' time step
    assert np.allclose(normalize_depot_observations(space.high[None], CONFIG), 1.0)


def test_train_save_load_and_compare(tmp_path, monkeypatch, capsys) -> None:
    run_dir = tmp_path / "ppo"
    final = train_depot(CONFIG, "ppo", 2048, 0, run_dir, num_envs=16, checkpoints=2)
    assert final.steps >= 2048 and final.hindsight_bound > final.mean_return
    assert {"run.json", "versions.json", "model.zip", "curve.csv"} <= {
        p.name for p in run_dir.iterdir()
    }
    assert json.loads((run_dir / "run.json").read_text())["algo"] == "ppo"
    policy = load_depot_policy(run_dir, CONFIG)
    observations = np.zeros((2, CONFIG.observation_size), dtype=np.float32)
    assert policy.actions(observations).shape == (2, CONFIG.n_chargers)
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
