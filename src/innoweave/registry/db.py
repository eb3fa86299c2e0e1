"""Connecting to the registry database and migrating its schema.

The embedded default is an SQLite file in the working directory; PostgreSQL is reached
through the same ``INNOWEAVE_DATABASE_URL`` setting. The schema is owned by Alembic
migrations shipped inside the package, so ``init`` and ``upgrade`` are the same call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from innoweave.config import get_settings, normalise_database_url
from innoweave.registry.search import SQLITE_FOLD, fold

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: the ``INNOWEAVE_DATABASE_URL`` setting)."""
    url = get_settings().database_url if url is None else normalise_database_url(url)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # SQLite's LIKE folds ASCII letters only; searches fold both sides with this
            # (see registry.search) to match any letter in any case, as PostgreSQL does
            dbapi_conn.create_function(SQLITE_FOLD, 1, fold, deterministic=True)

    return engine


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision`` (``init`` is the same operation)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (``None`` for a database never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_initialised(engine: Engine) -> bool:
    """Whether the registry schema exists in the database (it has the ``organisation`` table)."""
    return inspect(engine).has_table("organisation")


def sqlite_file(engine: Engine) -> Path | None:
    """The file of an SQLite registry (None for another back-end or an in-memory database)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    return Path(database)


def registry_exists(engine: Engine) -> bool:
    """False for an SQLite file that is not there (connecting would create it); other
    databases are taken to exist (a server tells when they do not)."""
    path = sqlite_file(engine)
    return path is None or path.exists()


class RegistryUnavailable(ValueError):
    """The database cannot be opened as a registry (not a database, unreachable …)."""


def registry_state(engine: Engine) -> str:
    """``"missing"`` (an SQLite file not there yet), ``"empty"`` (no schema) or ``"ready"``.

    Creates nothing. A file that is not an SQLite database, or a server that cannot be
    reached, raises :class:`RegistryUnavailable` with one line saying so."""
    if not registry_exists(engine):
        return "missing"
    try:
        return "ready" if is_initialised(engine) else "empty"
    except DBAPIError as exc:
        raise unavailable(engine, exc) from None


def unavailable(engine: Engine, exc: Exception) -> RegistryUnavailable:
    """One line for a database error raised while opening or writing the registry."""
    where = engine.url.render_as_string(hide_password=True)
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    detail = detail[0] if detail else type(exc).__name__
    path = sqlite_file(engine)
    if path is not None and "file is not a database" in detail:
        return RegistryUnavailable(f"{path} is not an SQLite database (--database-url {where})")
    if path is not None and path.is_dir():
        return RegistryUnavailable(f"{path} is a folder, not an SQLite database file")
    if path is not None and not path.parent.is_dir():
        return RegistryUnavailable(f"cannot create the registry {path}: there is no folder {path.parent}")
    return RegistryUnavailable(f"cannot use the registry at {where}: {detail}")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error (nothing half-written)."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def stats(engine: Engine) -> dict:
    """Counts of the registry's records, by kind, by source and SMEs by growth stage.

    Stages are an SME attribute: ``by_stage`` counts SMEs (as ``diagnose stages`` does), and
    ``stages_not_on_smes`` counts by kind any other organisation that carries one (imported
    from a file, or drawn by an older attribute model), normally none."""
    from innoweave.registry.kinds import OrgKind
    from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project

    with Session(engine) as s:
        count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
        by_kind = dict(s.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
        by_stage: dict[str, int] = {}
        stages_not_on_smes: dict[str, int] = {}
        staged = s.execute(
            select(Organisation.kind, Organisation.stage, func.count())
            .where(Organisation.stage.is_not(None))
            .group_by(Organisation.kind, Organisation.stage)
        ).all()
        for kind, stage, n in staged:
            if kind == OrgKind.SME.value:
                by_stage[stage] = by_stage.get(stage, 0) + n
            else:
                stages_not_on_smes[kind] = stages_not_on_smes.get(kind, 0) + n
        by_source = dict(
            s.execute(select(Organisation.source, func.count()).group_by(Organisation.source)).all()
        )
        return {
            "organisations": count(Organisation),
            "projects": count(Project),
            "participations": count(Participation),
            "clusters": count(Cluster),
            "programmes": count(Programme),
            "by_kind": dict(sorted(by_kind.items())),
            "by_stage": dict(sorted(by_stage.items())),
            "stages_not_on_smes": dict(sorted(stages_not_on_smes.items())),
            "by_source": dict(sorted(by_source.items())),
        }
