"""One's own Stable-Baselines3 model file in `evaluate` and `compare`: whether it sees
scaled or raw observations is read from its plain-JSON observation_space (the flags only
override it), and `compare --model` takes a file as `evaluate --model` does."""

import json
import math

import gymnasium as gym
import pytest

import smartcharging
from tests.cli.cli_runner import run_cli

sb3 = pytest.importorskip("stable_baselines3")


def trained(env: gym.Env, seed: int) -> object:
    """A PPO model after a few hundred steps (a policy that is not uniform)."""
    model = sb3.PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=2, seed=seed)
    return model.learn(256)


@pytest.fixture(name="models", scope="module")
def models_fixture(tmp_path_factory) -> dict:
    """name -> (file, model, env it was trained on, scenario): PPO on the raw seed env, on
    the seed's training_env (scaled observations) and on a priced scenario's training_env."""
    from smartcharging.agents.scaling import training_env

    folder = tmp_path_factory.mktemp("own-models")
    envs = {
        "raw": (gym.make("SmartCharging-v0"), "seed"),
        "scaled": (training_env(gym.make("SmartCharging-v0")), "seed"),
        "priced": (
            training_env(gym.make("SmartCharging-v0", scenario="tou-evening-peak")),
            "tou-evening-peak",
        ),
    }
    found = {}
    for seed, (name, (env, scenario)) in enumerate(envs.items()):
        model = trained(env, seed)
        model.save(folder / f"{name}.zip")
        found[name] = (folder / f"{name}.zip", model, env, scenario)
    return found


@pytest.mark.parametrize(
    ("name", "seen"), [("raw", "raw"), ("scaled", "scaled"), ("priced", "scaled")]
)
def test_evaluate_reads_the_observations_from_the_file(models, name, seen) -> None:
    path, model, env, scenario = models[name]
    expected = smartcharging.evaluate_policy(model, env).exact.expected_return
    code, out, err = run_cli("evaluate", "--model", str(path), "--scenario", scenario, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["expected_return"] == pytest.approx(expected, rel=1e-12)
    assert data["observations"] == seen
    assert "read from its observation_space" in err


def test_compare_takes_a_model_file_as_evaluate_does(models) -> None:
    path, model, env, _ = models["raw"]
    expected = smartcharging.evaluate_policy(model, env).exact.expected_return
    code, out, err = run_cli("compare", "--model", str(path), "--json")
    assert code == 0, err
    rows = {row["policy"]: row for row in json.loads(out)}
    assert rows["ppo:raw.zip"]["expected_return"] == pytest.approx(expected, rel=1e-12)
    assert rows["ppo:raw.zip"]["observations"] == "raw"
    code, out, err = run_cli("compare", "--model", str(path), "--csv")
    assert code == 0, err
    header, *lines = out.splitlines()
    assert "observations" in header.split(",") and len(lines) == len(rows)


def test_the_overrides_force_the_observations(models) -> None:
    path, model, _, _ = models["scaled"]
    code, out, err = run_cli("evaluate", "--model", str(path), "--raw-observations", "--json")
    assert code == 0, err
    assert json.loads(out)["observations"] == "raw" and "(--raw-observations)" in err
    forced = smartcharging.evaluate_policy(model, gym.make("SmartCharging-v0"))
    assert json.loads(out)["expected_return"] == pytest.approx(forced.exact.expected_return)
    path = models["raw"][0]
    code, out, err = run_cli("evaluate", "--model", str(path), "--scaled-observations", "--json")
    assert code == 0 and json.loads(out)["observations"] == "scaled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--raw-observations", "--scaled-observations"], "exclude each other"),
        (["--checkpoint", "best"], "--checkpoint applies to a run directory"),
        (["--checkpoint", "latest"], "--checkpoint 'latest': must be final or best"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_bad_model_options_are_one_line(models, command, args, message) -> None:
    code, _, err = run_cli(command, "--model", str(models["raw"][0]), *args)
    assert code == 2 and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_a_space_that_matches_neither_names_the_file_and_both_spaces(models, command) -> None:
    """A model of the seed's 72 kWh vehicle, used on a 60 kWh one: its observation_space
    is neither that vehicle's raw space nor its scaled one."""
    path = models["raw"][0]
    code, _, err = run_cli(command, "--model", str(path), "--capacity", "60")
    assert code == 2 and err.count("\n") == 1, err
    assert str(path) in err
    assert "high=[72, 8]" in err  # found
    assert "high=[60, 8]" in err and "high=[1, 1]" in err  # raw and scaled expected
    assert "--raw-observations or --scaled-observations" in err


def test_compare_refuses_a_model_file_for_a_depot(models) -> None:
    code, _, err = run_cli(
        "compare", "--model", str(models["raw"][0]), "--scenario", "depot-25-evening"
    )
    assert code == 2 and "single-vehicle" in err and err.count("\n") == 1, err


def test_observation_space_is_read_as_data(models, tmp_path) -> None:
    """The reader takes the JSON beside the pickle; a file without it is refused by name."""
    from smartcharging.agents.sb3_loading import read_observation_box

    low, high = read_observation_box(models["priced"][0], _data(models["priced"][0]))
    assert low.shape == high.shape and math.isclose(float(low[2]), -1.0)
    data = _data(models["raw"][0])
    del data["observation_space"]["high"]
    with pytest.raises(ValueError, match="cannot read its observation_space"):
        read_observation_box(models["raw"][0], data)


def _data(path) -> dict:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("data"))


