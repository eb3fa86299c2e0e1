"""Writing frames into the registry database: one transaction, upsert by external id.

All importers end here. Rows are inserted or updated in bulk (``INSERT … ON CONFLICT``),
so importing the same source twice leaves the registry as it was, and any error rolls the
whole file back. On PostgreSQL the rows travel by ``COPY`` into a temporary table and are
upserted from there in one statement per table, about twice as fast as row-by-row
parameter sets; SQLite takes plain tuples in one ``executemany`` per chunk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Date, DateTime, Engine, Integer, Table, select
from sqlalchemy.engine import Connection

from innoweave.registry.frames import DICT_COLUMNS, LIST_COLUMNS, RegistryFrames, require_frames
from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project

CHUNK = 5000
Progress = Callable[[str, int], None]
_PLAIN = (str, int, float, bool, list, dict, dt.date)
_FAST = frozenset({str, int, bool, list, dict, dt.date, type(None)})


def _clean(value):
    """A value the database driver accepts: None for every kind of missing, Python scalars."""
    if isinstance(value, _PLAIN) and value is not pd.NaT:
        if isinstance(value, float):
            return None if value != value else float(value)  # NaN; numpy floats to float
        if isinstance(value, pd.Timestamp):
            return value.date()
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _column(series: pd.Series, integer: bool) -> list:
    """One column as driver-ready Python values; the per-cell work is the import's hot loop.

    Integer columns come back from pandas as floats wherever a value is missing; they are
    turned back into ints, which PostgreSQL requires.
    """
    if series.dtype.kind in "fiub":
        values = series.astype(object).where(series.notna(), None).tolist()
    else:
        values = [v if type(v) in _FAST else _clean(v) for v in series.astype(object).tolist()]
    if integer:
        values = [int(v) if isinstance(v, float) else v for v in values]
    return values


def _records(df: pd.DataFrame, columns: Iterable[str], table: Table) -> list[dict]:
    """Rows as dicts, converted column by column; a missing list or dict becomes empty."""
    cols = [c for c in columns if c in df.columns]
    integers = {c.name for c in table.columns if isinstance(c.type, Integer)}
    values = [_column(df[c], c in integers) for c in cols]
    for i, c in enumerate(cols):
        if c in LIST_COLUMNS or c in DICT_COLUMNS:
            empty = list if c in LIST_COLUMNS else dict
            values[i] = [empty() if v is None else v for v in values[i]]
    return [dict(zip(cols, row, strict=True)) for row in zip(*values, strict=True)]


def _check_unique(table: Table, rows: list[dict], key: str) -> None:
    seen: set = set()
    for row in rows:
        if row[key] in seen:
            raise ValueError(f"{table.name}: {key} {row[key]!r} appears twice in one write")
        seen.add(row[key])


def _upsert(
    conn: Connection, table: Table, rows: list[dict], progress: Progress | None, key: str
) -> None:
    if not rows:
        return
    _check_unique(table, rows, key)
    if conn.dialect.name == "postgresql":
        _copy_upsert(conn, table, rows, key)
        if progress:
            progress(table.name, len(rows))
        return
    _sqlite_upsert(conn, table, rows, key, progress)


def _sqlite_upsert(
    conn: Connection, table: Table, rows: list[dict], key: str, progress: Progress | None
) -> None:
    """SQLite: ``executemany`` of plain tuples, values stored as SQLAlchemy's types store them
    (JSON text, ISO dates), which skips the per-row parameter processing that dominated."""
    cols = list(rows[0])
    converters = {}
    for c in cols:
        kind = table.c[c].type
        if isinstance(kind, JSON):
            converters[c] = json.dumps
        elif isinstance(kind, DateTime):
            converters[c] = lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(kind, Date):
            converters[c] = lambda v: (v.date() if isinstance(v, dt.datetime) else v).isoformat()
    columns = []
    for c in cols:
        values = [row[c] for row in rows]
        if c in converters:
            convert = converters[c]
            values = [None if v is None else convert(v) for v in values]
        columns.append(values)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in ("id", key, "imported_at"))
    col_list, marks = ", ".join(f'"{c}"' for c in cols), ", ".join("?" for _ in cols)
    sql = (
        f'INSERT INTO "{table.name}" ({col_list}) VALUES ({marks}) '
        f'ON CONFLICT ("{key}") DO UPDATE SET {updates}'
    )
    tuples = list(zip(*columns, strict=True))
    for start in range(0, len(tuples), CHUNK):
        chunk = tuples[start : start + CHUNK]
        conn.exec_driver_sql(sql, chunk)
        if progress:
            progress(table.name, len(chunk))


def _copy_upsert(conn: Connection, table: Table, rows: list[dict], key: str) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT … ON CONFLICT."""
    cols = list(rows[0])
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    stage = f"_stage_{table.name}"
    col_list = ", ".join(f'"{c}"' for c in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c not in ("id", key, "imported_at"))
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(
            f'CREATE TEMP TABLE "{stage}" AS '
            f'SELECT {col_list} FROM "{table.name}" WITH NO DATA'
        )
        with cur.copy(f'COPY "{stage}" ({col_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(row[c]) if c in json_cols and row[c] is not None else row[c]
                     for c in cols]  # fmt: skip
                )
        cur.execute(
            f'INSERT INTO "{table.name}" ({col_list}) SELECT {col_list} FROM "{stage}" '
            f'ON CONFLICT ("{key}") DO UPDATE SET {updates}'
        )
        cur.execute(f'DROP TABLE "{stage}"')


