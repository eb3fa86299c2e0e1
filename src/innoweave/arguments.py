"""Checks of the numbers handed to the generator and the analyses (counts, radii, shares).

A setting that is ``True``, ``2.5`` where a count is meant, NaN or the text ``"10"`` would
otherwise run on (``True`` counts as 1) or fail deep inside NumPy or scikit-learn with a
message that names neither the setting nor the value. The registry's synthetic generator
and the diagnosis, cluster and matching analyses check their settings with these two
functions, so every such mistake reads the same: the setting's name, what it must be and
what was given. (Seeds are checked where they become generators, in
:func:`innoweave.seeding.check_seed`.)
"""

from __future__ import annotations

import math
import numbers


def whole_number(name: str, value: object, *, least: int, none: bool = False) -> int | None:
    """``value`` as an ``int``: a whole number (Python or NumPy integer, not a bool or a
    float) of at least ``least``; ``None`` passes where ``none`` is true."""
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number >= {least}{' or None' if none else ''}, got {value!r}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value!r}")
    return int(value)


def real_number(name: str, value: object, *, low: float = -math.inf, high: float = math.inf,
                above_low: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``(low, high]`` with
    ``above_low``); a bool, text, NaN or infinity is refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    inside = (number > low if above_low else number >= low) and number <= high
    if not (math.isfinite(number) and inside):
        left = "above" if above_low else "at least"
        bounds = " and ".join(
            part for part in (f"{left} {low:g}" if low > -math.inf else "",
                              f"at most {high:g}" if high < math.inf else "") if part
        )  # fmt: skip
        raise ValueError(f"{name} must be a finite number{' ' + bounds if bounds else ''}, got {value!r}")
    return number
