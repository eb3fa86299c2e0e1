"""Registry commands: ``db``, ``import``, ``export``, ``template``, ``synth``, ``orgs``."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from innoweave.cli.common import (
    JsonOpt,
    UrlOpt,
    err,
    fail,
    print_json,
    progress_bar,
    unknown_organisation,
    warn,
)
from innoweave.registry.db import (
    RegistryUnavailable,
    make_engine,
    registry_state,
    stats,
    unavailable,
    upgrade,
)
from innoweave.registry.models import Cluster, Organisation

db_app = typer.Typer(help="Create, migrate and inspect the registry database.", no_args_is_help=True)
import_app = typer.Typer(help="Import organisations and collaborations.", no_args_is_help=True)
orgs_app = typer.Typer(help="List, show and search organisations.", no_args_is_help=True)



def register(app: typer.Typer) -> None:
    """Attach the registry's ``db``, ``import`` and ``orgs`` command groups to the main ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    app.add_typer(orgs_app, name="orgs")


def registry_engine(url: str | None):
    """The engine for ``url`` (default: the setting); a malformed URL stops with exit 2."""
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError

    try:
        return make_engine(url)
    except ValidationError as exc:
        raise fail(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    except (ValueError, ArgumentError) as exc:
        raise fail(str(exc)) from None


def open_registry(url: str | None, *, create: bool = False, announce: bool = True):
    """The registry engine; with ``create`` the schema is brought to the newest revision.

    Without ``create`` a registry that does not exist or has no schema stops with exit 2,
    and no empty SQLite file is left behind. With it, a registry made here is announced on
    stderr ("created a new registry at …") unless ``announce`` is false. A file that is not
    an SQLite database or a server that cannot be reached stops with exit 2 too."""
    engine = registry_engine(url)
    where = engine.url.render_as_string(hide_password=True)
    state = registry_status(engine)
    if create:
        with registry_errors(engine):
            upgrade(engine)
        if state != "ready" and announce:
            err.print(f"created a new registry at {where}", highlight=False, soft_wrap=True)
    elif state == "missing":
        raise fail(f"there is no registry at {where}: run `innoweave db init` (or `make demo`)")
    elif state == "empty":
        raise fail(f"the registry at {where} is not initialised: run `innoweave db init`")
    return engine


def registry_status(engine) -> str:
    """:func:`~innoweave.registry.db.registry_state` (missing, empty, ready); a database that
    cannot be opened stops with exit 2."""
    try:
        return registry_state(engine)
    except RegistryUnavailable as exc:
        raise fail(str(exc)) from None


@contextmanager
def registry_errors(engine, *, writing: bool = True):
    """Turn a database error (not a database, unreachable, locked …) into one line and exit 2.
    Writes are single transactions, so "nothing written" holds."""
    try:
        yield
    except DBAPIError as exc:
        suffix = "; nothing written" if writing else ""
        raise fail(f"{unavailable(engine, exc)}{suffix}") from None


@db_app.command("init")
def db_init(database_url: UrlOpt = None) -> None:
    """Create the registry schema (idempotent)."""
    engine = open_registry(database_url, create=True, announce=False)
    err.print(f"registry ready at {engine.url.render_as_string(hide_password=True)}")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Revision id (default: head, the newest).")] = "head",
    database_url: UrlOpt = None,
) -> None:
    """Migrate the schema to REVISION (default: the newest)."""
    from alembic.util.exc import CommandError

    engine = registry_engine(database_url)
    where = engine.url.render_as_string(hide_password=True)
    state = registry_status(engine)
    try:
        with registry_errors(engine):
            upgrade(engine, revision)
    except CommandError as exc:
        raise fail(f"cannot upgrade the registry at {where} to revision {revision!r}: {exc} "
                   "(give head, the newest, or a revision id such as 0001)") from None
    if state != "ready":
        err.print(f"created a new registry at {where}", highlight=False, soft_wrap=True)
    err.print(f"schema at revision {revision}")


