"""Reading learner state from a run directory without running code from it.

Run directories are shared (they are what a paper's artefacts look like), so nothing in one
is unpickled: learner state is a NumPy archive read with ``allow_pickle=False``, holding its
arrays and one JSON text (``meta``) for the scalars and random-generator states. Every array
must have the shape and dtype of the array it replaces, so a crafted archive can neither run
code nor resize the learner. Every archive (``.npz`` here, the model zips that
:mod:`smartcharging.agents.sb3_loading` reads) is checked against the size limits of
:mod:`smartcharging.config.limits` before anything in it is extracted, so a zip bomb is
refused instead of filling the memory.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smartcharging.agents.run_directory import RunError
from smartcharging.config import limits
from smartcharging.config.data_files import load_json

#: The archive entry holding the JSON metadata.
META = "meta"
#: The only suffix of a learner-state file that is ever read.
STATE_SUFFIX = ".npz"


def check_state_file(folder: Path, name: str) -> Path:
    """The path of the learner-state file ``name``, or a :class:`RunError` if it is not a
    NumPy archive (smartcharging 0.1 pickled learner state; a pickle is never loaded)."""
    if Path(name).suffix != STATE_SUFFIX:
        raise RunError(
            f"cannot resume {folder}: its checkpoint file {name!r} is not a {STATE_SUFFIX} "
            "archive; learner state pickled by smartcharging 0.1 (.pkl) is never loaded, "
            "because loading a pickle can run code: start a new run (the models of old runs "
            "still load for evaluate and compare --model)"
        )
    return folder / name


def check_archive(path: Path, archive: zipfile.ZipFile, member: str = "") -> None:
    """Refuse ``archive`` (read from ``path``; ``member``: the name of the archive inside
    it) if its members declare more than :data:`~limits.MAX_ARCHIVE_BYTES` in total, or one
    expands more than :data:`~limits.MAX_COMPRESSION_RATIO`-fold. Python's zipfile never
    extracts more than a member declares, so this bounds what reading it allocates."""
    where = f"{path}: {member}" if member else str(path)
    advice = "refusing to extract it (limits in smartcharging.config.limits)"
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if total > limits.MAX_ARCHIVE_BYTES:
            raise RunError(
                f"{where} expands to more than {limits.MAX_ARCHIVE_BYTES:,} bytes "
                f"(MAX_ARCHIVE_BYTES): {advice}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.MIN_RATIO_CHECKED_BYTES and ratio > limits.MAX_COMPRESSION_RATIO:
            raise RunError(
                f"{where}: its member {info.filename!r} expands {ratio:,.0f}-fold (at most "
                f"{limits.MAX_COMPRESSION_RATIO} allowed, MAX_COMPRESSION_RATIO; a zip bomb?): "
                f"{advice}"
            )


def read_archive_bytes(path: Path) -> bytes:
    """The content of the archive file ``path``, if it is at most
    :data:`~limits.MAX_ARCHIVE_BYTES` long."""
    size = path.stat().st_size
    if size > limits.MAX_ARCHIVE_BYTES:
        raise RunError(
            f"{path} is {size:,} bytes long, more than {limits.MAX_ARCHIVE_BYTES:,} "
            "(MAX_ARCHIVE_BYTES in smartcharging.config.limits): refusing to read it"
        )
    return path.read_bytes()


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive ``path``, after :func:`check_archive`, read
    without pickle: an archive holding Python objects, or damaged, is a ``ValueError``
    naming the file."""
    content = read_archive_bytes(path)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            check_archive(path, archive)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not an .npz archive (not a zip file)") from None
    name = ""
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as data:
            arrays = {}
            for name in data.files:
                arrays[name] = data[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        shown = f"its array {name!r}" if name else "it"
        raise ValueError(
            f"{path}: {shown} is damaged or holds Python objects, which are never loaded "
            "(that could run code)"
        ) from None
    return arrays


def check_finite(where: str, arrays: Mapping[str, Any]) -> None:
    """Refuse weights holding NaN or Infinity (a diverged or damaged model) with a
    ``ValueError`` naming ``where`` (the file) and the weight: acting on them would fail
    later with a dump of the tensor."""
    for name, array in arrays.items():
        values = np.asarray(array)
        if values.dtype.kind in "fc" and not np.isfinite(values).all():
            raise ValueError(f"{where}: weight {name!r} holds NaN or Infinity")


def save_archive(path: Path, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON-able ``meta`` as one NumPy archive (no pickle)."""
    entries: dict[str, Any] = {META: np.array(json.dumps(meta)), **arrays}
    np.savez(path, allow_pickle=False, **entries)


def load_archive(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and the arrays of an archive written by :func:`save_archive`, read
    without pickle: an archive holding pickled objects is a ``ValueError``."""
    arrays = read_npz(path)
    text = arrays.pop(META, None)
    if text is None or text.dtype.kind != "U" or text.ndim != 0:
        raise ValueError(f"{path} has no JSON text {META!r}")
    try:
        meta = load_json(text.item())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: {META!r} is not valid JSON ({error.msg})") from None
    except ValueError as error:  # a repeated key, NaN or Infinity
        raise ValueError(f"{path}: {META!r}: {error}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: {META!r} is not a JSON object")
    return meta, arrays


def restore_arrays(
    path: Path, arrays: Mapping[str, np.ndarray], targets: Mapping[str, np.ndarray]
) -> None:
    """Copy each of ``arrays`` into its namesake in ``targets``, in place, after checking
    that it exists and has the target's shape and dtype."""
    for name, target in targets.items():
        if name not in arrays:
            raise ValueError(f"{path.name} has no array {name!r}")
        array = arrays[name]
        if array.shape != target.shape or array.dtype != target.dtype:
            raise ValueError(
                f"{path.name}: array {name!r} has shape {array.shape} and dtype {array.dtype}, "
                f"must have shape {target.shape} and dtype {target.dtype}"
            )
    for name, target in targets.items():
        np.copyto(target, arrays[name])
