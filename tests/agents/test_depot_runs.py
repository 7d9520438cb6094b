import json
import sys

import numpy as np
import pytest

from smartcharging import cli
from smartcharging.agents.checkpoint_scores import (
    DEPOT_CURVE_FIELDS,
    EVALUATION_EPISODES,
    EVALUATION_SEED,
    LEGACY_DEPOT_CURVE_FIELDS,
    evaluation_reference,
)
from smartcharging.agents.depot_imitation import validation_return
from smartcharging.agents.depot_runs import load_depot_policy, resume_depot, train_depot
from smartcharging.agents.run_directory import RunError, read_curve_rows
from smartcharging.agents.sb3_depot import DepotAgentPolicy, SB3ChargerVecEnv, make_depot_model
from smartcharging.agents.scaling import ChargerView, normalize_depot_observations
from smartcharging.agents.site_rounding import site_rounded_levels
from smartcharging.agents.training_adapter import OWN_VIEW, SHIPPED_RECIPE
from smartcharging.config import limits
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.envs.depot import depot_spaces
from smartcharging.evaluation.depot import run_policy
from smartcharging.observations import DepotLayout

CONFIG = load_depot_scenario("depot-10-overnight").to_config()
#: A tiny imitation of MPC, so that the run tests stay fast.
QUICK = {"episodes": 2, "rounds": 2, "epochs": 1}


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
    estimates = []
    final = train_depot(
        CONFIG,
        "ppo",
        2048,
        0,
        run_dir,
        num_envs=2,
        checkpoints=2,
        on_estimate=estimates.append,
        imitation=QUICK,
    )
    assert final.steps >= 2048 and final.lagrangian_bound > final.expected_return
    assert len(estimates) == 1 and estimates[0].seconds >= 0 and estimates[0].steps_per_s > 0
    reference = evaluation_reference(CONFIG)
    stored = json.loads((run_dir / "run.json").read_text())["evaluation"]
    assert stored == reference.to_json()
    assert stored["seed"] == EVALUATION_SEED and stored["episodes"] == EVALUATION_EPISODES
    # MPC stands between the bound and the baselines on the evaluation episodes
    assert reference.mpc_expected_return < reference.lagrangian_bound
    rows = read_curve_rows(run_dir / "curve.csv")
    # the imitated policy at step 0, then the checkpoints of RL
    assert tuple(rows[0]) == DEPOT_CURVE_FIELDS and len(rows) == 3 and rows[0]["steps"] == "0"
    spec = json.loads((run_dir / "run.json").read_text())
    assert spec["recipe"] == SHIPPED_RECIPE.to_json()
    assert spec["imitation"]["episodes"] == 2 and spec["hyperparameters"]["gae_lambda"] == 1.0
    for row in rows:
        values = {name: float(value) for name, value in row.items()}
        assert values["lagrangian_bound"] == pytest.approx(reference.lagrangian_bound)
        assert values["mpc_expected_return"] == pytest.approx(reference.mpc_expected_return)
        assert values["gap"] == pytest.approx(
            values["lagrangian_bound"] - values["expected_return"]
        )
        bound = abs(values["lagrangian_bound"])
        assert values["gap_percent"] == pytest.approx(100 * values["gap"] / bound)
    # the curve's E[return] is compare's, on the same episodes
    policy = load_depot_policy(run_dir, CONFIG)
    run, _ = run_policy(policy, CONFIG, EVALUATION_EPISODES, EVALUATION_SEED)
    assert float(rows[-1]["expected_return"]) == pytest.approx(run.expected_returns.mean())
    files = {p.name for p in run_dir.iterdir()}
    assert {"run.json", "versions.json", "checkpoint.json", "curve.csv"} <= files
    assert sum(name.startswith("model-") for name in files) == 1
    # the last checkpoint holds the checkpoint best on the validation episodes, kept apart
    validated = json.loads((run_dir / "checkpoint.json").read_text())["validated"]
    assert (
        validated["file"] == f"best-model-{validated['steps']}.zip" and validated["file"] in files
    )
    assert sum(name.startswith("best-model-") for name in files) == 1
    delivered = validation_return(policy, CONFIG)
    assert delivered == pytest.approx(validated["validation_return"], rel=1e-9, abs=1e-9)
    assert json.loads((run_dir / "run.json").read_text())["algo"] == "ppo"
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


def interrupted_run(run_dir) -> None:
    """An A2C depot run from scratch stopped at its first checkpoint (step 0)."""

    def stop(point) -> None:
        raise Interrupt

    with pytest.raises(Interrupt):
        train_depot(
            CONFIG, "a2c", 3000, 0, run_dir, num_envs=2, checkpoints=3, on_checkpoint=stop,
            imitation={"rounds": 0},
        )  # fmt: skip


