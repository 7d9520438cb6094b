import pytest

from smartcharging import ChargingConfig
from smartcharging.agents.hyperparameters import (
    HyperparameterError,
    Hyperparameters,
    scenario_name,
    shipped,
)
from smartcharging.agents.runs import Run, RunError, RunSpec
from smartcharging.config.scenarios import load_scenario

CONFIG = ChargingConfig()


def test_each_builtin_scenario_gets_its_entry_and_others_the_default() -> None:
    overnight = load_scenario("overnight-day-ahead-nl").to_config()
    assert scenario_name(CONFIG) == "seed" and scenario_name(overnight) == "overnight-day-ahead-nl"
    assert scenario_name(ChargingConfig(capacity_kwh=60)) is None
    for algo in ("ppo", "dqn", "a2c"):
        params = shipped(algo, overnight)
        assert params.source == f"{algo}.yml: overnight-day-ahead-nl"
        assert params.n_timesteps > shipped(algo, CONFIG).n_timesteps
        assert shipped(algo, ChargingConfig(capacity_kwh=60)).source == f"{algo}.yml: default"
        assert params.kwargs["gamma"] == 1.0 and params.expected_shortfall


def test_model_kwargs_are_fresh_copies() -> None:
    params = shipped("a2c", CONFIG)
    params.model_kwargs()["policy_kwargs"]["optimizer_class"] = object
    assert "optimizer_class" not in params.model_kwargs()["policy_kwargs"]


def test_bad_entries_are_refused() -> None:
    good = shipped("ppo", CONFIG).to_dict()
    with pytest.raises(HyperparameterError, match="missing n_envs"):
        Hyperparameters.from_dict("ppo", {k: v for k, v in good.items() if k != "n_envs"})
    with pytest.raises(HyperparameterError, match="invalid n_timesteps=0"):
        Hyperparameters.from_dict("ppo", {**good, "n_timesteps": 0})
    with pytest.raises(HyperparameterError, match="invalid expected_shortfall='yes'"):
        Hyperparameters.from_dict("ppo", {**good, "expected_shortfall": "yes"})
    with pytest.raises(HyperparameterError, match="invalid learning_rate=<function"):
        Hyperparameters.from_dict("ppo", {**good, "learning_rate": lambda f: f})
    with pytest.raises(HyperparameterError, match="invalid algo='sac'"):
        shipped("sac", CONFIG)
    with pytest.raises(RunError, match="not qlearning"):
        RunSpec("qlearning", 10, 0, CONFIG, 1, hyperparameters=good)


def test_an_unknown_sb3_argument_is_named(tmp_path) -> None:
    entry = {**shipped("ppo", CONFIG).to_dict(), "learning_rat": 1e-3}
    with pytest.raises(HyperparameterError, match="unknown ppo hyperparameter 'learning_rat'"):
        Run.start(tmp_path / "r", RunSpec("ppo", 64, 0, CONFIG, 2, hyperparameters=entry))


@pytest.mark.parametrize("key", ["seed", "device", "tensorboard_log", "_init_setup_model"])
def test_arguments_a_run_sets_itself_are_not_hyperparameters(tmp_path, key) -> None:
    entry = {**shipped("ppo", CONFIG).to_dict(), key: 1}
    with pytest.raises(HyperparameterError, match=f"unknown ppo hyperparameter '{key}'"):
        Run.start(tmp_path / "r", RunSpec("ppo", 64, 0, CONFIG, 2, hyperparameters=entry))
    assert not (tmp_path / "r").exists()


def test_fewer_copies_cap_the_ppo_minibatch_at_one_rollout() -> None:
    params = RunSpec("ppo", 64, 0, CONFIG, 4).sb3_hyperparameters()
    assert params.kwargs["batch_size"] == 4 * params.kwargs["n_steps"]
    assert shipped("ppo", CONFIG).kwargs["batch_size"] == 2048


