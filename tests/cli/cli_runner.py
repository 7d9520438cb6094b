"""Run the ``smartcharging`` entry point in-process, as a shell would: argv in, exit
status, stdout and stderr out."""

import contextlib
import io
import sys
from unittest import mock

from smartcharging import cli


def run_cli(*args: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``smartcharging ARGS``."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "argv", ["smartcharging", *args]),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            cli.main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()
