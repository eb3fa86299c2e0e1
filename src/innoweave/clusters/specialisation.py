"""Regional specialisation: location quotients, U.S. Cluster Mapping flags, European stars.

The first step of the cluster analyses (registry → analyses → simulation → interfaces): from
employment and establishments by region × cluster category — published statistics, or
industry rows mapped to clusters by a :class:`~innoweave.clusters.crosswalk.Crosswalk` — it
finds where a region is specialised and which of its clusters are strong. Rules:

* Location quotient, benchmarked within the cluster's type (traded clusters against traded
  employment, local against local): ``LQ(r,c) = (E(r,c)/E(r,type)) / (E(N,c)/E(N,type))``.
  National cluster employment ``E(N,c)`` comes from a published national-share column when
  the data carry one (U.S. Cluster Mapping's ``cluster_emp_per_tf``, which includes areas
  outside the listed regions), otherwise from the sum over the regions given.
* U.S. Cluster Mapping flags, per cluster over the regions with employment, with percentiles
  by linear interpolation (numpy's default, R type 7) — see :class:`StrongClusters`.
* European Cluster Observatory stars (size, specialisation, focus) — :class:`ClusterStars`.

Bad input is counted in ``report_`` (:class:`~innoweave.clusters.inputs.InputReport`), never
dropped silently; input that cannot be analysed raises
:class:`~innoweave.clusters.inputs.ClusterInputError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from innoweave.arguments import real_number, whole_number
from innoweave.clusters.inputs import (
    EXAMPLES,
    ClusterInputError,
    InputReport,
    deduplicate,
    numeric_column,
    require_columns,
)
from innoweave.estimator import Estimator

FLAGS = ("strong", "strong10", "significant", "qualifying")
#: The cluster types an input may name (U.S. Cluster Mapping: traded and local clusters).
TYPES = ("traded", "local")
ALL_TYPES = "all"  # the one type given to every row when the input has no type column


@dataclass(frozen=True)
class Columns:
    """Which input columns hold what. Optional columns may be ``None`` or absent."""

    region: str = "region"
    cluster: str = "cluster"
    type: str | None = "type"
    employment: str = "employment"
    establishments: str | None = "establishments"
    national_share: str | None = None
    cluster_name: str | None = "cluster_name"
    region_name: str | None = "region_name"


USCMP_COLUMNS = Columns(
    region="region_code_t",
    cluster="cluster_code_t",
    type="cluster_type",
    employment="emp_tl",
    establishments="est_tl",
    national_share="cluster_emp_per_tf",
    cluster_name="cluster_name_t",
    region_name="region_name_t",
)


def cluster_types(values: pd.Series, column: str, what: str, lines) -> pd.Series:
    """``values`` as cluster types (trimmed, lower case), checked: each must be one of
    :data:`TYPES`. An empty or unknown value raises, naming ``column``, the values and their
    file ``lines`` (one per value, header = line 1)."""
    kind = values.astype("string").str.strip().str.lower()
    lines = np.asarray(lines)
    empty = (kind.isna() | (kind == "")).to_numpy()
    if empty.any():
        raise ClusterInputError(
            f"{what}: column {column!r} is empty in {int(empty.sum())} row(s) "
            f"(file lines {', '.join(map(str, lines[empty][:EXAMPLES]))}"
            f"{', ...' if empty.sum() > EXAMPLES else ''}); each row needs traded or local"
        )
    unknown = (~kind.isin(TYPES)).to_numpy()
    if unknown.any():
        raw = values.astype("string").str.strip().to_numpy()
        by_value: dict[str, list[int]] = {}
        for i in unknown.nonzero()[0]:
            by_value.setdefault(str(raw[i]), []).append(int(lines[i]))
        shown = "; ".join(
            f"{value!r} (file line{'s' if len(at) > 1 else ''} "
            f"{', '.join(map(str, at[:EXAMPLES]))}{', ...' if len(at) > EXAMPLES else ''})"
            for value, at in list(by_value.items())[:EXAMPLES]
        )
        raise ClusterInputError(
            f"{what}: column {column!r} has {int(unknown.sum())} value(s) other than "
            f"{' or '.join(TYPES)}: {shown}{'; ...' if len(by_value) > EXAMPLES else ''}"
        )
    return kind.astype(object)


def _canonical(df: pd.DataFrame, cols: Columns, report: InputReport, what: str) -> pd.DataFrame:
    if df.empty:
        raise ClusterInputError(f"{what}: no rows (only a header)")
    require_columns(df, [cols.region, cols.cluster, cols.employment], what)
    out = pd.DataFrame(index=df.index)
    out["line"] = np.arange(2, len(df) + 2)
    for key, col in (("region", cols.region), ("cluster", cols.cluster)):
        text = df[col].astype("string").str.strip()
        missing = text.isna() | (text == "")
        if missing.any():
            lines = (out["line"][missing]).tolist()[:EXAMPLES]
            raise ClusterInputError(
                f"{what}: column {col!r} is empty in {int(missing.sum())} row(s) (file lines {lines})"
            )
        out[key] = text.astype(object)
    if cols.type and cols.type in df.columns:
        out["type"] = cluster_types(df[cols.type], cols.type, what, out["line"].to_numpy())
    else:
        out["type"] = ALL_TYPES
        report.add(
            "no_type_column",
            1,
            note="no traded/local type column: LQs are benchmarked against all employment",
        )
    out["employment"] = numeric_column(df, cols.employment, what, allow_missing=True)
    missing = out["employment"].isna()
    report.add(
        "missing_employment",
        int(missing.sum()),
        out.loc[missing, ["region", "cluster"]].itertuples(index=False, name=None),
        note=f"{int(missing.sum())} row(s) without employment: counted as 0 in the totals, "
        "their LQs undefined (NaN) and flags undecided",
    )
    if cols.establishments and cols.establishments in df.columns:
        out["establishments"] = numeric_column(df, cols.establishments, what, allow_missing=True)
        missing = out["establishments"].isna()
        report.add(
            "missing_establishments",
            int(missing.sum()),
            out.loc[missing, ["region", "cluster"]].itertuples(index=False, name=None),
            note=f"{int(missing.sum())} row(s) without establishments: their flags are left undecided",
        )
    else:
        out["establishments"] = np.nan
        report.add(
            "no_establishments_column",
            1,
            note="no establishments column: flags use employment and LQ only",
        )
    if cols.national_share and cols.national_share in df.columns:
        out["national_share"] = numeric_column(df, cols.national_share, what, allow_missing=True)
    for key, col in (("cluster_name", cols.cluster_name), ("region_name", cols.region_name)):
        if col and col in df.columns:
            out[key] = df[col].astype(object)
    return out


def _national_cluster_employment(table: pd.DataFrame, report: InputReport) -> pd.Series:
    by_sum = table.groupby("cluster", sort=False)["employment"].sum()
    if "national_share" not in table.columns:
        return by_sum
    usable = table[(table["employment"] > 0) & (table["national_share"] > 0)]
    grouped = usable.groupby("cluster", sort=False)
    estimate = grouped["employment"].sum() / grouped["national_share"].sum()
    # Published shares are rounded; national employment counts are whole numbers.
    if np.all(np.mod(table["employment"].dropna().to_numpy(), 1) == 0):
        estimate = estimate.round()
    fallback = by_sum.index.difference(estimate.index)
    report.add(
        "national_from_sum",
        len(fallback),
        list(fallback),
        note=f"{len(fallback)} cluster(s) without a usable national share: national employment summed over the regions given"
        if len(fallback)
        else None,
    )
    return pd.concat([estimate, by_sum[fallback]])


class LocationQuotients(Estimator):
    """Location quotients of region × cluster employment, benchmarked within cluster type.

    Parameters
    ----------
    columns
        A :class:`Columns` naming the input columns (``USCMP_COLUMNS`` for U.S. Cluster
        Mapping files).
    national
        ``"auto"`` (national employment from a national-share column where present, else
        the sum over regions), ``"share"`` (require that column) or ``"sum"``.
    duplicates
        For a region × cluster key repeated with *different* values: ``"error"`` (default),
        ``"sum"`` or ``"first"``. Identical repeated rows are counted once and reported.
    source
        Where the rows come from (a file name), named in error messages.

    An input without rows, or with a type other than ``traded`` / ``local`` (any case),
    raises :class:`~innoweave.clusters.inputs.ClusterInputError`.

    Attributes
    ----------
    table_ : DataFrame
        One row per region × cluster: ``region, cluster, type, employment, establishments,
        region_type_employment, national_employment, national_type_employment, lq,
        focus`` (cluster share of the region's employment of that type), ``size`` (region
        share of national cluster employment) and ``line`` (file line of the row).
    report_ : InputReport
        Duplicates, zero-employment regions, missing establishments.
    """

    def __init__(
        self,
        *,
        columns: Columns = Columns(),
        national: str = "auto",
        duplicates: str = "error",
        source: str | None = None,
    ):
        self.columns = columns
        self.national = national
        self.duplicates = duplicates
        self.source = source

    def fit(self, df: pd.DataFrame) -> LocationQuotients:
        """Check and deduplicate the region × cluster rows of ``df``, estimate national employment
        and compute each row's location quotient, focus and size. Returns ``self``."""
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"LocationQuotients.fit takes a DataFrame of region × cluster rows, not {type(df).__name__}")
        if not isinstance(self.columns, Columns):
            raise TypeError(f"columns must be a Columns (e.g. Columns(region='state')), not {type(self.columns).__name__}")
        if self.national not in ("auto", "share", "sum"):
            raise ValueError(f"national must be 'auto', 'share' or 'sum', not {self.national!r}")
        if self.duplicates not in ("error", "sum", "first"):
            raise ValueError(
                f"duplicates must be 'error', 'sum' or 'first', not {self.duplicates!r}"
            )
        report = InputReport()
        what = f"employment table {self.source}" if self.source else "employment table"
        table = _canonical(df, self.columns, report, what)
        if self.national == "share" and "national_share" not in table.columns:
            raise ClusterInputError(
                f"{what}: national='share' needs column {self.columns.national_share!r}"
            )
        if self.national == "sum":
            table = table.drop(columns="national_share", errors="ignore")
        table = deduplicate(table, ["region", "cluster"], self.duplicates, report, what=what)
        types_per_cluster = table.groupby("cluster")["type"].nunique()
        mixed = types_per_cluster[types_per_cluster > 1]
        if len(mixed):
            raise ClusterInputError(
                f"{what}: {len(mixed)} cluster(s) carry several types, e.g. {list(mixed.index[:EXAMPLES])}"
            )

        table["region_type_employment"] = table.groupby(["region", "type"])["employment"].transform(
            "sum"
        )
        national = _national_cluster_employment(table, report)
        table["national_employment"] = table["cluster"].map(national)
        cluster_type = table.drop_duplicates("cluster").set_index("cluster")["type"]
        national_type = national.groupby(cluster_type.reindex(national.index)).sum()
        table["national_type_employment"] = table["type"].map(national_type)

        zero = table["region_type_employment"] <= 0
        zero_regions = table.loc[zero, ["region", "type"]].drop_duplicates()
        report.add(
            "regions_with_zero_employment",
            len(zero_regions),
            zero_regions.itertuples(index=False, name=None),
            note=f"{len(zero_regions)} region × type pair(s) with zero employment: their {int(zero.sum())} LQ(s) are undefined (NaN)"
            if len(zero_regions)
            else None,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            focus = table["employment"] / table["region_type_employment"].where(~zero)
            table["focus"] = focus
            table["size"] = table["employment"] / table["national_employment"].where(
                table["national_employment"] > 0
            )
            table["lq"] = focus / (table["national_employment"] / table["national_type_employment"])
        self.table_ = table.reset_index(drop=True)
        self.report_ = report
        return self


class StrongClusters(Estimator):
    """U.S. Cluster Mapping flags: strong, strong10, significant, qualifying.

    Per cluster, over the regions where it has employment (percentiles by linear
    interpolation, R type 7; ``p(x, q)`` is the q-th percentile of x):

    * strong: ``LQ ≥ p(LQ,75)`` and ``LQ ≥ 1`` and ``emp > p(emp,25)`` and ``est > p(est,25)``
    * strong10: the same with ``p(LQ,90)``
    * significant: ``LQ > p(LQ,50)`` and the employment and establishment conditions
    * qualifying: ``LQ > p(LQ,25)`` and the employment and establishment conditions

    Regions without employment in the cluster get ``False``. Flags are left undecided
    (``None``) for a cluster with fewer than ``min_regions`` regions with employment (the
    percentiles mean little there; ``skipped_`` lists them) and for rows without
    establishments. Without an establishments column the establishment condition is left out.

    Parameters
    ----------
    min_regions
        Fewest regions with employment for the percentiles to be used (default 10).
    types
        Cluster types flagged (default traded only, as the project does); ``None`` for all.
    """

    def __init__(self, *, min_regions: int = 10, types: tuple[str, ...] | None = ("traded",)):
        self.min_regions = min_regions
        self.types = types

    def fit(self, table: pd.DataFrame | LocationQuotients) -> StrongClusters:
        """Flag each region × cluster row of a location-quotient table (or fitted
        :class:`LocationQuotients`) by the percentile rules of the class, into ``flags_``,
        ``skipped_`` and ``flagged_types_``. Returns ``self``."""
        table = _lq_table(table, "StrongClusters.fit")
        whole_number("min_regions", self.min_regions, least=1)
        types = (self.types,) if isinstance(self.types, str) else self.types
        unknown = [] if types is None else sorted(set(map(str, types)) - set(TYPES) - {ALL_TYPES})
        if unknown or (types is not None and not len(types)):
            raise ValueError(f"types must be some of {', '.join(TYPES)} or None (all), got {self.types!r}")
        has_est = table["establishments"].notna().any()
        flagged_types = set(table["type"]) if types is None else set(types)
        if set(table["type"]) == {ALL_TYPES}:
            flagged_types = {ALL_TYPES}
        eligible = table["type"].isin(flagged_types)
        emp, est, lq = table["employment"], table["establishments"], table["lq"]
        active = table[eligible & (emp > 0)].groupby("cluster", sort=False)
        regions = active.size().reindex(table.loc[eligible, "cluster"].unique(), fill_value=0)
        decided = eligible & table["cluster"].map(regions >= self.min_regions).fillna(False).astype(
            bool
        )

        def percentile(column: str, q: float) -> pd.Series:
            # pandas' quantile interpolates linearly (R type 7) and skips missing values
            return table["cluster"].map(active[column].quantile(q))

        big = (emp > 0) & (emp > percentile("employment", 0.25))
        if has_est:
            big &= est > percentile("establishments", 0.25)
        rules = {
            "strong": (lq >= percentile("lq", 0.75)) & (lq >= 1) & big,
            "strong10": (lq >= percentile("lq", 0.90)) & (lq >= 1) & big,
            "significant": (lq > percentile("lq", 0.50)) & big,
            "qualifying": (lq > percentile("lq", 0.25)) & big,
        }
        decided &= emp.notna()
        if has_est:
            decided &= ~(est.isna() & (emp > 0))
        flags = pd.DataFrame(
            {flag: np.where(decided, value.to_numpy(), None) for flag, value in rules.items()},
            index=table.index,
        )
        few = regions[regions < self.min_regions]
        skipped = [{"cluster": c, "regions_with_employment": int(n)} for c, n in few.items()]
        self.flags_ = flags
        self.skipped_ = pd.DataFrame(skipped, columns=["cluster", "regions_with_employment"])
        self.flagged_types_ = sorted(flagged_types)
        return self

    def summary(self) -> dict:
        """Counts of each flag, clusters flagged and clusters skipped for too few regions."""
        decided = self.flags_.notna().all(axis=1)
        return {
            "rows_decided": int(decided.sum()),
            **{flag: int((self.flags_[flag] == True).sum()) for flag in FLAGS},  # noqa: E712
            "clusters_skipped": len(self.skipped_),
            "min_regions": self.min_regions,
        }


class ClusterStars(Estimator):
    """European Cluster Observatory stars: size, specialisation and focus.

    A region × cluster row (with employment) earns one star for each of:

    * size: its employment is in the top ``top_share`` of the regions of that cluster
      category (value ≥ the (1 − top_share) percentile, type 7);
    * specialisation: ``LQ ≥ lq_min`` (2 by default);
    * focus: the cluster's share of the region's total employment is in the top
      ``top_share`` of all region × cluster rows.

    Attributes ``stars_`` (DataFrame aligned with the table: ``size_star``,
    ``specialisation_star``, ``focus_star``, ``stars``).
    """

    def __init__(self, *, top_share: float = 0.10, lq_min: float = 2.0):
        self.top_share = top_share
        self.lq_min = lq_min

    def fit(self, table: pd.DataFrame | LocationQuotients) -> ClusterStars:
        """Award the size, specialisation and focus stars to each row of a location-quotient table
        (or fitted :class:`LocationQuotients`), into ``stars_``. Returns ``self``."""
        table = _lq_table(table, "ClusterStars.fit")
        if real_number("top_share", self.top_share, low=0, high=1, above_low=True) == 1:
            raise ValueError(f"top_share must lie in (0, 1), not {self.top_share}")
        real_number("lq_min", self.lq_min)
        q = 1 - self.top_share
        active = table["employment"] > 0
        size_cut = (
            table[active].groupby("cluster")["employment"].quantile(q, interpolation="linear")
        )
        size_star = active & (table["employment"] >= table["cluster"].map(size_cut))
        region_total = table.groupby("region")["employment"].transform("sum")
        with np.errstate(divide="ignore", invalid="ignore"):
            focus = table["employment"] / region_total.where(region_total > 0)
        focus_cut = float(np.nanquantile(focus[active], q)) if active.any() else np.inf
        stars = pd.DataFrame(
            {
                "size_star": size_star,
                "specialisation_star": active & (table["lq"] >= self.lq_min),
                "focus_star": active & (focus >= focus_cut),
            },
            index=table.index,
        )
        stars["stars"] = stars.sum(axis=1).astype(int)
        self.stars_ = stars
        return self


#: The columns of :func:`registry_employment`'s rows, to fit :class:`LocationQuotients` with.
REGISTRY_COLUMNS = Columns(region="region", cluster="sector", type=None, employment="employment",
                           establishments="establishments", cluster_name=None, region_name=None)  # fmt: skip
#: The kinds :func:`registry_employment` counts by default: the firms.
FIRM_KIND_NAMES = ("sme", "large_firm", "company")
#: What the registry's specialisation counts: the firms' employees, or the firms themselves.
REGISTRY_MEASURES = ("employment", "establishments")


def registry_employment(frames, *, measure: str = "employment", region_prefix: int | None = None,
                        kinds=FIRM_KIND_NAMES) -> tuple[pd.DataFrame, InputReport]:  # fmt: skip
    """Region × sector rows of the registry's firms, for :class:`LocationQuotients` with
    ``columns=REGISTRY_COLUMNS``; returns ``(rows, report)``.

    Each row: ``region`` (the region code, or its first ``region_prefix`` characters: 4 =
    NUTS-2), ``sector`` (the division of the firm's first sector code, as diagnosis peers
    are grouped), ``employment`` (the sum of the firms' employees; with
    ``measure="establishments"`` the number of firms, for registries without employee
    counts, such as CORDIS), ``establishments`` (firms) and ``synthetic_share`` (the share of
    the row's employment drawn by the attribute model, flagged in ``synthetic_fields``).
    Firms without a region or a sector code, and with ``measure="employment"`` those without
    an employee count, are left out and counted in ``report`` (never dropped silently); a
    registry with no firm left raises :class:`ClusterInputError` saying why.
    """
    from innoweave.registry.frames import require_frames
    from innoweave.registry.kinds import check_kinds, primary_sector

    require_frames(frames, "registry_employment")
    if measure not in REGISTRY_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(REGISTRY_MEASURES)}, not {measure!r}")
    if region_prefix is not None:
        whole_number("region_prefix", region_prefix, least=1)
    kinds = check_kinds(kinds) or FIRM_KIND_NAMES
    orgs = frames.organisations
    firms = orgs[orgs["kind"].isin(kinds)]
    what = f"registry firms ({', '.join(kinds)})"
    if firms.empty:
        raise ClusterInputError(f"{what}: the registry has none")
    region = firms["region_code"].astype(object).where(firms["region_code"].notna(), "").astype(str).str.strip()
    if region_prefix is not None:
        region = region.str[:region_prefix]
    sector = firms["sector_codes"].map(primary_sector)
    employees = pd.to_numeric(firms["employees"], errors="coerce")
    drawn = firms["synthetic_fields"].map(lambda f: "employees" in f if isinstance(f, (list, tuple)) else False)
    report = InputReport()
    ids = firms["external_id"]
    usable = pd.Series(True, index=firms.index)
    for problem, missing, note in (
        ("firms_without_region", region == "", "left out: no region code"),
        ("firms_without_sector", sector == "unknown", "left out: no sector code"),
        ("firms_without_employees", employees.isna() if measure == "employment" else pd.Series(False, index=firms.index),
         "left out: no employee count (measure='establishments' counts firms instead)"),
    ):  # fmt: skip
        missing = missing & usable
        report.add(problem, int(missing.sum()), ids[missing].tolist(),
                   note=f"{int(missing.sum())} of {len(firms)} firms {note}" if missing.any() else None)  # fmt: skip
        usable &= ~missing
    if not usable.any():
        reasons = "; ".join(report.notes)
        raise ClusterInputError(f"{what}: no firm has a region, a sector code and the measure {measure!r} ({reasons})")
    table = pd.DataFrame({
        "region": region[usable], "sector": sector[usable], "establishments": 1.0,
        "employment": employees[usable] if measure == "employment" else 1.0,
    })  # fmt: skip
    table["drawn"] = table["employment"].where(drawn[usable], 0.0)
    rows = table.groupby(["region", "sector"], as_index=False)[["employment", "establishments", "drawn"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["synthetic_share"] = (rows.pop("drawn") / rows["employment"]).where(rows["employment"] > 0, 0.0)
    return rows, report


def _lq_table(table, who: str) -> pd.DataFrame:
    """The LQ table of a fitted :class:`LocationQuotients`, or a table given as such."""
    if isinstance(table, LocationQuotients):
        if not hasattr(table, "table_"):
            raise RuntimeError("call LocationQuotients.fit() first")
        return table.table_
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{who} takes a fitted LocationQuotients or its table_, not {type(table).__name__}")
    return table


def specialisation_table(
    lq: LocationQuotients, flags: StrongClusters, stars: ClusterStars
) -> pd.DataFrame:
    """The LQ table with the flags and stars side by side (the CLI's ``lq`` output)."""
    return pd.concat([lq.table_, flags.flags_, stars.stars_], axis=1)
