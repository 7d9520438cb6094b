"""Site rounding keeps the depot's total power and each charger's limit."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcharging.agents.site_rounding import site_rounded_levels

LEVEL_SETS = [
    np.array([0.0, 3.7, 7.4, 11.0]),
    np.array([0.0, 7.0, 14.0, 22.0]),
    np.array([-11.0, -5.5, 0.0, 5.5, 11.0]),
    np.array([0.0, 1.0, 10.0]),
]


@settings(max_examples=200, deadline=None)
@given(
    which=st.integers(0, len(LEVEL_SETS) - 1),
    depots=st.integers(1, 4),
    chargers=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_total_stays_within_half_a_step_and_no_charger_exceeds_its_highest(
    which: int, depots: int, chargers: int, seed: int
) -> None:
    levels = LEVEL_SETS[which]
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(len(levels), 0.3), size=(depots, chargers))
    highest = rng.integers(0, len(levels), size=(depots, chargers))
    rounded = site_rounded_levels(levels, probabilities, highest)
    assert rounded.shape == (depots, chargers) and rounded.dtype == np.int64
    assert (rounded >= 0).all() and (rounded <= highest).all()
    capped = np.minimum(np.arange(len(levels))[None, None, :], highest[:, :, None])
    expected = (probabilities * levels[capped]).sum(axis=2)
    # every charger ends at the level below its expected power or the one above it
    below = np.array(
        [[np.searchsorted(levels, e + 1e-9, "right") - 1 for e in row] for row in expected]
    )
    below = np.clip(below, 0, highest)
    assert ((rounded == below) | (rounded == below + 1)).all()
    half_step = np.diff(levels).max() / 2
    total, target = levels[rounded].sum(axis=1), expected.sum(axis=1)
    assert (total <= target + half_step + 1e-9).all()
    room = (rounded < highest).any(axis=1)  # a charger could still have gone up
    assert (total[room] >= target[room] - half_step - 1e-9).all()


def test_a_sure_policy_gets_its_level_and_alike_chargers_share_the_total() -> None:
    levels = LEVEL_SETS[0]
    sure = np.eye(4)[[0, 1, 2, 3]][None]  # each charger certain of another level
    assert site_rounded_levels(levels, sure, np.full((1, 4), 3)).tolist() == [[0, 1, 2, 3]]
    # ten alike chargers, each half 3.7 kW and half 7.4 kW: five of each, not ten of one
    mix = np.tile([0.0, 0.5, 0.5, 0.0], (1, 10, 1))
    rounded = site_rounded_levels(levels, mix, np.full((1, 10), 3))
    assert sorted(rounded[0].tolist()) == [1] * 5 + [2] * 5
    # a full battery (highest level 0) takes nothing, whatever the policy wanted
    full = site_rounded_levels(levels, np.tile([0, 0, 0, 1.0], (1, 2, 1)), np.array([[0, 3]]))
    assert full.tolist() == [[0, 3]]


def test_probabilities_and_limits_of_the_wrong_shape_are_refused() -> None:
    levels = np.array([0.0, 3.7, 11.0])
    with pytest.raises(ValueError, match=r"probabilities of shape \(1, 2, 4\): expected"):
        site_rounded_levels(levels, np.full((1, 2, 4), 0.25), np.full((1, 2), 2))
    with pytest.raises(ValueError, match=r"highest of shape \(2,\): expected \(1, 2\)"):
        site_rounded_levels(levels, np.full((1, 2, 3), 1 / 3), np.full(2, 2))
    with pytest.raises(ValueError, match=r"level indices in 0..2"):
        site_rounded_levels(levels, np.full((1, 2, 3), 1 / 3), np.full((1, 2), 3))
