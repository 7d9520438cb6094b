"""Third-party warnings raised during a command stay out of its stderr unless asked for."""

import sys
import warnings

import pytest

from tests.cli.cli_runner import run_cli


def overflow(*args: object, **kwargs: object) -> None:
    warnings.warn_explicit("overflow encountered", RuntimeWarning, "numpy/core.py", 1, "numpy")
    raise ValueError("boom")


@pytest.mark.parametrize(("show", "shown"), [(None, 0), ("1", 1)])
def test_third_party_warnings_are_kept_out_unless_asked(
    monkeypatch: pytest.MonkeyPatch, show: str | None, shown: int
) -> None:
    """Whether the warning passes the CLI's filters is read from a recording of the
    warnings shown (pytest's own warning capture would otherwise swallow it either way)."""
    monkeypatch.setattr(sys.modules["smartcharging.cli.app"], "solve_all", overflow)
    if show is not None:
        monkeypatch.setenv("SMARTCHARGING_WARNINGS", show)
    monkeypatch.setattr(sys, "warnoptions", [])
    with warnings.catch_warnings(record=True) as seen:
        warnings.resetwarnings()
        code, _, err = run_cli("solve")
    assert len([w for w in seen if "overflow encountered" in str(w.message)]) == shown
    assert code != 0 and err.strip().splitlines() == ["error: boom"], err
