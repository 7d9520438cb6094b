"""Third-party warnings raised during a command stay out of its stderr unless asked for."""

import sys
import warnings

import pytest

from tests.cli.cli_runner import run_cli


def overflow(*args: object, **kwargs: object) -> None:
    warnings.warn_explicit("overflow encountered", RuntimeWarning, "numpy/core.py", 1, "numpy")
    raise ValueError("boom")


@pytest.mark.parametrize(("show", "lines"), [(None, 1), ("1", 2)])
def test_third_party_warnings_are_kept_out_unless_asked(
    monkeypatch: pytest.MonkeyPatch, show: str | None, lines: int
) -> None:
    monkeypatch.setattr(sys.modules["smartcharging.cli.app"], "solve_all", overflow)
    if show is not None:
        monkeypatch.setenv("SMARTCHARGING_WARNINGS", show)
    monkeypatch.setattr(sys, "warnoptions", [])
    with warnings.catch_warnings():
        warnings.resetwarnings()
        code, _, err = run_cli("solve")
    assert code != 0 and len(err.splitlines()) == lines, err
    assert err.splitlines()[-1] == "error: boom"
