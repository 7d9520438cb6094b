"""`smartcharging --version` prints the installed package's version and exits 0."""

import smartcharging
from tests.cli.cli_runner import run_cli


def test_version_prints_the_package_version() -> None:
    code, out, err = run_cli("--version")
    assert code == 0 and err == ""
    assert out == f"smartcharging {smartcharging.__version__}\n"


def test_version_comes_before_any_command() -> None:
    code, out, _ = run_cli("--version", "solve", "--slots", "0")
    assert code == 0 and out.startswith("smartcharging ")


def test_the_package_version_is_the_projects() -> None:
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text())["project"]
    assert smartcharging.__version__ == project["version"]
