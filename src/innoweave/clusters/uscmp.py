"""Reproducing the U.S. Cluster Mapping project's published location quotients and flags.

A check that :mod:`innoweave.clusters.specialisation` implements the project's rules: read a
file of region × cluster rows in the project's layout (``state_cluster_2016.csv`` or the
same columns at any other region level), recompute ``lq_tf`` and the four strong-cluster
flags, and count how many agree with the published values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from innoweave.clusters.inputs import ClusterInputError, InputReport
from innoweave.clusters.specialisation import (
    FLAGS,
    USCMP_COLUMNS,
    LocationQuotients,
    StrongClusters,
    cluster_types,
)

PUBLISHED_LQ = "lq_tf"
TOLERANCE = 1e-6  # relative error for an LQ to count as reproduced
PARTITIONS = ("year_t", "region_type_t")  # computed separately when a file mixes them
PUBLISHED_FLAGS = {flag: f"{flag}_b" for flag in FLAGS}
TEXT_COLUMNS = {
    USCMP_COLUMNS.region: str,
    USCMP_COLUMNS.cluster: str,
    "region_name_t": str,
    "cluster_name_t": str,
}


def read_uscmp(path: str | Path) -> pd.DataFrame:
    """Read a U.S. Cluster Mapping CSV, keeping region codes as text (leading zeros)."""
    try:
        return pd.read_csv(path, dtype=TEXT_COLUMNS)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ClusterInputError(f"{path}: cannot be read as CSV ({exc})") from exc


def with_cluster_type(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``cluster_type`` column, derived from ``traded_b`` where only that exists."""
    if USCMP_COLUMNS.type in df.columns or "traded_b" not in df.columns:
        return df
    traded = _published_flag(df["traded_b"])
    return df.assign(**{USCMP_COLUMNS.type: traded.map({True: "traded", False: "local"})})


def _published_flag(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip().str.upper()
    return text.map({"TRUE": True, "FALSE": False, "1": True, "0": False}).astype(object)


def reproduce_uscmp(
    df: pd.DataFrame, *, min_regions: int = 10, duplicates: str = "error", source: str | None = None
) -> tuple[dict, InputReport]:
    """Recompute LQs and flags of a U.S. Cluster Mapping table and compare with its own.

    Returns the comparison ``{"rows", "lq_within_1e-6", "lq_max_rel_error", "flags":
    {"compared", "strong", "strong10", "significant", "qualifying"}}`` (flag entries count
    matches among the rows compared) and the input report. A ``"notes"`` entry is added when
    clusters were too thinly spread for flags. A file holding several years or region types
    (``year_t``, ``region_type_t``) is compared one year × region type at a time. ``source``
    (a file name) is named in error messages; a table without rows, or with a cluster type
    other than traded / local, raises :class:`ClusterInputError`.
    """
    what = f"U.S. Cluster Mapping table {source}" if source else "U.S. Cluster Mapping table"
    if PUBLISHED_LQ not in df.columns:
        raise ClusterInputError(f"{what}: missing column {PUBLISHED_LQ!r} to compare with")
    if df.empty:
        raise ClusterInputError(f"{what}: no rows (only a header)")
    df = df.reset_index(drop=True)
    lines = np.arange(2, len(df) + 2)
    if USCMP_COLUMNS.type not in df.columns and "traded_b" in df.columns:
        unknown = _published_flag(df["traded_b"]).isna().to_numpy()
        if unknown.any():
            raise ClusterInputError(
                f"{what}: column 'traded_b' (the cluster type, as there is no "
                f"{USCMP_COLUMNS.type!r} column) is neither TRUE nor FALSE in {int(unknown.sum())} "
                f"row(s) (file lines {', '.join(map(str, lines[unknown][:5]))})"
            )
    df = with_cluster_type(df)
    if USCMP_COLUMNS.type in df.columns:
        # checked over the whole file, so the lines named are the file's own
        df[USCMP_COLUMNS.type] = cluster_types(
            df[USCMP_COLUMNS.type], USCMP_COLUMNS.type, what, lines
        )
    keys = [k for k in PARTITIONS if k in df.columns and df[k].nunique(dropna=False) > 1]
    parts = [df] if not keys else [part for _, part in df.groupby(keys, dropna=False, sort=True)]
    result = {"rows": 0, "lq_within_1e-6": 0, "lq_max_rel_error": 0.0}
    flags = {"compared": 0, **{flag: 0 for flag in FLAGS}}
    report, notes = InputReport(), []
    for part in parts:
        part_result, part_report, part_notes = _compare(part, min_regions, duplicates, source)
        result["rows"] += part_result["rows"]
        result["lq_within_1e-6"] += part_result["lq_within_1e-6"]
        result["lq_max_rel_error"] = max(
            result["lq_max_rel_error"], part_result["lq_max_rel_error"]
        )
        for key in flags:
            flags[key] += part_result["flags"][key]
        report.merge(part_report)
        label = ", ".join(f"{k} {part[k].iloc[0]}" for k in keys)
        notes.extend(f"{label}: {note}" if label else note for note in part_notes)
    result["flags"] = flags
    if notes:
        result["notes"] = sorted(set(notes), key=notes.index)
    return result, report


def _compare(
    df: pd.DataFrame, min_regions: int, duplicates: str, file: str | None = None
) -> tuple[dict, InputReport, list[str]]:
    """Compare one year × region type."""
    lq = LocationQuotients(columns=USCMP_COLUMNS, duplicates=duplicates, source=file).fit(df)
    flags = StrongClusters(min_regions=min_regions).fit(lq)
    table = lq.table_
    source = df.iloc[table["line"].to_numpy() - 2].reset_index(drop=True)
    published = pd.to_numeric(source[PUBLISHED_LQ], errors="coerce").to_numpy(dtype=float)
    computed = table["lq"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(
            published != 0,
            np.abs(computed - published) / np.abs(published),
            np.abs(computed - published),
        )
    both_missing = np.isnan(published) & np.isnan(computed)
    error = np.where(both_missing, 0.0, error)
    error = np.where(np.isnan(error), np.inf, error)
    result = {
        "rows": len(table),
        "lq_within_1e-6": int((error < TOLERANCE).sum()),
        "lq_max_rel_error": float(error.max()) if len(error) else 0.0,
    }
    flag_counts = {"compared": 0, **{flag: 0 for flag in FLAGS}}
    present = [flag for flag in FLAGS if PUBLISHED_FLAGS[flag] in source.columns]
    if present:
        pub = {flag: _published_flag(source[PUBLISHED_FLAGS[flag]]).to_numpy() for flag in present}
        ours = flags.flags_.loc[table.index, present]
        compared = ours.notna().all(axis=1).to_numpy() & np.all(
            [pd.notna(pub[f]) for f in present], axis=0
        )
        flag_counts["compared"] = int(compared.sum())
        for flag in present:
            flag_counts[flag] = int((ours[flag].to_numpy()[compared] == pub[flag][compared]).sum())
    result["flags"] = flag_counts
    notes = []
    if len(flags.skipped_):
        notes.append(
            f"flags not computed for {len(flags.skipped_)} cluster(s) with fewer than {min_regions} regions "
            f"with employment (fewest: {int(flags.skipped_['regions_with_employment'].min())})"
        )
    if not present:
        notes.append("no published flag columns (*_b) to compare with")
    return result, lq.report_, notes
