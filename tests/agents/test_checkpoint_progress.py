"""checkpoint.json's steps and training seconds are checked, naming the entry."""

import pytest

from smartcharging.agents.checkpoint_progress import checkpoint_progress


def test_progress_is_read_as_numbers() -> None:
    assert checkpoint_progress({"steps": 256, "wall_time_s": 1}) == (256, 1.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": [1]}, "its steps \\[1\\] are not an integer in 0..20,000,000,000"),
        ({"steps": "12"}, "its steps '12' are not"),
        ({"steps": -5}, "its steps -5 are not"),
        ({"steps": 1e300}, "its steps 1e\\+300 are not"),
        ({"steps": True}, "its steps True are not"),
        ({"steps": 10**400}, "its steps 100.*\\(401 characters\\) are not"),
        ({"wall_time_s": "x"}, "its wall_time_s 'x' is not a number of seconds >= 0"),
        ({"wall_time_s": -1}, "its wall_time_s -1 is not"),
        ({"wall_time_s": float("nan")}, "its wall_time_s nan is not"),
    ],
)
def test_odd_types_are_refused_naming_the_entry(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        checkpoint_progress({"steps": 256, "wall_time_s": 1.5, **changes})
    assert len(str(caught.value)) < 200