def test_resume_continues_without_gaps_or_duplicates(tmp_path) -> None:
    run_dir = tmp_path / "run"
    interrupted_run(run_dir)
    with open(run_dir / "curve.csv", "a") as file:  # a row written after the checkpoint
        file.write("999999,1.0,-1.0,-1.0,0.0,0.0,-1.0,0.0,-1.0\n")
    final = resume_depot(run_dir)
    with open(run_dir / "curve.csv") as file:
        steps = [int(line.split(",")[0]) for line in file.readlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == final.steps >= 3000
    assert len(steps) == 4 and steps[0] == 0
    assert sum(p.name.startswith("model-") for p in run_dir.iterdir()) == 1
    # the best on validation was carried over the interruption: the run delivers it
    validated = json.loads((run_dir / "checkpoint.json").read_text())["validated"]
    delivered = validation_return(load_depot_policy(run_dir, CONFIG), CONFIG)
    assert delivered == pytest.approx(validated["validation_return"], rel=1e-9, abs=1e-9)
    (run_dir / "checkpoint.json").write_text("{")
    with pytest.raises(RunError, match="checkpoint.json is damaged .not valid JSON"):
        resume_depot(run_dir)


def test_a_run_that_drifts_delivers_its_checkpoint_best_on_validation(
    tmp_path, monkeypatch
) -> None:
    """Scripted validation scores that only fall: the run ends with its step-0 weights, so
    its last row scores the same policy as its first."""
    import smartcharging.agents.depot_imitation as depot_imitation

    scores = iter(range(0, -100, -1))
    monkeypatch.setattr(depot_imitation, "validation_return", lambda policy, config: next(scores))
    run_dir = tmp_path / "run"
    train_depot(CONFIG, "a2c", 3000, 0, run_dir, num_envs=2, checkpoints=3, imitation={"rounds": 0})
    rows = read_curve_rows(run_dir / "curve.csv")
    assert len(rows) == 4 and rows[0]["steps"] == "0"
    assert float(rows[-1]["expected_return"]) == pytest.approx(float(rows[0]["expected_return"]))
    assert float(rows[1]["expected_return"]) != pytest.approx(float(rows[0]["expected_return"]))
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    assert checkpoint["validated"] == {
        "steps": 0,
        "validation_return": 0,
        "file": "best-model-0.zip",
    }


def test_resume_refuses_a_missing_best_file_and_lets_an_older_runs_checkpoint_compete(
    tmp_path, monkeypatch
) -> None:
    import smartcharging.agents.depot_imitation as depot_imitation

    run_dir = tmp_path / "run"
    interrupted_run(run_dir)
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    best_file = run_dir / checkpoint["validated"]["file"]
    saved = best_file.read_bytes()
    best_file.unlink()  # refused at once, not after the rest of the training
    with pytest.raises(RunError, match="cannot resume .*best-model-0.zip"):
        resume_depot(run_dir)
    best_file.write_bytes(saved)
    wrong = {**checkpoint, "validated": {**checkpoint["validated"], "file": "best-model-7.zip"}}
    (run_dir / "checkpoint.json").write_text(json.dumps(wrong))
    with pytest.raises(
        RunError, match="validated file 'best-model-7.zip' is not the one of step 0"
    ):
        resume_depot(run_dir)
    # a run from before the record: the checkpoint it resumes from is validated first
    del checkpoint["validated"]
    best_file.unlink()
    (run_dir / "checkpoint.json").write_text(json.dumps(checkpoint))
    scores = iter(range(0, -100, -1))
    monkeypatch.setattr(depot_imitation, "validation_return", lambda policy, config: next(scores))
    resume_depot(run_dir)
    rows = read_curve_rows(run_dir / "curve.csv")
    assert float(rows[-1]["expected_return"]) == pytest.approx(float(rows[0]["expected_return"]))


def test_evaluation_episodes_are_never_training_episodes() -> None:
    """Training seeds its depots with ``seed + copy`` (seed <= MAX_SEED)."""
    largest_training_seed = limits.MAX_SEED + limits.MAX_DEPOTS * limits.MAX_CHARGERS
    assert largest_training_seed < EVALUATION_SEED


def test_a_run_scored_the_older_way_loads_but_does_not_resume(tmp_path) -> None:
    """A run from before the recipe and the new curve: its own view, the older PPO
    settings, no evaluation reference in run.json, the older curve columns."""
    run_dir = tmp_path / "run"
    train_depot(CONFIG, "a2c", 64, 0, run_dir, num_envs=1, checkpoints=1, imitation={"rounds": 0})
    spec = json.loads((run_dir / "run.json").read_text())
    for key in ("evaluation", "recipe", "imitation"):
        del spec[key]
    older = {"n_steps": 8, "gae_lambda": 1.0, "learning_rate": 1e-3}
    spec["hyperparameters"] = {**spec["hyperparameters"], **older}
    spec["total_steps"] = 10_000
    (run_dir / "run.json").write_text(json.dumps(spec))
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    make_depot_model("a2c", CONFIG, 1, 0, OWN_VIEW, spec["hyperparameters"]).save(
        run_dir / checkpoint["file"]
    )
    header = ",".join(LEGACY_DEPOT_CURVE_FIELDS)
    (run_dir / "curve.csv").write_text(f"{header}\n{checkpoint['steps']},1.0,-400.0,-20.0,380.0\n")
    policy = load_depot_policy(run_dir, CONFIG)
    assert policy.learner.size == ChargerView(CONFIG).size and not policy.learner.mask
    observations = np.zeros((1, DepotLayout.of(CONFIG).size), dtype=np.float32)
    assert policy.actions(observations).shape == (1, CONFIG.n_chargers)
    with pytest.raises(RunError, match=r"^cannot resume .*scored by an older version.*--out"):
        resume_depot(run_dir)


def test_the_site_rounded_policy_reads_the_same_probabilities_as_sb3(small_depot) -> None:
    import torch

    config = small_depot()
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE)
    policy = DepotAgentPolicy(model, config, "p", SHIPPED_RECIPE)
    env = SB3ChargerVecEnv(config, 3, SHIPPED_RECIPE)
    env.seed(3)
    views = env.reset()
    with torch.no_grad():
        expected = model.policy.get_distribution(torch.as_tensor(views)).distribution.probs
    assert np.allclose(policy.probabilities(views), expected.numpy(), atol=1e-6)


