"""smartcharging.evaluate_policy on every kind of policy, and `evaluate --model model.zip`
on plain Stable-Baselines3 files saved by a user's own script."""

import io
import json
import zipfile

import gymnasium as gym
import numpy as np
import pytest

import smartcharging
from smartcharging import ChargingConfig
from smartcharging.policies import TablePolicy, policy_by_name
from smartcharging.solvers import solve_all
from tests.cli.test_app import run

CONFIG = ChargingConfig()


def test_every_kind_of_callable_gets_the_policys_exact_figures() -> None:
    solution = solve_all(CONFIG)
    optimal = TablePolicy.optimal(solution)
    batched = smartcharging.evaluate_policy(optimal.actions, CONFIG)
    single = smartcharging.evaluate_policy(lambda observation: optimal.act(observation))
    assert batched.gap == single.gap == 0.0
    assert batched.exact == single.exact == smartcharging.evaluate_policy(optimal).exact
    constant = policy_by_name("constant-22kW", CONFIG, lambda: solution, 0)
    expected = smartcharging.evaluate_policy(constant, gym.make("SmartCharging-v0"))
    assert smartcharging.evaluate_policy(lambda _: 3).exact == expected.exact
    row = expected.as_dict()
    assert row["gap_to_optimum"] > 0 and 0 <= row["shortfall_probability"] <= 1
    assert {"expected_charging_cost", "expected_energy_kwh"} <= row.keys()


def test_bad_policies_and_configurations_are_named() -> None:
    with pytest.raises(ValueError, match=r"returned action 7: actions must be integers in 0\.\.3"):
        smartcharging.evaluate_policy(lambda _: 7)
    with pytest.raises(ValueError, match="returned action 1.5"):
        smartcharging.evaluate_policy(lambda observations: np.full(len(observations), 1.5))
    with pytest.raises(TypeError, match="must be a smartcharging Policy"):
        smartcharging.evaluate_policy(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="depot policies"):
        smartcharging.evaluate_policy(lambda _: 0, gym.make("SmartChargingDepot-v0"))


@pytest.fixture(name="user_models", scope="module")
def user_models_fixture(tmp_path_factory) -> dict:
    """Untrained models saved as a user's script would: PPO on the raw env, A2C with its
    own network on observations scaled by ScaleObservation, DQN on the raw env."""
    sb3 = pytest.importorskip("stable_baselines3")
    import torch

    from smartcharging.agents.scaling import ScaleObservation

    folder = tmp_path_factory.mktemp("models")
    raw, scaled = gym.make("SmartCharging-v0"), ScaleObservation(gym.make("SmartCharging-v0"))
    models = {
        "ppo": (sb3.PPO("MlpPolicy", raw, seed=1, device="cpu"), raw),
        "a2c": (
            sb3.A2C(
                "MlpPolicy",
                scaled,
                seed=2,
                device="cpu",
                policy_kwargs={"net_arch": [16], "activation_fn": torch.nn.ReLU},
            ),
            scaled,
        ),
        "dqn": (sb3.DQN("MlpPolicy", raw, seed=3, device="cpu", buffer_size=100), raw),
    }
    for name, (model, _) in models.items():
        model.save(folder / f"{name}.zip")
    return {name: (folder / f"{name}.zip", model, env) for name, (model, env) in models.items()}


@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn"])
def test_evaluate_scores_a_users_model_file_as_the_api_scores_the_model(
    algo: str, user_models: dict, monkeypatch, capsys
) -> None:
    path, model, env = user_models[algo]
    expected = smartcharging.evaluate_policy(model, env)
    raw = ["--raw-observations"] if algo != "a2c" else []
    code, out, err = run(monkeypatch, capsys, "evaluate", "--model", str(path), *raw, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["policy"] == f"{algo}:{algo}.zip"
    assert data["expected_return"] == pytest.approx(expected.exact.expected_return, rel=1e-12)
    assert ("as the environment emits them" in err) == bool(raw)


def bad_files(folder, ppo_zip) -> dict:
    content = ppo_zip.read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    data["evil"] = {":type:": "<class 'object'>", ":serialized:": "gASVAAAAAAAAAAA="}
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as archive:
        for name, member in members.items():
            archive.writestr(name, json.dumps(data) if name == "data" else member)
    files = {
        "text.zip": (b"not a zip", "not a Stable-Baselines3 model zip"),
        "empty.zip": (_zip({"other": b"1"}), "has no 'data' entry"),
        "nodata.zip": (_zip({"data": b"[1]"}), "not a JSON object"),
        "unknown.zip": (_zip({"data": b"{}"}), "cannot tell its algorithm"),
        "crafted.zip": (crafted.getvalue(), "refusing to load it"),
    }
    paths = {}
    for name, (body, message) in files.items():
        (folder / name).write_bytes(body)
        paths[folder / name] = message
    paths[folder / "missing.zip"] = "no such run directory or model file"
    (folder / "unreadable.zip").mkdir()
    (folder / "unreadable.zip" / "run.json").write_text("{")
    paths[folder / "unreadable.zip"] = "run.json is damaged (not valid JSON"
    return paths


def _zip(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_bad_model_files_are_one_line_errors(user_models, tmp_path, monkeypatch, capsys) -> None:
    for path, message in bad_files(tmp_path, user_models["ppo"][0]).items():
        code, _, err = run(monkeypatch, capsys, "evaluate", "--model", str(path))
        assert code == 2 and message in err and "Traceback" not in err, (path.name, err)
        assert len(err.strip().splitlines()) == 1, err
    code, _, err = run(
        monkeypatch, capsys, "evaluate", "--model", str(user_models["ppo"][0]), "--algo", "sac"
    )
    assert code == 2 and "--algo 'sac': must be one of" in err
