"""A composite-indicator engine: indicators -> dimensions -> index, each step declared.

The diagnosis builds every score it reports with this engine: the European Innovation
Scoreboard (countries by year) and the SME profile on the six restricting factors (firms,
one period). It follows the steps of the OECD/JRC *Handbook on Constructing Composite
Indicators* (and R's COINr): outlier treatment, imputation, transformation, normalisation,
weighting, aggregation, scaling relative to a reference unit and year, performance groups.
Each step is a plain function on a ``(units, years, indicators)`` array, usable alone;
:class:`CompositeIndex` chains them with its settings so that the uncertainty analysis
(:mod:`innoweave.diagnosis.uncertainty`) can vary any of them.

Bad input has one defined behaviour each (see ``docs/diagnosis.md``): a missing value is
skipped by aggregation (weights renormalised over what is present) unless imputed; a unit
with every value missing gets NaN scores and is listed in ``report_["empty_units"]``; a
constant indicator (zero range or zero spread) carries no information, is left out and
listed in ``report_["constant_indicators"]``; a log or square root of values outside its
domain and a geometric mean of non-positive scores raise ``ValueError`` naming the
indicator and the unit.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from innoweave.estimator import Estimator

NORMALISATIONS = ("minmax", "zscore", "rank", "distance")
AGGREGATIONS = ("arithmetic", "geometric")
TRANSFORMS = ("sqrt", "log", "log1p")
OUTLIER_RULES = ("sd", "skew_kurtosis")
IMPUTATIONS = ("carry", "group_mean")


@dataclass
class IndicatorData:
    """Indicator values as a ``(units, years, indicators)`` array with its labels."""

    values: np.ndarray
    units: list[str]
    years: list[int]
    indicators: list[str]

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        expected = (len(self.units), len(self.years), len(self.indicators))
        if self.values.shape != expected:
            raise ValueError(f"IndicatorData: values have shape {self.values.shape}, labels say {expected}")

    @classmethod
    def from_long(
        cls, df: pd.DataFrame, *, unit: str = "unit", year: str = "year",
        indicator: str = "indicator", value: str = "value",
    ) -> IndicatorData:
        """From a long table, one row per (unit, year, indicator); duplicates raise."""
        missing = [c for c in (unit, year, indicator, value) if c not in df.columns]
        if missing:
            raise ValueError(f"IndicatorData.from_long: columns {missing} absent")
        dup = df.duplicated([unit, year, indicator])
        if dup.any():
            row = df.loc[dup].iloc[0]
            raise ValueError(
                f"IndicatorData.from_long: duplicate value for unit {row[unit]!r}, "
                f"year {row[year]!r}, indicator {row[indicator]!r}"
            )
        units = sorted(df[unit].astype(str).unique())
        years = sorted(int(y) for y in df[year].unique())
        indicators = list(dict.fromkeys(df[indicator].astype(str)))
        ui = pd.Index(units).get_indexer(df[unit].astype(str))
        yi = pd.Index(years).get_indexer(df[year].astype(int))
        ii = pd.Index(indicators).get_indexer(df[indicator].astype(str))
        values = np.full((len(units), len(years), len(indicators)), np.nan)
        values[ui, yi, ii] = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
        return cls(values, units, years, indicators)

    @classmethod
    def from_wide(cls, df: pd.DataFrame, *, year: int = 0) -> IndicatorData:
        """From a table with units as the index and indicators as columns (one period)."""
        values = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)[:, None, :]
        return cls(values, [str(u) for u in df.index], [year], [str(c) for c in df.columns])


@dataclass(frozen=True)
class Hierarchy:
    """The declared structure: each dimension lists its indicators, in order.

    An indicator belongs to exactly one dimension. ``labels`` names codes for people.
    """

    dimensions: Mapping[str, Sequence[str]]
    index_name: str = "index"
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for dim, members in self.dimensions.items():
            if not members:
                raise ValueError(f"Hierarchy: dimension {dim!r} has no indicators")
            for ind in members:
                if ind in seen:
                    raise ValueError(f"Hierarchy: indicator {ind!r} is in both {seen[ind]!r} and {dim!r}")
                seen[ind] = dim

    @property
    def indicators(self) -> list[str]:
        """All indicator codes, dimension by dimension, in declared order."""
        return [i for members in self.dimensions.values() for i in members]

    @property
    def dimension_names(self) -> list[str]:
        """The dimension names in declared order."""
        return list(self.dimensions)

    def membership(self) -> np.ndarray:
        """0/1 matrix ``(indicators, dimensions)``."""
        inds, dims = self.indicators, self.dimension_names
        m = np.zeros((len(inds), len(dims)))
        for j, d in enumerate(dims):
            for ind in self.dimensions[d]:
                m[inds.index(ind), j] = 1.0
        return m


# --- the steps, each a plain function on (units, years, indicators) arrays -----------------


def _window_mask(years: Sequence[int], window: tuple[int, int] | None) -> np.ndarray:
    years = np.asarray(years)
    if window is None:
        return np.ones(len(years), dtype=bool)
    lo, hi = window
    mask = (years >= lo) & (years <= hi)
    if not mask.any():
        raise ValueError(f"window {window} holds none of the years {list(years)}")
    return mask


def treat_outliers(
    x: np.ndarray, *, rule: str = "sd", k: float = 2.0, window: np.ndarray | None = None,
    max_winsorised: int = 5,
) -> tuple[np.ndarray, dict[int, int]]:
    """Replace outliers indicator by indicator; returns the array and counts per indicator.

    ``"sd"``: values beyond mean +- ``k`` SD (over the window's units and years) are replaced
    by the nearest value inside that band. ``"skew_kurtosis"``: while |skewness| > 2 and
    excess kurtosis > 3.5, the most extreme value on the skewed side (every unit holding it)
    is replaced by the next distinct value, at most ``max_winsorised`` times. The counts are
    of the values changed.
    """
    if rule not in OUTLIER_RULES:
        raise ValueError(f"unknown outlier rule {rule!r}; allowed: {OUTLIER_RULES}")
    out = x.copy()
    window = np.ones(x.shape[1], dtype=bool) if window is None else window
    counts: dict[int, int] = {}
    for i in range(x.shape[2]):
        col = out[:, :, i]
        ref = col[:, window]
        ref = ref[~np.isnan(ref)]
        if ref.size < 3:
            continue
        if rule == "sd":
            mu, sd = ref.mean(), ref.std(ddof=1)
            lo, hi = mu - k * sd, mu + k * sd
            inside = ref[(ref >= lo) & (ref <= hi)]
            if inside.size == 0:
                continue
            high, low = col > hi, col < lo
            col[high], col[low] = inside.max(), inside.min()
            counts[i] = int(high.sum() + low.sum())
        else:
            steps, changed = 0, np.zeros(col.shape, dtype=bool)
            while steps < max_winsorised:
                ref = col[:, window][~np.isnan(col[:, window])]
                skew, kurt = stats.skew(ref), stats.kurtosis(ref)
                if not (abs(skew) > 2 and kurt > 3.5):
                    break
                # the next *distinct* value: with the extreme value tied (or an earlier step
                # making it so), the next sorted value is the extreme itself, and the step
                # replaced nothing while it was counted
                distinct = np.unique(ref)
                if distinct.size < 2:
                    break
                extreme, nxt = (distinct[-1], distinct[-2]) if skew > 0 else (distinct[0], distinct[1])
                hit = col == extreme
                col[hit] = nxt
                changed |= hit
                steps += 1
            counts[i] = int(changed.sum())
    return out, counts


def impute(
    x: np.ndarray, methods: str | Sequence[str], *, groups: Sequence[object] | None = None
) -> tuple[np.ndarray, int]:
    """Fill missing values; returns the array and how many values were filled.

    ``"carry"`` carries the unit's last known value forward in time, then its first known
    value backward; ``"group_mean"`` uses the mean of the unit's group (all units when
    ``groups`` is None) in the same year. Methods in a sequence apply in turn.
    """
    methods = [methods] if isinstance(methods, str) else list(methods)
    out = x.copy()
    before = int(np.isnan(out).sum())
    for method in methods:
        if method == "carry":
            for t in range(1, out.shape[1]):
                gap = np.isnan(out[:, t, :])
                out[:, t, :][gap] = out[:, t - 1, :][gap]
            for t in range(out.shape[1] - 2, -1, -1):
                gap = np.isnan(out[:, t, :])
                out[:, t, :][gap] = out[:, t + 1, :][gap]
        elif method == "group_mean":
            labels = np.zeros(out.shape[0]) if groups is None else pd.factorize(pd.Series(groups))[0]
            for g in np.unique(labels):
                rows = labels == g
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    means = np.nanmean(np.where(rows[:, None, None], out, np.nan), axis=0)
                block = out[rows]
                gap = np.isnan(block)
                block[gap] = np.broadcast_to(means, block.shape)[gap]
                out[rows] = block
        else:
            raise ValueError(f"unknown imputation {method!r}; allowed: {IMPUTATIONS}")
    return out, before - int(np.isnan(out).sum())


def transform(
    x: np.ndarray, how: Mapping[int, str], *, units: Sequence[str], indicators: Sequence[str]
) -> np.ndarray:
    """Apply ``sqrt``, ``log`` (needs > 0) or ``log1p`` (needs >= 0) to the indicators given.

    A value outside the domain raises ``ValueError`` naming the indicator and the unit.
    """
    out = x.copy()
    for i, method in how.items():
        col = out[:, :, i]
        if method not in TRANSFORMS:
            raise ValueError(f"unknown transform {method!r} for {indicators[i]!r}; allowed: {TRANSFORMS}")
        bad = (col <= 0) if method == "log" else (col < 0)
        if np.any(bad):
            u = int(np.argwhere(bad)[0][0])
            need = "> 0" if method == "log" else ">= 0"
            raise ValueError(
                f"{method} transform of indicator {indicators[i]!r} needs values {need}; "
                f"unit {units[u]!r} has {col[bad][0]!r}"
            )
        out[:, :, i] = {"sqrt": np.sqrt, "log": np.log, "log1p": np.log1p}[method](col)
    return out


def normalise(
    x: np.ndarray, *, method: str = "minmax", window: np.ndarray | None = None,
    scale: tuple[float, float] = (0.0, 1.0), directions: np.ndarray | None = None,
    reference: tuple[int, int] | None = None, bounds: np.ndarray | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Normalise each indicator; returns the scores and the constant indicators' positions.

    ``minmax`` and ``zscore`` take their parameters over all units and the ``window`` of
    years (a boolean mask over years) and apply them to every year; ``rank`` ranks the units
    within each year onto ``scale``; ``distance`` divides by the value of the ``reference``
    ``(unit position, year position)``. ``directions`` of -1 reverse an indicator (lower is
    better). ``bounds`` ``(indicators, 2)`` fixes ``minmax``'s minimum and maximum of an
    indicator (NaN: taken from the data), for indicators on a known scale such as a
    questionnaire's: one answer, or answers that all agree, then still score on that scale.
    Constant indicators (and, with bounds, those without any value) come back as NaN.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {method!r}; allowed: {NORMALISATIONS}")
    window = np.ones(x.shape[1], dtype=bool) if window is None else window
    sign = np.ones(x.shape[2]) if directions is None else np.asarray(directions, dtype=float)
    lo, hi = scale
    xs = x * sign if method != "distance" else x
    # all-NaN indicators (an unanswered questionnaire item) are expected: they become constant
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if method == "minmax":
            ref = xs[:, window, :]
            mn, mx = np.nanmin(ref, axis=(0, 1)), np.nanmax(ref, axis=(0, 1))
            if bounds is not None:
                b = np.asarray(bounds, dtype=float)
                fixed = ~np.isnan(b[:, 0])
                # a reversed indicator's bounds are reversed with it
                mn = np.where(fixed, np.where(sign < 0, -b[:, 1], b[:, 0]), mn)
                mx = np.where(fixed, np.where(sign < 0, -b[:, 0], b[:, 1]), mx)
            rng = mx - mn
            constant = ~(rng > 0) | np.all(np.isnan(ref), axis=(0, 1))
            out = lo + (xs - mn) / np.where(constant, np.nan, rng) * (hi - lo)
        elif method == "zscore":
            ref = xs[:, window, :]
            mu, sd = np.nanmean(ref, axis=(0, 1)), np.nanstd(ref, axis=(0, 1), ddof=1)
            constant = ~(sd > 0)
            out = (xs - mu) / np.where(constant, np.nan, sd)
        elif method == "rank":
            ranks = pd.DataFrame(xs.reshape(x.shape[0], -1)).rank(axis=0).to_numpy().reshape(x.shape)
            n_valid = np.sum(~np.isnan(xs), axis=0)
            out = lo + (ranks - 1) / np.where(n_valid > 1, n_valid - 1, np.nan) * (hi - lo)
            spread = np.nanmax(xs, axis=0) - np.nanmin(xs, axis=0)
            constant = ~np.any(spread > 0, axis=0)
        else:
            if reference is None:
                raise ValueError("distance normalisation needs a reference unit and year")
            ref = x[reference[0], reference[1], :]
            constant = ~(np.abs(ref) > 0)
            ratio = x / np.where(constant, np.nan, ref)
            out = np.where(sign < 0, 1.0 / ratio, ratio)
    out[:, :, constant] = np.nan
    return out, [int(i) for i in np.flatnonzero(constant)]


def aggregate(scores: np.ndarray, weights: np.ndarray, *, method: str = "arithmetic") -> np.ndarray:
    """Weighted mean over the last axis of ``scores`` into the columns of ``weights``.

    ``weights`` is ``(components, groups)``; missing scores are skipped and the weights of
    what is present renormalised; a group with nothing present is NaN. The geometric mean
    needs scores >= 0 (a zero makes the group zero: no compensation).
    """
    if method not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {method!r}; allowed: {AGGREGATIONS}")
    present = ~np.isnan(scores)
    den = present.astype(float) @ weights
    with np.errstate(all="ignore"):
        if method == "arithmetic":
            out = np.where(present, scores, 0.0) @ weights / den
        else:
            if np.any(scores[present] < 0):
                raise ValueError("geometric aggregation needs non-negative scores")
            zero = np.where(present, scores == 0, False).astype(float) @ (weights > 0) > 0
            logs = np.log(np.where(present & (scores > 0), scores, 1.0))
            out = np.exp(logs @ weights / den)
            out[zero] = 0.0
    out[den <= 0] = np.nan
    return out


def pca_weights(scores: np.ndarray) -> np.ndarray:
    """Weights from the first principal component: squared loadings, scaled to sum to 1.

    ``scores`` is ``(observations, components)``; rows with a missing value are left out;
    too few complete rows (or a single component) give equal weights.
    """
    k = scores.shape[1]
    rows = scores[~np.isnan(scores).any(axis=1)]
    if k == 1 or rows.shape[0] <= k:
        return np.full(k, 1.0 / k)
    sd = rows.std(axis=0, ddof=1)
    z = (rows - rows.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    loadings = vt[0] ** 2
    return loadings / loadings.sum() if loadings.sum() > 0 else np.full(k, 1.0 / k)


def performance_groups(
    ratio: pd.Series, thresholds: Sequence[tuple[float, str]]
) -> pd.Series:
    """Label each unit by the first ``(threshold, label)`` whose threshold its ratio exceeds.

    ``thresholds`` run from high to low; the last label takes everything below. A NaN ratio
    gets no group.
    """
    ordered = sorted(thresholds, key=lambda t: -t[0])
    out = pd.Series(ordered[-1][1], index=ratio.index, dtype=object)
    for threshold, label in reversed(ordered[:-1]):
        out[ratio > threshold] = label
    out[ratio.isna()] = None
    return out


# --- the estimator -----------------------------------------------------------------------


class CompositeIndex(Estimator):
    """A composite indicator built by the declared steps.

    Parameters (keyword-only after ``hierarchy``):
    ``outliers`` None, ``"sd"`` or ``"skew_kurtosis"`` (``outlier_sd`` is the band's k);
    ``imputation`` None, ``"carry"``, ``"group_mean"`` or a sequence of them, with
    ``unit_groups`` (unit -> group) for the group mean; ``transform`` None, one of
    ``sqrt/log/log1p`` for all indicators, ``"sqrt_if_skewed"`` (square root where
    skewness > 1, the EIS rule) or a mapping indicator -> transform; ``directions``
    indicator -> -1 where lower is better; ``normalisation`` ``minmax/zscore/rank/distance``
    over the ``window`` ``(first, last)`` of years, onto ``scale``; ``weights`` ``"equal"``,
    ``"pca"`` or a mapping of indicator and/or dimension names to weights (absent = 1);
    ``exclude`` indicators left out; ``aggregation`` ``arithmetic/geometric``, or a mapping
    ``{"dimensions": ..., "index": ...}`` for a method per level; ``index_from``
    ``"indicators"`` (the index is the weighted mean of all indicators, as in the EIS) or
    ``"dimensions"``; ``reference`` ``(unit, year)`` for scaling (score / reference score x
    100) and for distance normalisation; ``group_thresholds`` ``[(ratio %, label), ...]``
    applied to the index relative to the reference unit in ``group_year``; ``bounds``
    indicator -> ``(minimum, maximum)`` of its known scale (after any transform), for
    ``minmax`` instead of the data's (a value outside is an error naming it).

    After :meth:`fit`: ``normalised_`` ``(units, years, indicators)``, ``dimension_scores_``
    ``(units, years, dimensions)``, ``index_`` ``(units, years)``, their ``relative_*``
    versions when a reference is set, ``indicator_weights_``, ``dimension_weights_``,
    ``groups_`` and ``report_`` (what each step did).
    """

    def __init__(
        self, hierarchy: Hierarchy, *, outliers: str | None = None, outlier_sd: float = 2.0,
        imputation: str | Sequence[str] | None = None, unit_groups: Mapping[str, object] | None = None,
        transform: str | Mapping[str, str] | None = None, directions: Mapping[str, int] | None = None,
        normalisation: str = "minmax", window: tuple[int, int] | None = None,
        scale: tuple[float, float] = (0.0, 1.0), weights: str | Mapping[str, float] = "equal",
        exclude: Iterable[str] = (), aggregation: str | Mapping[str, str] = "arithmetic",
        index_from: str = "indicators", reference: tuple[str, int] | None = None,
        group_thresholds: Sequence[tuple[float, str]] | None = None, group_year: int | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.hierarchy = hierarchy
        self.outliers = outliers
        self.outlier_sd = outlier_sd
        self.imputation = imputation
        self.unit_groups = unit_groups
        self.transform = transform
        self.directions = directions
        self.normalisation = normalisation
        self.window = window
        self.scale = scale
        self.weights = weights
        self.exclude = exclude
        self.aggregation = aggregation
        self.index_from = index_from
        self.reference = reference
        self.group_thresholds = group_thresholds
        self.group_year = group_year
        self.bounds = bounds

    def _select(self, data: IndicatorData) -> np.ndarray:
        wanted = self.hierarchy.indicators
        absent = [i for i in wanted if i not in data.indicators]
        if absent:
            raise ValueError(f"indicators {absent} of the hierarchy are absent from the data")
        pos = [data.indicators.index(i) for i in wanted]
        return data.values[:, :, pos]

    def _transforms(self, x: np.ndarray, window: np.ndarray) -> dict[int, str]:
        inds = self.hierarchy.indicators
        if self.transform is None:
            return {}
        if isinstance(self.transform, Mapping):
            unknown = sorted(set(self.transform) - set(inds))
            if unknown:
                raise ValueError(f"transform names indicators {unknown} not in the hierarchy")
            return {inds.index(k): v for k, v in self.transform.items()}
        if self.transform == "sqrt_if_skewed":
            out = {}
            for i in range(x.shape[2]):
                ref = x[:, window, i]
                ref = ref[~np.isnan(ref)]
                if ref.size > 2 and np.ptp(ref) > 0 and stats.skew(ref) > 1:
                    out[i] = "sqrt"
            return out
        return {i: self.transform for i in range(x.shape[2])}

    def _weights(self, scores: np.ndarray, member: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indicator weights (within dimension) and dimension weights."""
        inds, dims = self.hierarchy.indicators, self.hierarchy.dimension_names
        w_ind = keep.astype(float)
        w_dim = np.ones(len(dims))
        if isinstance(self.weights, Mapping):
            unknown = sorted(set(self.weights) - set(inds) - set(dims))
            if unknown:
                raise ValueError(f"weights name {unknown}, neither indicators nor dimensions")
            w_ind = w_ind * np.array([float(self.weights.get(i, 1.0)) for i in inds])
            w_dim = np.array([float(self.weights.get(d, 1.0)) for d in dims])
            if np.any(w_ind < 0) or np.any(w_dim < 0):
                raise ValueError("weights must be >= 0")
        elif self.weights == "pca":
            flat = scores.reshape(-1, scores.shape[2])
            for j in range(member.shape[1]):
                cols = np.flatnonzero((member[:, j] > 0) & keep)
                if cols.size:
                    w_ind[cols] = pca_weights(flat[:, cols]) * cols.size
        elif self.weights != "equal":
            raise ValueError(f"unknown weights {self.weights!r}; use 'equal', 'pca' or a mapping")
        return w_ind, w_dim

    def fit(self, data: IndicatorData) -> CompositeIndex:
        """Run the declared steps on ``data`` — outlier treatment, imputation, transforms,
        normalisation, weighting and aggregation into dimension scores and the index, scaled to the
        reference and grouped where set. Returns ``self``."""
        h = self.hierarchy
        inds, dims = h.indicators, h.dimension_names
        unknown_excl = sorted(set(self.exclude) - set(inds))
        if unknown_excl:
            raise ValueError(f"exclude names indicators {unknown_excl} not in the hierarchy")
        if self.index_from not in ("indicators", "dimensions"):
            raise ValueError(f"index_from must be 'indicators' or 'dimensions', got {self.index_from!r}")
        agg = self.aggregation
        agg_dim, agg_index = (agg["dimensions"], agg["index"]) if isinstance(agg, Mapping) else (agg, agg)
        x = self._select(data)
        window = _window_mask(data.years, self.window)
        report: dict[str, object] = {}

        if self.outliers:
            x, counts = treat_outliers(x, rule=self.outliers, k=self.outlier_sd, window=window)
            report["outliers_replaced"] = {inds[i]: n for i, n in counts.items() if n}
        if self.imputation:
            groups = None
            if self.unit_groups is not None:
                groups = [self.unit_groups.get(u) for u in data.units]
            x, n_filled = impute(x, self.imputation, groups=groups)
            report["imputed_values"] = n_filled
        how = self._transforms(x, window)
        if how:
            x = transform(x, how, units=data.units, indicators=inds)
            report["transformed"] = {inds[i]: m for i, m in how.items()}
        self.treated_ = x

        ref_pos = None
        if self.reference is not None:
            ref_unit, ref_year = self.reference
            if ref_unit not in data.units or ref_year not in data.years:
                raise ValueError(f"reference {self.reference!r} is not in the data's units and years")
            ref_pos = (data.units.index(ref_unit), data.years.index(ref_year))
        directions = None
        if self.directions:
            directions = np.array([float(np.sign(self.directions.get(i, 1))) for i in inds])
        scores, constant = normalise(
            x, method=self.normalisation, window=window, scale=self.scale,
            directions=directions, reference=ref_pos, bounds=self._bounds(x, inds),
        )
        report["constant_indicators"] = [inds[i] for i in constant]
        self.normalised_ = scores

        keep = np.array([i not in set(self.exclude) for i in inds]) & ~np.isin(np.arange(len(inds)), constant)
        member = h.membership()
        w_ind, w_dim = self._weights(scores, member, keep)
        self.indicator_weights_ = pd.Series(w_ind, index=inds)
        dim_w = member * w_ind[:, None]
        self.dimension_scores_ = aggregate(scores, dim_w, method=agg_dim)
        if self.index_from == "indicators":
            self.index_ = aggregate(scores, w_ind[:, None], method=agg_index)[..., 0]
        else:
            if self.weights == "pca":
                w_dim = pca_weights(self.dimension_scores_.reshape(-1, len(dims))) * len(dims)
            self.index_ = aggregate(self.dimension_scores_, w_dim[:, None], method=agg_index)[..., 0]
        self.dimension_weights_ = pd.Series(w_dim, index=dims)

        empty = np.all(np.isnan(data.values), axis=(1, 2)) | np.all(np.isnan(self.index_), axis=1)
        report["empty_units"] = [u for u, e in zip(data.units, empty, strict=True) if e]
        self.units_, self.years_ = list(data.units), list(data.years)
        self.relative_index_ = self.relative_dimension_scores_ = None
        if ref_pos is not None:
            with np.errstate(all="ignore"):
                self.relative_index_ = 100 * self.index_ / self.index_[ref_pos]
                self.relative_dimension_scores_ = 100 * self.dimension_scores_ / self.dimension_scores_[ref_pos]
        self.groups_ = None
        if self.group_thresholds is not None:
            self.groups_ = self._groups()
        self.report_ = report
        return self

    def _bounds(self, x: np.ndarray, inds: list[str]) -> np.ndarray | None:
        """``bounds`` as an ``(indicators, 2)`` array (NaN where not fixed), checked."""
        if not self.bounds:
            return None
        if self.normalisation != "minmax":
            raise ValueError(f"bounds apply to minmax normalisation, not {self.normalisation!r}")
        unknown = sorted(set(self.bounds) - set(inds))
        if unknown:
            raise ValueError(f"bounds name indicators {unknown} not in the hierarchy")
        out = np.full((len(inds), 2), np.nan)
        for name, pair in self.bounds.items():
            lo, hi = (float(v) for v in pair)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"bounds of {name!r} must be two finite numbers, minimum < maximum, got {pair!r}")
            i = inds.index(name)
            with np.errstate(invalid="ignore"):
                outside = (x[:, :, i] < lo) | (x[:, :, i] > hi)
            if outside.any():
                value = float(x[:, :, i][outside][0])
                raise ValueError(f"indicator {name!r} has the value {value!r} outside its bounds [{lo}, {hi}]")
            out[i] = lo, hi
        return out

    def _groups(self) -> pd.Series:
        if self.reference is None:
            raise ValueError("performance groups need a reference unit")
        year = self.group_year if self.group_year is not None else self.years_[-1]
        if year not in self.years_:
            raise ValueError(f"group_year {year} is not in the data")
        t = self.years_.index(year)
        col = pd.Series(self.index_[:, t], index=self.units_)
        with np.errstate(all="ignore"):
            ratio = 100 * col / col[self.reference[0]]
        return performance_groups(ratio, self.group_thresholds)

    def scores(self, *, relative: bool = True) -> pd.DataFrame:
        """Long table: unit, year, the index and each dimension (relative when a reference is set)."""
        idx = self.relative_index_ if (relative and self.relative_index_ is not None) else self.index_
        dims = (
            self.relative_dimension_scores_
            if (relative and self.relative_dimension_scores_ is not None)
            else self.dimension_scores_
        )
        units = np.repeat(self.units_, len(self.years_))
        years = np.tile(self.years_, len(self.units_))
        out = pd.DataFrame({"unit": units, "year": years, self.hierarchy.index_name: idx.ravel()})
        for j, d in enumerate(self.hierarchy.dimension_names):
            out[d] = dims[:, :, j].ravel()
        return out

    def ranks(self, year: int, *, units: Sequence[str] | None = None) -> pd.Series:
        """Rank of each unit's index in ``year`` (1 = best; ties share the best rank)."""
        t = self.years_.index(year)
        col = pd.Series(self.index_[:, t], index=self.units_)
        if units is not None:
            col = col[list(units)]
        return col.rank(ascending=False, method="min")
