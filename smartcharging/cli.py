"""The ``smartcharging`` command line."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from smartcharging.config import ChargingConfig, ConfigError
from smartcharging.envs.smart_charging import SmartChargingEnv

app = typer.Typer(
    help="Smart charging of electric-vehicle fleets: environments, exact optima, agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


def fail(message: str) -> typer.Exit:
    """Print one error line and return the exit to raise."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@app.callback()
def root() -> None:
    """Smart charging of electric-vehicle fleets: environments, exact optima, agents."""


@app.command()
def demo(
    episodes: int = typer.Option(3, min=1, help="Episodes to render."),
    seed: int = typer.Option(0, help="Seed of the first episode."),
    target_kwh: float = typer.Option(45.0, help="Charge at 7 kW until this level."),
) -> None:
    """Render a few episodes of SmartCharging-v0 under a simple rule."""
    try:
        env = SmartChargingEnv(config=ChargingConfig(), render_mode="ansi")
    except ConfigError as error:
        raise fail(str(error)) from None
    obs, _ = env.reset(seed=seed)
    for episode in range(episodes):
        console.print(f"[bold]episode {episode}[/]  (charge at 7 kW until {target_kwh:g} kWh)")
        console.print(env.render(), markup=False, highlight=False, soft_wrap=True)
        total, terminated = 0.0, False
        while not terminated:
            action = 1 if obs[0] < target_kwh else 0
            obs, reward, terminated, _, _ = env.step(action)
            total += float(reward)
            console.print(env.render(), markup=False, highlight=False, soft_wrap=True)
        console.print(f"return {total:.6g}\n")
        obs, _ = env.reset()


def main() -> None:
    """Console-script entry point: every usage error is one line and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        Console(stderr=True).print(
            f"[bold red]error:[/] {error.format_message()}", highlight=False, soft_wrap=True
        )
        sys.exit(2 if error.exit_code == 1 else error.exit_code)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
