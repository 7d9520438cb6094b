"""A depot run delivers its checkpoint that scored best on the validation episodes.

RL fine-tuning of the clone of MPC does not improve it steadily: on ``depot-25-evening`` PPO
only moved the clone away from MPC, and on ``depot-v2g-peak`` a checkpoint 3.1% from the
Lagrangian bound (MPC: 3.7%) drifted back to 4.5% by the run's end. Every checkpoint of a
depot run (both engines) is therefore also scored on the validation episodes of
:func:`~smartcharging.agents.depot_imitation.validation_return` (seeds disjoint from
training, imitation and the evaluation episodes of the curve), the best so far is kept as a
file of its own, and the run's **last checkpoint holds the best one's weights**: what
``compare --model`` and ``evaluate --model`` load is the policy the run chose on data it
was not scored on, as DAgger chooses its round and early stopping its epoch. The last row
of ``curve.csv`` scores that policy on the evaluation episodes.

``checkpoint.json`` records it as ``"validated": {"steps", "validation_return", "file"}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smartcharging.agents.run_directory import FileNames, run_file_name

#: The key of the record in ``checkpoint.json``.
VALIDATED_KEY = "validated"


@dataclass(frozen=True)
class ValidatedBest:
    """The checkpoint with the best validation return so far and the file of its weights."""

    steps: int
    validation_return: float
    file: str

    def to_json(self) -> dict[str, Any]:
        return {"steps": self.steps, "validation_return": self.validation_return, "file": self.file}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any], names: FileNames) -> ValidatedBest | None:
        """The record of a ``checkpoint.json`` (None if it has none: a run from before),
        its file name checked against ``names``; a ``ValueError`` if it is not one."""
        data = checkpoint.get(VALIDATED_KEY)
        if data is None:
            return None
        if not isinstance(data, dict) or set(data) != {"steps", "validation_return", "file"}:
            raise ValueError(
                f"its {VALIDATED_KEY} is not a JSON object of steps, validation_return and file"
            )
        steps, score = data["steps"], data["validation_return"]
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"its {VALIDATED_KEY} steps {steps!r} is not an integer >= 0")
        number = isinstance(score, int | float) and not isinstance(score, bool)
        try:
            finite = number and math.isfinite(float(score))
        except OverflowError:  # an integer of hundreds of digits
            finite = False
        if not finite:
            raise ValueError(f"its {VALIDATED_KEY} validation_return is not a finite number")
        file = run_file_name(data["file"], names)
        if file != names.forms[0].replace("<steps>", str(steps)):
            raise ValueError(f"its {VALIDATED_KEY} file {file!r} is not the one of step {steps}")
        if steps > checkpoint.get("steps", steps):
            raise ValueError(f"its {VALIDATED_KEY} steps {steps} are after its last checkpoint")
        return cls(steps, float(score), file)


def improves(best: ValidatedBest | None, validation_return: float) -> bool:
    """Whether a checkpoint scoring ``validation_return`` becomes the best."""
    return best is None or validation_return > best.validation_return
