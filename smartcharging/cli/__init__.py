"""The ``smartcharging`` command line (Typer + Rich); ``main`` is the console script."""

from smartcharging.cli.app import app, main

__all__ = ["app", "main"]
