"""QA findings on reading import files: header-only files, wrong encodings, unclosed quotes,
UTF-16. Each message must name the file and the line (or what to give instead)."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.registry.files import (
    FileFormatError,
    import_files,
    read_tables,
    unclosed_quote_line,
    utf16_encoding,
)

GOOD = "external_id,name,kind\no:1,Müller & Söhne,sme\no:2,华中科技大学,university\n"
#: An ASCII file of an even number of bytes: read as UTF-16 it decodes, into one line of CJK.
ASCII = "external_id,name,kind\no:1,Alpha,sme\no:2,Beta,university\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def refused(path, **options) -> str:
    with pytest.raises(FileFormatError) as caught:
        import_files([path], engine=None, dry_run=True, **options)
    return str(caught.value)


# -- 1. a header without rows is checked; a wrong --encoding is not "0 valid" ------------------


def test_header_only_csv_lacking_a_required_column_is_refused(tmp_path):
    path = write(tmp_path / "hdr_orgs.csv", "external_id,name\n")
    message = refused(path)
    assert message.startswith("hdr_orgs.csv: missing required column(s) kind (required for orgs:")
    # the same message as with a data row
    assert refused(write(tmp_path / "row_orgs.csv", "external_id,name\no:1,A\n")).endswith(
        message.removeprefix("hdr_orgs.csv")
    )


def test_header_only_xlsx_lacking_a_required_column_is_refused(tmp_path):
    book = Workbook()
    book.active.title = "orgs"
    book.active.append(["external_id", "name"])
    book.save(tmp_path / "book.xlsx")
    assert refused(tmp_path / "book.xlsx").startswith("book.xlsx[orgs]: missing required column(s) kind")


def test_complete_header_without_rows_and_empty_json_list_stay_empty_imports(tmp_path):
    header = write(tmp_path / "orgs.csv", "external_id,name,kind\n")
    result = import_files([header], engine=None, dry_run=True)
    assert result.errors == [] and result.read == {"orgs": 0}
    empty = write(tmp_path / "projects.json", "[]")
    assert import_files([empty], engine=None, dry_run=True).errors == []


def test_a_utf8_file_read_with_encoding_utf16_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path / "good_orgs.csv", ASCII)
    message = refused(path, encoding="utf-16")
    assert message.startswith("good_orgs.csv: missing required column(s) external_id, name, kind")
    assert "the header looks misread as utf-16" in message
    assert "without --encoding the file reads as utf-8" in message
    assert "'external_id,name,kind'" in message and "leave out --encoding utf-16" in message


def test_a_garbled_header_names_the_encoding_to_check(tmp_path):
    path = write(tmp_path / "orgs.csv", "Straße;Größe\nx;y\n")
    message = refused(path, encoding="cp1252")
    assert message.startswith("orgs.csv: missing required column(s) external_id, name, kind")
    assert "no column of the header is known: read with --encoding cp1252 it is 'straãÿe, grã¶ãÿe'" in message


def test_header_only_and_wrong_encoding_exit_2_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INNOWEAVE_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    write(tmp_path / "hdr_orgs.csv", "external_id,name\n")
    write(tmp_path / "good_orgs.csv", ASCII)
    runner = CliRunner()
    result = runner.invoke(app, ["import", "file", "hdr_orgs.csv", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "hdr_orgs.csv: missing required column(s) kind" in " ".join(result.stderr.split())
    result = runner.invoke(app, ["import", "file", "good_orgs.csv", "--encoding", "utf-16"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert "good_orgs.csv: missing required column(s)" in said and "leave out --encoding utf-16" in said


# -- 2. an unclosed quote is named where it opens ----------------------------------------------


def long_csv(rows: dict[int, str], lines: int = 100) -> str:
    """A CSV of ``lines`` lines (header included) with the given lines replaced."""
    out = ["external_id,name,kind"] + [f"o:{n},Name {n},sme" for n in range(2, lines + 1)]
    for line, text in rows.items():
        out[line - 1] = text
    return "\n".join(out) + "\n"


def test_unclosed_quote_is_reported_where_it_starts(tmp_path):
    path = write(tmp_path / "orgs.csv", long_csv({2: 'o:2,"Alpha,sme'}))
    message = refused(path)
    assert message.startswith("orgs.csv: malformed CSV at line 2: a quoted field starts there and is never closed")
    assert "near line 100" not in message


def test_quote_closed_by_a_stray_quote_names_the_row_start(tmp_path):
    path = write(tmp_path / "orgs.csv", long_csv({2: 'o:2,"Alpha,sme', 50: 'o:50,5" screen,sme'}))
    message = refused(path)
    assert message.startswith("orgs.csv: malformed CSV near line 50, in the row that starts on line 2")


def test_quoted_fields_over_several_lines_still_read(tmp_path):
    path = write(tmp_path / "orgs.csv", 'external_id,name,kind\no:1,"Two\nlines ""quoted""",sme\no:2,5" x,sme\n')
    (table,) = read_tables(path)
    assert [r["name"] for r in table.rows] == ['Two\nlines "quoted"', '5" x']
    assert table.row_numbers == [2, 4]


