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
from sqlalchemy.orm import Session, sessionmaker

from innoweave.config import get_settings, normalise_database_url

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
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("organisation")


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
    """Counts of the registry's records, by kind and by stage."""
    from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project

    with Session(engine) as s:
        count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
        by_kind = dict(s.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
        by_stage = dict(
            s.execute(
                select(Organisation.stage, func.count())
                .where(Organisation.stage.is_not(None))
                .group_by(Organisation.stage)
            ).all()
        )
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
            "by_source": dict(sorted(by_source.items())),
        }
