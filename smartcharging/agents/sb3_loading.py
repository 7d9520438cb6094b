"""Loading Stable-Baselines3 models and replay buffers without running code from them.

A Stable-Baselines3 model zip holds ``data``, a JSON object in which SB3 stores every
attribute that is not plain JSON (spaces, schedules, classes, last observations) as a
cloudpickle under ``":serialized:"``, and ``.pth`` state dicts of the policy and its
optimizer. ``ALGO.load`` would unpickle the former, so a crafted zip could run code. Here:

* every object that is not plain data comes from a *template*: a model our own code builds
  from the run's configuration and hyperparameters. It is handed to SB3 as
  ``custom_objects`` for every pickled entry of ``data`` and for the entries that decide
  which code the model runs (:data:`PINNED`), so SB3 never unpickles anything from
  ``data``; every setting the template was built with (each argument of the algorithm's
  constructor but the seed) is set over the file's, present in it or not, so the file
  keeps only its training progress: a zip's
  ``buffer_size: 1e12`` never reaches the allocator, and a resumed run trains with the
  checked hyperparameters of its ``run.json``. A pickled entry that SB3 does not save for
  that algorithm is refused;
* every ``.pth`` member is first read by us with torch's ``weights_only=True`` (tensors and
  plain containers only; refused otherwise), whatever the installed SB3 does with it, and
  torch must be 2.6 or newer (older ``weights_only`` loading could run code,
  CVE-2025-32434).

The DQN replay buffer is a NumPy archive (:mod:`smartcharging.agents.safe_loading`) of its
arrays, copied into the buffer of the loaded model.
"""

from __future__ import annotations

import inspect
import io
import json
import math
import os
import pickle
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.save_util import is_json_serializable

from smartcharging.agents.run_directory import RunError
from smartcharging.agents.safe_loading import (
    check_archive,
    check_finite,
    load_archive,
    read_archive_bytes,
    restore_arrays,
    save_archive,
)
from smartcharging.config.data_files import DataLimitError, DuplicateKeyError, load_json
from smartcharging.config.validation import shorten

#: Entries of ``data`` always taken from the template: they choose the code that runs.
PINNED = ("policy_class", "policy_kwargs", "observation_space", "action_space")
#: Constructor arguments that are not settings taken from the template: the built policy,
#: the environment and device (given to SB3's ``load`` apart), and the run's seed, which
#: the template (built with ``seed=None`` to leave the global generators alone) lacks.
NOT_SETTINGS = ("policy", "env", "device", "seed")
#: Oldest torch whose ``weights_only=True`` loading runs no code (CVE-2025-32434).
MIN_TORCH = (2, 6)
#: The arrays of SB3's ``ReplayBuffer``; its ``pos`` and ``full`` are JSON.
REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def check_torch_version(version: str) -> None:
    """A :class:`RunError` if torch ``version`` cannot load tensors without running code."""
    major, minor = (int(part) for part in version.split("+")[0].split(".")[:2])
    if (major, minor) < MIN_TORCH:
        raise RunError(
            f"torch {version} cannot load model files safely (weights_only loading before "
            f"{'.'.join(map(str, MIN_TORCH))} can run code, CVE-2025-32434): install torch >= "
            f"{'.'.join(map(str, MIN_TORCH))}"
        )


def read_model_data(path: Path, content: bytes) -> dict[str, Any]:
    """The ``data`` JSON of an SB3 model zip (``content``, read from ``path``), after
    checking the archive's sizes and that every ``.pth`` member loads with
    ``weights_only=True``; nothing is unpickled. A file that is not such a model is a
    ``ValueError`` naming it."""
    check_torch_version(torch.__version__)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            check_archive(path, archive)
            if "data" not in archive.namelist():
                raise ValueError(f"{path} has no 'data' entry: not a Stable-Baselines3 model")
            data = load_json(archive.read("data").decode(), finite=False)
            _check_tensors(path, archive)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not a Stable-Baselines3 model zip") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(
            f"{path}: its 'data' entry is not JSON: not a Stable-Baselines3 model"
        ) from None
    except DuplicateKeyError as error:
        raise ValueError(f"{path}: its 'data' entry has a {error}") from None
    except DataLimitError as error:
        raise ValueError(f"{path}: its 'data' entry is {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: its 'data' is not a JSON object")
    return data


