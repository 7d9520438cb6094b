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

Every engine (local Q-learning and Stable-Baselines3, RLlib) and every problem (one vehicle,
a depot) shares this lifecycle: :meth:`RunDirectory.start` (a new run, abandoned if it fails
before its first checkpoint), :func:`resuming` (the errors of reading a run back, worded
once), :meth:`RunDirectory.resume_from`, :meth:`RunDirectory.release`, and :func:`run_kind`
(which engine trained a folder, on which problem); an engine only says how it trains, saves
and scores. Every file name read from ``checkpoint.json`` passes :func:`run_file_name`.

A new run is built in a hidden sibling folder (``.NAME.partial-PID``) and renamed to its
name once its first checkpoint is complete, so an interruption before that leaves no
half-made run directory in the way (a killed process may leave the hidden folder, which
nothing reads). From starting or resuming a run until its training stops, a process holds
``run.lock`` (a file lock with the holder's pid in it); a second process is refused instead
of writing the same curve twice.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import platform
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from smartcharging.agents.checkpoint_progress import checkpoint_progress
from smartcharging.atomic_files import write_json
from smartcharging.config.data_files import load_json
from smartcharging.config.validation import shorten

RUN_FILE = "run.json"
VERSIONS_FILE = "versions.json"
CURVE_FILE = "curve.csv"
CHECKPOINT_FILE = "checkpoint.json"
LOCK_FILE = "run.lock"

T = TypeVar("T")

#: The engines that train runs: this process (Q-learning, Stable-Baselines3) or Ray RLlib.
ENGINES = ("local", "rllib")

_VERSIONED_PACKAGES = (
    "smartcharging",
    "numpy",
    "scipy",
    "gymnasium",
    "stable-baselines3",
    "torch",
    "ray",
)


class RunError(Exception):
    """A run cannot be started, resumed or loaded; the message says why, in one line."""


#: What to do about a damaged run directory.
DAMAGED_ADVICE = "restore the run from a copy, or train a new one"


#: What a ``run.json`` entry may hold, by kind (see :func:`check_entries`).
_KINDS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "integer": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": (
        "a finite number",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    ),
    "number or null": (
        "a finite number or null",
        lambda v: v is None or _KINDS["number"][1](v),
    ),
    "text": ("a string", lambda v: isinstance(v, str)),
    "mapping": ("a JSON object", lambda v: isinstance(v, dict)),
    "mapping or null": ("a JSON object or null", lambda v: v is None or isinstance(v, dict)),
    "list": ("a JSON array", lambda v: isinstance(v, list)),
}


def check_entries(
    data: dict[str, Any], required: dict[str, str], optional: dict[str, str] | None = None
) -> None:
    """Refuse ``data`` (a ``run.json``) unless it holds every ``required`` entry, no entry
    that is neither required nor ``optional``, and each of the kind its schema names
    (``"integer"``, ``"number"``, ``"text"``, ``"mapping"``, ... of ``_KINDS``): a
    ``ValueError`` naming the first entry that does not fit."""
    schema = {**required, **(optional or {})}
    unknown = sorted(set(data) - set(schema))
    if unknown:
        raise ValueError(f"it has an unknown entry {shorten(repr(unknown[0]))}")
    for key, kind in schema.items():
        if key not in data:
            if key in required:
                raise KeyError(key)
            continue
        allowed, fits = _KINDS[kind]
        if not fits(data[key]):
            raise ValueError(f"its {key} {shorten(repr(data[key]))} is not {allowed}")


def check_run_contents(folder: Path) -> None:
    """Refuse a run folder that is a symbolic link or holds one, or holds anything but
    regular files and folders (a FIFO, a device): a crafted run could otherwise make a
    command read, or a resumed run write, a file outside the folder through a link, or
    hang on a FIFO."""
    if folder.is_symlink():
        raise RunError(f"{folder} is a symbolic link: give the run folder itself")
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
            what = "a symbolic link" if entry.is_symlink() else "not a regular file"
            raise RunError(
                f"{entry} is {what}: a run folder holds only its own files and folders; "
                f"{DAMAGED_ADVICE}"
            )