@pytest.mark.parametrize(("text", "line"), [
    ('a,b\n1,"open\n2,3\n', 2),
    ('a,b\n1,"two\nlines",x\n"open,4\n', 4),
    ('a,b\r\n1,"x""y",2\r\n3,"open\r\n', 3),
    ('a,b\n1,5" x\n2,"closed"\n', None),
    ('a;b\n1;"a;b";"c\n', 2),
])  # fmt: skip
def test_unclosed_quote_line(text, line):
    delimiter = ";" if ";" in text.split("\n")[0] else ","
    assert unclosed_quote_line(text, delimiter) == line


# -- 3. UTF-16 files are recognised --------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "reported"), [
    ("utf-16", "utf-16"),        # with a byte-order mark, as Excel's "Unicode text" writes it
    ("utf-16-be", "utf-16-be"),  # no mark: recognised by its zero bytes
    ("utf-16-le", "utf-16-le"),
    ("utf-32", "utf-32"),
])  # fmt: skip
def test_utf16_csv_is_detected_and_read(tmp_path, encoding, reported):
    path = write(tmp_path / "orgs.csv", GOOD.replace("\n", "\r\n"), encoding)
    result = import_files([path], engine=None, dry_run=True)
    assert result.errors == [] and result.valid == {"orgs": 2}
    assert result.encodings == {"orgs.csv": reported}
    (table,) = read_tables(path)
    assert [r["name"] for r in table.rows] == ["Müller & Söhne", "华中科技大学"]


def test_utf16_json_with_bom_is_read(tmp_path):
    records = [{"external_id": "o:1", "name": "Citroën", "kind": "sme"}]
    path = write(tmp_path / "orgs.json", json.dumps(records, ensure_ascii=False), "utf-16")
    (table,) = read_tables(path)
    assert table.rows[0]["name"] == "Citroën" and table.encoding == "utf-16"


def test_a_wrong_encoding_that_cannot_decode_says_what_the_file_reads_as(tmp_path):
    path = write(tmp_path / "orgs.csv", GOOD, "utf-16")
    message = refused(path, encoding="utf-8")
    assert message == "orgs.csv: cannot be decoded as utf-8 (byte 0, line 1); without --encoding it reads as utf-16"
    path = write(tmp_path / "orgs.csv", GOOD)
    message = refused(path, encoding="utf-16")
    assert message.startswith("orgs.csv: cannot be decoded as utf-16 (byte ")
    assert message.endswith("; without --encoding it reads as utf-8")


def test_zero_bytes_in_text_that_is_not_utf8_suggest_utf16(tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes(b"external_id,name,kind\no:1,M\xfcller\x00,sme\n")
    message = refused(path)
    assert message.startswith("orgs.csv: not UTF-8 text (line 2); it holds zero bytes")
    assert "--encoding utf-16" in message


def test_the_western_european_hint_names_utf16_too(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id,name,kind\no:1,Müller,sme\n", "cp1252")
    assert "--encoding utf-16" in refused(path)


def test_utf16_encoding_rule():
    assert utf16_encoding("a,b\n".encode("utf-16")) == "utf-16"
    assert utf16_encoding("a,b\n".encode("utf-16-le")) == "utf-16-le"
    assert utf16_encoding("a,b\n".encode("utf-16-be")) == "utf-16-be"
    assert utf16_encoding("a,b\nü\n".encode()) is None
    assert utf16_encoding("a,b\nü\n".encode("cp1252")) is None
    assert utf16_encoding(b"") is None
