"""RLlib runs on a local Ray (2 CPUs): train, checkpoint, resume, evaluate exactly."""

import json
from pathlib import Path

import numpy as np
import pytest

from smartcharging.agents.checkpoint_scores import EVALUATION_EPISODES, EVALUATION_SEED
from smartcharging.agents.run_directory import RunError, read_curve_rows
from smartcharging.agents.runs import read_curve
from smartcharging.agents.training_adapter import OWN_VIEW, SHIPPED_RECIPE, ChargerRecipe
from smartcharging.cli.routing import load_depot_agent as load_depot_policy
from smartcharging.cli.routing import load_vehicle_agent as load_policy
from smartcharging.config import ChargingConfig
from smartcharging.evaluation.depot import run_policy
from smartcharging.evaluation.vehicle import exact_value
from smartcharging.rllib.algorithms import default_settings
from smartcharging.rllib.policies import RLlibPolicy
from smartcharging.rllib.runs import RLlibRun, RLlibRunSpec, new_spec, shifted_settings
from smartcharging.solvers.vehicle.dp import solve_all
from tests.cli.cli_runner import run_cli

pytestmark = pytest.mark.usefixtures("ray_session")


def tiny(algo: str, depot: bool) -> dict:
    """The shipped settings with a batch small enough for a test's few iterations."""
    settings = default_settings(algo, depot)
    settings.update(num_envs_per_env_runner=4 if depot else 16, rollout_fragment_length=16)
    batch = 4 * 3 * 16 if depot else 256
    settings["training"].update(train_batch_size_per_learner=batch, minibatch_size=batch // 2)
    settings["training"]["num_epochs"] = 2
    return settings


def test_registration_works_in_a_fresh_worker_process() -> None:
    """A Ray worker that never imported smartcharging builds every env by its name."""
    import ray
    from ray.tune.registry import ENV_CREATOR, _global_registry

    @ray.remote
    def build(name: str, env_config: dict) -> tuple[int, bool]:
        import sys

        creator = _global_registry.get(ENV_CREATOR, name)
        env = creator(env_config)
        return getattr(env, "num_envs", 1), "smartcharging" in sys.modules

    assert ray.get(build.remote("SmartCharging-v0", {})) == (1, True)
    assert ray.get(build.remote("smartcharging-vehicle", {"scenario": "seed", "num_envs": 8})) == (
        8,
        True,
    )
    chargers = {"scenario": "depot-25-evening", "num_envs": 50}
    assert ray.get(build.remote("smartcharging-depot-chargers", chargers)) == (50, True)


def test_vehicle_run_trains_in_an_env_runner_checkpoints_resumes_and_evaluates(
    tmp_path: Path,
) -> None:
    config = ChargingConfig()
    spec = RLlibRunSpec("ppo", 512, 0, 1, 2, tiny("ppo", False), config=config)
    run = RLlibRun.start(tmp_path / "ppo", spec)
    final = run.train()
    folder = tmp_path / "ppo"
    names = {path.name for path in folder.iterdir()}
    assert {"run.json", "versions.json", "curve.csv", "checkpoint.json"} <= names
    assert f"policy-{final[0]}.npz" in names and f"rllib-{final[0]}" in names
    assert (folder / f"rllib-{final[0]}" / "rllib_checkpoint.json").exists()
    curve = read_curve(folder / "curve.csv")
    assert curve[0].steps == 0 and curve[-1].steps == final[0] >= 512
    # The curve's gap is the exact gap of the saved policy, recomputed from the file alone.
    policy, _ = load_policy(folder, config, which="last")
    solution = solve_all(config)
    value = exact_value(policy, config, solution.grid)
    assert value.expected_return == pytest.approx(curve[-1].expected_return, rel=1e-9)

    data = json.loads((folder / "run.json").read_text())
    data["total_steps"] = 1024
    (folder / "run.json").write_text(json.dumps(data))
    resumed = RLlibRun.resume(folder)
    assert resumed.steps_done == final[0]
    # The rebuilt learner holds the saved weights: same greedy actions everywhere.
    states = np.array([[b, t] for b in range(73) for t in range(8)], dtype=np.float32)

    rebuilt = RLlibPolicy(resumed._learner_module(), config, "rebuilt")
    np.testing.assert_array_equal(rebuilt.actions(states), policy.actions(states))
    again = resumed.train()
    assert again[0] >= 1024
    steps = [point.steps for point in read_curve(folder / "curve.csv")]
    assert steps == sorted(set(steps))
    assert not (folder / f"rllib-{final[0]}").exists()  # only the last RLlib checkpoint is kept

    code, out, err = run_cli("evaluate", "--model", str(folder), "--episodes", "50", "--json")
    assert code == 0, err
    assert json.loads(out)["expected_return"] <= solve_all(config).expected_return
    code, out, err = run_cli("compare", "--model", str(folder), "--json")
    assert code == 0, err
    assert "ppo:ppo" in {row["policy"] for row in json.loads(out)}


def test_depot_run_trains_a_shared_policy_and_loads_for_the_depot(
    tmp_path: Path, small_depot
) -> None:
    depot = small_depot()
    spec = RLlibRunSpec("ppo", 400, 1, 0, 1, tiny("ppo", True), depot=depot)
    final = RLlibRun.start(tmp_path / "depot", spec).train()
    assert final[0] >= 400 and final[3] == pytest.approx(final[2] + final[4])
    data = json.loads((tmp_path / "depot" / "run.json").read_text())
    assert data["engine"] == "rllib" and "depot" in data
    policy = load_depot_policy(tmp_path / "depot", depot)
    # the curve's E[return] is the greedy policy's on the run's fixed evaluation episodes
    result, _ = run_policy(policy, depot, EVALUATION_EPISODES, EVALUATION_SEED)
    assert float(result.expected_returns.mean()) == pytest.approx(final[2], rel=1e-9)
    with pytest.raises(RunError, match="power levels"):
        load_depot_policy(tmp_path / "depot", small_depot(power_levels_kw=(0.0, 3.7, 7.4)))


def test_depot_run_starts_from_the_sb3_runs_clone_of_mpc_with_their_recipe(
    tmp_path: Path, small_depot
) -> None:
    """The shipped depot recipe on RLlib: the same views, site-rounded levels and imitation
    of MPC as an SB3 run, so its step-0 checkpoint is a clone of MPC, not a random net."""
    depot = small_depot()
    plan = {"episodes": 4, "rounds": 2, "epochs": 10, "learning_rate": 0.003, "batch_size": 64}
    spec = new_spec("ppo", 1, 1, 0, 1, depot=depot)
    assert spec.recipe == SHIPPED_RECIPE and spec.imitation is not None
    spec = RLlibRunSpec(
        "ppo", 1, 1, 0, 1, tiny("ppo", True), depot=depot, recipe=SHIPPED_RECIPE, imitation=plan
    )
    RLlibRun.start(tmp_path / "imitated", spec)  # imitates, then checkpoints step 0
    scratch = RLlibRunSpec("ppo", 1, 1, 0, 1, tiny("ppo", True), depot=depot, recipe=SHIPPED_RECIPE)
    RLlibRun.start(tmp_path / "scratch", scratch)
    curves = {
        name: read_curve_rows(tmp_path / name / "curve.csv") for name in ("imitated", "scratch")
    }
    cloned, untrained = (float(curves[name][0]["gap_percent"]) for name in ("imitated", "scratch"))
    assert cloned < untrained
    data = json.loads((tmp_path / "imitated" / "run.json").read_text())
    assert ChargerRecipe.from_json(data["recipe"]) == SHIPPED_RECIPE and data["imitation"] == plan
    policy = load_depot_policy(tmp_path / "imitated", depot)
    result, _ = run_policy(policy, depot, EVALUATION_EPISODES, EVALUATION_SEED)
    expected = float(curves["imitated"][-1]["expected_return"])
    assert float(result.expected_returns.mean()) == pytest.approx(expected, rel=1e-9)


def test_an_appo_run_starts_its_old_policy_from_the_clone_too(tmp_path: Path, small_depot) -> None:
    """APPO's importance ratios are taken against its old policy: left random, its first
    updates would pull the clone of MPC towards the random network."""
    plan = {"episodes": 2, "rounds": 1, "epochs": 2, "learning_rate": 0.01, "batch_size": 64}
    settings = tiny("appo", True)
    for key in ("minibatch_size", "num_epochs"):  # PPO's; APPO has neither
        del settings["training"][key]
    spec = RLlibRunSpec(
        "appo", 1, 1, 0, 1, settings, depot=small_depot(), recipe=SHIPPED_RECIPE, imitation=plan
    )
    run = RLlibRun.start(tmp_path / "appo", spec)
    try:
        module = run._learner_module()
        pairs = module.get_target_network_pairs()
        assert pairs
        for main, target in pairs:
            for (_, a), (_, b) in zip(
                main.state_dict().items(), target.state_dict().items(), strict=True
            ):
                assert (a == b).all()
    finally:
        run.algo.stop()
        run.directory.release()


def test_a_depot_run_ends_with_its_checkpoint_best_on_validation(
    tmp_path: Path, small_depot, monkeypatch
) -> None:
    import smartcharging.agents.depot_imitation as depot_imitation

    scores = iter(range(0, -100, -1))  # every checkpoint validates worse than step 0's
    monkeypatch.setattr(depot_imitation, "validation_return", lambda policy, config: next(scores))
    depot = small_depot()
    spec = RLlibRunSpec("ppo", 400, 1, 0, 2, tiny("ppo", True), depot=depot, recipe=SHIPPED_RECIPE)
    run = RLlibRun.start(tmp_path / "run", spec)
    acting: list[bool] = []

    def runners_act_with_the_learners_weights(row: list) -> None:
        learner = run._learner_module().get_state(inference_only=True)
        runner = run.algo.env_runner.module.get_state()
        acting.append(all(np.array_equal(runner[k], learner[k]) for k in runner))

    run.train(runners_act_with_the_learners_weights)
    assert acting == [True, True]
    rows = read_curve_rows(tmp_path / "run" / "curve.csv")
    assert len(rows) == 3
    assert float(rows[-1]["expected_return"]) == pytest.approx(float(rows[0]["expected_return"]))
    checkpoint = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert checkpoint["validated"]["file"] == "best-policy-0.npz"
    assert (tmp_path / "run" / "best-policy-0.npz").is_file()


def test_depot_runs_from_before_recipes_load_with_each_chargers_own_view(small_depot) -> None:
    spec = RLlibRunSpec("ppo", 400, 1, 0, 1, tiny("ppo", True), depot=small_depot())
    data = spec.to_json()
    del data["recipe"], data["imitation"]
    old = RLlibRunSpec.from_json(data)
    assert old.recipe == OWN_VIEW and old.imitation is None
    with pytest.raises(RunError, match="imitation"):
        RLlibRunSpec.from_json({**data, "imitation": {"rounds": 1}})


def test_resume_continues_the_epsilon_schedule() -> None:
    settings = {"training": {"epsilon": [[0, 1.0], [1000, 0.0]]}}
    assert shifted_settings(settings, 250)["training"]["epsilon"] == [[0, 0.75], [750, 0.0]]
    assert shifted_settings(settings, 2000)["training"]["epsilon"] == [[0, 0.0]]
    assert shifted_settings(settings, 0) is settings


def test_a_tampered_weights_file_is_refused_without_unpickling(tmp_path: Path) -> None:
    config = ChargingConfig()
    spec = RLlibRunSpec("ppo", 256, 0, 0, 1, tiny("ppo", False), config=config)
    RLlibRun.start(tmp_path / "r", spec).train()
    checkpoint = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
    path = tmp_path / "r" / checkpoint["best"]["file"]
    np.save(path.with_suffix(".npy"), np.array([object()], dtype=object), allow_pickle=True)
    path.with_suffix(".npy").replace(path)
    with pytest.raises(RunError, match="cannot load the policy"):
        load_policy(tmp_path / "r", config)


def test_multi_agent_depot_trains_one_shared_policy(small_depot) -> None:
    """The depot as RLlib multi-agent env: every charger acts through the one module."""
    from smartcharging.rllib.algorithms import algorithm_config
    from smartcharging.rllib.depot_multi_agent_env import SHARED_POLICY, with_shared_policy
    from smartcharging.rllib.registration import DEPOT_MULTI_AGENT

    depot = small_depot()
    settings = tiny("ppo", True)
    settings["num_envs_per_env_runner"] = 2
    config = with_shared_policy(
        algorithm_config("ppo", DEPOT_MULTI_AGENT, {"config": depot.to_dict()}, settings, 0, 0)
    ).env_runners(gym_env_vectorize_mode="sync")
    algo = config.build_algo()
    try:
        result = algo.train()
        assert set(algo.env_runner.module.keys()) == {SHARED_POLICY}
        sampled = result["env_runners"]["num_agent_steps_sampled"]
        assert set(sampled) == {f"charger_{i}" for i in range(depot.n_chargers)}
    finally:
        algo.stop()
