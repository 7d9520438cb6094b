"""Ctrl-C in any command: exit status 130 and one error line, never a blank line."""

import sys

import pytest

from smartcharging.cli.options import INTERRUPTED
from tests.cli.cli_runner import run_cli


def test_interrupted_command_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["smartcharging.cli.app"], "solve_all", interrupted)
    code, out, err = run_cli("solve")
    assert code == INTERRUPTED == 130
    assert out == "" and err.splitlines() == ["error: interrupted"]