def test_a_site_rounded_policy_idles_empty_chargers_and_refuses_nan_weights(small_depot) -> None:
    import torch

    config = small_depot()
    model = make_depot_model("ppo", config, 2, 0, SHIPPED_RECIPE)
    policy = DepotAgentPolicy(model, config, "p", SHIPPED_RECIPE)
    env = SB3ChargerVecEnv(config, 4, SHIPPED_RECIPE)
    env.seed(5)
    env.reset()
    env.env.action_space.seed(5)
    layout = DepotLayout.of(config)
    occupied = None
    for _ in range(config.n_slots):
        observations = env.env.step(env.env.action_space.sample())[0]
        empty = observations[:, layout.present] <= 0
        actions = policy.actions(observations)
        assert (actions[empty] == config.idle_action).all()
        # as rounding all chargers with the empty ones' probability on idle (their former
        # decoding): an empty charger's expected power is 0 and is never rounded up
        probabilities = policy.network.probabilities(policy.learner.observations(observations))
        probabilities = probabilities.reshape(*empty.shape, -1)
        probabilities[empty] = np.eye(probabilities.shape[-1])[config.idle_action]
        highest = policy.learner.highest_levels(observations)
        expected = site_rounded_levels(config.power_kw, probabilities, highest)
        np.testing.assert_array_equal(actions, expected)
        if not empty.all():  # the network only runs for occupied chargers
            occupied = observations
    assert occupied is not None
    with torch.no_grad():
        model.policy.action_net.bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite action probabilities"):
        policy.actions(occupied)


def test_a_run_whose_hyperparameters_name_a_log_folder_is_refused(tmp_path) -> None:
    run_dir = tmp_path / "a2c"
    train_depot(CONFIG, "a2c", 64, 0, run_dir, num_envs=1, checkpoints=1, imitation={"rounds": 0})
    spec = json.loads((run_dir / "run.json").read_text())
    spec["hyperparameters"]["tensorboard_log"] = str(tmp_path / "elsewhere")
    (run_dir / "run.json").write_text(json.dumps(spec))
    with pytest.raises(RunError, match="unknown a2c hyperparameter 'tensorboard_log'"):
        load_depot_policy(run_dir, CONFIG)
    with pytest.raises(RunError, match="unknown a2c hyperparameter 'tensorboard_log'"):
        resume_depot(run_dir)
    assert not (tmp_path / "elsewhere").exists()


def test_greedy_levels_are_sb3s_deterministic_actions(small_depot) -> None:
    config = small_depot()
    model = make_depot_model("ppo", config, 2, 0, OWN_VIEW)
    policy = DepotAgentPolicy(model, config, "p", OWN_VIEW)
    env = SB3ChargerVecEnv(config, 3, OWN_VIEW)
    env.seed(4)
    env.reset()
    for _ in range(config.n_slots):
        observations = env.env.step(env.env.action_space.sample())[0]
        views = policy.learner.observations(observations)
        expected = model.predict(views, deterministic=True)[0].reshape(3, -1)
        assert (policy.actions(observations) == expected).all()
