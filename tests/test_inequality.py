"""One Gini formula for matchmaking's loads and the simulation's capabilities."""

from __future__ import annotations

import numpy as np
import pytest

from innoweave.inequality import gini, gini_of_sorted
from innoweave.simulation import measures


def test_known_values():
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 9]) == pytest.approx(0.75)  # all on one of n: (n-1)/n
    assert gini([]) == 0.0 and gini(np.zeros(4)) == 0.0
    # the mean absolute difference over all ordered pairs, divided by twice the mean
    v = np.array([1.0, 2.0, 3.0, 10.0])
    by_pairs = np.abs(v[:, None] - v[None, :]).sum() / (2 * len(v) ** 2 * v.mean())
    assert gini(v) == pytest.approx(by_pairs)
    assert gini(v[::-1]) == gini(v) and gini(3 * v) == pytest.approx(gini(v))


def test_refuses_values_without_a_gini_and_names_them():
    for bad, shown in (([-1, 2], "-1.0"), ([np.nan, 2], "nan"), ([np.inf, 1], "inf")):
        with pytest.raises(ValueError, match=f"gini: values must be finite numbers ≥ 0, got {shown}"):
            gini(bad)


def test_matching_and_simulation_report_the_same_figure():
    rng = np.random.default_rng(0)
    for values in (rng.lognormal(0, 1, 1001), rng.integers(0, 20, 500).astype(float), np.ones(3)):
        expected = gini(values)
        assert measures.gini(values) == expected
        assert measures.gini(values, fused=True) == expected
        assert gini_of_sorted(np.sort(values)) == expected