@db_app.command("stats")
def db_stats(
    json_out: JsonOpt = False,
    modes: Annotated[
        bool, typer.Option("--modes", help="Also count collaborating pairs by derived mode.")
    ] = False,
    database_url: UrlOpt = None,
) -> None:
    """Counts of organisations, projects, participations, by kind and SMEs by growth stage."""
    engine = open_registry(database_url)
    result = stats(engine)  # by_stage counts SMEs; stages on other kinds apart
    if result["stages_not_on_smes"]:
        others = ", ".join(f"{n:,} {kind}" for kind, n in result["stages_not_on_smes"].items())
        warn(
            f"growth stages are for SMEs, but {others} organisation(s) carry one: not counted "
            "by stage (`innoweave complete` removes stages it drew for them earlier)"
        )
    if modes:
        from innoweave.registry.collaborations import collaboration_pairs, mode_counts
        from innoweave.registry.frames import load_frames

        pairs = collaboration_pairs(load_frames(engine))
        result["collaborating_pairs"] = len(pairs)
        result["pairs_by_mode"] = mode_counts(pairs)
    if json_out:
        print_json(result)
        return
    table = Table(title="Registry")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in ("organisations", "projects", "participations", "clusters", "programmes"):
        table.add_row(key, f"{result[key]:,}")
    for kind, n in result["by_kind"].items():
        table.add_row(f"  kind: {kind}", f"{n:,}")
    for stage, n in result["by_stage"].items():
        table.add_row(f"  SME stage: {stage}", f"{n:,}")
    for kind, n in result["stages_not_on_smes"].items():
        table.add_row(f"  stage on a {kind} (not an SME)", f"{n:,}")
    for mode, n in result.get("pairs_by_mode", {}).items():
        table.add_row(f"  pairs in mode: {mode}", f"{n:,}")
    err.print(table)


SHOWN_PROBLEMS = 20


def show_problems(errors: list, warnings: list[str]) -> None:
    """Warnings, then the first :data:`SHOWN_PROBLEMS` row problems, one line each (stderr)."""
    for warning in warnings:
        warn(warning)
    for error in errors[:SHOWN_PROBLEMS]:
        err.print(str(error), highlight=False, markup=False, soft_wrap=True)
    if len(errors) > SHOWN_PROBLEMS:
        err.print(f"… and {len(errors) - SHOWN_PROBLEMS} more (--json lists all)")


@import_app.command("cordis")
def import_cordis(
    folder: Annotated[Path, typer.Argument(help="CORDIS folder (gzip or bulk CSV layout).")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the valid rows; leave out the invalid "
                           "ones (and the participations of left-out projects and organisations).")
    ] = False,  # fmt: skip
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Import a CORDIS export; importing twice changes nothing (upsert by PIC).

    Rows are checked as `import file` checks them (dates, end not before start, amounts,
    ids, text lengths); if any row is invalid nothing is written (exit 2) unless
    --skip-invalid is given."""
    from innoweave.registry.cordis import CordisFormatError, read_cordis_checked
    from innoweave.registry.writer import write_frames

    start = time.perf_counter()
    try:
        read = read_cordis_checked(folder)
    except CordisFormatError as exc:
        raise fail(str(exc)) from None
    frames = read.frames
    report = {"source": str(folder), "errors": [str(e) for e in read.errors],
              "warnings": read.warnings, "rejected_rows": read.rejected}  # fmt: skip
    show_problems(read.errors, read.warnings)
    if read.errors and not skip_invalid:
        if json_out:
            print_json(report | {"written": None})
        rows = sum(read.rejected.values())
        raise fail(f"{len(read.errors)} problem(s) in {rows} row(s) of {folder}; nothing written "
                   "(fix them, or --skip-invalid to write the valid rows)")  # fmt: skip
    engine = open_registry(database_url, create=True)
    totals = frames.counts()
    with progress_bar(quiet=json_out) as progress:
        tasks = {name: progress.add_task(f"writing {name}", total=n) for name, n in totals.items()}
        tasks["organisation"] = tasks.pop("organisations")
        tasks["project"] = tasks.pop("projects")
        tasks["participation"] = tasks.pop("participations")

        def advance(table: str, n: int) -> None:
            if table in tasks:
                progress.advance(tasks[table], n)

        with registry_errors(engine):
            written = write_frames(engine, frames, progress=advance, rows_checked=True)
    result = report | {"written": written, "seconds": round(time.perf_counter() - start, 2)}
    if json_out:
        print_json(result)
    else:
        err.print(f"imported {written['organisations']:,} organisations, {written['projects']:,} "
                  f"projects, {written['participations']:,} participations in {result['seconds']} s")
        if read.errors:
            left_out = ", ".join(f"{n:,} of {file}" for file, n in read.rejected.items())
            err.print(f"{len(read.errors)} problem(s): rows left out: {left_out}", highlight=False)


def _org_dicts(session: Session, orgs: list[Organisation]) -> list[dict]:
    """Each organisation's columns, plus ``cluster``: the external id of its cluster (the
    id a user imports and sees; ``cluster_id`` is the database's own number)."""
    ids = {o.cluster_id for o in orgs if o.cluster_id is not None}
    clusters = dict(session.execute(
        select(Cluster.id, Cluster.external_id).where(Cluster.id.in_(ids))).all()) if ids else {}
    return [{c.name: getattr(o, c.name) for c in Organisation.__table__.columns}
            | {"cluster": clusters.get(o.cluster_id)} for o in orgs]