@pytest.fixture(name="run_dir", scope="module")
def run_dir_fixture(tmp_path_factory) -> object:
    folder = tmp_path_factory.mktemp("runs") / "qrun"
    code, _, err = run_cli(
        "train", "--algo", "qlearning", "--steps", "20000", "--num-envs", "64",
        "--checkpoints", "2", "--out", str(folder),
    )  # fmt: skip
    assert code == 0, err
    return folder


@pytest.mark.parametrize(
    ("flag", "which", "named"),
    [
        ([], "last", "final"),
        (["--checkpoint", "best"], "best", "best"),
        (["--checkpoint", "final"], "last", "final"),
    ],
)
def test_a_run_directory_reports_its_checkpoint(run_dir, flag, which, named) -> None:
    from smartcharging.agents.runs import load_policy

    policy, _ = load_policy(run_dir, which=which)
    expected = smartcharging.evaluate_policy(policy).exact.expected_return
    code, out, err = run_cli("evaluate", "--model", str(run_dir), *flag, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["checkpoint"] == named
    assert data["expected_return"] == pytest.approx(expected, rel=1e-12)
    code, out, err = run_cli("evaluate", "--model", str(run_dir), *flag)
    assert code == 0 and f"{named} checkpoint" in out, out
    code, out, err = run_cli("compare", "--model", str(run_dir), *flag, "--json")
    rows = {row["policy"]: row for row in json.loads(out)}
    assert code == 0 and rows["qlearning:qrun"]["checkpoint"] == named
    assert rows["qlearning:qrun"]["expected_return"] == pytest.approx(expected, rel=1e-12)
    code, out, err = run_cli("compare", "--model", str(run_dir), *flag)
    assert code == 0 and f"{named} checkpoint" in out, out


def test_observation_flags_do_not_apply_to_run_directories(run_dir) -> None:
    code, _, err = run_cli("evaluate", "--model", str(run_dir), "--scaled-observations")
    assert code == 2 and "applies to a model file" in err and err.count("\n") == 1, err


def test_a_depot_run_has_only_its_final_model(tmp_path) -> None:
    folder = tmp_path / "depot-run"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"depot": {}}))
    code, _, err = run_cli(
        "compare", "--scenario", "depot-10-overnight", "--model", str(folder),
        "--checkpoint", "best",
    )  # fmt: skip
    assert code == 2 and "a depot run keeps only its final model" in err, err
    assert err.count("\n") == 1


def test_compare_draws_a_model_file_in_the_figures(models, tmp_path) -> None:
    """A model file has no learning curve, but its policy map and trajectory are drawn."""
    path, *_ = models["scaled"]
    code, _, err = run_cli(
        "compare", "--model", str(path), "--plots", str(tmp_path / "figures"), "--json"
    )
    assert code == 0, err
    written = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert "policy_maps.png" in written and "trajectories.png" in written
    assert not any(name.startswith("curve_") for name in written)
