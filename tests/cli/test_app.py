import json
import sys

import pytest

from smartcharging import cli


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    monkeypatch.setattr(sys, "argv", ["smartcharging", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_solve_json(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "solve", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["expected_return"] == pytest.approx(-772178733.59, rel=1e-9)
    assert data["error_bound"] == 0.0


def test_solve_table_and_options(monkeypatch, capsys) -> None:
    code, out, _ = run(
        monkeypatch, capsys, "solve", "--capacity", "60", "--power-levels", "0,11,22"
    )
    assert code == 0
    assert "expected optimal return" in out and "Optimal power" in out


def test_evaluate_policy(monkeypatch, capsys) -> None:
    code, out, _ = run(
        monkeypatch, capsys, "evaluate", "--policy", "idle", "--episodes", "50", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["policy"] == "idle" and data["mc_episodes"] == 50
    assert data["gap_to_optimum"] > 0


def test_compare_json_csv_and_plots(monkeypatch, capsys, tmp_path) -> None:
    code, out, _ = run(monkeypatch, capsys, "compare", "--json", "--slots", "6")
    rows = json.loads(out)
    assert code == 0 and rows[0]["policy"] == "optimal" and len(rows) == 10
    code, out, _ = run(monkeypatch, capsys, "compare", "--csv", "--plots", str(tmp_path))
    assert code == 0 and out.splitlines()[0].startswith("policy,expected_return")
    assert (tmp_path / "policy_maps.png").stat().st_size > 10_000
    assert (tmp_path / "trajectories.png").stat().st_size > 10_000
    code, out, _ = run(monkeypatch, capsys, "compare", "--episodes", "20")
    assert code == 0 and "optimal" in out and "MC mean" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--policy", "nope"], "unknown policy 'nope'"),
        (["evaluate", "--episodes", "-3"], "--episodes"),
        (["evaluate", "--episodes", "1"], "episodes=1"),
        (["compare", "--capacity", "-1"], "--capacity: invalid parameter capacity_kwh=-1.0"),
        (["compare", "--demand-sd", "0"], "--demand-sd: invalid parameter demand_sd_kwh=0.0"),
        (["solve", "--power-levels", "0,x"], "--power-levels '0,x'"),
        (["solve", "--power-levels", "7,0"], "--power-levels: invalid parameter power_levels_kw"),
        (["solve", "--slots", "0"], "--slots: invalid parameter n_slots=0"),
        (["solve", "--bogus"], "No such option: --bogus"),
        (["nope"], "No such command 'nope'"),
    ],
)
def test_bad_options_exit_2_with_one_line(monkeypatch, capsys, args, message) -> None:
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_train_then_evaluate_and_compare_the_model(monkeypatch, capsys, tmp_path) -> None:
    run_dir = tmp_path / "run"
    code, out, _ = run(
        monkeypatch,
        capsys,
        "train",
        "--algo",
        "qlearning",
        "--steps",
        "300000",
        "--out",
        str(run_dir),
        "--num-envs",
        "512",
        "--checkpoints",
        "2",
    )
    assert code == 0 and "exact expected return" in out
    assert (run_dir / "learning_curve.png").exists()
    code, out, _ = run(monkeypatch, capsys, "evaluate", "--model", str(run_dir), "--json")
    assert code == 0 and json.loads(out)["policy"] == "qlearning:run"
    code, out, _ = run(
        monkeypatch,
        capsys,
        "compare",
        "--model",
        str(run_dir),
        "--json",
        "--plots",
        str(tmp_path / "plots"),
    )
    assert code == 0 and "qlearning:run" in {row["policy"] for row in json.loads(out)}
    assert (tmp_path / "plots" / "curve_qlearning_run.png").exists()
    code, out, _ = run(monkeypatch, capsys, "train", "--resume", str(run_dir))
    assert code == 0 and "resuming" in out
    code, _, err = run(monkeypatch, capsys, "train", "--algo", "ppo", "--out", str(run_dir))
    assert code == 2 and "exists and is not empty" in err and len(err.strip().splitlines()) == 1
    (run_dir / "checkpoint.json").write_text("{")
    code, _, err = run(monkeypatch, capsys, "train", "--resume", str(run_dir))
    assert code == 2 and "checkpoint.json is damaged (not valid JSON" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--algo", "sac", "--out", "x"], "--algo 'sac': choose one of qlearning"),
        (
            ["train", "--algo", "ppo", "--steps", "0", "--out", "x"],
            "Invalid value '0' for '--steps': Input should be greater than or equal to 1",
        ),
        (["train", "--steps", "10"], "--algo and --out are required"),
        (["evaluate", "--model", "/nonexistent"], "no such run directory or model file"),
    ],
)
def test_train_bad_input(monkeypatch, capsys, args, message) -> None:
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_scenario_commands(monkeypatch, capsys, tmp_path) -> None:
    code, out, _ = run(monkeypatch, capsys, "scenario", "list")
    assert code == 0 and "overnight-day-ahead-nl" in out and "tou-evening-peak" in out
    code, out, _ = run(monkeypatch, capsys, "scenario", "show", "seed-physical")
    assert code == 0 and out.startswith("name: seed-physical")
    copy = tmp_path / "mine.yaml"
    assert "price_per_kwh: 0.3\n" in out
    copy.write_text(out.replace("price_per_kwh: 0.3\n", "price_per_kwh: 0.25\n"))
    code, out, _ = run(monkeypatch, capsys, "scenario", "validate", str(copy))
    assert code == 0 and "valid scenario 'seed-physical'" in out
    code, out, _ = run(monkeypatch, capsys, "compare", "--scenario", str(copy), "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["policy"] == "optimal"
    assert {"expected_energy_cost", "expected_wear_cost", "expected_shortfall_cost"} <= set(rows[0])
    copy.write_text("name: x\ncolour: red\n")
    code, _, err = run(monkeypatch, capsys, "scenario", "validate", str(copy))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_solve_and_train_with_a_scenario(monkeypatch, capsys, tmp_path) -> None:
    code, out, _ = run(monkeypatch, capsys, "solve", "--scenario", "tou-evening-peak", "--json")
    assert code == 0 and json.loads(out)["currency"] == "USD"
    code, out, _ = run(
        monkeypatch,
        capsys,
        "train",
        "--algo",
        "qlearning",
        "--steps",
        "200000",
        "--scenario",
        "seed-physical",
        "--out",
        str(tmp_path / "r"),
        "--num-envs",
        "256",
    )
    assert code == 0 and "gap" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        "compare",
        "--scenario",
        "seed-physical",
        "--model",
        str(tmp_path / "r"),
        "--capacity",
        "72",
    )
    assert code == 0 and "qlearning:r" in out
    code, _, err = run(monkeypatch, capsys, "compare", "--scenario", "nope")
    assert code == 2 and "--scenario: unknown scenario 'nope'" in err
