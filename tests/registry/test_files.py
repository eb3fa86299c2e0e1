"""Generic file import: bad input gives messages naming file, row and column, and writes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from openpyxl import Workbook

from innoweave.registry.db import stats
from innoweave.registry.files import FileFormatError, import_files, read_tables
from innoweave.registry.writer import write_frames

ORGS_CSV = (
    "external_id,name,kind,latitude,longitude,founding_year\n"
    "o:1,Acme GmbH,sme,48.1,11.5,1998\n"
    "o:2,Uni,university,,,\n"
)
PROJECTS_CSV = "external_id,title,start_date,end_date\np:1,Housings,2024-01-01,2025-12-31\n"
PARTS_CSV = (
    "project_external_id,org_external_id,role\np:1,o:1,coordinator\np:1,o:2,participant\n"
)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def messages(result):
    return [str(e) for e in result.errors]


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    write(d / "orgs.csv", ORGS_CSV)
    write(d / "projects.csv", PROJECTS_CSV)
    write(d / "participations.csv", PARTS_CSV)
    return d


def test_import_and_reimport_changes_nothing(registry_engine, folder, digest):
    result = import_files([folder], engine=registry_engine)
    assert result.errors == []
    assert result.written == {"organisations": 2, "projects": 1, "participations": 2}
    counts = stats(registry_engine)
    assert (counts["organisations"], counts["projects"], counts["participations"]) == (2, 1, 2)
    before = digest(registry_engine)
    import_files([folder], engine=registry_engine)
    assert digest(registry_engine) == before


def test_one_bad_row_writes_nothing(registry_engine, folder):
    write(folder / "orgs.csv", ORGS_CSV + "o:3,Bad,sme,123,10,1990\n")
    result = import_files([folder], engine=registry_engine)
    assert messages(result) == ["orgs.csv, row 4, column latitude: 123 is out of range -90..90"]
    assert result.written is None
    assert stats(registry_engine)["organisations"] == 0


def test_skip_invalid_writes_the_rest_and_rejects_can_be_fixed(registry_engine, folder, tmp_path):
    write(folder / "orgs.csv", ORGS_CSV + "o:3,Bad,spaceship,123,10,1990\n")
    write(folder / "participations.csv", PARTS_CSV + "p:1,o:3,partner\n")
    rejects = tmp_path / "rejects"
    result = import_files([folder], engine=registry_engine, skip_invalid=True, rejects_dir=rejects)
    assert result.written == {"organisations": 2, "projects": 1, "participations": 2}
    # the participation of the rejected organisation cannot be written either
    assert "participations.csv, row 4, column org_external_id: 'o:3' is neither in the registry" in (
        messages(result)[-1]
    )
    with open(rejects / "orgs.rejects.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["external_id"] == "o:3" and row["_row"] == "4"
    assert "kind: unknown value 'spaceship'" in row["_errors"]
    assert "latitude: 123 is out of range" in row["_errors"]

    text = (rejects / "orgs.rejects.csv").read_text(encoding="utf-8")
    fixed = write(tmp_path / "orgs.csv", text.replace("spaceship,123", "sme,12"))
    assert import_files([fixed], engine=registry_engine).errors == []
    assert import_files([rejects / "participations.rejects.csv"], engine=registry_engine).errors == []
    assert stats(registry_engine)["participations"] == 3


def test_reimported_rejects_keep_the_original_file_and_row(registry_engine, tmp_path):
    """A corrected reject file's records name the file and row they were first read from,
    also when the reject file is rejected again (a second correction)."""
    from innoweave.registry.frames import load_frames

    path = write(tmp_path / "firms_orgs.csv", "external_id,name,kind,employees\n"
                                              "o:1,A,sme,3\no:2,B,spaceship,4\no:3,C,rocket,x\n")  # fmt: skip
    first = tmp_path / "r1"
    import_files([path], engine=registry_engine, skip_invalid=True, rejects_dir=first)
    with open(first / "firms_orgs.rejects.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["_source_file"], r["_source_row"], r["_row"]) for r in rows] == [
        ("firms_orgs.csv", "3", "3"), ("firms_orgs.csv", "4", "4")]
    # the first correction fixes o:2 and half of o:3: o:3 is rejected again
    corrected = (first / "firms_orgs.rejects.csv").read_text(encoding="utf-8")
    corrected = corrected.replace("spaceship", "sme").replace("rocket", "sme")
    second = tmp_path / "r2"
    result = import_files([write(tmp_path / "fix1_orgs.csv", corrected)], engine=registry_engine,
                          skip_invalid=True, rejects_dir=second)  # fmt: skip
    assert result.valid == {"orgs": 1} and result.warnings == []
    text = (second / "fix1_orgs.rejects.csv").read_text(encoding="utf-8")
    header, row = text.splitlines()
    assert header == "external_id,name,kind,employees,_source_file,_source_row,_row,_errors"
    assert row.startswith("o:3,C,sme,x,firms_orgs.csv,4,3,")
    import_files([write(tmp_path / "fix2_orgs.csv", text.replace(",x,", ",5,"))], engine=registry_engine)
    orgs = load_frames(registry_engine).organisations.set_index("external_id")
    assert [tuple(orgs.loc[k, ["source", "source_row"]]) for k in ("o:1", "o:2", "o:3")] == [
        ("file:firms_orgs.csv", 2), ("file:firms_orgs.csv", 3), ("file:firms_orgs.csv", 4)]


def test_reject_file_with_a_spoilt_source_row_names_it(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id,name,kind,_source_file,_source_row,_row,_errors\n"
                                        "o:1,A,sme,firms.csv,four,4,kind: bad\n")  # fmt: skip
    result = import_files([path], engine=None, dry_run=True)
    assert messages(result) == ["orgs.csv, row 2, column _source_row: expected the row of firms.csv "
                                "the record was first read from (a whole number from 1), got 'four'"]


def test_dry_run_writes_nothing(registry_engine, folder):
    result = import_files([folder], engine=registry_engine, dry_run=True)
    assert result.errors == [] and result.written is None
    assert result.valid == {"orgs": 2, "projects": 1, "participations": 2}
    assert stats(registry_engine)["organisations"] == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom(tmp_path, encoding):
    path = write(tmp_path / "orgs.csv", ORGS_CSV.replace("Acme GmbH", "Müller & Söhne"), encoding)
    (table,) = read_tables(path)
    assert table.header[0] == "external_id"
    assert table.rows[0]["name"] == "Müller & Söhne"


def test_gbk_chinese_names_are_detected(tmp_path):
    text = "external_id,name,kind,city\ncn:1,深圳市精密机械有限公司,sme,深圳\ncn:2,华中科技大学,university,武汉\n"
    path = write(tmp_path / "orgs.csv", text, "gbk")
    result = import_files([path], engine=None, dry_run=True)
    assert result.errors == [] and result.encodings == {"orgs.csv": "gb18030"}
    (table,) = read_tables(path)
    assert [r["name"] for r in table.rows] == ["深圳市精密机械有限公司", "华中科技大学"]
    with pytest.raises(FileFormatError, match=r"orgs.csv: cannot be decoded as utf-8 \(byte"):
        read_tables(path, encoding="utf-8")
    (table,) = read_tables(path, encoding="gbk")
    assert table.rows[1]["city"] == "武汉"


def test_semicolon_separated_csv(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id;name;kind;latitude;longitude\no:1;A;sme;48,5;11,25\n")
    (table,) = read_tables(path)
    assert table.rows[0]["latitude"] == "48,5"
    assert import_files([path], engine=None, dry_run=True).errors == []


def test_malformed_csv(tmp_path):
    path = write(tmp_path / "orgs.csv", 'external_id,name,kind\no:1,"unterminated,sme\n')
    with pytest.raises(FileFormatError, match=r"orgs.csv: malformed CSV at line 2: a quoted field starts there"):
        import_files([path], engine=None, dry_run=True)
    path = write(tmp_path / "orgs.csv", "external_id,name,kind\no:1,A,sme,surplus\no:2,B\n")
    result = import_files([path], engine=None, dry_run=True)
    assert messages(result) == [
        "orgs.csv, row 2: has 4 values but the header has 3 columns",
        "orgs.csv, row 3: has 2 values but the header has 3 columns",
        "orgs.csv, row 3, column kind: required value is missing",
    ]


def test_missing_required_columns(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id,name\no:1,A\n")
    with pytest.raises(FileFormatError, match=r"orgs.csv: missing required column\(s\) kind"):
        import_files([path], engine=None, dry_run=True)


def test_header_problems(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id,name,kind,name\no:1,A,sme,B\n")
    with pytest.raises(FileFormatError, match="column 'name' appears twice in the header"):
        read_tables(path)
    path = write(tmp_path / "orgs.csv", "")
    with pytest.raises(FileFormatError, match="orgs.csv: no header row"):
        read_tables(path)


def test_unknown_columns_are_reported_and_ignored(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id,name,kind,colour\no:1,A,sme,blue\n")
    result = import_files([path], engine=None, dry_run=True)
    assert result.errors == []
    assert result.warnings == ["orgs.csv: ignored unknown column(s) colour"]


def test_duplicate_ids(tmp_path):
    path = write(tmp_path / "orgs.csv", ORGS_CSV + "o:1,Again,sme,,,\n")
    result = import_files([path], engine=None, dry_run=True)
    assert messages(result) == [
        "orgs.csv, row 4, column external_id: duplicate external_id 'o:1' (first at row 2)"
    ]


def test_kinds_coordinates_and_dates(tmp_path):
    orgs = write(tmp_path / "orgs.csv", "external_id,name,kind,latitude,longitude\n"
                 "o:1,A,firm,10,200\n")  # fmt: skip
    projects = write(tmp_path / "projects.csv", "external_id,title,start_date\np:1,T,2024-02-30\n")
    found = messages(import_files([orgs, projects], engine=None, dry_run=True))
    assert found[0].startswith("orgs.csv, row 2, column kind: unknown value 'firm'; allowed: sme,")
    assert found[1] == "orgs.csv, row 2, column longitude: 200 is out of range -180..180"
    assert found[2] == "projects.csv, row 2, column start_date: expected a date YYYY-MM-DD, got '2024-02-30'"


def test_participations_must_name_known_orgs_and_projects(registry_engine, sample_frames, tmp_path):
    path = write(tmp_path / "participations.csv", "project_external_id,org_external_id\n"
                 "p:1,t:1\np:1,nobody\nnowhere,t:2\n")  # fmt: skip
    result = import_files([path], engine=registry_engine, dry_run=True)
    assert len(result.errors) == 6  # nothing is in the registry yet
    write_frames(registry_engine, sample_frames)
    result = import_files([path], engine=registry_engine)
    assert messages(result) == [
        "participations.csv, row 3, column org_external_id: 'nobody' is neither in the registry "
        "nor a valid row of this import's orgs",
        "participations.csv, row 4, column project_external_id: 'nowhere' is neither in the "
        "registry nor a valid row of this import's projects",
    ]


def test_xlsx_with_typed_cells(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Projects"
    sheet.append(["External_ID", "Title", "Start_Date", "Budget"])
    sheet.append(["p:1", "Typed", dt.datetime(2024, 3, 1), 1500000])
    sheet.append([None, None, None, None])
    sheet.append(["p:2", "Text date", "2024-03-02", "abc"])
    book.create_sheet("notes").append(["anything"])
    book.save(tmp_path / "book.xlsx")
    result = import_files([tmp_path / "book.xlsx"], engine=None, dry_run=True)
    assert result.valid == {"projects": 1}
    assert messages(result) == ["book.xlsx[Projects], row 4, column budget: expected a number, got 'abc'"]


def test_malformed_xlsx(tmp_path):
    write(tmp_path / "orgs.xlsx", "not a zip file")
    with pytest.raises(FileFormatError, match="orgs.xlsx: cannot be read as an XLSX workbook"):
        import_files([tmp_path / "orgs.xlsx"], engine=None)
    book = Workbook()
    book.active.title = "Sheet1"
    book.active.append(["external_id", "name", "kind"])
    book.save(tmp_path / "data.xlsx")
    with pytest.raises(FileFormatError, match="no sheet named after an entity.*'Sheet1'") as exc:
        read_tables(tmp_path / "data.xlsx")
    # a German Excel's 'Tabelle1' needs no renaming: the message says how to name the entity
    assert "give --entity (entity= from Python) to read the first sheet" in str(exc.value)
    assert read_tables(tmp_path / "data.xlsx", entity="orgs")[0].entity.name == "orgs"
    (tmp_path / "data.xlsx").rename(tmp_path / "orgs.xlsx")
    assert read_tables(tmp_path / "orgs.xlsx")[0].label == "orgs.xlsx[Sheet1]"


def test_json_inputs(tmp_path):
    path = write(tmp_path / "firms.json", json.dumps([
        {"external_id": "o:1", "name": "A", "kind": "sme", "keywords": ["x", "y"], "latitude": 1, "longitude": 2},
        "not a record",
    ]))  # fmt: skip
    with pytest.raises(FileFormatError, match="firms.json: cannot tell what the file holds"):
        read_tables(path)
    result = import_files([path], engine=None, entity="orgs", dry_run=True)
    assert messages(result) == ["firms.json, row 2: expected an object of column: value"] + [
        f"firms.json, row 2, column {c}: required value is missing" for c in ("external_id", "name", "kind")
    ]
    write(path, '{"orgs": [}')
    with pytest.raises(FileFormatError, match=r"firms.json: not valid JSON \(line 1, column 11"):
        read_tables(path)
    write(path, '{"firms": []}')
    with pytest.raises(FileFormatError, match="unknown key 'firms'"):
        read_tables(path)


def test_entity_from_file_name(tmp_path):
    path = write(tmp_path / "bavaria_orgs_2026.csv", ORGS_CSV)
    assert read_tables(path)[0].entity.name == "orgs"
    path = write(tmp_path / "list.csv", ORGS_CSV)
    with pytest.raises(FileFormatError, match="give --entity"):
        read_tables(path)
    with pytest.raises(FileFormatError, match="unknown entity 'firms'"):
        read_tables(path, entity="firms")
    with pytest.raises(FileFormatError, match="no such file"):
        read_tables(tmp_path / "absent.csv")


def test_rejects_from_json_keep_lists_readable(registry_engine, tmp_path):
    path = write(tmp_path / "data.json", json.dumps({"orgs": [
        {"external_id": "o:1", "name": "A", "kind": "sme"},
        {"external_id": "o:2", "name": "B", "kind": "nope", "keywords": ["x", "y"], "sme_flag": True},
    ]}))  # fmt: skip
    result = import_files([path], engine=registry_engine, skip_invalid=True, rejects_dir=tmp_path)
    assert result.rejects == [str(tmp_path / "data.orgs.rejects.csv")]
    with open(tmp_path / "data.orgs.rejects.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["keywords"] == '["x", "y"]' and row["sme_flag"] == "true"
    fixed = write(tmp_path / "orgs.csv", (tmp_path / "data.orgs.rejects.csv").read_text().replace("nope", "sme"))
    assert import_files([fixed], engine=registry_engine).errors == []
    assert stats(registry_engine)["organisations"] == 2


# --- encodings: Western European files are not read as Chinese -------------------------------

GERMAN = "external_id,name,kind,city\nd:1,Müller & Söhne GmbH,sme,München\nd:2,Straße AG,large_firm,Köln\n"
CHINESE = "external_id,name,kind,city\ncn:1,深圳市精密机械有限公司,sme,深圳\ncn:2,华中科技大学,university,武汉\n"


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_german_excel_csv_is_refused_not_garbled(tmp_path, encoding):
    path = write(tmp_path / "orgs.csv", GERMAN, encoding)
    with pytest.raises(FileFormatError) as caught:
        read_tables(path)
    message = str(caught.value)
    assert message.startswith("orgs.csv: not UTF-8 text (line 2): 'Müller' if read as Western European")
    assert "'M黮ler' if read as Chinese (gb18030)" in message
    assert "--encoding cp1252 or --encoding gb18030" in message
    (table,) = read_tables(path, encoding="cp1252")
    assert [r["name"] for r in table.rows] == ["Müller & Söhne GmbH", "Straße AG"]
    assert import_files([path], engine=None, dry_run=True, encoding="cp1252").encodings == {"orgs.csv": "cp1252"}


def test_western_json_is_refused_too(tmp_path):
    path = write(tmp_path / "orgs.json", json.dumps([{"external_id": "x", "name": "Citroën", "kind": "sme"}],
                                                    ensure_ascii=False), "cp1252")  # fmt: skip
    with pytest.raises(FileFormatError, match=r"'Citroën' if read as Western European"):
        read_tables(path)


@pytest.mark.parametrize("text", [
    CHINESE,
    "external_id,name,kind\ncn:1,TCL科技集团股份有限公司,sme\ncn:2,王堃，“精密”机械 ①,sme\n",
])  # fmt: skip
def test_chinese_gbk_is_still_detected(tmp_path, text):
    path = write(tmp_path / "orgs.csv", text, "gbk")
    (table,) = read_tables(path)
    assert table.encoding == "gb18030"
    assert [r["name"] for r in table.rows] == [line.split(",")[1] for line in text.splitlines()[1:]]


def test_reads_as_chinese_rule():
    from innoweave.registry.files import reads_as_chinese

    assert reads_as_chinese("深圳市精密机械有限公司")
    assert not reads_as_chinese("M黮ler")  # a CJK character inside a Latin word
    assert not reads_as_chinese("黮 遝 雗")  # rare characters only (what cp1252 bytes give)
    assert not reads_as_chinese("Müller")  # no CJK at all


# --- ids are trimmed -----------------------------------------------------------------------------


def test_ids_and_references_are_trimmed(registry_engine, tmp_path):
    orgs = write(tmp_path / "orgs.csv", "external_id,name,kind,cluster\n w:3 , Padded name ,sme, cl:1 \n")
    clusters = write(tmp_path / "clusters.csv", "external_id,name\n cl:1 ,Cluster\n")
    projects = write(tmp_path / "projects.csv", "external_id,title\n p:1 ,T\n")
    parts = write(tmp_path / "participations.csv",
                  "project_external_id,org_external_id,role\n p:1 , w:3 ,coordinator\n")  # fmt: skip
    programmes = write(tmp_path / "programmes.csv", "name,resource\n Voucher ,capital\n")
    result = import_files([orgs, clusters, projects, parts, programmes], engine=registry_engine)
    assert result.errors == []
    from innoweave.registry.frames import load_frames

    frames = load_frames(registry_engine)
    org = frames.organisations.iloc[0]
    assert org["external_id"] == "w:3" and org["cluster"] == "cl:1"
    assert org["name"] == " Padded name "  # free text is kept as written
    assert list(frames.clusters["external_id"]) == ["cl:1"]
    assert list(frames.participations["external_id"]) == ["p:1|w:3|coordinator"]
    assert list(frames.programmes["name"]) == ["Voucher"]
    write(orgs, "external_id,name,kind\nw:3,Again,sme\n w:3 ,Twice,sme\n")
    assert messages(import_files([orgs], engine=None, dry_run=True)) == [
        "orgs.csv, row 3, column external_id: duplicate external_id 'w:3' (first at row 2)"
    ]


# --- files of the same name ------------------------------------------------------------------


def test_same_named_files_keep_their_rejects_apart(registry_engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder, bad in (("A", "a:2,Bad,spaceship"), ("B", "b:2,Worse,rocket")):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder / "orgs.csv", f"external_id,name,kind\n{folder.lower()}:1,Ok,sme\n{bad}\n")
    rejects = tmp_path / "rejects"
    result = import_files(["A/orgs.csv", "B"], engine=registry_engine, skip_invalid=True, rejects_dir=rejects)
    assert [m.split(":")[0] for m in messages(result)] == [
        "A/orgs.csv, row 3, column kind", "B/orgs.csv, row 3, column kind"
    ]
    assert sorted(p.name for p in rejects.iterdir()) == ["A_orgs.rejects.csv", "B_orgs.rejects.csv"]
    assert "spaceship" in (rejects / "A_orgs.rejects.csv").read_text(encoding="utf-8")
    assert "rocket" in (rejects / "B_orgs.rejects.csv").read_text(encoding="utf-8")
    assert stats(registry_engine)["by_source"] == {"file:orgs.csv": 2}  # provenance: the file name
    write(tmp_path / "B" / "orgs.csv", "external_id,name\nx,y\n")
    with pytest.raises(FileFormatError, match="^B/orgs.csv: missing required column"):
        import_files(["A/orgs.csv", "B/orgs.csv"], engine=None, dry_run=True)


def test_a_key_in_two_files_names_the_key_and_both_files(tmp_path):
    for folder in ("A", "B"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder / "orgs.csv", "external_id,name,kind\no:1,Acme,sme\n")
    write(tmp_path / "more_orgs.csv", "external_id,name,kind\no:2,Other,sme\no:1,Again,sme\n")
    paths = [tmp_path / "A" / "orgs.csv", tmp_path / "B" / "orgs.csv", tmp_path / "more_orgs.csv"]
    result = import_files(paths, engine=None, dry_run=True)  # a dry run finds it too
    assert messages(result) == [
        f"{paths[1]}, row 2, column external_id: duplicate external_id 'o:1' (first at {paths[0]}, row 2)",
        f"more_orgs.csv, row 3, column external_id: duplicate external_id 'o:1' (first at {paths[0]}, row 2)",
    ]
    assert result.valid == {"orgs": 2}


# --- spreadsheets: OOXML escapes ------------------------------------------------------------------


def test_xlsx_texts_are_unescaped(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "orgs"
    sheet.append(["external_id", "name", "kind", "capabilities"])
    sheet.append(["o:1", "Acme", "sme", "line one_x000D_\nline two, literal _x005F_x000D_"])
    book.save(tmp_path / "orgs.xlsx")
    (table,) = read_tables(tmp_path / "orgs.xlsx")
    assert table.rows[0]["capabilities"] == "line one\r\nline two, literal _x000D_"
