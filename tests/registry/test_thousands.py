"""Thousands separators: ``1.250`` (German) and ``1,250`` (English) are 1250 where the file's
other numbers show the decimal mark, refused in count columns where they do not, and never
silently read as 1.25 employees."""

from __future__ import annotations

import csv

import pytest

from innoweave.registry.files import import_files
from innoweave.registry.frames import load_frames
from innoweave.registry.numbers import (
    COMMA,
    DOT,
    NumberError,
    decimal_marks,
    mark_shown,
    number_text,
    parse_number,
)
from innoweave.registry.validation import ORGS, validate_row


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def dry(path):
    return import_files([path], engine=None, dry_run=True)


def messages(result):
    return [str(e) for e in result.errors]


# -- what a cell shows, what a column's mark is ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "mark"),
    [("3,5", COMMA), ("48,1372", COMMA), ("0,250", COMMA), ("1234,5", COMMA), ("1.234,5", COMMA),
     ("6.500.000", COMMA), ("3.5", DOT), ("0.125", DOT), ("1,234.5", DOT), ("6,500,000", DOT),
     ("1.250", None), ("1,250", None), ("-12.500", None), ("42", None), ("abc", None)],
)  # fmt: skip
def test_mark_shown_only_where_one_reading_is_possible(text, mark):
    assert mark_shown(text) == mark


def test_a_column_takes_its_own_mark_else_the_tables():
    rows = [{"a": "1.250", "b": "48,5", "c": "12.75"}, {"a": "2.000", "b": "7", "c": "1,5"}]
    marks = decimal_marks(rows, ["a", "b", "c"], [2, 3])
    assert marks["b"].mark == COMMA and (marks["b"].row, marks["b"].example) == (2, "48,5")
    assert marks["c"] is None  # its own cells show both marks
    assert marks["a"] is None  # no mark of its own, and the table shows both
    marks = decimal_marks(rows[:1], ["a", "b"], [2])
    assert marks["a"].mark == COMMA and marks["a"].column == "b"


def test_parse_number_reads_ambiguous_text_by_the_mark():
    assert parse_number("1.250", mark=COMMA, count=True) == 1250
    assert parse_number("1,250", mark=DOT, count=True) == 1250
    assert parse_number("-1.250", mark=COMMA) == -1250
    assert parse_number("1,250", mark=COMMA, count=True) == 1.25
    assert parse_number("1.250", mark=DOT, count=True) == 1.25
    assert parse_number("48,137") == 48.137  # not a count, no mark: a decimal, as always
    with pytest.raises(NumberError, match=r"'1,250' is ambiguous: 1250 if ',' separates thousands, "
                                          r"1\.25 if it is a decimal mark.*write 1250, or 1,25 if you mean a decimal"):
        parse_number("1,250", count=True)
    with pytest.raises(NumberError, match="write 1000, or 1 if you mean a decimal"):
        parse_number("1.000", count=True)


@pytest.mark.parametrize("number", [1250.0, 12.345, 0.5, -3.125, 1e20, 7.0])
def test_number_text_reads_back_without_a_mark(number):
    assert parse_number(number_text(number), count=True) == number


# -- the import --------------------------------------------------------------------------


def test_german_file_reads_dot_as_thousands(tmp_path):
    path = write(tmp_path / "orgs.csv",
                 "external_id;name;kind;employees;revenue;latitude;longitude\n"
                 "o:1;Müller GmbH;sme;1.250;250.000;48,137;11,575\n"
                 "o:2;Beta;sme;42;1250,5;48,5;11,5\n", "cp1252")  # fmt: skip
    result = import_files([path], engine=None, dry_run=True, encoding="cp1252")
    assert result.errors == [] and result.valid == {"orgs": 2}
    assert any("column employees: 1 value(s) such as '1.250' (row 2) read as thousands (1250): "
               "the decimal mark is ','" in w for w in result.warnings), result.warnings  # fmt: skip


