"""Demos started together each claim their own run folder."""

import threading
from pathlib import Path

import pytest

from smartcharging.cli.demo_folder import claim_run_folder, claimed_run_folder


def test_racing_demos_claim_distinct_folders(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    barrier = threading.Barrier(8)
    claimed: list[Path] = []

    def claim() -> None:
        barrier.wait()
        claimed.append(claim_run_folder(out))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(folder.name for folder in claimed)
    assert len(set(names)) == 8
    assert set(names) == {"qlearning-run", *(f"qlearning-run-{i}" for i in range(2, 9))}


def test_an_existing_file_or_folder_is_never_reused(tmp_path: Path) -> None:
    (tmp_path / "qlearning-run").write_text("mine")
    (tmp_path / "qlearning-run-2").mkdir()
    assert claim_run_folder(tmp_path) == tmp_path / "qlearning-run-3"
    assert (tmp_path / "qlearning-run").read_text() == "mine"


def test_a_failed_demo_leaves_no_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), claimed_run_folder(tmp_path) as folder:
        raise KeyboardInterrupt
    assert not folder.exists()
