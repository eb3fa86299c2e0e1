"""Helpers for the registry tests: a small registry that uses every column, content digests
(to check that a re-import or a round trip changes nothing) and a second database on the
same back-end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pandas as pd
import pytest
from sqlalchemy import create_engine, select, text

from innoweave.registry.frames import RegistryFrames, load_frames

KEYS = {
    "clusters": "external_id",
    "organisations": "external_id",
    "projects": "external_id",
    "participations": "external_id",
    "programmes": "name",
}
VOLATILE = {"id", "imported_at", "cluster_id", "organisation_id", "project_id"}


def _plain(value):
    if isinstance(value, (list, dict, str)):
        return value
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # an integer column with gaps comes back as floats
    return value


def registry_content(engine) -> dict[str, list[dict]]:
    """Every record, ids and import times left out, references by external id, sorted."""
    frames = load_frames(engine)
    content = {}
    for name, key in KEYS.items():
        df = getattr(frames, name)
        cols = [c for c in df.columns if c not in VOLATILE]
        rows = [{c: _plain(v) for c, v in zip(cols, row, strict=True)}
                for row in df[cols].itertuples(index=False, name=None)]  # fmt: skip
        content[name] = sorted(rows, key=lambda r: str(r[key]))
    return content


def content_digest(engine) -> str:
    """A checksum of every value of every row but the import time (ids included: an upsert
    keeps them). Cheap enough to run on the whole CORDIS registry."""
    from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project

    sha = hashlib.sha256()
    with engine.connect() as conn:
        for model in (Cluster, Organisation, Project, Participation, Programme):
            cols = [c for c in model.__table__.columns if c.name != "imported_at"]
            for row in conn.execute(select(*cols).order_by(model.id)):
                sha.update(json.dumps(list(row), sort_keys=True, default=str).encode())
    return sha.hexdigest()


def make_sample_frames() -> RegistryFrames:
    """A small registry that exercises every column type and the awkward values."""
    clusters = pd.DataFrame([
        {"external_id": "cl:1", "name": "Munich mechatronics", "region_code": "DE212",
         "sector": "C28", "description": "Machine builders", "source": "test"},
        {"external_id": "cl:2", "name": "深圳电子", "source": "test", "synthetic_fields": ["sector"]},
    ])  # fmt: skip
    orgs = pd.DataFrame([
        {"external_id": "t:1", "name": "Acme Präzisionsteile GmbH", "short_name": "ACME",
         "kind": "sme", "sme_flag": True, "country": "DE", "region_code": "DE212",
         "region_level": "NUTS-3", "city": "München", "postcode": "01067",
         "latitude": 51.027902850000004, "longitude": 11.575, "sector_codes": ["C25.6", "C28.4"],
         "founding_year": 1998, "employees": 42.0, "revenue": 6_500_000.5, "rd_spending": 0.1,
         "rd_staff": 4.0, "patents": 3, "trademarks": 0,
         "capabilities": "turning; welding\r\nsecond line\rthird\x0bfourth\nliteral _x000D_ and _x",
         "offers": "=SUM(A1)", "needs": "  padded  ", "keywords": ["a;b", " spaced ", "[x]"],
         "stage": "maturity", "cluster": "cl:1",
         "attributes": {"awareness": 0.25, "barriers": {"credit": True}, "list": [1, 2]},
         "external_ids": {"vat": "DE1"}, "source": "survey", "source_row": 7,
         "synthetic_fields": ["employees", "revenue"]},
        {"external_id": "t:2", "name": "深圳市精密机械有限公司", "kind": "large_firm",
         "sme_flag": False, "country": "CN", "region_code": "440300", "region_level": "prefecture",
         "latitude": 22.54, "longitude": 114.06, "sector_codes": ["C34"], "cluster": "cl:2",
         "source": "survey", "source_row": 8},
        {"external_id": "t:3", "name": "Universität Beispiel", "kind": "university",
         "sme_flag": True, "source": "survey", "source_row": 9},
        {"external_id": "t:4", "name": "Institute", "kind": "research_institute",
         "latitude": -33.9, "longitude": -151.2, "source": "survey", "source_row": 10,
         "cluster": "cl:new"},
        {"external_id": "t:5", "name": "Chamber", "kind": "intermediary", "source": "survey",
         "source_row": 11},
        {"external_id": "t:6", "name": "Ministry", "kind": "government", "source": "survey",
         "source_row": 12},
    ])  # fmt: skip
    projects = pd.DataFrame([
        {"external_id": "p:1", "acronym": "LASH", "title": " Laser-welded housings ",
         "description": "Joint work", "programme": "Horizon Europe",
         "funding_scheme": "HORIZON-RIA", "status": "SIGNED", "start_date": dt.date(2024, 1, 1),
         "end_date": dt.date(2026, 12, 31), "budget": 1_200_000.25, "public_funding": 900_000.0,
         "source": "survey", "source_row": 2},
        {"external_id": "p:2", "title": "Open", "source": "survey", "source_row": 3},
    ])  # fmt: skip
    parts = pd.DataFrame([
        {"external_id": "x:1", "project_external_id": "p:1", "org_external_id": "t:1",
         "role": "coordinator", "public_contribution": 450_000.5,
         "net_public_contribution": 430_000.0, "source": "survey", "source_row": 2},
        {"external_id": "x:2", "project_external_id": "p:1", "org_external_id": "t:3",
         "role": "participant", "source": "survey", "source_row": 3},
        {"external_id": "x:3", "project_external_id": "p:1", "org_external_id": "t:5",
         "role": "partner", "source": "survey", "source_row": 4},
        {"external_id": "x:4", "project_external_id": "p:2", "org_external_id": "t:2",
         "source": "survey", "source_row": 5},
    ])  # fmt: skip
    programmes = pd.DataFrame([
        {"name": "Innovation voucher", "instrument": "innovation_voucher", "resource": "capital",
         "budget": 5_000_000.0, "eligibility": {"kinds": ["sme"], "max_employees": 249},
         "description": "Up to 15,000 EUR", "source": "survey", "source_row": 2},
        {"name": "Talent", "resource": "talent", "source": "survey", "source_row": 3},
    ])  # fmt: skip
    return RegistryFrames(orgs, projects, parts, clusters, programmes)


@pytest.fixture
def sample_frames() -> RegistryFrames:
    return make_sample_frames()


def second_database(url: str, tmp_path) -> str:
    """A fresh, empty database on the same back-end as ``url``."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'second-{uuid.uuid4().hex[:6]}.db'}"
    server = url.rsplit("/", 1)[0]
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


@pytest.fixture
def content():
    """``content(engine)``: the registry's records without ids and import times."""
    return registry_content


@pytest.fixture
def digest():
    """``digest(engine)``: a checksum of :func:`registry_content`."""
    return content_digest


@pytest.fixture
def other_engine(db_url, tmp_path):
    """An engine on a second, fresh (not migrated) database beside ``db_url``'s."""
    from innoweave.registry.db import make_engine

    engine = make_engine(second_database(db_url, tmp_path))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def cordis_frames(cordis_dir) -> RegistryFrames:
    """The real CORDIS folder read once per session (tests must not modify it)."""
    from innoweave.registry.cordis import read_cordis

    return read_cordis(cordis_dir)