def _id_map(conn: Connection, table: Table) -> dict[str, int]:
    return dict(conn.execute(select(table.c.external_id, table.c.id)).all())


#: Tables keyed by external id, in the order they are deleted (dependants first).
DELETE_ORDER = ("participation", "project", "organisation", "cluster")
_FRAME_OF = {"participation": "participations", "project": "projects",
             "organisation": "organisations", "cluster": "clusters"}  # fmt: skip


def _tables() -> dict[str, Table]:
    return {m.__tablename__: m.__table__ for m in (Participation, Project, Organisation, Cluster)}


def leftovers(engine: Engine, frames: RegistryFrames, source: str) -> dict[str, list[str]]:
    """External ids of the registry's records from ``source`` that writing ``frames`` would
    not rewrite, per table (all tables keyed by external id, possibly empty lists)."""
    out = {}
    with engine.connect() as conn:
        for name, table in _tables().items():
            stored = set(conn.scalars(select(table.c.external_id).where(table.c.source == source)))
            out[name] = sorted(stored - set(getattr(frames, _FRAME_OF[name])["external_id"]))
    return {name: out[name] for name in DELETE_ORDER}


def references_to(engine: Engine, doomed: dict[str, list[str]]) -> list[str]:
    """Records outside ``doomed`` that refer to a record in it (a participation of a doomed
    organisation or project, an organisation in a doomed cluster), described one per line."""
    tables = _tables()
    part, org, proj, cluster = (tables[n] for n in ("participation", "organisation", "project", "cluster"))
    gone = {name: set(ids) for name, ids in doomed.items()}
    found: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(select(part.c.external_id, org.c.external_id, proj.c.external_id)
                            .join(org, part.c.organisation_id == org.c.id)
                            .join(proj, part.c.project_id == proj.c.id))  # fmt: skip
        for part_id, org_id, proj_id in rows:
            if part_id in gone.get("participation", ()):
                continue
            if org_id in gone.get("organisation", ()):
                found.append(f"participation {part_id!r} names organisation {org_id!r}")
            elif proj_id in gone.get("project", ()):
                found.append(f"participation {part_id!r} names project {proj_id!r}")
        rows = conn.execute(select(org.c.external_id, cluster.c.external_id)
                            .join(cluster, org.c.cluster_id == cluster.c.id))  # fmt: skip
        for org_id, cluster_id in rows:
            if org_id not in gone.get("organisation", ()) and cluster_id in gone.get("cluster", ()):
                found.append(f"organisation {org_id!r} is in cluster {cluster_id!r}")
    return found


