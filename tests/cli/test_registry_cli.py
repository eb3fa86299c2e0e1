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
    page = json.loads(cli("orgs", "list", "--limit", "1", "--json").stdout)
    assert len(page["data"]) == 1 and page["count"] == 2  # count: every match, not the page
    assert "showing 1 of 2 organisations" in said(cli("orgs", "list", "--limit", "1"))
    assert "unknown kind 'firm'" in said(cli("orgs", "list", "--kind", "firm", code=2))


def test_orgs_show_unknown_id(cli):
    cli("db", "init")
    result = cli("orgs", "show", "cordis:0", code=2)
    assert "unknown organisation 'cordis:0'" in said(result)
    assert "an exact name (`innoweave orgs search TEXT` finds one)" in said(result)


def test_orgs_show_by_exact_name_and_a_shared_name_refused(cli, tmp_path):
    (tmp_path / "orgs.csv").write_text(ORGS_CSV + "o:3,Twin AG,sme,Köln\no:4,TWIN AG,sme,Bonn\n", encoding="utf-8")
    cli("import", "file", "orgs.csv")
    assert json.loads(cli("orgs", "show", " acme gmbh ", "--json").stdout)["external_id"] == "o:1"
    assert json.loads(cli("orgs", "show", "Uni", "--json").stdout)["external_id"] == "o:2"
    shared = said(cli("orgs", "show", "twin ag", code=2))
    assert "2 organisations are named 'twin ag' (o:3, o:4): give the external id" in shared
    assert "unknown organisation 'Acme'" in said(cli("orgs", "show", "Acme", code=2))  # a name, not a prefix


def test_import_cordis_bad_folder(cli, tmp_path, small_cordis):
    assert "not a folder" in said(cli("import", "cordis", tmp_path / "absent", code=2))
    (small_cordis / "projects.csv.gz").write_bytes(b"not gzip")
    assert "cannot be read as CSV" in said(cli("import", "cordis", small_cordis, code=2))


def test_template_import_export_cycle(cli, tmp_path):
    cli("template", "orgs", "--format", "xlsx", "-o", "orgs.xlsx")
    cli("template", "all", "--format", "csv", "-o", "tpl")
    cli("import", "file", "tpl", "--dry-run")
    assert "there is no registry" in said(cli("db", "stats", code=2))  # a dry run writes nothing
    assert not (tmp_path / "registry.db").exists()  # not even an empty file
    result = cli("import", "file", "orgs.xlsx", "--json")
    assert "created a new registry at sqlite:///" in said(result)
    report = json.loads(result.stdout)
    assert report["written"] == {"organisations": 1, "clusters": 1}
    shown = json.loads(cli("orgs", "show", "crm:acme-gmbh", "--json").stdout)
    listed = json.loads(cli("orgs", "list", "--json").stdout)["data"][0]
    assert shown["cluster"] == listed["cluster"] == "cluster:munich-mechatronics"  # not a row number
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


# --- round trips of what synth and complete write ---------------------------------------------


def test_synth_and_complete_export_and_import_again(cli, tmp_path):
    cli("synth", "--smes", 20, "--seed", 1)
    cli("complete", "--seed", 0)
    cli("export", "-o", "vx")  # a folder of CSV files
    cli("export", "-o", "vx.json")  # the format from the suffix
    for i, out in enumerate(("vx", "vx.json", "vx/orgs.csv")):
        url = f"sqlite:///{tmp_path / f'fresh{i}.db'}"
        result = cli("import", "file", out, "--database-url", url)
        assert "created a new registry at" in said(result)
    first = json.loads(cli("db", "stats", "--json").stdout)
    again = json.loads(cli("db", "stats", "--json", "--database-url", f"sqlite:///{tmp_path / 'fresh0.db'}").stdout)
    assert again == first

    def content(name: str, url: str | None = None) -> dict[str, list[dict]]:
        """Every record of a registry, as its JSON export holds it, in a fixed order."""
        cli("export", "-o", name, *(["--database-url", url] if url else []))
        data = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        return {table: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True)) for table, rows in data.items()}

    original = content("original.json")
    assert all(original[t] for t in ("clusters", "orgs", "projects", "participations"))
    # every record and value comes back, from the folder of CSV files and from the JSON file
    for i in (0, 1):
        assert content(f"back{i}.json", f"sqlite:///{tmp_path / f'fresh{i}.db'}") == original, i
    # one CSV file of organisations brings those alone
    orgs_only = content("back2.json", f"sqlite:///{tmp_path / 'fresh2.db'}")
    assert orgs_only["orgs"] == original["orgs"]
    assert not orgs_only["projects"] and not orgs_only["participations"]


