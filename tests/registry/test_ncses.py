"""NCSES tables: cell parsing, values read from the CSVs, aggregation, fallback, bad tables."""

from __future__ import annotations

import math
import shutil

import pytest

from innoweave.registry.ncses import (
    SIZE_CLASSES,
    NcsesFormatError,
    embedded_shares,
    load_ncses_shares,
    parse_cell,
    read_ncses_tables,
)

TABLES = "ncses_abs_innovation_by_company_size"


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("['    57.5 ', '&nbsp;']", 57.5),
        ("['    1,989,523 ', '&nbsp;']", 1989523.0),
        ("['29.9', 'r']", 29.9),
        ("42.3", 42.3),
        (43.0, 43.0),
        (7, 7.0),
    ],
)
def test_parse_cell(cell, value):
    assert parse_cell(cell) == value


@pytest.mark.parametrize("cell", ["['&nbsp;', '&nbsp;']", "&nbsp;", "", None, float("nan"), "[]"])
def test_parse_cell_empty(cell):
    assert math.isnan(parse_cell(cell))


@pytest.mark.parametrize("cell", ["['57.5'", "n/a", "['abc', '&nbsp;']"])
def test_parse_cell_rejects_garbage(cell):
    with pytest.raises(ValueError, match="cell"):
        parse_cell(cell)


def test_values_read_from_the_csvs(data_dir):
    shares = load_ncses_shares(data_dir)
    assert shares.source.endswith(TABLES)
    # table 4444 (factors interfering with innovation, innovating companies)
    assert shares["all"].barriers["internal_finance"] == pytest.approx(0.575)
    assert shares["micro"].barriers["internal_finance"] == pytest.approx(0.586)
    assert shares["large"].barriers["internal_finance"] == pytest.approx(0.430)
    assert shares["small"].barriers["skilled_employees"] == pytest.approx(0.646)
    assert shares["medium"].barriers["government_grants"] == pytest.approx(0.176)
    # table 4445 (non-innovating companies that considered innovating)
    assert shares["micro"].barriers_non_innovating["credit"] == pytest.approx(0.629)
    # table 4446 (cooperation partners, global)
    assert shares["micro"].cooperation["university"] == pytest.approx(0.078)
    assert shares["large"].cooperation["any"] == pytest.approx(0.534)
    # table 2609, banded: micro ~ (1,007,148 + 411,068) / (2,615,093 + 885,880) (rounded bands)
    assert shares["all"].innovating == pytest.approx(0.432)
    assert shares["micro"].innovating == pytest.approx((1007148 + 411068) / (2615093 + 885880), abs=5e-4)
    assert shares["micro"].companies == 2615093 + 885880
    # table 11259 (IP), banded: medium trademark weighted by company counts
    assert shares["all"].ip["patent"] == pytest.approx(0.016)
    expected = (15.8 * 115591 + 20.0 * 63969) / (115591 + 63969) / 100
    assert shares["medium"].ip["trademark"] == pytest.approx(expected)
    # table 7459 (government programmes)
    assert shares["all"].government_support["tax_credit"] == pytest.approx(0.039)
    assert shares["large"].government_support["tax_credit"] > shares["micro"].government_support["tax_credit"]


def test_unions_and_views(data_dir):
    shares = load_ncses_shares(data_dir)
    for cls in SIZE_CLASSES:
        coop = shares[cls].cooperation
        parts = [coop[k] for k in ("university", "public_research", "private_research")]
        assert max(parts) <= coop["university_research"] <= sum(parts)
        assert coop["firms"] <= coop["any"]
    assert shares.innovating["large"] == shares["large"].innovating
    assert sum(shares.size_mix().values()) == pytest.approx(1.0)
    frame = shares.to_frame()
    assert set(frame["size_class"]) == {"all", *SIZE_CLASSES}
    assert frame["share"].between(0, 1).all()
    with pytest.raises(KeyError, match="unknown size class 'tiny'"):
        shares["tiny"]


def test_embedded_values_match_the_tables(data_dir):
    parsed = load_ncses_shares(data_dir).to_frame()
    embedded = embedded_shares().to_frame()
    assert len(parsed) == len(embedded)
    assert (parsed["share"] - embedded["share"]).abs().max() < 1e-4


def test_falls_back_to_embedded_values_without_the_folder(tmp_path):
    shares = load_ncses_shares(tmp_path / "nowhere")
    assert shares.source == "embedded"
    assert shares["micro"].barriers["internal_finance"] == pytest.approx(0.586)
    assert shares["large"].barriers["internal_finance"] == pytest.approx(0.430)


def test_scraped_copies_2626_and_2632_give_the_same_values(data_dir, tmp_path):
    folder = tmp_path / TABLES
    shutil.copytree(data_dir / TABLES, folder)
    (folder / "table_4444.csv").unlink()
    (folder / "table_4446.csv").unlink()
    shares = read_ncses_tables(folder)
    assert shares.tables["barriers"] == "table_2626.csv"
    assert shares.tables["cooperation"] == "table_2632.csv"
    clean = load_ncses_shares(data_dir)
    for cls in SIZE_CLASSES:
        assert shares[cls].barriers == pytest.approx(clean[cls].barriers)
        assert shares[cls].cooperation == pytest.approx(clean[cls].cooperation)


def test_malformed_tables_raise_naming_file_and_row(data_dir, tmp_path):
    folder = tmp_path / TABLES
    shutil.copytree(data_dir / TABLES, folder)
    path = folder / "table_4444.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if "Lack of credit" not in line) + "\n")
    with pytest.raises(NcsesFormatError, match=r"table_4444.csv: row 'Lack of credit or private equity'… missing"):
        load_ncses_shares(tmp_path)
    (folder / "table_11259.csv").unlink()
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NcsesFormatError, match="table_11259.csv"):
        read_ncses_tables(folder)
    with pytest.raises(NcsesFormatError, match="not a folder"):
        read_ncses_tables(tmp_path / "missing")