def _delete(conn: Connection, doomed: dict[str, Iterable[str]]) -> dict[str, int]:
    tables, deleted = _tables(), {}
    for name in DELETE_ORDER:
        ids = list(doomed.get(name, ()))
        for start in range(0, len(ids), 500):
            conn.execute(tables[name].delete().where(tables[name].c.external_id.in_(ids[start:start + 500])))
        deleted[name] = len(ids)
    return deleted


EXAMPLES = 5  # rows named in a message


def _bad_cells(values: pd.Series, column) -> dict[str, pd.Series]:
    """Masks of the cells of one column that break its rule, by what is wrong."""
    from innoweave.registry import validation as v

    present = values.notna().to_numpy() if values.dtype != object else \
        np.array([x is not None and not (isinstance(x, float) and x != x) for x in values])
    problems: dict[str, np.ndarray] = {}
    if column.required:
        empty = ~present | values.astype(object).map(lambda x: isinstance(x, str) and not x.strip()).to_numpy()
        problems["missing (required)"] = empty
    if column.type in (v.NUMBER, v.INTEGER):
        number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        flags = values.astype(object).map(lambda x: isinstance(x, (bool, np.bool_))).to_numpy()
        problems["not a number"] = present & (np.isnan(number) | flags)
        with np.errstate(invalid="ignore"):
            problems["infinite"] = np.isinf(number)
            if column.type == v.INTEGER:
                problems["not a whole number"] = np.isfinite(number) & (number != np.round(number))
            if column.minimum is not None:
                problems[f"below {column.minimum:g}"] = number < column.minimum
            if column.maximum is not None:
                problems[f"above {column.maximum:g}"] = number > column.maximum
    elif column.type == v.CHOICE:
        problems[f"not one of {', '.join(column.allowed)}"] = present & ~values.astype(object).isin(column.allowed).to_numpy()
    elif column.type == v.BOOLEAN:
        problems["not true or false"] = present & ~values.astype(object).map(
            lambda x: isinstance(x, (bool, np.bool_))).to_numpy()
    elif column.type == v.LIST:
        problems["not a list"] = present & ~values.astype(object).map(
            lambda x: isinstance(x, (list, tuple, np.ndarray))).to_numpy()
    elif column.type == v.OBJECT:
        problems["not a dict"] = present & ~values.astype(object).map(lambda x: isinstance(x, dict)).to_numpy()
    return problems


def check_frames(frames: RegistryFrames) -> None:
    """Refuse a value the registry's import would refuse (the rules of
    :mod:`~innoweave.registry.validation`: required columns, numbers, ranges, choices, lists,
    dicts), naming the table, the column, the value and the rows' external ids. Frames built
    by hand reach :func:`write_frames` without the file importer's row checks; SQLite would
    store ``"many"`` in a number column and the analyses read it back as missing."""
    from innoweave.registry.validation import CLUSTERS, ORGS, PARTICIPATIONS, PROGRAMMES, PROJECTS

    for entity in (CLUSTERS, ORGS, PROJECTS, PARTICIPATIONS, PROGRAMMES):
        df = getattr(frames, entity.frame)
        if df.empty:
            continue
        for column in entity.columns:
            if column.name not in df.columns:
                continue
            for what, mask in _bad_cells(df[column.name], column).items():
                if not mask.any():
                    continue
                rows = df.loc[mask]
                keys = rows[entity.key] if entity.key in rows.columns else rows.index.to_series()
                shown = ", ".join(f"{k!r} ({val!r})" for k, val in
                                  zip(keys.head(EXAMPLES), rows[column.name].head(EXAMPLES), strict=True))  # fmt: skip
                raise ValueError(f"{entity.frame}, column {column.name!r}: {int(mask.sum())} value(s) {what}: "
                                 f"{shown}{', ...' if mask.sum() > EXAMPLES else ''}")