def test_a_run_keeps_its_own_entry_when_resumed(tmp_path) -> None:
    entry = {**shipped("a2c", CONFIG).to_dict(), "learning_rate": 0.0042}
    spec = RunSpec("a2c", 256, 0, CONFIG, 8, checkpoints=2, hyperparameters=entry)
    run = Run.start(tmp_path / "r", spec)
    run.train()
    resumed = Run.resume(tmp_path / "r")
    assert resumed.spec.hyperparameters is not None
    assert resumed.spec.hyperparameters["learning_rate"] == 0.0042
    assert resumed.trainer.model.learning_rate == 0.0042  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"buffer_size": 10**9}, "invalid buffer_size=1,000,000,000: must be at most"),
        ({"buffer_size": "big"}, "invalid buffer_size='big'"),
        ({"n_envs": 100_000, "n_steps": 1_000}, "invalid n_steps \\* n_envs=100,000,000"),
        ({"policy_kwargs": {"net_arch": [10**9]}}, "more than 100,000,000 weights"),
        ({"policy_kwargs": {"net_arch": "wide"}}, "is not a list of layer widths"),
    ],
)
def test_entries_cannot_ask_for_unbounded_buffers_or_networks(changes, message) -> None:
    """A run.json's entry is built into buffers and a network before any weight is read:
    sizes beyond the limits are refused instead of filling the memory."""
    entry = {**shipped("dqn", ChargingConfig()).to_dict(), **changes}
    with pytest.raises(HyperparameterError, match=message):
        Hyperparameters.from_dict("dqn", entry, "run.json")


@pytest.mark.parametrize(
    ("algo", "changes", "message"),
    [
        ("ppo", {"batch_size": 1}, "invalid batch_size=1: must be an int >= 2"),
        ("ppo", {"n_envs": 1, "n_steps": 1}, "invalid n_steps \\* n_envs=1: must be at least 2"),
        ("dqn", {"train_freq": 0}, "invalid train_freq=0: must be an int >= 1"),
        ("dqn", {"train_freq": [4, "hour"]}, "invalid train_freq=\\[4, 'hour'\\]"),
        ("dqn", {"train_freq": [2, "episode"]}, "'episode' needs n_envs=1"),
        ("dqn", {"train_freq": True}, "invalid train_freq=True"),
        ("a2c", {"policy_kwargs": {"activation_fn": "os.system"}}, "activation_fn='os.system'"),
        ("a2c", {"policy_kwargs": {"activation_fn": "os.system"}}, "allowed: ELU, GELU"),
        ("ppo", {"policy_kwargs": {"features_extractor_class": "x"}}, "policy_kwargs key"),
        ("dqn", {"policy_kwargs": {"ortho_init": False}}, "policy_kwargs key 'ortho_init'"),
        ("ppo", {"policy_kwargs": "wide"}, "invalid policy_kwargs='wide': must be a mapping"),
        ("ppo", {"gamma": "high"}, "invalid gamma='high': must be a number \\[0, 1\\]"),
        ("ppo", {"gae_lambda": 1.5}, "invalid gae_lambda=1.5: must be a number \\[0, 1\\]"),
        ("a2c", {"ent_coef": float("nan")}, "invalid ent_coef=nan: must be a number >= 0"),
        ("dqn", {"tau": True}, "invalid tau=True"),
    ],
)
def test_entries_sb3_would_refuse_with_an_assertion_are_named(algo, changes, message) -> None:
    """What Stable-Baselines3 refuses with an AssertionError or a TypeError deep inside is
    refused here, naming the key, the value and what is allowed."""
    entry = {**shipped(algo, CONFIG).to_dict(), **changes}
    with pytest.raises(HyperparameterError, match=message) as caught:
        Hyperparameters.from_dict(algo, entry, "run.json")
    assert str(caught.value).startswith("run.json: ")


def test_activation_functions_are_named_and_built_from_torch(tmp_path) -> None:
    import torch

    entry = shipped("ppo", CONFIG).to_dict()
    entry["policy_kwargs"] = {"net_arch": [8], "activation_fn": "ReLU"}
    kwargs = Hyperparameters.from_dict("ppo", entry).model_kwargs()
    assert kwargs["policy_kwargs"]["activation_fn"] is torch.nn.ReLU
    assert Hyperparameters.from_dict("ppo", entry).to_dict() == entry
    dqn = {**shipped("dqn", CONFIG).to_dict(), "train_freq": [2, "step"]}
    spec = RunSpec("dqn", 64, 0, CONFIG, 4, checkpoints=1, hyperparameters=dqn)
    run = Run.start(tmp_path / "r", spec)
    assert run.trainer.model.train_freq.frequency == 2  # type: ignore[attr-defined]
