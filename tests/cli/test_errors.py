"""What a careless or hostile user feeds the CLI: every case is one error line (exit 2 for
usage, 1 for the environment) or a correct answer, never a traceback, NaN or lost data."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smartcharging import ChargingConfig
from smartcharging.agents.runs import Run, RunSpec
from smartcharging.config import limits
from tests.cli.cli_runner import run_cli

SMALL = ("--steps", "20000", "--checkpoints", "2")


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("solve", "--power-levels", "0,709"), "power_levels_kw"),
        (("solve", "--power-levels", "0,710"), "power_levels_kw"),
        (("solve", "--penalty-factor", "1e300"), "penalty_factor"),
        (("solve", "--start-min", "80"), "--start-min"),
        (("solve", "--slots", "1000000"), "n_slots"),
        (("solve", "--capacity", "1e12"), "capacity_kwh"),
        (("solve", "--start-step", "1e-9"), "start_step_kwh"),
        (("solve", "--capacity", "500000", "--slots", "10000"), "exact solver"),
        (("evaluate", "--seed", "-1"), "--seed"),
        (("compare", "--scenario", "depot-10-overnight", "--seed", "-1"), "--seed"),
        (("evaluate", "--scenario", "depot-25-evening"), "--policy is required"),
        (("evaluate", "--episodes", "1000000000000"), "--episodes"),
        (("train", "--algo", "qlearning", "--out", "x", "--num-envs", "1000000000"), "num-envs"),
        (("solve", "--slot-hours", "1e308"), "--slot-hours: invalid parameter slot_hours=1e+308"),
        (("solve", "--slot-hours", "1e200"), "--slot-hours: invalid parameter slot_hours=1e+200"),
        (("solve", "--demand-sd", "1e-300"), "--demand-sd: invalid parameter demand_sd_kwh=1e-300"),
        (
            ("train", "--algo", "qlearning", "--out", "x", "--reward-scale", "1e-320"),
            "reward_scale=1e-320 (--reward-scale): must be at least",
        ),
        (("train", "--algo", "qlearning", "--out", "x", "--steps", "1e14"), "'1e14' for '--steps'"),
        (("train", "--algo", "qlearning", "--out", "x", "--steps", str(10**14)), "'--steps'"),
        (("tune", "--algo", "ppo", "--out", "x", "--trials", "100000"), "'--trials'"),
        (("train", "--algo", "ppo", "--out", "x", "--checkpoints", str(10**9)), "'--checkpoints'"),
        (("compare", "--json", "--csv"), "--json and --csv exclude each other"),
        (("evaluate", "--seed", "abc"), "Invalid value 'abc' for '--seed'"),
        (("solve", "--power-levels", "0,x"), "--power-levels '0,x'"),
        (("solve", "--scenario", "s" * 300), "--scenario: unknown scenario 'sss"),
        (("solve", "--capacity", "c" * 300), "'ccc"),
        (("evaluate", "--policy", "greedy", "--model", "."), "--policy and --model exclude"),
        (("evaluate", "--algo", "ppo"), "--algo applies to a model file"),
        (("train", "--algo", "sac", "--out", "x"), "--algo 'sac': choose one of"),
        *(
            (("train", "--engine", "rllib", "--algo", "ppo", "--out", "x", "--address", a), m)
            for a, m in [
                ("localhost:-1", "'--address': invalid port '-1'"),
                (":6379", "'--address': ':6379' has no host"),
                ("localhost:0", "must be an integer in 1..65535"),
                ("localhost:65536", "must be an integer in 1..65535"),
                ("localhost", "'--address': 'localhost' is not auto, HOST:PORT"),
                ("ray://:1", "'--address': 'ray://:1' has no host"),
                ("h:" + "9" * 5000, "invalid port '99999"),
            ]
        ),
        (
            (
                "train",
                "--algo",
                "ppo",
                "--out",
                "x",
                "--scenario",
                "depot-10-overnight",
                "--reward-scale",
                "2",
            ),
            "--reward-scale does not apply to a depot scenario",
        ),
    ],
)
def test_bad_values_are_one_usage_error(args: tuple[str, ...], names: str) -> None:
    code, out, err = run_cli(*args)
    assert code == 2 and "nan" not in out.lower()
    line = one_error_line(err)
    assert names in line and len(line) < 400 and "Warning" not in err
    assert "math domain" not in line and not Path("x").exists()


def test_no_arguments_prints_the_usage_without_an_empty_error() -> None:
    code, out, err = run_cli()
    assert code == 2 and "Usage" in out and err == ""


def test_device_files_are_refused_as_models() -> None:
    code, _, err = run_cli("evaluate", "--model", "/dev/zero", "--episodes", "0")
    assert code == 2 and "not a regular file" in one_error_line(err)


def test_files_that_are_not_directories_are_environment_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run_cli("train", "--algo", "qlearning", "--out", str(blocker / "run"), *SMALL)
    assert code == 1 and str(blocker / "run") in one_error_line(err)
    code, _, err = run_cli("compare", "--plots", str(blocker / "plots"))
    assert code == 1 and "plots" in one_error_line(err)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"\xff\xfe"])
def test_model_files_and_damaged_runs_are_one_usage_error(tmp_path: Path, content: bytes) -> None:
    model = tmp_path / "model.zip"
    model.write_bytes(content)
    code, _, err = run_cli("evaluate", "--model", str(model), "--episodes", "0")
    assert code in (1, 2) and one_error_line(err)
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_bytes(content)
    code, _, err = run_cli("evaluate", "--model", str(run), "--episodes", "0")
    assert code == 2 and str(run) in one_error_line(err)


def test_scenario_files_name_the_file_and_the_field(tmp_path: Path) -> None:
    text = (
        "name: x\nvehicle: {capacity_kwh: VALUE, power_levels_kw: [0, 7]}\n"
        "window: {arrival: '14:00', departure: '16:00'}\n"
        "demand: {mean_kwh: 30, sd_kwh: 5}\ncost: {model: seed}\n"
    )
    for value in (".inf", ".nan", "true"):
        path = tmp_path / f"s{value.strip('.')}.yaml"
        path.write_text(text.replace("VALUE", value))
        code, _, err = run_cli("scenario", "validate", str(path))
        line = one_error_line(err)
        assert code == 2 and str(path) in line and "capacity_kwh" in line
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: x\n\xff\xfe")
    code, _, err = run_cli("scenario", "validate", str(binary))
    assert code == 2 and "UTF-8" in one_error_line(err)
    fine = tmp_path / "fine.yaml"
    fine.write_text(
        text.replace("VALUE", "72").replace("'16:00'}", "'16:00', slot_minutes: 1e-300}")
    )
    code, _, err = run_cli("scenario", "validate", str(fine))
    assert code == 2 and "slot_minutes" in one_error_line(err)


def test_a_run_directory_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    spec = RunSpec("qlearning", 20_000, 0, ChargingConfig(), 64, checkpoints=2)
    run = Run.start(tmp_path / "run", spec)  # holds the run until its training stops
    script = "from smartcharging.cli import main; main()"
    other = subprocess.run(
        [sys.executable, "-c", script, "train", "--resume", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert other.returncode == 2
    assert f"in use by another process (pid {os.getpid()})" in one_error_line(other.stderr)
    run.train()  # training releases the run: now it can be resumed
    code, _, err = run_cli("train", "--resume", str(tmp_path / "run"))
    assert code == 0, err


def test_bad_options_create_nothing_and_interrupted_starts_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    with pytest.raises(Exception, match="seed"):
        RunSpec("qlearning", 10, -1, ChargingConfig(), 1)
    code, _, _ = run_cli("train", "--algo", "ppo", "--out", str(out), "--num-envs", "0")
    assert code == 2 and not out.exists()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("smartcharging.agents.checkpoint_scores.exact_value", interrupted)
    spec = RunSpec("qlearning", 20_000, 0, ChargingConfig(), 64, checkpoints=2)
    with pytest.raises(KeyboardInterrupt):
        Run.start(out, spec)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert Run.start(out, spec).train().steps >= 20_000


@pytest.mark.parametrize("damage", ["empty", "no checkpoint row", "garbage"])
def test_damaged_curves_are_refused_not_rewritten(tmp_path: Path, damage: str) -> None:
    code, _, _ = run_cli("train", "--algo", "qlearning", "--out", str(tmp_path / "r"), *SMALL)
    assert code == 0
    curve = tmp_path / "r" / "curve.csv"
    lines = curve.read_text().splitlines()
    damaged = {
        "empty": "",
        "no checkpoint row": "\n".join(lines[:-1]) + "\n",
        "garbage": "\n".join([*lines[:-1], "1,2,x"]) + "\n",
    }[damage]
    curve.write_text(damaged)
    code, _, err = run_cli("train", "--resume", str(tmp_path / "r"), "--steps", "99")
    assert code == 2 and "--steps cannot be combined with --resume" in one_error_line(err)
    code, _, err = run_cli("train", "--resume", str(tmp_path / "r"))
    assert code == 2 and "curve.csv" in one_error_line(err)
    assert curve.read_text() == damaged


def test_demo_never_deletes_what_the_user_made(tmp_path: Path) -> None:
    mine = tmp_path / "qlearning-run" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    figure = tmp_path / "policy_maps.png"
    figure.write_text("my own file")
    code, _, _ = run_cli("demo", "--out", str(tmp_path), "--steps", "20000")
    assert code == 0 and mine.read_text() == "keep me" and figure.read_text() == "my own file"
    assert (tmp_path / "qlearning-run-2" / "policy_maps.png").exists()
    assert (tmp_path / "qlearning-run-2" / "curve.csv").exists()


def test_two_agents_with_one_folder_name_both_show(tmp_path: Path) -> None:
    for parent in ("a", "b"):
        folder = tmp_path / parent / "agent"
        code, _, _ = run_cli("train", "--algo", "qlearning", "--out", str(folder), *SMALL)
        assert code == 0
    first, second = str(tmp_path / "a" / "agent"), str(tmp_path / "b" / "agent")
    code, out, _ = run_cli("compare", "--json", "--model", first, "--model", second)
    names = {row["policy"] for row in json.loads(out)}
    assert code == 0 and {f"qlearning:{first}", f"qlearning:{second}"} <= names
    code, _, err = run_cli("compare", "--model", first, "--model", first)
    assert code == 2 and "twice" in one_error_line(err)


def test_output_folders_are_checked_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the output folder was checked")

    app_module = sys.modules["smartcharging.cli.app"]
    monkeypatch.setattr(app_module, "solve_all", no_work)
    monkeypatch.setattr(app_module.Run, "start", no_work)
    monkeypatch.setattr("smartcharging.agents.tuning.Tuning.start", no_work)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for option, command in (
        ("--plots", ("compare",)),
        ("--out", ("train", "--algo", "qlearning")),
        ("--out", ("tune", "--algo", "ppo")),
        ("--out", ("demo",)),
    ):
        for path, problem in (
            (blocker, "is a file, not a directory"),
            (blocker / "sub", f"goes through the file {blocker}"),
            (Path("/proc/smartcharging-test"), "cannot write in /proc"),
        ):
            code, _, err = run_cli(*command, option, str(path))
            assert code == 1 and f"{option} {path}: {problem}" in one_error_line(err), err
    assert blocker.read_text() == "x"


def test_an_error_after_a_progress_bar_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise ValueError("evaluation failed")

    monkeypatch.setattr(sys.modules["smartcharging.cli.app"], "compare", fails)
    monkeypatch.setattr(sys.modules["smartcharging.cli.app"], "report", fails)
    for command in ("compare", "evaluate"):
        code, _, err = run_cli(command)
        assert code == 2 and one_error_line(err) == "error: evaluation failed"


@pytest.mark.parametrize(
    "option",
    [
        ("--seed", "3"),
        ("--checkpoints", "3"),
        ("--scenario", "seed-physical"),
        ("--capacity", "60"),
        ("--power-levels", "0,11"),
    ],
)
def test_resume_refuses_every_setting_it_would_ignore(tmp_path: Path, option: tuple) -> None:
    for command in ("train", "tune"):
        code, _, err = run_cli(command, "--resume", str(tmp_path), *option)
        message = f"{option[0]} cannot be combined with --resume"
        assert code == 2 and message in one_error_line(err)


def test_a_tuning_directory_is_used_by_one_process_at_a_time(tmp_path: Path) -> None:
    from smartcharging.agents.tuning import TuneSpec, Tuning

    tuning = Tuning.start(tmp_path / "tune", TuneSpec("ppo", 1, 64, 0, ChargingConfig()))
    script = "from smartcharging.cli import main; main()"
    other = subprocess.run(
        [sys.executable, "-c", script, "tune", "--resume", str(tmp_path / "tune")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert other.returncode == 2
    assert f"in use by another process (pid {os.getpid()})" in one_error_line(other.stderr)
    tuning.directory.release()


def damage(run: Path, how: str) -> list[Path]:
    """The files of ``run`` that ``how`` damages."""
    checkpoint = json.loads((run / "checkpoint.json").read_text())
    if how == "run.json not JSON":
        (run / "run.json").write_text('{"algo": ')
        return [run / "run.json"]
    if how == "checkpoint.json not JSON":
        (run / "checkpoint.json").write_text('{"steps": ')
        return [run / "checkpoint.json"]
    if how == "algo os.system":
        spec = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**spec, "algo": "os.system"}))
        return [run / "run.json"]
    if how == "checkpoint without files":
        del checkpoint["files"], checkpoint["best"]
        (run / "checkpoint.json").write_text(json.dumps(checkpoint))
        return [run / "checkpoint.json"]
    junk = [run / name for name in checkpoint["files"]] + [run / checkpoint["best"]["file"]]
    for path in junk:
        path.write_text("junk")
    return junk


@pytest.mark.parametrize(
    "how",
    [
        "run.json not JSON",
        "checkpoint.json not JSON",
        "algo os.system",
        "checkpoint without files",
        "junk state",
    ],
)
def test_damaged_runs_name_the_file_the_problem_and_what_to_do(tmp_path: Path, how: str) -> None:
    run = tmp_path / "run"
    code, _, _ = run_cli("train", "--algo", "qlearning", "--out", str(run), *SMALL)
    assert code == 0
    damaged = damage(run, how)
    for command in (("train", "--resume"), ("evaluate", "--model"), ("compare", "--model")):
        code, _, err = run_cli(*command, str(run))
        line = one_error_line(err)
        assert code == 2 and any(str(path) in line for path in damaged), line
        assert "restore the run from a copy" in line
        for leak in ("JSONDecodeError", "allow_pickle", "--algo", "Error:"):
            assert leak not in line


def test_help_texts_have_no_lost_words() -> None:
    for command in ("tune", "solve", "evaluate", "compare", "train", "demo"):
        code, out, _ = run_cli(command, "--help")
        assert code == 0 and " ." not in out and "[seed: 72]" in " ".join(out.split())
    _, out, _ = run_cli("evaluate", "--help")
    assert "scaled to [0, 1]" in " ".join(out.split())


def test_runs_of_the_other_kind_and_files_are_not_run_directories(tmp_path: Path) -> None:
    depot_run, vehicle_run, a_file = tmp_path / "depot", tmp_path / "vehicle", tmp_path / "f"
    for folder, spec in ((depot_run, {"depot": {}}), (vehicle_run, {"algo": "qlearning"})):
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps(spec))
    a_file.write_text("x")
    depot = ("--scenario", "depot-10-overnight", "--episodes", "1")
    for args, message in (
        (("compare", "--model", str(depot_run)), "is a depot run"),
        (("compare", *depot, "--model", str(vehicle_run)), "is a single-vehicle run"),
        (("compare", "--model", str(a_file)), f"{a_file} is not a Stable-Baselines3 model"),
        (("compare", *depot, "--model", str(a_file)), "a model file applies to single-vehicle"),
        (("train", "--resume", str(a_file)), f"cannot resume {a_file}: it has no run.json"),
    ):
        code, _, err = run_cli(*args)
        assert code == 2 and message in one_error_line(err)


def test_scenario_files_cannot_expand_without_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few hundred bytes of nested YAML aliases ("billion laughs") are refused, fast."""
    monkeypatch.setattr(limits, "MAX_SCENARIO_VALUES", 100_000)  # counting to 1e7 takes seconds
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append("name: x\nvehicle: {capacity_kwh: 72, power_levels_kw: *a8}")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    for command in (("scenario", "validate", str(path)), ("solve", "--scenario", str(path))):
        code, _, err = run_cli(*command)
        assert code == 2 and "more than 100,000 values" in one_error_line(err)