def damaged(path: Path, problem: str) -> RunError:
    """The error for a file of a run directory that cannot be used: the file, the problem
    and what to do."""
    return RunError(f"{path} is damaged ({problem}): {DAMAGED_ADVICE}")


def describe(error: Exception) -> str:
    """What is wrong, from an error raised while reading a run's data (a missing key says
    which entry is missing)."""
    if isinstance(error, KeyError):
        return f"it has no {error.args[0]!r} entry"
    return str(error)


@dataclass(frozen=True)
class FileNames:
    """The names a run's file of one role may have, such as ``model-<steps>.zip``."""

    forms: tuple[str, ...]

    def match(self, name: str) -> bool:
        steps = re.escape("<steps>")
        return any(
            re.fullmatch(re.escape(form).replace(steps, "[0-9]+"), name) for form in self.forms
        )


def run_file_name(name: object, names: FileNames | None = None) -> str:
    """``name`` if it is a plain file name inside a run folder (one name: no path
    separator, not absolute, not ``.`` or ``..``, not empty, no NUL) and, with ``names``,
    one of those forms; else a one-line :class:`RunError`. Every name read from a run's
    files goes through it before the run reads, writes or removes that file, so a crafted
    ``checkpoint.json`` cannot reach anything outside the run folder."""
    allowed = "a file name inside the run folder (no path separator, not '.' or '..')"
    if names is not None:
        allowed += f" of the form {' or '.join(names.forms)}"
    plain = (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "\0" not in name
        and "/" not in name
        and os.sep not in name
        and (os.altsep is None or os.altsep not in name)
        and not Path(name).is_absolute()
    )
    if not plain or (names is not None and not names.match(str(name))):
        raise RunError(f"its file name {shorten(repr(name))} is not {allowed}")
    return str(name)


@dataclass(frozen=True)
class RunKind:
    """What trained a run (``engine``: one of :data:`ENGINES`) and on what (one vehicle,
    or a ``depot``)."""

    engine: str
    depot: bool


