"""Third-party warnings stay out of the CLI's output: an error is one line on stderr, and a
NumPy RuntimeWarning, an RLlib deprecation notice or a line logged by Ray's C++ core
before it breaks that contract.

``SMARTCHARGING_WARNINGS=1`` or Python's ``-W`` option (``PYTHONWARNINGS``) shows them.
"""

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator

#: The environment variable that keeps third-party warnings and Ray's log notices.
SHOW_WARNINGS = "SMARTCHARGING_WARNINGS"


def warnings_asked() -> bool:
    """Whether the user asked for third-party warnings."""
    return os.environ.get(SHOW_WARNINGS, "") not in ("", "0") or bool(sys.warnoptions)


def quiet_third_party() -> None:
    """Ignore warnings raised outside ``smartcharging`` and log only Ray's errors, unless
    the user asked for warnings."""
    if warnings_asked():
        return
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"smartcharging(\.|$)")
    logging.getLogger("ray").setLevel(logging.ERROR)


def quiet_ray_logs() -> None:
    """Import Ray and log only its errors, unless the user asked for warnings: importing
    Ray sets its loggers (``ray`` to INFO, ``ray.rllib`` to WARN) over what
    :func:`quiet_third_party` set, so RLlib's deprecation notices would reach stderr. Call
    it where the CLI is about to use Ray."""
    if warnings_asked():
        return
    import ray  # noqa: F401 - configures its loggers, once

    for name in ("ray", "ray.rllib"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def native_stderr_quieted() -> Iterator[None]:
    """While the block runs, drop what native code writes to file descriptor 2 (Ray's C++
    core worker logs there, e.g. "core_worker.cc: Actor with class name ..."), when stderr
    is not a terminal and the user did not ask for warnings; Python's ``sys.stderr`` (the
    progress bar, error lines) still reaches the real stderr."""
    if warnings_asked() or os.isatty(2):
        yield
        return
    python_stderr = sys.stderr
    python_stderr.flush()
    try:
        python_uses_fd = python_stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a StringIO, as under test runners
        python_uses_fd = False
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    if python_uses_fd:
        sys.stderr = open(  # noqa: SIM115 - closed below, after the block
            saved,
            "w",
            buffering=1,
            closefd=False,
            encoding=python_stderr.encoding,
            errors="backslashreplace",
        )
    try:
        yield
    finally:
        sys.stderr.flush()
        if python_uses_fd:
            sys.stderr.close()
            sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)