def test_unknown_policy_names_the_option_and_empty_scenarios_say_empty(tmp_path) -> None:
    code, _, err = run_cli("evaluate", "--policy", "nope")
    assert code == 2 and err.startswith("error: --policy: unknown policy 'nope'")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    code, _, err = run_cli("scenario", "validate", str(empty))
    assert code == 2 and "is empty" in err and "NoneType" not in err


HOSTILE_DATA = {
    "deep nesting": ("[" * 5_000 + "]" * 5_000, "nested deeper than 32 levels"),
    "a 5,000-digit integer": ("9" * 5_000, "an integer of 5,000 digits"),
}


@pytest.mark.parametrize("what", HOSTILE_DATA)
def test_deep_nesting_and_huge_integers_in_files_are_one_usage_error(
    tmp_path: Path, what: str
) -> None:
    """Scenario files, run files and model zips that Python cannot hold as plain data
    (a RecursionError, a ValueError of int conversion) are refused in one line."""
    value, message = HOSTILE_DATA[what]
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: x\nvehicle: {{capacity_kwh: {value}, power_levels_kw: [0, 7]}}\n")
    code, _, err = run_cli("scenario", "validate", str(scenario))
    line = one_error_line(err)
    assert code == 2 and str(scenario) in line and message in line and len(line) < 400
    run = tmp_path / "run"
    assert run_cli("train", "--algo", "qlearning", "--out", str(run), *SMALL)[0] == 0
    text = (run / "run.json").read_text()
    (run / "run.json").write_text(text.replace('"seed": 0', f'"seed": {value}', 1))
    for command in (("train", "--resume"), ("evaluate", "--model")):
        code, _, err = run_cli(*command, str(run))
        line = one_error_line(err)
        assert code == 2 and str(run / "run.json") in line and message in line, line
    model = tmp_path / "model.zip"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("data", f'{{"n_steps": {value}}}')
    code, _, err = run_cli("evaluate", "--model", str(model))
    line = one_error_line(err)
    assert code == 2 and str(model) in line and message in line