def test_german_file_writes_thousands(registry_engine, tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id;name;kind;employees;latitude;longitude\n"
                                        "o:1;A;sme;1.250;48,137;11,5\n")  # fmt: skip
    assert import_files([path], engine=registry_engine).errors == []
    org = load_frames(registry_engine).organisations.set_index("external_id").loc["o:1"]
    assert org["employees"] == 1250 and org["latitude"] == pytest.approx(48.137)


def test_no_mark_shown_leaves_employees_ambiguous(tmp_path):
    """48,137 and 11,575 could each be thousands too: they show no mark."""
    path = write(tmp_path / "orgs.csv", "external_id;name;kind;employees;latitude;longitude\n"
                                        "o:1;A;sme;1.250;48,137;11,575\n")  # fmt: skip
    assert [e.column for e in dry(path).errors] == ["employees"]


def test_english_file_reads_comma_as_thousands(tmp_path):
    path = write(tmp_path / "orgs.csv", 'external_id,name,kind,employees,latitude,longitude\n'
                                        'o:1,A,sme,"1,250",48.1372,11.5\n')  # fmt: skip
    result = dry(path)
    assert result.errors == [] and any("(1250)" in w for w in result.warnings)


@pytest.mark.parametrize(("cell", "hint"), [("1.250", "write 1250, or 1.25 if you mean a decimal"),
                                            ('"1,250"', "write 1250, or 1,25 if you mean a decimal")])
def test_ambiguous_employees_without_a_mark_are_refused(tmp_path, cell, hint):
    path = write(tmp_path / "orgs.csv", f"external_id,name,kind,employees\no:1,A,sme,{cell}\no:2,B,sme,42\n")
    [message] = messages(dry(path))
    assert message.startswith(f"orgs.csv, row 2, column employees: {cell.strip(chr(34))!r} is ambiguous")
    assert message.endswith(hint)


def test_ambiguous_integer_columns_are_refused_too(tmp_path):
    path = write(tmp_path / "orgs.csv", "external_id;name;kind;patents\no:1;A;sme;1.000\n")
    assert messages(dry(path)) == [
        "orgs.csv, row 2, column patents: '1.000' is ambiguous: 1000 if '.' separates thousands, "
        "1 if it is a decimal mark, and the file's other numbers do not show which; write 1000, "
        "or 1 if you mean a decimal"
    ]


def test_other_numbers_without_a_mark_read_as_before():
    clean, problems = validate_row(ORGS, {"external_id": "o", "name": "n", "kind": "sme",
                                          "latitude": "48,137", "longitude": "11.575", "revenue": "1.250"})  # fmt: skip
    assert problems == []
    assert (clean["latitude"], clean["longitude"], clean["revenue"]) == (48.137, 11.575, 1.25)


def test_rejects_keep_a_thousands_reading(registry_engine, tmp_path):
    """A row rejected for another reason is written with 1250, not '1.250': the reject file
    lacks the rows that showed the decimal comma."""
    path = write(tmp_path / "orgs.csv", "external_id;name;kind;employees;latitude;longitude\n"
                                        "o:1;A;sme;12,5;48,5;11,5\n"
                                        "o:2;B;spaceship;1.250;;\n")  # fmt: skip
    result = import_files([path], engine=registry_engine, skip_invalid=True, rejects_dir=tmp_path / "r")
    assert result.valid == {"orgs": 1}
    with open(tmp_path / "r" / "orgs.rejects.csv", newline="", encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["employees"] == "1250"
    fixed = write(tmp_path / "fixed_orgs.csv", (tmp_path / "r" / "orgs.rejects.csv").read_text().replace("spaceship", "sme"))
    assert import_files([fixed], engine=registry_engine).errors == []
    orgs = load_frames(registry_engine).organisations.set_index("external_id")
    assert orgs.loc["o:2", "employees"] == 1250 and orgs.loc["o:1", "employees"] == 12.5