# --- synth on a registry that holds another run ------------------------------------------------


def test_synth_refuses_to_mix_ecosystems_unless_replace(cli, tmp_path):
    assert "created a new registry at" in said(cli("synth", "--smes", 30, "--seed", 1))
    before = json.loads(cli("db", "stats", "--json").stdout)
    cli("synth", "--smes", 30, "--seed", 1)  # the same run again changes nothing
    assert json.loads(cli("db", "stats", "--json").stdout) == before
    result = cli("synth", "--smes", 20, "--seed", 1, code=2)
    assert "already holds a synthetic ecosystem from another run" in said(result)
    assert "give --replace" in said(result) and "nothing written" in said(result)
    assert json.loads(cli("db", "stats", "--json").stdout) == before
    out = json.loads(cli("synth", "--smes", 20, "--seed", 1, "--replace", "--json").stdout)
    assert out["deleted"]["organisation"] > 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    cli("synth", "--smes", 20, "--seed", 1, "--database-url", fresh)
    replaced = json.loads(cli("db", "stats", "--json").stdout)
    assert replaced == json.loads(cli("db", "stats", "--json", "--database-url", fresh).stdout)
    assert replaced["by_kind"]["sme"] == 20


def test_synth_replace_keeps_records_that_others_refer_to(cli, tmp_path):
    cli("synth", "--smes", 30, "--seed", 1)
    (tmp_path / "projects.csv").write_text("external_id,title\ncrm:p:1,Ours\n", encoding="utf-8")
    (tmp_path / "participations.csv").write_text(
        "project_external_id,org_external_id\ncrm:p:1,synthetic:sme:000025\n", encoding="utf-8")
    cli("import", "file", "projects.csv", "participations.csv")
    before = json.loads(cli("db", "stats", "--json").stdout)
    result = cli("synth", "--smes", 20, "--seed", 1, "--replace", code=2)
    assert "refer to" in said(result) and "'synthetic:sme:000025'" in said(result)
    assert json.loads(cli("db", "stats", "--json").stdout) == before


# --- bad input is one line and exit 2, never a traceback ----------------------------------------


def test_db_upgrade_unknown_revision(cli):
    result = cli("db", "upgrade", "nonsense", code=2)
    assert "to revision 'nonsense'" in said(result) and "Traceback" not in result.output


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_synth_projects_per_sme_must_be_finite(cli, value, tmp_path):
    result = cli("synth", "--smes", 5, "--projects-per-sme", value, code=2)
    assert "--projects-per-sme must be a finite number >= 0" in said(result)
    assert not (tmp_path / "registry.db").exists()


@pytest.mark.parametrize("command", [
    ["db", "stats"], ["db", "init"], ["orgs", "list"], ["orgs", "search", "x"], ["complete"],
    ["export", "-o", "out"], ["import", "file", "orgs.csv"], ["import", "cordis", "CORDIS"],
    ["synth", "--smes", "5"],
])  # fmt: skip
def test_a_file_that_is_not_a_database(cli, tmp_path, small_cordis, command):
    not_db = tmp_path / "a.csv"
    not_db.write_text(ORGS_CSV, encoding="utf-8")
    (tmp_path / "orgs.csv").write_text(ORGS_CSV, encoding="utf-8")
    command = [str(small_cordis) if c == "CORDIS" else c for c in command]
    result = cli(*command, "--database-url", f"sqlite:///{not_db}", code=2)
    assert f"{not_db} is not an SQLite database" in said(result)
    assert not_db.read_text(encoding="utf-8") == ORGS_CSV


# --- orgs search ----------------------------------------------------------------------------------


def test_orgs_search_finds_keywords_and_takes_wildcards_literally(db_url, registry_engine, tmp_path):
    (tmp_path / "orgs.csv").write_text(
        "external_id,name,kind,keywords\n"
        "o:1,Acme GmbH,sme,machining;Automotive\n"
        "o:2,Fifty % Tools,sme,\n"
        "o:3,Under_score AG,sme,\n"
        "o:4,Plain,sme,sensor_fusion\n", encoding="utf-8")  # fmt: skip
    runner = CliRunner()

    def search(text):
        result = runner.invoke(app, ["import", "file", str(tmp_path / "orgs.csv"), "--database-url", db_url]
                               if text is None else
                               ["orgs", "search", text, "--json", "--database-url", db_url])  # fmt: skip
        assert result.exit_code == 0, result.output
        return None if text is None else sorted(o["external_id"] for o in json.loads(result.stdout)["data"])

    search(None)
    assert search("automotive") == ["o:1"]  # a keyword, any case
    assert search("%") == ["o:2"]  # not "anything"
    assert search("_") == ["o:3", "o:4"]  # a name and a keyword with an underscore
    assert search("r_f") == ["o:4"]
    assert search("fifty") == ["o:2"]


