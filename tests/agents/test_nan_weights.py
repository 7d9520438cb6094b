"""A model file whose weights hold NaN or Infinity is one error line naming the file and
the weight, never a dump of the tensor."""

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from smartcharging.agents.runs import Run, RunSpec
from smartcharging.agents.safe_loading import save_archive
from smartcharging.config import ChargingConfig
from smartcharging.rllib.policies import WEIGHTS_FORMAT, load_module
from tests.cli.cli_runner import run_cli

WEIGHT = "mlp_extractor.policy_net.0.weight"


def poisoned_policy(model: Path, value: float) -> None:
    """Rewrite ``policy.pth`` of the model zip with one entry of :data:`WEIGHT` set."""
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    state = torch.load(io.BytesIO(members["policy.pth"]), weights_only=True)
    state[WEIGHT][0, 0] = value
    buffer = io.BytesIO()
    torch.save(state, buffer)
    members["policy.pth"] = buffer.getvalue()
    with zipfile.ZipFile(model, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_sb3_model_with_nan_weights_is_one_line(tmp_path: Path, value: float) -> None:
    folder = tmp_path / "run"
    Run.start(folder, RunSpec("ppo", 512, 0, ChargingConfig(), 8, checkpoints=1)).train()
    model = tmp_path / "model.zip"
    model.write_bytes(next(folder.glob("model-*.zip")).read_bytes())
    poisoned_policy(model, value)
    code, _, err = run_cli("evaluate", "--model", str(model))
    assert code == 2 and err.splitlines() == [
        f"error: {model}: its policy.pth: weight {WEIGHT!r} holds NaN or Infinity"
    ], err


def test_rllib_weights_with_nan_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "policy-100.npz"
    arrays = {"encoder.weight": np.array([[1.0, np.nan]], dtype=np.float32)}
    save_archive(path, {"format": WEIGHTS_FORMAT, "algo": "ppo"}, arrays)
    with pytest.raises(ValueError) as error:
        load_module(path, "ppo", {}, None, None)  # type: ignore[arg-type]
    assert str(error.value) == f"{path}: weight 'encoder.weight' holds NaN or Infinity"
