"""Writing frames into the registry database: one transaction, upsert by external id.

All importers end here. Rows are inserted or updated in bulk (``INSERT … ON CONFLICT``),
so importing the same source twice leaves the registry as it was, and any error rolls the
whole file back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd
from sqlalchemy import Engine, Table, select
from sqlalchemy.engine import Connection

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.models import Cluster, Organisation, Participation, Project

CHUNK = 2000
Progress = Callable[[str, int], None]


def _clean(value):
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    return value


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict]:
    cols = [c for c in columns if c in df.columns]
    out = []
    for row in df[cols].itertuples(index=False, name=None):
        out.append({c: _clean(v) for c, v in zip(cols, row, strict=True)})
    return out


def _upsert(conn: Connection, table: Table, rows: list[dict], progress: Progress | None) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    keep = {"id", "external_id", "imported_at"}
    update_cols = {c: stmt.excluded[c] for c in rows[0] if c not in keep}
    stmt = stmt.on_conflict_do_update(index_elements=["external_id"], set_=update_cols)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        conn.execute(stmt, chunk)
        if progress:
            progress(table.name, len(chunk))


def _id_map(conn: Connection, table: Table) -> dict[str, int]:
    return dict(conn.execute(select(table.c.external_id, table.c.id)).all())


def write_frames(
    engine: Engine, frames: RegistryFrames, *, progress: Progress | None = None
) -> dict[str, int]:
    """Upsert every frame in one transaction; returns the number of rows written per table."""
    now = dt.datetime.now(dt.UTC)
    cluster_tbl, org_tbl = Cluster.__table__, Organisation.__table__
    proj_tbl, part_tbl = Project.__table__, Participation.__table__
    with engine.begin() as conn:
        clusters = _records(frames.clusters, [c.name for c in cluster_tbl.columns])
        org_cluster_names = {
            c for c in frames.organisations["cluster"].dropna().unique() if c
        } - {c["external_id"] for c in clusters}
        existing = _id_map(conn, cluster_tbl)
        for name in sorted(org_cluster_names - set(existing)):
            clusters.append({"external_id": name, "name": name, "source": "derived"})
        for row in clusters:
            row.setdefault("imported_at", now)
            row["imported_at"] = now
        _upsert(conn, cluster_tbl, clusters, progress)
        cluster_ids = _id_map(conn, cluster_tbl)

        org_cols = [c.name for c in org_tbl.columns if c.name not in ("id", "cluster_id")]
        orgs = _records(frames.organisations, org_cols + ["cluster"])
        for row in orgs:
            cluster = row.pop("cluster", None)
            row["cluster_id"] = cluster_ids.get(cluster) if cluster else None
            row["imported_at"] = now
        _upsert(conn, org_tbl, orgs, progress)

        proj_cols = [c.name for c in proj_tbl.columns if c.name != "id"]
        projects = _records(frames.projects, proj_cols)
        for row in projects:
            row["imported_at"] = now
        _upsert(conn, proj_tbl, projects, progress)

        if len(frames.participations):
            org_ids, proj_ids = _id_map(conn, org_tbl), _id_map(conn, proj_tbl)
            part_cols = [c.name for c in part_tbl.columns if c.name != "id"]
            parts = _records(
                frames.participations, part_cols + ["org_external_id", "project_external_id"]
            )
            for row in parts:
                row["organisation_id"] = org_ids[row.pop("org_external_id")]
                row["project_id"] = proj_ids[row.pop("project_external_id")]
                row["imported_at"] = now
        else:
            parts = []
        _upsert(conn, part_tbl, parts, progress)
    return {
        "clusters": len(clusters),
        "organisations": len(orgs),
        "projects": len(projects),
        "participations": len(parts),
    }
