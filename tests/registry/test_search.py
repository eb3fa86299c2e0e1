"""Organisation search on both back-ends: any letter in any case, wildcards as themselves."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.search import organisation_named, organisation_search
from innoweave.registry.writer import write_frames


def _registry(engine) -> None:
    orgs = pd.DataFrame([
        {"external_id": "o:1", "name": "Stadtwerke MÜNCHEN", "kind": "government"},
        {"external_id": "o:2", "name": "Ærø Værft", "kind": "sme", "city": "ÆRØSKØBING"},
        {"external_id": "o:3", "name": "Plain", "kind": "sme", "keywords": ["ÉLECTRONIQUE", "x_y"]},
        {"external_id": "o:4", "name": "Fifty % Tools", "kind": "sme"},
        {"external_id": "o:5", "name": "Ελληνική Εταιρεία", "kind": "sme"},
    ])  # fmt: skip
    empty = pd.DataFrame()
    write_frames(engine, RegistryFrames(orgs.assign(source="test"), empty, empty, empty, empty))


def _search(engine, text: str) -> list[str]:
    with Session(engine) as s:
        return sorted(o.external_id for o in s.scalars(organisation_search(engine.dialect.name, text)))


def test_search_folds_every_letter_on_both_backends(registry_engine):
    _registry(registry_engine)
    assert _search(registry_engine, "münchen") == ["o:1"]  # SQLite's LIKE alone folds ASCII only
    assert _search(registry_engine, "ærøskøbing") == ["o:2"]  # the city
    assert _search(registry_engine, "électronique") == ["o:3"]  # a keyword
    assert _search(registry_engine, "ΕΛΛΗΝΙΚΉ") == ["o:5"]
    assert _search(registry_engine, "stadtwerke") == ["o:1"]


def test_search_takes_wildcards_literally_on_both_backends(registry_engine):
    _registry(registry_engine)
    assert _search(registry_engine, "%") == ["o:4"]
    assert _search(registry_engine, "_") == ["o:3"]
    assert _search(registry_engine, "x%y") == []
    assert _search(registry_engine, "\\") == []


def test_exact_name_in_any_case_on_both_backends(registry_engine):
    """``orgs show`` and ``match recommend`` take an exact name: every letter folded, no
    substring, no wildcard."""
    _registry(registry_engine)

    def named(text: str) -> list[str]:
        with Session(registry_engine) as s:
            return [o.external_id for o in s.scalars(organisation_named(registry_engine.dialect.name, text))]

    assert named("stadtwerke münchen") == ["o:1"]
    assert named("ærø værft") == ["o:2"]
    assert named("ΕΛΛΗΝΙΚΉ ΕΤΑΙΡΕΊΑ") == ["o:5"]
    assert named("stadtwerke") == [] and named("Fifty % Tool_") == [] and named("%") == []
