"""Schema migrations on both back-ends: ``upgrade`` is idempotent and ends at the head revision."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from innoweave.registry.db import (
    MIGRATIONS,
    _alembic_config,
    current_revision,
    is_initialised,
    make_engine,
    stats,
    upgrade,
)

TABLES = {"cluster", "organisation", "project", "participation", "programme", "alembic_version"}


def test_upgrade_is_idempotent_and_reaches_head(db_url):
    engine = make_engine(db_url)
    assert not is_initialised(engine) and current_revision(engine) is None
    upgrade(engine)
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    assert current_revision(engine) == head
    upgrade(engine)
    assert current_revision(engine) == head
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_ship_inside_the_package():
    assert (MIGRATIONS / "env.py").exists()
    assert list((MIGRATIONS / "versions").glob("0001_*.py"))


def test_empty_registry_stats(registry_engine):
    assert stats(registry_engine) == {
        "organisations": 0, "projects": 0, "participations": 0, "clusters": 0, "programmes": 0,
        "by_kind": {}, "by_stage": {}, "stages_not_on_smes": {}, "by_source": {},
    }  # fmt: skip


def test_postgres_url_without_driver_uses_psycopg():
    engine = make_engine("postgresql://user@127.0.0.1:1/x")
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def test_registry_state_creates_nothing_and_names_what_is_wrong(tmp_path):
    import pytest

    from innoweave.registry.db import RegistryUnavailable, registry_state

    missing = tmp_path / "new.db"
    assert registry_state(make_engine(f"sqlite:///{missing}")) == "missing"
    assert not missing.exists()  # asking does not create the file
    (tmp_path / "a.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(RegistryUnavailable, match=r"a.csv is not an SQLite database"):
        registry_state(make_engine(f"sqlite:///{tmp_path / 'a.csv'}"))
    with pytest.raises(RegistryUnavailable, match="is a folder, not an SQLite database file"):
        registry_state(make_engine(f"sqlite:///{tmp_path}"))
    (tmp_path / "empty.db").touch()
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert registry_state(engine) == "empty"
    upgrade(engine)
    assert registry_state(engine) == "ready"
