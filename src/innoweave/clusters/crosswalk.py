"""Crosswalks from industry codes to cluster categories, and employment rolled up through them.

Specialisation analyses work on cluster categories, statistics come by industry code. A
:class:`Crosswalk` is a plain table ``code → cluster code, cluster name, type`` read from CSV,
so any classification drops in: the U.S. benchmark definitions (2012 NAICS → Delgado–Porter–
Stern 2016 clusters, ``naics2012_to_cluster_dps2016.csv``), a NACE Rev. 2 or a GB/T 4754
table with the same four columns. :meth:`Crosswalk.aggregate` turns region × industry rows
into the region × cluster rows :class:`~innoweave.clusters.specialisation.LocationQuotients`
reads, and reports — never drops silently — codes the crosswalk does not know and codes it
knows but assigns to no cluster (e.g. government services).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from innoweave.clusters.inputs import (
    EXAMPLES,
    ClusterInputError,
    InputReport,
    deduplicate,
    numeric_column,
    require_columns,
)
from innoweave.clusters.specialisation import cluster_types
from innoweave.config import default_data_dir

USCMP_CROSSWALK = "us_cluster_mapping_2016/naics2012_to_cluster_dps2016.csv"
NO_CLUSTER = {"", "NA", "N/A", "NAN", "NONE"}


def normalise_codes(values: pd.Series) -> pd.Series:
    """Industry codes as trimmed text; ``311111.0`` read as a number becomes ``311111``."""
    text = values.astype("string").str.strip()
    return text.str.replace(r"\.0+$", "", regex=True).astype(object)


class Crosswalk:
    """A mapping of industry codes to cluster categories (code, cluster, name, type).

    Build one with :meth:`from_csv` (column names are options, so a NACE or GB/T 4754 table
    with other headings drops in) or :meth:`uscmp_2016`. A code listed with an empty cluster
    (``NA``) is known but belongs to no cluster; its employment is reported as such. Every
    code with a cluster needs the type ``traded`` or ``local`` (any case); another value raises
    :class:`~innoweave.clusters.inputs.ClusterInputError` naming the file line.
    """

    def __init__(self, table: pd.DataFrame, *, name: str = "crosswalk", type_column: str = "type"):
        require_columns(table, ["code", "cluster", "cluster_name", "type"], name)
        table = table[["code", "cluster", "cluster_name", "type"]].reset_index(drop=True)
        table["code"] = normalise_codes(table["code"])
        cluster = normalise_codes(table["cluster"])
        table["cluster"] = cluster.where(
            ~cluster.astype("string").str.upper().fillna("").isin(NO_CLUSTER), None
        )
        table["type"] = table["type"].astype("string").str.strip().str.lower().astype(object)
        clustered = table["cluster"].notna().to_numpy()
        if clustered.any():  # a code without a cluster needs no type
            cluster_types(
                table.loc[clustered, "type"],
                type_column,
                name,
                np.arange(2, len(table) + 2)[clustered],
            )
        conflicting = table.drop_duplicates().duplicated("code", keep=False)
        if conflicting.any():
            codes = sorted(set(table.loc[conflicting, "code"]))
            raise ClusterInputError(
                f"{name}: {len(codes)} code(s) map to several clusters, e.g. {codes[:5]}"
            )
        self.table = table.drop_duplicates("code").reset_index(drop=True)
        self.name = name

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        code: str = "naics",
        cluster: str = "cluster_code",
        cluster_name: str = "cluster_name",
        type: str = "traded_local",
    ) -> Crosswalk:
        """Read a crosswalk CSV; the keyword arguments name its columns."""
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (
            OSError,
            UnicodeDecodeError,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
        ) as exc:
            raise ClusterInputError(f"{path}: cannot be read as CSV ({exc})") from exc
        require_columns(raw, [code, cluster, cluster_name, type], str(path))
        table = raw.rename(
            columns={code: "code", cluster: "cluster", cluster_name: "cluster_name", type: "type"}
        )
        return cls(table, name=str(path), type_column=type)

    @classmethod
    def uscmp_2016(cls, data_dir: str | Path | None = None) -> Crosswalk:
        """The Delgado–Porter–Stern 2016 definitions (2012 NAICS) from the shared data folder."""
        path = Path(data_dir or default_data_dir()) / USCMP_CROSSWALK
        if not path.exists():
            raise FileNotFoundError(f"U.S. cluster crosswalk not found at {path}")
        return cls.from_csv(path)

    def map(self, codes: pd.Series) -> pd.DataFrame:
        """Cluster, name and type for each code (``None`` where unknown or without cluster)."""
        keyed = self.table.set_index("code")
        normal = normalise_codes(codes)
        return pd.DataFrame(
            {
                "code": normal.to_numpy(),
                "known": normal.isin(keyed.index).to_numpy(),
                "cluster": normal.map(keyed["cluster"]).to_numpy(),
                "cluster_name": normal.map(keyed["cluster_name"]).to_numpy(),
                "type": normal.map(keyed["type"]).to_numpy(),
            },
            index=codes.index,
        )

    def aggregate(
        self,
        df: pd.DataFrame,
        *,
        region: str = "region",
        code: str = "code",
        employment: str = "employment",
        establishments: str | None = "establishments",
        duplicates: str = "error",
        source: str | None = None,
    ) -> tuple[pd.DataFrame, InputReport]:
        """Sum region × industry rows into region × cluster rows.

        Returns the rows (columns ``region, cluster, cluster_name, type, employment,
        establishments``) and a report counting codes absent from the crosswalk and codes
        without a cluster, each with its rows and employment; those rows are not in the sum.
        A cluster's establishments are undecided (NaN) when any of its rows lacks them.
        Repeated region × code rows are handled by ``duplicates`` as in
        :func:`~innoweave.clusters.inputs.deduplicate`. ``source`` (a file name) is named in
        error messages; a table without rows, or a row without a region, raises
        :class:`~innoweave.clusters.inputs.ClusterInputError`.
        """
        what = f"industry employment table {source}" if source else "industry employment table"
        require_columns(df, [region, code, employment], what)
        if df.empty:
            raise ClusterInputError(f"{what}: no rows (only a header)")
        region_text = df[region].astype("string").str.strip()
        no_region = (region_text.isna() | (region_text == "")).to_numpy()
        if no_region.any():
            lines = np.arange(2, len(df) + 2)[no_region][:EXAMPLES]
            raise ClusterInputError(
                f"{what}: column {region!r} is empty in {int(no_region.sum())} row(s) "
                f"(file lines {', '.join(map(str, lines))})"
            )
        report = InputReport()
        emp = numeric_column(df, employment, what, allow_missing=False)
        has_est = establishments is not None and establishments in df.columns
        est = (
            numeric_column(df, establishments, what, allow_missing=True)
            if has_est
            else pd.Series(np.nan, index=df.index)
        )
        if not has_est:
            report.add(
                "no_establishments_column",
                1,
                note="no establishments column: establishments left empty",
            )
        rows = pd.DataFrame(
            {
                "line": np.arange(2, len(df) + 2),
                "region": df[region].to_numpy(),
                "code": normalise_codes(df[code]).to_numpy(),
                "employment": emp.to_numpy(),
                "establishments": est.to_numpy(),
            }
        )
        rows = deduplicate(rows, ["region", "code"], duplicates, report, what=what).reset_index(
            drop=True
        )
        emp, est = rows["employment"], rows["establishments"]
        mapped = self.map(rows["code"])
        for problem, mask, label in (
            (
                "codes_absent_from_crosswalk",
                ~mapped["known"] & mapped["code"].notna(),
                "absent from the crosswalk",
            ),
            (
                "codes_without_cluster",
                mapped["known"] & mapped["cluster"].isna(),
                "assigned to no cluster by the crosswalk",
            ),
        ):
            codes = sorted(set(mapped.loc[mask, "code"].dropna()))
            report.add(
                problem,
                len(codes),
                codes,
                note=f"{len(codes)} code(s) {label} ({int(mask.sum())} row(s), employment {emp[mask].sum():,.0f}) left out of the clusters"
                if codes
                else None,
            )
        missing_code = mapped["code"].isna()
        report.add(
            "rows_without_code",
            int(missing_code.sum()),
            rows.loc[missing_code, "line"].tolist(),
            note=f"{int(missing_code.sum())} row(s) without an industry code left out"
            if missing_code.any()
            else None,
        )
        keep = mapped["cluster"].notna()
        if not keep.any():
            codes = sorted(set(mapped["code"].dropna()))
            if not codes:
                raise ClusterInputError(f"{what}: column {code!r} is empty in every row")
            raise ClusterInputError(
                f"{what}: none of its {len(codes)} industry code(s) maps to a cluster of "
                f"{self.name} (e.g. {', '.join(codes[:EXAMPLES])}): check the code column and "
                "the crosswalk"
            )
        rows = pd.DataFrame(
            {
                "region": rows.loc[keep, "region"].astype("string").str.strip().astype(object),
                "cluster": mapped.loc[keep, "cluster"],
                "cluster_name": mapped.loc[keep, "cluster_name"],
                "type": mapped.loc[keep, "type"],
                "employment": emp[keep],
                "establishments": est[keep],
            }
        )
        grouped = rows.groupby(["region", "cluster"], sort=True)
        out = grouped.agg(
            cluster_name=("cluster_name", "first"),
            type=("type", "first"),
            employment=("employment", "sum"),
        ).reset_index()
        est_missing = grouped["establishments"].apply(lambda s: s.isna().any()).to_numpy()
        out["establishments"] = np.where(
            est_missing, np.nan, grouped["establishments"].sum().to_numpy()
        )
        if has_est:
            missing_rows = int(est[keep].isna().sum())
            report.add(
                "missing_establishments_industry_rows",
                missing_rows,
                note=f"{missing_rows} industry row(s) without establishments: {int(est_missing.sum())} region × cluster total(s) left undecided"
                if missing_rows
                else None,
            )
        return out, report
