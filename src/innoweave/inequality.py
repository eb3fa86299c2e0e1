"""The Gini coefficient, one formula for every part that reports inequality.

Matchmaking reports the spread of partners' loads (``gini_load``), the simulation the spread
of firms' capabilities (``capability_gini``). Both call :func:`gini_of_sorted`; the checked
:func:`gini` is the entry point for values from outside (a negative or missing load has no
Gini coefficient), while the simulation sorts its own float arrays in a compiled kernel and
calls :func:`gini_of_sorted` directly (``simulation.measures.gini``).
"""

from __future__ import annotations

import numpy as np


def gini_of_sorted(v: np.ndarray) -> float:
    """Gini coefficient of float values sorted ascending: ``2·Σ i·v_i / (n·Σ v) − (n+1)/n``
    with ranks ``i = 1..n`` (0 = even, →1 = all on one; 0 for empty or all-zero input)."""
    n = v.shape[0]
    total = v.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1, dtype=float)
    return float((2 * (ranks * v).sum() / (n * total)) - (n + 1) / n)


def gini(values) -> float:
    """Gini coefficient of non-negative values (0 = even, →1 = all on one; 0 for empty or
    all-zero input); a negative, NaN or infinite value is refused, naming it."""
    v = np.sort(np.asarray(values, dtype=float).ravel())
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():  # a negative or missing load has no Gini coefficient (it gave values above 1 or NaN)
        raise ValueError(f"gini: values must be finite numbers ≥ 0, got {float(v[bad][0])!r}")
    return gini_of_sorted(v)
