"""The info contract of the batch environments: what Gymnasium's ``SyncVectorEnv`` builds.

``SyncVectorEnv`` over the scalar environment stacks every info key into an array over the
copies and sets beside it a boolean mask ``_key`` of the copies that reported it; a copy
that did not report a key holds 0 there (``None`` in an object array, e.g. for strings). On
the autoreset step a copy reports its ``reset`` info, not a step's. The batch environments
build the same dictionaries from their arrays with :func:`masked` (and, on the common path
where every copy reports every key, the cheaper :func:`reported_by_all`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def masked(info: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, Any]:
    """``info`` (arrays over all copies) as reported by the copies in ``mask`` only: each
    key with its mask ``_key``, the other copies' entries blanked (0, or None in object
    arrays); nothing when no copy is in ``mask``. Fully masked arrays are not copied."""
    if not mask.any():
        return {}
    out: dict[str, Any] = {}
    blank = None if mask.all() else ~mask
    for key, value in info.items():
        if blank is not None:
            value = np.array(value)  # a copy, so that the state arrays stay untouched
            value[blank] = None if value.dtype == object else 0
        out[key] = value
        out[f"_{key}"] = mask
    return out


def reported_by_all(info: dict[str, Any], num_envs: int) -> dict[str, Any]:
    """``info`` as reported by every copy, with one all-True mask shared by the keys
    (added to ``info`` itself, which is returned)."""
    mask = np.ones(num_envs, dtype=bool)
    for key in list(info):
        info[f"_{key}"] = mask
    return info


def object_array(rows: np.ndarray) -> np.ndarray:
    """A 1-d object array holding each row of ``rows`` (as ``final_obs`` is in Gymnasium's
    vector envs: one observation per copy)."""
    out = np.empty(len(rows), dtype=object)
    out[:] = list(rows)
    return out
