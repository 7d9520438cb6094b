"""Training helpers run small networks on one torch thread unless the user chose a count
(OMP_NUM_THREADS, MKL_NUM_THREADS or torch.set_num_threads): scripts run at the CLI's speed
without environment variables. Each case runs in a fresh interpreter, since the count
belongs to the process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).parents[2]


def threads_after(setup: str, helper: str, **env: str) -> tuple[int, int]:
    """torch's thread count before and after ``helper`` runs, in a fresh interpreter."""
    script = f"""
import gymnasium as gym, torch
import smartcharging
from smartcharging.agents.hyperparameters import shipped
from smartcharging.agents.scaling import training_env
{setup}
before = torch.get_num_threads()
{helper}
print(before, torch.get_num_threads())
"""
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**clean, **env},
    )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.split()
    return int(before), int(after)


HELPERS = {
    "model_kwargs": 'shipped("dqn", smartcharging.ChargingConfig()).model_kwargs()',
    "training_env": 'training_env(gym.make("SmartCharging-v0"))',
}


@pytest.mark.parametrize("helper", HELPERS)
def test_the_training_helpers_use_one_thread_by_default(helper: str) -> None:
    assert threads_after("", HELPERS[helper])[1] == 1


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="torch caps the count at the cores")
@pytest.mark.parametrize("variable", ["OMP_NUM_THREADS", "MKL_NUM_THREADS"])
def test_a_thread_count_from_the_environment_is_kept(variable: str) -> None:
    before, after = threads_after("", HELPERS["model_kwargs"], **{variable: "2"})
    assert after == before == 2


def test_a_count_set_with_torch_is_kept() -> None:
    assert threads_after("torch.set_num_threads(3)", HELPERS["training_env"]) == (3, 3)


def test_the_count_is_never_raised() -> None:
    import torch

    from smartcharging.agents.hyperparameters import use_small_network_threads

    current = torch.get_num_threads()
    assert use_small_network_threads(current + 4) == current
