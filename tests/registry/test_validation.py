"""The row validator: messages that name the column, and properties checked by hypothesis."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from innoweave.registry.export import cell_text
from innoweave.registry.validation import (
    ENTITIES,
    KINDS,
    ORGS,
    PARTICIPATIONS,
    PROJECTS,
    CellError,
    parse_cell,
    validate_row,
)

FAST = settings(max_examples=80, deadline=None)
ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda s: s.strip() != ""
)


def org(**cells):
    return {"external_id": "x:1", "name": "Acme", "kind": "sme", **cells}


def problems_of(entity, raw):
    return dict(validate_row(entity, raw)[1])


def test_valid_row_is_parsed_to_python_values():
    clean, problems = validate_row(ORGS, org(
        kind=" SME ", latitude="48,5", longitude=11, founding_year="1998.0", sme_flag="yes",
        sector_codes="C25; C28;", attributes='{"a": 1}', postcode=1067.0, employees="",
    ))  # fmt: skip
    assert problems == []
    assert clean["kind"] == "sme" and clean["latitude"] == 48.5 and clean["longitude"] == 11.0
    assert clean["founding_year"] == 1998 and clean["sme_flag"] is True
    assert clean["sector_codes"] == ["C25", "C28"] and clean["attributes"] == {"a": 1}
    assert clean["postcode"] == "1067" and clean["employees"] is None
    assert clean["keywords"] == [] and clean["external_ids"] == {}


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"kind": "spaceship"}, "kind", "unknown value 'spaceship'; allowed: sme, large_firm"),
        ({"name": "  "}, "name", "required value is missing"),
        ({"latitude": 91, "longitude": 0}, "latitude", "91 is out of range -90..90"),
        ({"latitude": 1, "longitude": "-180.5"}, "longitude", "-180.5 is out of range -180..180"),
        ({"latitude": 10}, "longitude", "latitude and longitude must be given together"),
        ({"latitude": "N 48"}, "latitude", "expected a number, got 'N 48'"),
        ({"founding_year": "1998.5"}, "founding_year", "expected a whole number"),
        ({"founding_year": "abc"}, "founding_year", "expected a whole number, got 'abc'"),
        ({"employees": -1}, "employees", "-1 is out of range 0.."),
        ({"revenue": "inf"}, "revenue", "expected a finite number, got 'inf'"),
        ({"employees": " -Infinity "}, "employees", "expected a finite number, got '-Infinity'"),
        ({"rd_staff": "NaN"}, "rd_staff", "expected a finite number, got 'NaN'"),
        ({"patents": "inf"}, "patents", "expected a finite number, got 'inf'"),
        ({"revenue": "1.234,5"}, "revenue", "'1.234,5' (digits grouped by thousands? write it without"),
        ({"revenue": "1,234.5"}, "revenue", "(digits grouped by thousands?"),
        ({"employees": "1 200"}, "employees", "(digits grouped by thousands?"),
        ({"sme_flag": "maybe"}, "sme_flag", "expected true or false, got 'maybe'"),
        ({"attributes": "{broken"}, "attributes", "not a JSON object"),
        ({"keywords": '["a", 1]'}, "keywords", "expected a list of texts"),
        ({"stage": "teenage"}, "stage", "allowed: start-up, growth, maturity, transformation"),
        ({"country": "GERMANY-LONG"}, "country", "longer than 8 characters"),
    ],
)
def test_bad_cells_name_their_column(cells, column, fragment):
    problems = problems_of(ORGS, org(**cells))
    assert column in problems, problems
    assert fragment in problems[column]


@pytest.mark.parametrize("value", ["2024-13-45", "31/12/2024", "yesterday", 20240101])
def test_dates_that_do_not_parse(value):
    problems = problems_of(PROJECTS, {"external_id": "p", "title": "t", "start_date": value})
    assert "expected a date YYYY-MM-DD" in problems["start_date"]


def test_dates_in_accepted_forms_and_order():
    clean, problems = validate_row(PROJECTS, {"external_id": "p", "title": "t",
                                              "start_date": "01.02.2024",
                                              "end_date": dt.datetime(2025, 1, 1, 12)})  # fmt: skip
    assert problems == [] and clean["start_date"] == dt.date(2024, 2, 1)
    assert clean["end_date"] == dt.date(2025, 1, 1)
    problems = problems_of(PROJECTS, {"external_id": "p", "title": "t", "start_date": "2025-01-02",
                                      "end_date": "2025-01-01"})  # fmt: skip
    assert problems == {"end_date": "end 2025-01-01 is before start 2025-01-02"}


def test_participation_id_is_derived_when_absent():
    clean, problems = validate_row(PARTICIPATIONS, {"project_external_id": "p:1", "org_external_id": "o:1"})
    assert problems == [] and clean["external_id"] == "p:1|o:1|"


# --- properties ---------------------------------------------------------------------------

latitudes = st.floats(-90, 90, allow_nan=False)
longitudes = st.floats(-180, 180, allow_nan=False)


def as_cell(draw, number):
    """A number as a spreadsheet or CSV would give it: itself, its text, or a decimal comma."""
    form = draw(st.sampled_from(["number", "text", "comma"]))
    if form == "number":
        return number
    text = repr(float(number))
    return text.replace(".", ",") if form == "comma" and "e" not in text else text


@st.composite
def valid_org_rows(draw):
    lat, lon = draw(latitudes), draw(longitudes)
    row = {
        "external_id": draw(ids),
        "name": draw(ids),
        "kind": draw(st.sampled_from(KINDS).map(lambda k: draw(st.sampled_from([k, k.upper(), f" {k} "])))),
    }
    if draw(st.booleans()):
        row["latitude"], row["longitude"] = as_cell(draw, lat), as_cell(draw, lon)
    row["founding_year"] = draw(st.one_of(st.none(), st.integers(1800, dt.date.today().year)))
    row["employees"] = draw(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)))
    row["keywords"] = draw(st.lists(st.sampled_from(["ai", "laser", "機械"]), max_size=3))
    row["sme_flag"] = draw(st.sampled_from([None, True, False, "true", "0", "Yes"]))
    return row, (lat, lon) if "latitude" in row else (None, None)


@FAST
@given(valid_org_rows())
def test_any_valid_row_passes(drawn):
    row, (lat, lon) = drawn
    clean, problems = validate_row(ORGS, row)
    assert problems == []
    assert clean["kind"] in KINDS
    assert clean["latitude"] == lat and clean["longitude"] == lon
    assert clean["external_id"] == row["external_id"].strip()  # ids are trimmed
    assert clean["name"] == row["name"]  # free text is kept as written


@FAST
@given(
    valid_org_rows(),
    st.one_of(st.floats(90, 1e12, exclude_min=True), st.floats(-1e12, -90, exclude_max=True)),
    st.booleans(),
)
def test_any_out_of_range_latitude_fails_naming_the_column(drawn, lat, as_text):
    row, _ = drawn
    row["latitude"], row["longitude"] = (repr(lat) if as_text else lat), 10
    problems = problems_of(ORGS, row)
    assert "out of range -90..90" in problems["latitude"]
    assert "longitude" not in problems


anything = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.dates(),
        st.datetimes(), st.binary(max_size=8),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@FAST
@given(st.sampled_from(list(ENTITIES.values())), st.data())
def test_never_raises_and_only_names_known_columns(entity, data):
    keys = st.sampled_from(entity.column_names) | st.text(max_size=8)
    raw = data.draw(st.dictionaries(keys, anything, max_size=12))
    clean, problems = validate_row(entity, raw)
    assert set(clean) == set(entity.column_names)
    for column, message in problems:
        assert column in entity.column_names and isinstance(message, str) and message


values_by_type = {
    "text": st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1).filter(
        lambda s: s.strip() != ""
    ),
    "integer": st.integers(0, 10**12),
    "number": st.floats(0, 1e15, allow_nan=False),
    "date": st.dates(),
    "boolean": st.booleans(),
    "list": st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10)),
    "object": st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), min_size=1),
}


@FAST
@given(st.data())
def test_exported_cells_read_back_to_the_same_value(data):
    entity = data.draw(st.sampled_from(list(ENTITIES.values())))
    column = data.draw(st.sampled_from([c for c in entity.columns if c.type != "choice"]))
    strategy = values_by_type[column.type]
    if column.max_length:
        strategy = strategy.filter(lambda s: len(s) <= column.max_length)
    if column.identifier:  # ids are stored trimmed by every importer, and read back trimmed
        strategy = strategy.filter(lambda s: s == s.strip())
    if column.minimum is not None or column.maximum is not None:
        low = -math.inf if column.minimum is None else column.minimum
        high = math.inf if column.maximum is None else column.maximum
        strategy = strategy.filter(lambda v: low <= v <= high)
    value = data.draw(strategy)
    try:
        assert parse_cell(column, cell_text(column, value)) == value
    except CellError as exc:  # pragma: no cover - shows the failing value
        raise AssertionError(f"{column.name}: {value!r} -> {cell_text(column, value)!r}: {exc}") from exc


def test_source_row_accepts_what_every_writer_stores():
    """Synthetic rows are numbered from 1 now; registries synthesised earlier hold 0, which an
    export of them must still import."""
    for value in ("0", "1", 7):
        clean, problems = validate_row(ORGS, {"external_id": "o", "name": "n", "kind": "sme", "source_row": value})
        assert problems == [] and clean["source_row"] == int(value)
    assert validate_row(ORGS, {"external_id": "o", "name": "n", "kind": "sme", "source_row": -1})[1] == [
        ("source_row", "-1 is out of range 0..")
    ]