@orgs_app.command("list")
def orgs_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    region: Annotated[str | None, typer.Option(help="Region code prefix, e.g. DE21.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """List organisations, optionally by kind and region."""
    from innoweave.registry.kinds import parse_kind

    query = select(Organisation).order_by(Organisation.id).limit(limit)
    if kind:
        try:
            query = query.where(Organisation.kind == parse_kind(kind).value)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if region:
        query = query.where(Organisation.region_code.startswith(region))
    _show_orgs(open_registry(database_url), query, json_out)


@orgs_app.command("search")
def orgs_search(
    text: Annotated[str, typer.Argument(help="Part of a name, short name, city, keyword or capability.")],
    limit: Annotated[int, typer.Option(min=1)] = 20,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Search organisations by name, short name, city, keywords or capabilities
    (case-insensitive; % and _ match themselves)."""
    from innoweave.registry.search import organisation_search

    engine = open_registry(database_url)
    query = organisation_search(engine.dialect.name, text).limit(limit)
    _show_orgs(engine, query, json_out)


def _show_orgs(engine, query, json_out: bool) -> None:
    """The organisations of ``query`` (a page: its limit); ``count`` is every match."""
    with Session(engine) as s:
        orgs = s.scalars(query).all()
        rows = _org_dicts(s, orgs)
        count = s.scalar(select(func.count()).select_from(query.limit(None).order_by(None).subquery()))
    if json_out:
        print_json({"data": rows, "count": count})
        return
    if count > len(rows):
        err.print(f"showing {len(rows):,} of {count:,} organisations (--limit for more)")
    table = Table()
    for col in ("id", "external_id", "name", "kind", "region_code", "city"):
        # ids are shown whole (they are what `orgs show` and `diagnose sme` take); the
        # name and the city wrap where the terminal is narrow
        whole = col in ("id", "external_id")
        width = max([len(col)] + [len(str(r[col] or "")) for r in rows]) if whole else None
        table.add_column(col, no_wrap=whole, min_width=width)
    for r in rows:
        table.add_row(*(str(r[c] or "") for c in ("id", "external_id", "name", "kind", "region_code", "city")))
    err.print(table)


def find_org(session: Session, ref: str) -> Organisation:
    """An organisation by database id, external id (``cordis:…``), bare CORDIS PIC or exact
    name (case aside; refused when several organisations bear it)."""
    ref = ref.strip()
    org = None
    if ref.isdigit():
        org = session.get(Organisation, int(ref))
    if org is None:
        org = session.scalar(select(Organisation).where(Organisation.external_id == ref))
    if org is None:
        org = session.scalar(select(Organisation).where(Organisation.external_id == f"cordis:{ref}"))
    if org is None:
        from innoweave.registry.search import organisation_named

        named = session.scalars(organisation_named(session.get_bind().dialect.name, ref).limit(50)).all()
        if len(named) != 1:
            raise unknown_organisation(ref, [o.external_id for o in named])
        org = named[0]
    return org


@orgs_app.command("show")
def orgs_show(
    ref: Annotated[str, typer.Argument(help="Id, external id, CORDIS PIC or exact name.")],
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Show one organisation with its projects."""
    engine = open_registry(database_url)
    with Session(engine) as s:
        org = find_org(s, ref)
        (data,) = _org_dicts(s, [org])
        data["projects"] = [
            {"external_id": p.project.external_id, "acronym": p.project.acronym,
             "title": p.project.title, "role": p.role,
             "start_date": p.project.start_date}  # fmt: skip
            for p in org.participations
        ]
    if json_out:
        print_json(data)
        return
    table = Table(show_header=False, title=data["name"])
    for key, value in data.items():
        if key != "projects" and value not in (None, [], {}):
            synthetic = " (synthetic)" if key in (data.get("synthetic_fields") or []) else ""
            table.add_row(key, f"{value}{synthetic}")
    table.add_row("projects", str(len(data["projects"])))
    err.print(table)
