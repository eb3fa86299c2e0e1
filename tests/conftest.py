"""Test set-up shared by every test module.

Registry tests run against both SQLite and a real PostgreSQL server. The server comes from
Debian's ``postgresql`` package (``make test`` installs it): this set-up creates a cluster
in a temporary folder, starts it on a free loopback port for the session, and stops it at
the end. ``INNOWEAVE_TEST_POSTGRES_URL`` points the tests at an existing server instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from innoweave.config import default_data_dir

DATA_DIR = default_data_dir()
CORDIS_DIR = DATA_DIR / "cordis_de"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server():
    """URL of a PostgreSQL database on loopback, started for this test session."""
    url = os.environ.get("INNOWEAVE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (make test installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="innoweave-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no 'postgres' system user to run the server as")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8"]),  # fmt: skip
        check=True, capture_output=True,
    )
    log = root / "server.log"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o",
                      f"-h 127.0.0.1 -p {port} -k {root} -F", "start"]),  # fmt: skip
        check=True, capture_output=True,
    )
    try:
        base = f"postgresql+psycopg://postgres@127.0.0.1:{port}"
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _fresh_pg_database(server_url: str) -> str:
    import uuid

    from sqlalchemy import create_engine, text

    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server_url}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A fresh, empty registry database URL: SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return _fresh_pg_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def registry_engine(db_url):
    """An engine on a fresh, migrated registry (both back-ends)."""
    from innoweave.registry.db import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def cordis_dir() -> Path:
    """The real CORDIS folder; tests using it skip where ../shared/data is absent."""
    if not (CORDIS_DIR / "organisations.csv.gz").exists():
        pytest.skip(f"real data absent: {CORDIS_DIR} (tests on real data run where shared/ is present)")
    return CORDIS_DIR


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.skip(f"real data absent: {DATA_DIR}")
    return DATA_DIR