def run_kind(folder: Path) -> RunKind | None:
    """The kind of the run in ``folder``, from its ``run.json`` (``"engine"``, default
    local; a ``"depot"`` entry for a depot run), or None if it has no readable one (the
    engine's loader then says what is wrong)."""
    path = folder / RUN_FILE
    if folder.is_symlink() or path.is_symlink() or not path.is_file():  # never open a FIFO
        return None
    try:
        data = load_json(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    engine = data.get("engine", "local")
    return RunKind(engine if engine in ENGINES else "local", "depot" in data)


def local_run(folder: Path, curve_fields: Sequence[str], what: str, loader: str) -> RunDirectory:
    """The run directory ``folder`` of a local (SB3 or Q-learning) run, to load ``what``
    from; a :class:`RunError` if it is no directory or another engine's run (whose
    ``loader`` in :mod:`smartcharging.cli.routing` loads runs of every engine)."""
    if not folder.is_dir():
        raise RunError(f"--model {folder}: not a {what} directory")
    kind = run_kind(folder)
    if kind is not None and kind.engine != "local":
        raise RunError(
            f"--model {folder} is an RLlib run: load it with smartcharging.cli.routing.{loader}"
        )
    return RunDirectory(folder, curve_fields)


@contextmanager
def resuming(folder: Path) -> Iterator[None]:
    """Word an error of reading ``folder``'s files to resume it as one :class:`RunError`:
    a missing file (not a run directory, or a damaged one) or unusable content."""
    try:
        yield
    except FileNotFoundError as error:
        raise RunError(
            f"cannot resume {folder}: it has no {Path(error.filename).name} (not a run "
            f"directory, or a damaged one: {DAMAGED_ADVICE})"
        ) from None
    except (KeyError, IndexError, ValueError, TypeError, EOFError, OSError) as error:
        raise RunError(f"cannot resume {folder}: {describe(error)}: {DAMAGED_ADVICE}") from None


def checkpoint_files(checkpoint: dict[str, Any], names: FileNames) -> list[str]:
    """The names ``checkpoint.json`` lists under ``files``, each checked by
    :func:`run_file_name` against ``names``."""
    files = checkpoint["files"]
    if not files or not isinstance(files, list):
        raise ValueError(f"its files {files!r} are not a list of file names")
    return [run_file_name(name, names) for name in files]


def best_checkpoint(checkpoint: dict[str, Any], names: FileNames) -> dict[str, Any] | None:
    """The best checkpoint ``checkpoint.json`` records (its steps, expected return,
    relative gap and model ``file``, checked against ``names``), or None."""
    best = checkpoint.get("best")
    if best is not None:
        if not isinstance(best, dict):
            raise ValueError(f"its best {best!r} is not a JSON object")
        int(best["steps"]), float(best["expected_return"]), float(best["relative_gap"])
        run_file_name(best["file"], names)
    return best


def package_versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a run depends on."""
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def check_new_run_folder(folder: Path) -> None:
    """Refuse ``folder`` for a new run unless it does not exist or is an empty directory."""
    if folder.exists() and not folder.is_dir():
        raise RunError(f"--out {folder} is a file, not a directory: choose a new directory")
    if folder.exists() and any(folder.iterdir()):
        raise RunError(
            f"--out {folder} exists and is not empty: choose a new directory, or resume "
            f"it with --resume {folder}"
        )


def read_curve_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a ``curve.csv``, as strings keyed by column."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


class RunDirectory:
    """The files of one run, with the checkpoint protocol of the module docstring."""

    def __init__(self, folder: Path, curve_fields: Sequence[str]) -> None:
        check_run_contents(folder)
        self.folder = folder
        self.curve_fields = tuple(curve_fields)
        self._files: list[str] = []
        self._destination: Path | None = None
        self._lock: FileLock | None = None

    @classmethod
    def create(
        cls, folder: Path, spec: dict[str, Any], curve_fields: Sequence[str]
    ) -> RunDirectory:
        """A new run for ``folder`` (which must not exist, or be an empty directory):
        ``run.json``, versions and the curve header, in a hidden partial folder that
        :meth:`commit` renames to ``folder`` with the first checkpoint."""
        check_new_run_folder(folder)
        partial = folder.parent / f".{folder.name}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            partial.mkdir(parents=True)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(folder)) from None
        directory = cls(partial, curve_fields)
        directory._destination = folder
        directory.lock()
        write_json(partial / RUN_FILE, spec)
        write_json(partial / VERSIONS_FILE, package_versions())
        directory._write_rows([])
        return directory

    @classmethod
    def start(
        cls,
        folder: Path,
        spec: dict[str, Any],
        curve_fields: Sequence[str],
        begin: Callable[[RunDirectory], T],
    ) -> T:
        """A new run (:meth:`create`) and what ``begin`` makes of it (it writes the first
        checkpoint, and may train on); if ``begin`` fails before the first checkpoint is
        complete, the run is abandoned and nothing is left behind."""
        directory = cls.create(folder, spec, curve_fields)
        try:
            return begin(directory)
        except BaseException:
            directory.abandon()
            raise

    def lock(self) -> None:
        """Hold the run's lock until the process ends, or refuse if another holds it."""
        path = self.folder / LOCK_FILE
        lock = FileLock(path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            holder = path.read_text().strip() if path.exists() else "unknown"
            raise RunError(
                f"{self.folder} is in use by another process (pid {holder or 'unknown'}): "
                "wait for it to finish; a run directory is used by one process at a time"
            ) from None
        path.write_text(f"{os.getpid()}\n")
        self._lock = lock

    def release(self) -> None:
        """Let another process use the run (training stopped: finished or interrupted)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def abandon(self) -> None:
        """Remove a new run that never completed its first checkpoint (nothing otherwise)."""
        if self._destination is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def read(self, name: str) -> dict[str, Any]:
        """A JSON file of the run (``run.json``, ``checkpoint.json``) as a dict; a
        :class:`RunError` naming it if it is not a JSON object (a missing file is a
        ``FileNotFoundError``, which the caller words for its command)."""
        path = self.folder / name
        try:
            data = load_json(path.read_text())
        except NotADirectoryError:  # the run "directory" is a file: it has no such file
            raise FileNotFoundError(errno.ENOENT, "not a directory", str(path)) from None
        except UnicodeDecodeError:
            raise damaged(path, "not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise damaged(path, f"not valid JSON: {error.msg} at line {error.lineno}") from None
        except ValueError as error:  # a repeated key, NaN or Infinity
            raise damaged(path, str(error)) from None
        if not isinstance(data, dict):
            raise damaged(path, "not a JSON object")
        return data

    def parse(self, name: str, parser: Callable[[dict[str, Any]], T]) -> T:
        """``parser`` applied to the JSON file ``name`` (see :meth:`read`); whatever it
        finds wrong is a :class:`RunError` naming the file."""
        data = self.read(name)
        try:
            return parser(data)
        except (RunError, KeyError, IndexError, ValueError, TypeError) as error:
            raise damaged(self.folder / name, describe(error)) from None

    def resume_from(self, checkpoint: dict[str, Any], files: list[str]) -> None:
        """Continue after the checkpoint ``checkpoint.json`` names: curve rows written after
        it are dropped, and its ``files`` are the ones the next checkpoint replaces. A
        curve that lacks its header or the checkpoint's row is refused, never rewritten."""
        steps = checkpoint_progress(checkpoint)[0]
        kept = [row for row in self._checked_curve() if int(row["steps"]) <= steps]
        if not kept or int(kept[-1]["steps"]) != steps:
            raise RunError(
                f"{self.folder / CURVE_FILE} is damaged: it has no row for the last checkpoint "
                f"(step {steps:,}); restore it from a copy, or start a new run with --out"
            )
        self.lock()
        self._write_rows(kept)
        self._files = list(files)

    def _checked_curve(self) -> list[dict[str, str]]:
        path = self.folder / CURVE_FILE
        damaged = f"{path} is damaged"
        advice = "restore it from a copy, or start a new run with --out"
        try:
            with open(path, newline="") as file:
                reader = csv.DictReader(file)
                rows = list(reader)
                header = tuple(reader.fieldnames or ())
        except FileNotFoundError:
            raise RunError(f"cannot resume {self.folder}: missing {CURVE_FILE}") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise RunError(f"{damaged} ({error}): {advice}") from None
        if header != self.curve_fields:
            raise RunError(f"{damaged} (its header is not {','.join(self.curve_fields)}): {advice}")
        for number, row in enumerate(rows, start=2):
            try:
                int(row["steps"])
                [float(row[name]) for name in self.curve_fields[1:]]
            except (TypeError, ValueError):
                raise RunError(
                    f"{damaged} (line {number} is not a row of numbers): {advice}"
                ) from None
        return rows

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
            self.remove(old)
        self._files = list(files)
        if self._destination is not None:
            check_new_run_folder(self._destination)
            # rename(2) replaces an empty directory in one step: the name is never free
            # for another process in between
            os.replace(self.folder, self._destination)
            self.folder, self._destination = self._destination, None

    def path(self, name: str, names: FileNames | None = None) -> Path:
        """The path of the run's file ``name``, checked by :func:`run_file_name`."""
        return self.folder / run_file_name(name, names)

    def remove(self, name: str) -> None:
        """Remove the run's file or folder ``name`` (a plain name inside the run folder,
        :func:`run_file_name`; a symbolic link is removed, never followed)."""
        path = self.path(name)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

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
