"""A training run on disk, for every kind of run (one vehicle or a depot).

A run directory holds

* ``run.json``: what is trained, how long, with which seed, on which configuration;
* ``versions.json``: Python and package versions;
* ``curve.csv``: one row per checkpoint (the columns are the run kind's);
* the files of the last checkpoint and ``checkpoint.json`` naming them.

A checkpoint is written in this order: its files under new names, the curve row, then
``checkpoint.json`` (atomically replaced), then the previous checkpoint's files are removed.
Whatever the moment of an interruption, ``checkpoint.json`` names a complete checkpoint, and
resuming drops any curve row written after it, so no row is lost or duplicated. Every JSON
file and every curve row is flushed to disk (``fsync``) before the next step relies on it.
"""

from __future__ import annotations

import csv
import json
import os
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
VERSIONS_FILE = "versions.json"
CURVE_FILE = "curve.csv"
CHECKPOINT_FILE = "checkpoint.json"

_VERSIONED_PACKAGES = (
    "smartcharging",
    "numpy",
    "scipy",
    "gymnasium",
    "stable-baselines3",
    "torch",
)


class RunError(Exception):
    """A run cannot be started, resumed or loaded; the message says why, in one line."""


def package_versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a run depends on."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half."""
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as file:
        json.dump(data, file, indent=2)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def read_curve_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a ``curve.csv``, as strings keyed by column."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


class RunDirectory:
    """The files of one run, with the checkpoint protocol of the module docstring."""

    def __init__(self, folder: Path, curve_fields: Sequence[str]) -> None:
        self.folder = folder
        self.curve_fields = tuple(curve_fields)
        self._files: list[str] = []

    @classmethod
    def create(
        cls, folder: Path, spec: dict[str, Any], curve_fields: Sequence[str]
    ) -> RunDirectory:
        """A new run in an empty (or new) directory: ``run.json``, versions, curve header."""
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise RunError(
                f"--out {folder} exists and is not empty: choose a new directory, or resume "
                f"it with --resume {folder}"
            )
        folder.mkdir(parents=True, exist_ok=True)
        directory = cls(folder, curve_fields)
        write_json(folder / RUN_FILE, spec)
        write_json(folder / VERSIONS_FILE, package_versions())
        directory._write_rows([])
        return directory

    def read(self, name: str) -> dict[str, Any]:
        """A JSON file of the run (``run.json``, ``checkpoint.json``) as a dict."""
        data = json.loads((self.folder / name).read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{name} does not hold a JSON object")
        return data

    def resume_from(self, checkpoint: dict[str, Any], files: list[str]) -> None:
        """Continue after the checkpoint ``checkpoint.json`` names: curve rows written after
        it are dropped, and its ``files`` are the ones the next checkpoint replaces."""
        steps = int(checkpoint["steps"])
        self._write_rows([row for row in self.read_curve() if int(row["steps"]) <= steps])
        self._files = list(files)

    def read_curve(self) -> list[dict[str, str]]:
        """The curve's rows, as strings keyed by column."""
        return read_curve_rows(self.folder / CURVE_FILE)

    def commit(
        self, row: Sequence[object], record: dict[str, Any], files: list[str], stale: Iterable[str]
    ) -> None:
        """Record a checkpoint whose ``files`` are already written: append its curve
        ``row``, replace ``checkpoint.json`` with ``record``, then remove the previous
        checkpoint's files and the ``stale`` ones."""
        with open(self.folder / CURVE_FILE, "a", newline="") as file:
            csv.writer(file).writerow(row)
            file.flush()
            os.fsync(file.fileno())
        write_json(self.folder / CHECKPOINT_FILE, record)
        for old in (set(self._files) | set(stale)) - set(files):
            (self.folder / old).unlink(missing_ok=True)
        self._files = list(files)

    def _write_rows(self, rows: list[dict[str, str]]) -> None:
        temporary = self.folder / f"{CURVE_FILE}.tmp"
        with open(temporary, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(self.curve_fields)
            for row in rows:
                writer.writerow([row[name] for name in self.curve_fields])
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.folder / CURVE_FILE)
