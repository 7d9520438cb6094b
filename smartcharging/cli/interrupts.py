"""Ctrl-C in any command: one error line and exit status 130.

Typer turns a ``KeyboardInterrupt`` into a silent exit 130; the CLI's contract is one
``error:`` line for every failure, so the root group reports it before Typer sees it.
"""

from typing import Any

from typer.core import TyperGroup

from smartcharging.cli.options import INTERRUPTED, fail


class InterruptibleGroup(TyperGroup):
    """The root command group: a Ctrl-C during a command prints ``error: interrupted``
    (a command that says more, as ``tune`` does, catches it first)."""

    def invoke(self, ctx: Any) -> Any:  # Typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise fail("interrupted", INTERRUPTED) from None