#: How SB3's ``data`` names a Gymnasium Box in the ``":type:"`` of its pickled entry.
BOX_TYPE = "<class 'gymnasium.spaces.box.Box'>"


def read_observation_box(path: Path, data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The bounds (``low``, ``high``, float64) of the Box a model saved at ``path`` was
    trained on, read from the plain JSON that SB3 writes beside the pickled
    ``observation_space`` of its ``data`` (the Box's ``_shape``, and ``low`` and ``high``
    as NumPy prints them); nothing is unpickled. A ``ValueError`` naming the file if the
    entry is not such a Box or its bounds cannot be read (NumPy abbreviates arrays of more
    than 1,000 numbers)."""
    space = data.get("observation_space")
    problem = f"{path}: cannot read its observation_space"
    if not isinstance(space, dict) or space.get(":type:") != BOX_TYPE:
        kind = space.get(":type:") if isinstance(space, dict) else None
        raise ValueError(f"{problem}: a gymnasium Box was expected, found {shorten(repr(kind))}")
    shape = space.get("_shape")
    if (
        not isinstance(shape, list)
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        or math.prod(shape) > 1000
    ):
        raise ValueError(f"{problem}: its shape {shorten(repr(shape))} is not readable")
    bounds = []
    for name in ("low", "high"):
        try:
            values = [float(word) for word in _printed_numbers(space.get(name))]
        except ValueError:
            values = []
        if len(values) != math.prod(shape):
            raise ValueError(f"{problem}: its {name} bound is missing or not readable")
        bounds.append(np.array(values, dtype=np.float64).reshape(shape))
    return bounds[0], bounds[1]


def _printed_numbers(text: Any) -> list[str]:
    """The numbers of an array as ``str(array)`` prints it (``[[0. 1.]\\n [2. inf]]``)."""
    if not isinstance(text, str) or "..." in text:
        raise ValueError("not a printed array")
    return text.replace("[", " ").replace("]", " ").split()


def _check_tensors(path: Path, archive: zipfile.ZipFile) -> None:
    """Load every member SB3 torch-loads (by its test: the extension is ``.pth``) with
    ``weights_only=True``, after checking the sizes of the zip that a ``.pth`` file is; a
    :class:`RunError` if one holds more than tensors, a ``ValueError`` if it is damaged."""
    for name in archive.namelist():
        if os.path.splitext(name)[1] != ".pth":
            continue
        member = io.BytesIO(archive.read(name))
        if zipfile.is_zipfile(member):
            with zipfile.ZipFile(member) as inner:
                check_archive(path, inner, name)
        member.seek(0)
        try:
            tensors = torch.load(member, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            raise RunError(
                f"{path}: refusing to load it: its {name} holds objects other than tensors, "
                "which only a full unpickler builds (and that can run code)"
            ) from None
        except Exception as error:  # torch's unpickler fails on junk in any way it meets
            raise ValueError(
                f"{path}: its {name} is damaged: not a torch file of tensors "
                f"({type(error).__name__})"
            ) from None
        check_finite(f"{path}: its {name}", _tensors(tensors))


def _tensors(loaded: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """Every floating-point tensor of a torch-loaded object (a state dict, or an
    optimizer's nested state), as NumPy arrays named by their dotted keys."""
    if isinstance(loaded, torch.Tensor):
        return {prefix: loaded.detach().double().numpy()} if loaded.is_floating_point() else {}
    items: Iterable[tuple[Any, Any]]
    if isinstance(loaded, dict):
        items = loaded.items()
    elif isinstance(loaded, (list, tuple)):
        items = enumerate(loaded)
    else:
        return {}
    found: dict[str, np.ndarray] = {}
    for key, value in items:
        found.update(_tensors(value, f"{prefix}.{key}" if prefix else str(key)))
    return found


def custom_objects(path: Path, data: dict[str, Any], template: BaseAlgorithm) -> dict[str, Any]:
    """The template's value for every pickled entry of ``data``, every entry SB3 would
    pickle and every :data:`PINNED` one; a :class:`RunError` for a pickled entry that SB3
    does not save for the template's algorithm."""
    excluded = template._excluded_save_params()
    saved = {name: value for name, value in vars(template).items() if name not in excluded}
    pickled = {
        name for name, value in data.items() if isinstance(value, dict) and ":serialized:" in value
    }
    unknown = sorted(pickled - saved.keys())
    if unknown:
        raise RunError(
            f"{path}: refusing to load it: its data has pickled entries {unknown} that "
            f"Stable-Baselines3 does not save for {type(template).__name__}; pickled entries "
            "are never loaded (they can run code)"
        )
    rebuilt = pickled | set(PINNED)
    rebuilt |= {name for name, value in saved.items() if not is_json_serializable(value)}
    return {name: saved[name] for name in rebuilt}


def template_settings(template: BaseAlgorithm) -> dict[str, Any]:
    """The settings the template was built with: its value of each argument of its
    algorithm's constructor but :data:`NOT_SETTINGS` and the :data:`PINNED` ones."""
    names = set(inspect.signature(type(template).__init__).parameters)
    names -= {*NOT_SETTINGS, *PINNED}
    return {name: value for name, value in vars(template).items() if name in names}


def load_model_safely(
    path: Path, template: BaseAlgorithm, content: bytes | None = None
) -> BaseAlgorithm:
    """The model saved at ``path``, as an algorithm of the template's class on its
    environment, loaded without unpickling anything from the file (see the module
    docstring). The template is built by our code from the run's configuration. The file
    is read once (or its ``content`` given), so SB3 loads exactly the bytes that were
    checked; its settings are the template's, its progress (weights, steps) the file's."""
    content = read_archive_bytes(path) if content is None else content
    objects = custom_objects(path, read_model_data(path, content), template)
    try:
        return type(template).load(
            io.BytesIO(content),
            env=template.get_env(),
            device="cpu",
            custom_objects=objects,
            **template_settings(template),
        )
    except (RuntimeError, TypeError, AttributeError, KeyError, ValueError, IndexError) as error:
        lines = [line.strip() for line in str(error).strip().splitlines()]
        more = f" (and {len(lines) - 2} more lines)" if len(lines) > 2 else ""
        raise ValueError(
            f"{path} does not fit this configuration (trained on another one?): "
            f"{type(error).__name__}: {shorten(' '.join(lines[:2]), 300)}{more}"
        ) from None


def save_replay_buffer(model: OffPolicyAlgorithm, path: Path) -> None:
    """The model's replay buffer as a NumPy archive (no pickle)."""
    buffer = model.replay_buffer
    assert buffer is not None, "an off-policy model has a replay buffer once set up"
    arrays = {name: getattr(buffer, name) for name in REPLAY_ARRAYS}
    save_archive(path, {"pos": int(buffer.pos), "full": bool(buffer.full)}, arrays)


def load_replay_buffer(model: OffPolicyAlgorithm, path: Path) -> None:
    """Fill the model's replay buffer from :func:`save_replay_buffer`'s archive; its arrays
    must have the shapes and dtypes of the model's buffer."""
    buffer = model.replay_buffer
    assert buffer is not None, "an off-policy model has a replay buffer once set up"
    meta, arrays = load_archive(path)
    pos, full = meta["pos"], meta["full"]
    if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos < buffer.buffer_size:
        raise ValueError(
            f"{path.name}: invalid pos={pos!r}: must be an integer in 0..{buffer.buffer_size - 1}"
        )
    if not isinstance(full, bool):
        raise ValueError(f"{path.name}: invalid full={full!r}: must be true or false")
    restore_arrays(path, arrays, {name: getattr(buffer, name) for name in REPLAY_ARRAYS})
    buffer.pos, buffer.full = pos, full