def write_frames(
    engine: Engine,
    frames: RegistryFrames,
    *,
    progress: Progress | None = None,
    delete: dict[str, Iterable[str]] | None = None,
    rows_checked: bool = False,
) -> dict[str, int]:
    """Upsert every frame in one transaction; returns the number of rows written per table.

    ``delete`` (table name → external ids, e.g. from :func:`leftovers`) removes those
    records first, in the same transaction.

    Clusters, organisations, projects and participations are keyed by ``external_id``,
    programmes by ``name``. An organisation's ``cluster`` names a cluster's external id; a
    name not in the registry or the frames creates a cluster (``source="derived"``).
    Participations name their project and organisation by external id; both must exist
    after this write, else ``KeyError`` and nothing is written. A value the file import
    would refuse (:func:`check_frames`) raises ``ValueError`` before anything is written;
    the importers, which have checked every row by the same rules as they read it, pass
    ``rows_checked=True`` to skip that repeat (about a third of the CORDIS write's time).
    """
    require_frames(frames, "write_frames")
    if not rows_checked:
        check_frames(frames)
    now = dt.datetime.now(dt.UTC)
    cluster_tbl, org_tbl = Cluster.__table__, Organisation.__table__
    proj_tbl, part_tbl, prog_tbl = Project.__table__, Participation.__table__, Programme.__table__
    with engine.begin() as conn:
        if delete:
            _delete(conn, delete)
        clusters = _records(
            frames.clusters, [c.name for c in cluster_tbl.columns if c.name != "id"], cluster_tbl
        )
        org_cluster_names = {
            c for c in frames.organisations["cluster"].dropna().unique() if c
        } - {c["external_id"] for c in clusters}
        existing = _id_map(conn, cluster_tbl)
        for name in sorted(org_cluster_names - set(existing)):
            clusters.append({"external_id": name, "name": name, "source": "derived",
                             "synthetic_fields": []})  # fmt: skip
        for row in clusters:
            row["imported_at"] = now
        _conform_keys(clusters)
        _upsert(conn, cluster_tbl, clusters, progress, "external_id")
        cluster_ids = _id_map(conn, cluster_tbl)

        org_cols = [c.name for c in org_tbl.columns if c.name not in ("id", "cluster_id")]
        orgs = _records(frames.organisations, org_cols + ["cluster"], org_tbl)
        for row in orgs:
            cluster = row.pop("cluster", None)
            row["cluster_id"] = cluster_ids.get(cluster) if cluster else None
            row["imported_at"] = now
        _upsert(conn, org_tbl, orgs, progress, "external_id")

        proj_cols = [c.name for c in proj_tbl.columns if c.name != "id"]
        projects = _records(frames.projects, proj_cols, proj_tbl)
        for row in projects:
            row["imported_at"] = now
        _upsert(conn, proj_tbl, projects, progress, "external_id")

        parts: list[dict] = []
        if len(frames.participations):
            org_ids, proj_ids = _id_map(conn, org_tbl), _id_map(conn, proj_tbl)
            part_cols = [c.name for c in part_tbl.columns if c.name != "id"]
            parts = _records(
                frames.participations, part_cols + ["org_external_id", "project_external_id"], part_tbl
            )
            for row in parts:
                org, project = row.pop("org_external_id"), row.pop("project_external_id")
                for ref, ids, what in ((org, org_ids, "organisation"), (project, proj_ids, "project")):
                    if ref not in ids:
                        raise KeyError(f"participation {row['external_id']!r} names {what} {ref!r}, which is "
                                       "neither in the registry nor in the frames; nothing written")
                row["organisation_id"] = org_ids[org]
                row["project_id"] = proj_ids[project]
                row["imported_at"] = now
        _upsert(conn, part_tbl, parts, progress, "external_id")

        programmes = _records(
            frames.programmes, [c.name for c in prog_tbl.columns if c.name != "id"], prog_tbl
        )
        for row in programmes:
            row["imported_at"] = now
        _upsert(conn, prog_tbl, programmes, progress, "name")
    return {
        "clusters": len(clusters),
        "organisations": len(orgs),
        "projects": len(projects),
        "participations": len(parts),
        "programmes": len(programmes),
    }


def _conform_keys(rows: list[dict]) -> None:
    """Give every row the union of keys (derived clusters lack the optional columns)."""
    keys = {k for row in rows for k in row}
    for row in rows:
        for k in keys:
            row.setdefault(k, [] if k == "synthetic_fields" else None)
