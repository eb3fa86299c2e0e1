"""The registry commands as a user runs them: exit codes, JSON on stdout, messages on stderr."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from innoweave.cli import app

ORGS_CSV = "external_id,name,kind,city\no:1,Acme GmbH,sme,München\no:2,Uni,university,Dresden\n"
GZ_FILES = {
    "organisations": "organisationID,name,shortName,SME,activityType,city,postCode,nutsCode,geolocation\n"
    "1,Acme,AC,true,PRC,Berlin,10115,DE300,\"52.5,13.4\"\n2,Uni,,,HES,Dresden,01067,DED21,\n",
    "projects": "projectID,acronym,programme,fundingScheme,status,startDate,endDate,ecMaxContribution,title\n"
    "10,P,Horizon Europe,HORIZON-RIA,SIGNED,2024-01-01,2025-01-01,1000,Title\n",
    "participations": "projectID,organisationID,role,ecContribution,netEcContribution\n"
    "10,1,coordinator,500,500\n10,2,participant,500,500\n",
}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``innoweave`` in a fresh folder on a fresh SQLite registry."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INNOWEAVE_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def said(result) -> str:
    """stderr with Rich's line wrapping undone."""
    return " ".join(result.stderr.split())


@pytest.fixture
def small_cordis(tmp_path):
    folder = tmp_path / "cordis"
    folder.mkdir()
    for name, text in GZ_FILES.items():
        with gzip.open(folder / f"{name}.csv.gz", "wt", encoding="utf-8") as fh:
            fh.write(text)
    return folder


def test_db_init_and_stats_json(cli):
    assert "registry ready" in said(cli("db", "init"))
    stats = json.loads(cli("db", "stats", "--json").stdout)
    assert {"organisations", "projects", "participations", "by_kind"} <= set(stats)
    assert stats["organisations"] == 0 and stats["by_kind"] == {}
    cli("db", "upgrade")


def test_stats_before_init_is_bad_input(cli, tmp_path):
    result = cli("db", "stats", code=2)
    assert "there is no registry at sqlite:///" in said(result)
    assert "run `innoweave db init`" in said(result)
    assert not (tmp_path / "registry.db").exists()  # a read-only command creates no file
    (tmp_path / "registry.db").touch()
    result = cli("db", "stats", code=2)
    assert "not initialised: run `innoweave db init`" in said(result)


@pytest.mark.parametrize("url", ["notaurl", "mysql://u@h/db", "sqlite:relative.db"])
def test_a_malformed_database_url_is_bad_input(cli, url, monkeypatch):
    result = cli("orgs", "list", "--database-url", url, code=2)
    assert f"must be an sqlite:///PATH or postgresql://USER@HOST:PORT/DB URL, got {url!r}" in said(result)
    monkeypatch.setenv("INNOWEAVE_DATABASE_URL", url)
    result = cli("db", "stats", code=2)
    assert "INNOWEAVE_DATABASE_URL" in said(result) and repr(url) in said(result)


def test_import_cordis_and_orgs_commands(cli, small_cordis):
    result = json.loads(cli("import", "cordis", small_cordis, "--json").stdout)
    assert result["written"]["organisations"] == 2 and result["written"]["participations"] == 2
    stats = json.loads(cli("db", "stats", "--json").stdout)
    assert stats["by_kind"] == {"sme": 1, "university": 1}
    shown = json.loads(cli("orgs", "show", "1", "--json").stdout)  # a bare PIC
    assert shown["external_id"] == "cordis:1" and shown["projects"][0]["role"] == "coordinator"
    found = json.loads(cli("orgs", "search", "acm", "--json").stdout)
    assert found["count"] == 1
    listed = json.loads(cli("orgs", "list", "--kind", "university", "--json").stdout)
    assert [o["name"] for o in listed["data"]] == ["Uni"]
    assert "unknown kind 'firm'" in said(cli("orgs", "list", "--kind", "firm", code=2))


def test_orgs_show_unknown_id(cli):
    cli("db", "init")
    result = cli("orgs", "show", "cordis:0", code=2)
    assert "unknown organisation 'cordis:0'" in said(result)


def test_import_cordis_bad_folder(cli, tmp_path, small_cordis):
    assert "not a folder" in said(cli("import", "cordis", tmp_path / "absent", code=2))
    (small_cordis / "projects.csv.gz").write_bytes(b"not gzip")
    assert "cannot be read as CSV" in said(cli("import", "cordis", small_cordis, code=2))


def test_template_import_export_cycle(cli, tmp_path):
    cli("template", "orgs", "--format", "xlsx", "-o", "orgs.xlsx")
    cli("template", "all", "--format", "csv", "-o", "tpl")
    cli("import", "file", "tpl", "--dry-run")
    assert "not initialised" in said(cli("db", "stats", code=2))  # a dry run writes nothing
    report = json.loads(cli("import", "file", "orgs.xlsx", "--json").stdout)
    assert report["written"] == {"organisations": 1, "clusters": 1}
    (tmp_path / "orgs.csv").write_text(ORGS_CSV, encoding="utf-8")
    cli("import", "file", "orgs.csv")
    out = json.loads(cli("export", "--format", "json", "-o", "all.json", "--json").stdout)
    assert out["rows"]["orgs"] == 3
    data = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert {o["external_id"] for o in data["orgs"]} == {"crm:acme-gmbh", "o:1", "o:2"}
    cli("export", "-f", "csv", "-o", "exported")
    assert (tmp_path / "exported" / "participations.csv").exists()
    assert "unknown format 'pdf'" in said(cli("export", "-f", "pdf", "-o", "x", code=2))
    assert "unknown entity 'firms'" in said(cli("template", "firms", "-o", "x.csv", code=2))


def test_import_file_errors_exit_2_and_write_nothing(cli, tmp_path):
    (tmp_path / "orgs.csv").write_text(ORGS_CSV + "o:3,Bad,spaceship,Köln\n", encoding="utf-8")
    result = cli("import", "file", "orgs.csv", code=2)
    assert "orgs.csv, row 4, column kind: unknown value 'spaceship'" in said(result)
    assert "nothing written" in said(result)
    cli("db", "init")
    assert json.loads(cli("db", "stats", "--json").stdout)["organisations"] == 0

    result = cli("import", "file", "orgs.csv", "--skip-invalid", "--rejects-dir", "rejects")
    assert "1 invalid row(s) skipped" in said(result)
    assert (tmp_path / "rejects" / "orgs.rejects.csv").exists()
    assert json.loads(cli("db", "stats", "--json").stdout)["organisations"] == 2


def test_import_file_unreadable(cli, tmp_path):
    (tmp_path / "orgs.csv").write_text('external_id,name,kind\no:1,"open,sme\n', encoding="utf-8")
    assert "malformed CSV" in said(cli("import", "file", "orgs.csv", code=2))
    (tmp_path / "orgs.csv").write_bytes("external_id,name,kind\n1,é,sme\n".encode("latin-1"))
    result = cli("import", "file", "orgs.csv", "--encoding", "utf-8", code=2)
    assert "cannot be decoded as utf-8" in said(result)
