"""Third-party warnings raised during a command stay out of its stderr unless asked for."""

import os
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


def write_both(label: str) -> None:
    """A line from native code (straight to file descriptor 2, as Ray's C++ core worker
    logs) and one from Python's sys.stderr."""
    os.write(2, f"native {label}\n".encode())
    print(f"python {label}", file=sys.stderr, flush=True)


@pytest.mark.parametrize(("show", "native_shown"), [(None, False), ("1", True)])
def test_native_stderr_is_quieted_off_a_terminal(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, show, native_shown
) -> None:
    """Ray's C++ logs ("core_worker.cc: Actor with class name ...") reached redirected
    stderr; during RLlib work they are dropped, Python's own lines still pass."""
    from smartcharging.cli.quiet import native_stderr_quieted

    monkeypatch.delenv("SMARTCHARGING_WARNINGS", raising=False)
    if show is not None:
        monkeypatch.setenv("SMARTCHARGING_WARNINGS", show)
    monkeypatch.setattr(sys, "warnoptions", [])
    with native_stderr_quieted():
        write_both("inside")
    write_both("after")
    err = capfd.readouterr().err
    assert "python inside" in err and "native after" in err and "python after" in err
    assert ("native inside" in err) == native_shown


def test_ray_loggers_stay_quiet_after_ray_configures_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing Ray sets its loggers to INFO and WARN, over the CLI's quieting: an RLlib
    deprecation notice ("RLModule(config=...) has been deprecated") reached `compare`'s
    stderr. quiet_ray_logs sets them back."""
    pytest.importorskip("ray")
    import logging

    from smartcharging.cli.quiet import quiet_ray_logs

    monkeypatch.delenv("SMARTCHARGING_WARNINGS", raising=False)
    monkeypatch.setattr(sys, "warnoptions", [])
    loggers = [logging.getLogger(name) for name in ("ray", "ray.rllib")]
    levels = [logger.level for logger in loggers]
    try:
        quiet_ray_logs()
        logging.getLogger("ray.rllib.core.rl_module").warning("DeprecationWarning: old")
        assert all(logger.getEffectiveLevel() >= logging.ERROR for logger in loggers)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
    assert "DeprecationWarning" not in capsys.readouterr().err