# --- the output format follows the file name ----------------------------------------------------


def test_output_format_from_the_suffix(cli, tmp_path):
    cli("template", "orgs", "-o", "orgs.csv")
    assert (tmp_path / "orgs.csv").read_text(encoding="utf-8").startswith("external_id,name,kind")
    cli("template", "orgs", "-o", "orgs.json")
    assert json.loads((tmp_path / "orgs.json").read_text(encoding="utf-8"))["orgs"]
    result = cli("template", "orgs", "-f", "csv", "-o", "t.xlsx", code=2)
    assert "--format csv contradicts the suffix of --output 't.xlsx'" in said(result)
    assert not (tmp_path / "t.xlsx").exists()
    assert "is a folder of files" in said(cli("template", "all", "-o", "all.csv", code=2))
    assert not (tmp_path / "all.csv").exists()
    cli("import", "file", "orgs.csv")
    cli("export", "-o", "reg.json")
    assert (tmp_path / "reg.json").is_file()
    assert json.loads((tmp_path / "reg.json").read_text(encoding="utf-8"))["orgs"][0]["external_id"]
    cli("export", "-o", "reg.xlsx")
    assert (tmp_path / "reg.xlsx").read_bytes()[:2] == b"PK"
    assert "contradicts" in said(cli("export", "-f", "json", "-o", "reg.csv", code=2))
    assert not (tmp_path / "reg.csv").exists()
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    assert "is a file, not a folder" in said(cli("export", "-o", "taken", code=2))


# --- CORDIS rows are checked --------------------------------------------------------------------


def test_import_cordis_reports_invalid_rows(cli, tmp_path, small_cordis):
    with gzip.open(small_cordis / "projects.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(GZ_FILES["projects"] + "11,Q,Horizon Europe,RIA,SIGNED,2025-01-01,2024-01-01,abc,Reversed\n")
    with gzip.open(small_cordis / "participations.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(GZ_FILES["participations"] + "11,1,coordinator,1,1\n")
    result = cli("import", "cordis", small_cordis, code=2)
    assert "projects.csv.gz, row 3, column endDate: end 2024-01-01 is before start 2025-01-01" in said(result)
    assert "projects.csv.gz, row 3, column ecMaxContribution: expected a number, got 'abc'" in said(result)
    assert "participations.csv.gz, row 4, column projectID: its project '11' was left out" in said(result)
    assert "nothing written" in said(result)
    assert not (tmp_path / "registry.db").exists()
    result = cli("import", "cordis", small_cordis, "--skip-invalid", "--json")
    assert "created a new registry at sqlite:///" in said(result)
    report = json.loads(result.stdout)
    assert report["written"]["projects"] == 1 and report["written"]["participations"] == 2
    assert report["rejected_rows"] == {"participations.csv.gz": 1, "projects.csv.gz": 1}
    assert len(report["errors"]) == 3


def test_orgs_list_shows_external_ids_whole_on_a_narrow_terminal(cli, tmp_path, monkeypatch):
    """At 80 columns the table cut the external ids ('cordis:8661641…'), the one value a
    reader copies from it into `orgs show` or `diagnose sme`; names and cities wrap instead."""
    from innoweave.cli.common import err

    monkeypatch.setattr(err, "_width", 80)
    ids = [f"crm:bavaria:manufacturing:{n:06d}" for n in range(3)]
    rows = "".join(f"{i},Präzisionsteile und Feinwerktechnik Nummer {n} GmbH & Co. KG,sme,"
                   f"Garching bei München an der Isar\n" for n, i in enumerate(ids))  # fmt: skip
    (tmp_path / "orgs.csv").write_text("external_id,name,kind,city\n" + rows, encoding="utf-8")
    cli("import", "file", tmp_path / "orgs.csv")
    for command in (("orgs", "list"), ("orgs", "search", "feinwerk")):
        shown = cli(*command).stderr
        assert max(len(line) for line in shown.splitlines()) <= 80
        assert all(i in shown for i in ids), shown
