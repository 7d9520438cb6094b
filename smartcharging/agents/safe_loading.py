"""Reading learner state from a run directory without running code from it.

Run directories are shared (they are what a paper's artefacts look like), so nothing in one
is unpickled: learner state is a NumPy archive read with ``allow_pickle=False``, holding its
arrays and one JSON text (``meta``) for the scalars and random-generator states. Every array
must have the shape and dtype of the array it replaces, so a crafted archive can neither run
code nor resize the learner. Stable-Baselines3 model zips are read by
:mod:`smartcharging.agents.sb3_loading`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smartcharging.agents.run_directory import RunError

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


def save_archive(path: Path, meta: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON-able ``meta`` as one NumPy archive (no pickle)."""
    entries: dict[str, Any] = {META: np.array(json.dumps(meta)), **arrays}
    np.savez(path, allow_pickle=False, **entries)


def load_archive(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and the arrays of an archive written by :func:`save_archive`, read
    without pickle: an archive holding pickled objects is a ``ValueError``."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path.name} is a single array, not an .npz archive")
        with data:
            arrays = {name: data[name] for name in data.files}
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path.name} is not a readable .npz archive: {error}") from None
    text = arrays.pop(META, None)
    if text is None or text.dtype.kind != "U" or text.ndim != 0:
        raise ValueError(f"{path.name} has no JSON text {META!r}")
    meta = json.loads(text.item())
    if not isinstance(meta, dict):
        raise ValueError(f"{path.name}: {META!r} is not a JSON object")
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
