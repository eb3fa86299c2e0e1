"""Export → import restores the registry exactly, on SQLite and PostgreSQL, in every format."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook

from innoweave.registry.export import export_registry, write_template
from innoweave.registry.files import import_files
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.validation import ENTITIES
from innoweave.registry.writer import write_frames

OUTPUTS = {"csv": "export", "xlsx": "export.xlsx", "json": "export.json"}


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_round_trip_into_fresh_registry(
    registry_engine, other_engine, sample_frames, content, tmp_path, fmt
):
    write_frames(registry_engine, sample_frames)
    before = content(registry_engine)
    assert len(before["clusters"]) == 3  # two given, one derived from an organisation
    out = tmp_path / OUTPUTS[fmt]
    counts = export_registry(registry_engine, out, format=fmt)
    assert counts == {"clusters": 3, "orgs": 6, "projects": 2, "programmes": 2, "participations": 4}

    result = import_files([out], engine=other_engine)
    assert result.errors == [] and result.warnings == []
    assert content(other_engine) == before


def test_export_imported_into_same_registry_changes_nothing(
    registry_engine, sample_frames, digest, tmp_path
):
    write_frames(registry_engine, sample_frames)
    before = digest(registry_engine)
    export_registry(registry_engine, tmp_path / "x.json", format="json")
    import_files([tmp_path / "x.json"], engine=registry_engine)
    assert digest(registry_engine) == before


def test_cordis_subset_round_trip(registry_engine, other_engine, cordis_frames, content, tmp_path):
    full = cordis_frames
    projects = full.projects.iloc[::120]
    parts = full.participations[full.participations["project_external_id"].isin(projects["external_id"])]
    orgs = full.organisations[full.organisations["external_id"].isin(parts["org_external_id"])]
    write_frames(registry_engine, RegistryFrames(orgs, projects, parts))
    export_registry(registry_engine, tmp_path / "cordis", format="csv")
    import_files([tmp_path / "cordis"], engine=other_engine)
    assert content(other_engine) == content(registry_engine)
    assert len(content(other_engine)["participations"]) == len(parts) > 100


def test_xlsx_export_documents_columns(tmp_path):
    write_template(["orgs"], tmp_path / "orgs.xlsx", format="xlsx")
    book = load_workbook(tmp_path / "orgs.xlsx")
    assert book.sheetnames == ["orgs", "orgs (columns)"]
    header, example = [[c.value for c in row] for row in book["orgs"].iter_rows()]
    assert header == ENTITIES["orgs"].column_names
    assert example[:3] == ["crm:acme-gmbh", "Acme Präzisionsteile GmbH", "sme"]
    docs = {row[0]: row for row in book["orgs (columns)"].iter_rows(values_only=True)}
    assert docs["column"] == ("column", "type", "required", "allowed values / rule", "description", "example")
    assert docs["kind"][1:3] == ("choice", "yes")
    assert "sme" in docs["kind"][3] and "research_institute" in docs["kind"][3]
    assert docs["latitude"][3] == ">= -90; <= 90"
    assert len(docs) == len(ENTITIES["orgs"].columns) + 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_templates_import_cleanly(tmp_path, fmt):
    out = tmp_path / ("tpl" if fmt == "csv" else f"tpl.{fmt}")
    write_template(list(ENTITIES), out, format=fmt)
    result = import_files([out], engine=None, dry_run=True)
    assert result.errors == []
    assert result.valid == {name: 1 for name in ENTITIES}


def test_json_template_documents_columns(tmp_path):
    write_template(["projects"], tmp_path / "p.json", format="json")
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert data["_columns"]["projects"]["start_date"]["type"] == "date"
    assert data["projects"][0]["start_date"] == "2024-01-01"


def test_single_csv_template(tmp_path):
    (path,) = write_template(["participations"], tmp_path / "parts.csv", format="csv")
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith(
        "external_id,project_external_id,org_external_id,role"
    )


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_synthetic_ecosystem_round_trip(registry_engine, other_engine, content, tmp_path, fmt):
    """What `synth` writes exports and imports back unchanged (rows numbered from 1)."""
    from innoweave.registry.synth import synthesize

    eco = synthesize(n_smes=20, seed=1)
    for name in ("organisations", "projects", "participations", "clusters"):
        assert getattr(eco, name)["source_row"].min() == 1, name
    write_frames(registry_engine, eco)
    out = tmp_path / OUTPUTS[fmt]
    export_registry(registry_engine, out, format=fmt)
    result = import_files([out], engine=other_engine)
    assert result.errors == [] and result.warnings == []
    assert content(other_engine) == content(registry_engine)


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_completed_registry_round_trip(registry_engine, other_engine, content, tmp_path, fmt):
    """What `complete` draws (founding years included) exports and imports back unchanged."""
    import pandas as pd

    from innoweave.registry.attributes import AttributeModel
    from innoweave.registry.frames import load_frames

    kinds = ["university"] * 150 + ["research_institute"] * 50 + ["sme"] * 50 + ["large_firm"] * 50
    orgs = pd.DataFrame({"external_id": [f"o:{i}" for i in range(len(kinds))],
                         "name": [f"Org {i}" for i in range(len(kinds))], "kind": kinds,
                         "source": "survey"})  # fmt: skip
    write_frames(registry_engine, RegistryFrames(orgs))
    completed = AttributeModel().complete(load_frames(registry_engine), seed=0)
    assert (completed.organisations["founding_year"] == 1800).any()  # the clipped tail is there
    write_frames(registry_engine, RegistryFrames(organisations=completed.organisations))
    out = tmp_path / OUTPUTS[fmt]
    export_registry(registry_engine, out, format=fmt)
    result = import_files([out], engine=other_engine)
    assert result.errors == []
    assert content(other_engine) == content(registry_engine)


def test_xlsx_refuses_a_text_longer_than_a_cell_and_leaves_no_file(registry_engine, tmp_path):
    import pandas as pd

    orgs = pd.DataFrame([{"external_id": "o:1", "name": "Long", "kind": "sme", "capabilities": "x" * 40_000,
                          "source": "survey"}])
    write_frames(registry_engine, RegistryFrames(orgs))
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.xlsx").write_bytes(b"an earlier export")
    with pytest.raises(ValueError, match=r"orgs, row 2, column capabilities: a text of 40,000 characters"):
        export_registry(registry_engine, out / "old.xlsx", format="xlsx")
    assert (out / "old.xlsx").read_bytes() == b"an earlier export"  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["old.xlsx"]  # no temporary left
    export_registry(registry_engine, out / "csv", format="csv")  # csv holds it
    assert import_files([out / "csv"], engine=None, dry_run=True).errors == []
