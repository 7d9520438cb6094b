"""The package's own metadata: its version and its public names."""

from importlib import metadata

import smartcharging


def test_the_package_says_its_version_and_lists_evaluate_policy() -> None:
    assert smartcharging.__version__ == metadata.version("smartcharging")
    assert "evaluate_policy" in dir(smartcharging)
    assert callable(smartcharging.evaluate_policy)
