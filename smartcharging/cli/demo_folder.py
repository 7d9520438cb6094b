"""The demo's run folder: ``qlearning-run``, ``qlearning-run-2``, ... beside earlier demos'
runs, claimed atomically so that two demos started together never share one."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

#: Folders tried before giving up (a million earlier demos in one folder).
MAX_RUNS = 10**6


def claim_run_folder(out: Path) -> Path:
    """The first ``qlearning-run[-N]`` in ``out`` that this call creates (``mkdir`` fails
    if another process made it first, so the next name is tried): nothing the user or
    another demo made is reused."""
    for i in range(1, MAX_RUNS + 1):
        folder = out / f"qlearning-run{'' if i == 1 else f'-{i}'}"
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{out}: {MAX_RUNS} demo runs already; choose another --out")


@contextlib.contextmanager
def claimed_run_folder(out: Path) -> Iterator[Path]:
    """:func:`claim_run_folder`, removed again if the work fails while it is still empty
    (a run leaves nothing behind before its first checkpoint)."""
    folder = claim_run_folder(out)
    try:
        yield folder
    except BaseException:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
        raise
