"""Crafted run directories of every engine through evaluate, compare and train --resume:
whatever run.json, checkpoint.json or an SB3 model zip's data say, no command is run, no
file outside the run is touched, and the CLI ends with one error line (or succeeds), never
a traceback."""

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from smartcharging.config import ChargingConfig
from smartcharging.config.scenarios import load_depot_scenario
from smartcharging.rllib.runs import new_spec
from tests.cli.cli_runner import run_cli

MARKER = "FUZZ_MARKER"
#: Values a stranger might put anywhere in a run's files.
hostile = st.one_of(
    st.sampled_from(
        [
            "../outside.txt",
            "/tmp",
            ".",
            "",
            "os.system",
            f'{{"type": "os.system", "_args": ["touch {MARKER}"]}}',
            "lin_1e30",
            "EpisodeReplayBuffer",
            None,
            True,
            [],
            {},
            [1_000_000, 1_000_000],
            {"type": "os.system", "_args": [f"touch {MARKER}"]},
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=12),
    st.lists(st.integers(-5, 10**7), max_size=3),
)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of nested JSON ``data``."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data[:4]):
            found += paths(value, (*prefix, index))
    return found


def mutate(data: Any, path: tuple, value: Any, delete: bool) -> Any:
    """``data`` with the value at ``path`` replaced by ``value`` (or its key deleted)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = data.copy()
    if not rest and delete and isinstance(copy, dict):
        del copy[head]
    else:
        copy[head] = mutate(copy[head], rest, value, delete)
    return copy


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A genuine trained Q-learning run, and RLlib vehicle and depot runs as their files
    describe them (RLlib itself is never started by the commands fuzzed here)."""
    root = tmp_path_factory.mktemp("runs")
    qlearning = root / "qlearning"
    code, _, err = run_cli(
        "train", "--algo", "qlearning", "--out", str(qlearning), "--steps", "20000",
        "--checkpoints", "2",
    )  # fmt: skip
    assert code == 0, err
    ppo = root / "ppo"
    code, _, err = run_cli(
        "train", "--algo", "ppo", "--out", str(ppo), "--steps", "8192", "--checkpoints", "1",
    )  # fmt: skip
    assert code == 0, err
    made = {"qlearning": qlearning, "ppo": ppo}
    depot = load_depot_scenario("depot-10-overnight").to_config()
    for name, spec in (
        ("rllib-vehicle", new_spec("ppo", 4096, 0, 0, 1, config=ChargingConfig())),
        ("rllib-depot", new_spec("ppo", 4096, 0, 0, 1, depot=depot)),
    ):
        folder = root / name
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps(spec.to_json()))
        checkpoint = {"steps": 0, "wall_time_s": 0.0, "files": ["policy-0.npz"], "best": None}
        (folder / "checkpoint.json").write_text(json.dumps(checkpoint))
        made[name] = folder
    return made


COMMANDS = {
    "qlearning": [("evaluate", "--json", "--model"), ("train", "--resume")],
    "ppo": [("evaluate", "--json", "--model"), ("train", "--resume")],
    "rllib-vehicle": [("evaluate", "--json", "--model"), ("compare", "--json", "--model")],
    "rllib-depot": [
        ("compare", "--scenario", "depot-10-overnight", "--episodes", "1", "--json", "--model")
    ],
}


@settings(
    max_examples=45,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_crafted_run_is_refused_in_one_line_without_side_effects(
    runs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
) -> None:
    kind = data.draw(st.sampled_from(sorted(runs)))
    work = tmp_path_factory.mktemp("crafted")
    monkeypatch.chdir(work)
    outside = work / "outside.txt"
    outside.write_text("keep")
    run = work / "run"
    shutil.copytree(runs[kind], run)
    files = ["run.json", "checkpoint.json"] + (["model zip"] if kind == "ppo" else [])
    name = data.draw(st.sampled_from(files))
    if name == "model zip":  # the SB3 zip's plain-JSON "data" entry
        model = run / json.loads((run / "checkpoint.json").read_text())["files"][0]
        with zipfile.ZipFile(model) as archive:
            members = {member: archive.read(member) for member in archive.namelist()}
        document = json.loads(members["data"])
    else:
        document = json.loads((run / name).read_text())
    path = data.draw(st.sampled_from(paths(document)))
    delete = data.draw(st.booleans())
    value = data.draw(hostile)
    if path[-1] in ("total_steps", "n_timesteps") and not delete:
        # a genuine larger budget would train, which is not what this test is about
        assume(not isinstance(value, int | float) or value <= 20_000)
    crafted = json.dumps(mutate(document, path, value, delete))
    if name == "model zip":
        with zipfile.ZipFile(model, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, crafted if member == "data" else content)
    else:
        (run / name).write_text(crafted)
    command = data.draw(st.sampled_from(COMMANDS[kind]))
    code, out, err = run_cli(*command, str(run))
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err + out
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), err
        assert "internal error" not in err, err
    assert outside.read_text() == "keep"
    assert not (work / MARKER).exists() and not Path(MARKER).exists()
