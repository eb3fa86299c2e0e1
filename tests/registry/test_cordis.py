"""CORDIS import on both back-ends: every record arrives, and a second import changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from innoweave.registry.cordis import cordis_kind, read_cordis
from innoweave.registry.db import stats
from innoweave.registry.kinds import OrgKind
from innoweave.registry.models import Organisation
from innoweave.registry.writer import write_frames


def test_kind_rules():
    assert cordis_kind("PRC", True) is OrgKind.SME
    assert cordis_kind("PRC", False) is OrgKind.LARGE_FIRM
    assert cordis_kind("PRC", None) is OrgKind.COMPANY
    assert cordis_kind("HES", True) is OrgKind.UNIVERSITY
    assert cordis_kind("REC", None) is OrgKind.RESEARCH_INSTITUTE
    assert cordis_kind("PUB", False) is OrgKind.GOVERNMENT
    assert cordis_kind("OTH", False) is OrgKind.INTERMEDIARY
    assert cordis_kind(None, None) is OrgKind.OTHER


def test_import_cordis_twice(registry_engine, cordis_dir):
    frames = read_cordis(cordis_dir)
    write_frames(registry_engine, frames)
    first = stats(registry_engine)
    assert (first["organisations"], first["projects"], first["participations"]) == (6542, 18030, 36985)
    assert first["by_kind"]["sme"] == 2486
    write_frames(registry_engine, read_cordis(cordis_dir))
    second = stats(registry_engine)
    assert second == first
    from sqlalchemy.orm import Session

    with Session(registry_engine) as s:
        fraunhofer = s.scalar(select(Organisation).where(Organisation.external_id == "cordis:999984059"))
        assert fraunhofer.kind == "research_institute"
        assert fraunhofer.source == "cordis" and fraunhofer.source_row > 1
        # a non-firm's SME flag is kept as an attribute
        flagged = s.scalar(select(Organisation).where(Organisation.kind == "research_institute",
                                                      Organisation.sme_flag.is_(True)))
        assert flagged is not None
