"""Every command's --json output is JSON: no NaN or Infinity, ever."""

import math

import pytest
import typer

from smartcharging.cli.options import print_json
from smartcharging.config.data_files import load_json
from tests.cli.test_app import run


@pytest.mark.parametrize(
    "args",
    [
        ("solve", "--json"),
        ("solve", "--scenario", "v2g-overnight-nl", "--json"),
        ("evaluate", "--policy", "idle", "--episodes", "20", "--json"),
        ("compare", "--json", "--slots", "6"),
        ("compare", "--scenario", "depot-10-overnight", "--episodes", "1", "--json"),
    ],
)
def test_json_output_holds_only_finite_numbers(monkeypatch, capsys, args: tuple) -> None:
    code, out, _ = run(monkeypatch, capsys, *args)
    assert code == 0
    load_json(out)  # refuses NaN and Infinity


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_result_that_is_not_a_number_is_an_error_not_json(capsys, bad: float) -> None:
    with pytest.raises(typer.Exit) as caught:
        print_json({"expected_return": bad, "rows": [1.0]})
    out, err = capsys.readouterr()
    assert caught.value.exit_code == 1
    assert out == "" and "not a finite number" in err and len(err.strip().splitlines()) == 1
