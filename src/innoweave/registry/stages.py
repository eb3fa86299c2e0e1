"""The SME growth-stage rule: start-up, growth, maturity or transformation.

The stage of a firm decides which policy instruments it is eligible for and which barriers
weigh most, so the diagnosis, the simulation and the synthetic generator all classify firms
with this one rule. It is a transparent threshold rule on three observables — age in
years, employees and the annual growth rate (of employees or revenue) — whose thresholds
live in :class:`StageRules` and can be loaded from a dict or a TOML file.

The rule, applied in this order (the first that matches wins):

1. **start-up** — ``age < startup_max_age`` and ``employees < startup_max_employees``.
2. **transformation** — ``growth < transformation_max_growth`` (shrinking) and
   ``age >= transformation_min_age``.
3. **growth** — ``growth >= growth_min_rate``.
4. **maturity** — everything else (established, growing slowly or stable).

Missing values (NaN/None) never raise. A condition on a missing value is *unknown*, and an
unknown condition does not match, with one exception that keeps young firms young: when
the employee count is missing, rule 1 uses the age alone. So a firm with only an age is a
start-up when young and mature otherwise, a firm with only a growth rate is in growth when
growing fast, and a firm with no data at all is ``missing_stage`` (default ``"maturity"``,
the most common stage; set it to ``None`` to get ``None`` for such rows instead).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from innoweave.registry.kinds import GrowthStage

STAGE_ORDER = [s.value for s in GrowthStage]


#: The thresholds that are annual growth rates, as fractions (0.10 = 10 % a year).
RATE_RULES = ("growth_min_rate", "transformation_max_growth")


@dataclass(frozen=True, kw_only=True)
class StageRules:
    """Thresholds of the growth-stage rule (see the module docstring for the order).

    Every threshold is kept as a float (``3`` in a file is ``3.0``), so the rules read the
    same in every result that records them.

    Defaults follow the usual start-up definition (younger than five years, fewer than 50
    employees) and the OECD high-growth threshold of 10 % annual growth; a firm of ten or
    more years that shrinks by more than 5 % a year is taken to be restructuring.
    """

    startup_max_age: float = 5.0
    startup_max_employees: float = 50.0
    growth_min_rate: float = 0.10
    transformation_max_growth: float = -0.05
    transformation_min_age: float = 10.0
    missing_stage: str | None = GrowthStage.MATURITY.value

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "missing_stage":
                continue
            given = getattr(self, f.name)
            if isinstance(given, (bool, np.bool_)) or not isinstance(given, (int, float, np.integer, np.floating)):
                raise ValueError(f"{f.name} must be a number, got {given!r}")
            # one type whatever the source wrote (3 or 3.0 in a file, a NumPy scalar), so
            # that the rules echo the same in every result; comparisons are unchanged
            try:
                value = float(given)
            except OverflowError:
                raise ValueError(f"{f.name} is too large to be a threshold") from None
            if np.isnan(value):
                raise ValueError(f"{f.name} must be a number, got {given!r}")
            if f.name in RATE_RULES and not -1.0 <= value <= 1.0:
                raise ValueError(f"{f.name} = {given!r} is not an annual rate as a fraction "
                                 "(0.10 = 10 % a year; allowed -1..1)")
            if f.name not in RATE_RULES and value < 0:
                raise ValueError(f"{f.name} must not be negative, got {given!r}")
            object.__setattr__(self, f.name, value)
        if self.startup_max_age <= 0 or self.startup_max_employees <= 0:
            raise ValueError("StageRules: startup_max_age and startup_max_employees must be > 0")
        if self.transformation_max_growth >= self.growth_min_rate:
            raise ValueError(
                "StageRules: transformation_max_growth "
                f"({self.transformation_max_growth}) must be below growth_min_rate "
                f"({self.growth_min_rate})"
            )
        if self.missing_stage is not None and self.missing_stage not in STAGE_ORDER:
            raise ValueError(
                f"StageRules.missing_stage must be one of {STAGE_ORDER} or None, "
                f"got {self.missing_stage!r}"
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageRules:
        """Rules from a mapping; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown stage rule keys {unknown}; allowed: {sorted(known)}")
        return cls(**dict(data))

    @classmethod
    def from_toml(cls, path: str | Path, *, table: str = "stages") -> StageRules:
        """Rules from the ``[stages]`` table of a TOML file (or the top level if absent)."""
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls.from_dict(data.get(table, data))

    def to_dict(self) -> dict[str, Any]:
        """The thresholds as a plain mapping (the inverse of :meth:`from_dict`)."""
        return asdict(self)


def _as_float(values: Any, name: str) -> np.ndarray:
    try:
        arr = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(values, dtype=object)).ravel()),
                            errors="raise")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"classify_stage: {name} must be numeric ({exc})") from None
    return arr.to_numpy(dtype=float, na_value=np.nan)


def classify_stage(
    age: Any, employees: Any, growth: Any, *, rules: StageRules | None = None
) -> np.ndarray:
    """The growth stage of each firm, vectorised (arrays, Series, lists or scalars).

    ``age`` in years, ``employees`` a head count, ``growth`` an annual rate (0.12 = +12 %).
    Inputs broadcast against each other; missing values follow the module's NaN rule.
    Returns an object array of stage names (``None`` only where ``rules.missing_stage`` is
    ``None`` and nothing is known).
    """
    rules = rules or StageRules()
    a, e, g = np.broadcast_arrays(
        _as_float(age, "age"), _as_float(employees, "employees"), _as_float(growth, "growth")
    )
    if np.any(a[~np.isnan(a)] < 0):
        raise ValueError("classify_stage: age must be >= 0")
    young = a < rules.startup_max_age
    small = (e < rules.startup_max_employees) | np.isnan(e)
    startup = young & small
    transforming = (g < rules.transformation_max_growth) & (a >= rules.transformation_min_age)
    growing = g >= rules.growth_min_rate
    known = ~(np.isnan(a) & np.isnan(e) & np.isnan(g))
    out = np.full(a.shape, GrowthStage.MATURITY.value, dtype=object)
    out[growing] = GrowthStage.GROWTH.value
    out[transforming] = GrowthStage.TRANSFORMATION.value
    out[startup] = GrowthStage.START_UP.value
    out[~known] = rules.missing_stage
    return out


def stage_distribution(frames: Any, *, kinds: tuple[str, ...] = ("sme",)) -> dict[str, float]:
    """Share of each stage among the organisations of ``kinds`` that have a stage.

    ``frames`` is a :class:`~innoweave.registry.frames.RegistryFrames` or an organisations
    DataFrame. Every stage appears in the result (0.0 when absent); an empty selection gives
    all zeros.
    """
    orgs = frames.organisations if hasattr(frames, "organisations") else frames
    if "stage" not in orgs.columns or "kind" not in orgs.columns:
        raise ValueError("stage_distribution: organisations need 'kind' and 'stage' columns")
    stages = orgs.loc[orgs["kind"].isin(kinds), "stage"].dropna()
    total = len(stages)
    counts = stages.value_counts()
    return {s: (float(counts.get(s, 0)) / total if total else 0.0) for s in STAGE_ORDER}
