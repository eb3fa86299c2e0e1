"""Crosswalks: the U.S. definitions, a NACE-shaped drop-in, and codes that do not map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from innoweave.clusters import ClusterInputError, Crosswalk, LocationQuotients

NACE = pd.DataFrame(
    {
        "nace_r2": ["C29.1", "C29.3", "C21.1", "C21.2", "G47.1", "O84.1"],
        "cluster_id": ["auto", "auto", "pharma", "pharma", "retail", "NA"],
        "label": [
            "Automotive",
            "Automotive",
            "Pharmaceuticals",
            "Pharmaceuticals",
            "Local retail",
            "Public administration",
        ],
        "kind": ["Traded", "Traded", "Traded", "Traded", "Local", "Local"],
    }
)


@pytest.fixture
def nace(tmp_path) -> Crosswalk:
    path = tmp_path / "nace_to_cluster.csv"
    NACE.to_csv(path, index=False)
    return Crosswalk.from_csv(
        path, code="nace_r2", cluster="cluster_id", cluster_name="label", type="kind"
    )


def test_uscmp_definitions(uscmp_dir):
    walk = Crosswalk.uscmp_2016(uscmp_dir.parent)
    assert len(walk.table) == 992
    assert walk.table["type"].value_counts().to_dict() == {"traded": 680, "local": 312}
    mapped = walk.map(pd.Series([336411, "336412", "999999"]))
    assert mapped["cluster"].tolist()[:2] == ["1", "1"]
    assert mapped["cluster_name"].iloc[0] == "Aerospace Vehicles and Defense"
    assert mapped["known"].tolist() == [True, True, False]
    assert walk.table["cluster"].isna().sum() == 6  # government services and NA: known, no cluster


def test_industry_rows_roll_up_and_problems_are_counted(nace):
    rows = pd.DataFrame(
        {
            "region": ["DE1", "DE1", "DE1", "DE2", "DE2", "DE2", "DE2", "DE2"],
            "code": ["C29.1", "C29.3", "C21.1", "C29.1", "C21.2", "G47.1", "O84.1", "X99"],
            "employment": [100, 50, 10, 20, 80, 300, 40, 7],
            "establishments": [5, 2, 1, 1, np.nan, 60, 3, 1],
        }
    )
    out, report = nace.aggregate(rows)
    table = out.set_index(["region", "cluster"])
    assert (
        table.loc[("DE1", "auto"), "employment"] == 150
        and table.loc[("DE1", "auto"), "establishments"] == 7
    )
    assert table.loc[("DE2", "retail"), "type"] == "local"
    assert report.counts["codes_absent_from_crosswalk"] == 1 and report.examples[
        "codes_absent_from_crosswalk"
    ] == ["X99"]
    assert report.counts["codes_without_cluster"] == 1 and report.examples[
        "codes_without_cluster"
    ] == ["O84.1"]
    assert any("employment 7" in note for note in report.notes)
    assert report.counts["missing_establishments_industry_rows"] == 1
    assert np.isnan(table.loc[("DE2", "pharma"), "establishments"])  # undecided, not a partial sum
    lq = LocationQuotients().fit(out).table_.set_index(["region", "cluster"])["lq"]
    assert lq[("DE1", "auto")] == pytest.approx((150 / 160) / (170 / 260))


def test_duplicated_industry_rows(nace):
    rows = pd.DataFrame(
        {
            "region": ["DE1", "DE1", "DE1"],
            "code": ["C29.1", "C29.1", "C21.1"],
            "employment": [100, 100, 10],
            "establishments": [5, 5, 1],
        }
    )
    out, report = nace.aggregate(rows)
    assert report.counts["duplicate_rows_identical"] == 1
    assert out.set_index("cluster").loc["auto", "employment"] == 100
    clash = rows.assign(employment=[100, 60, 10])
    with pytest.raises(
        ClusterInputError, match=r"region × code.*\('DE1', 'C29.1'\).*file lines \[2, 3\]"
    ):
        nace.aggregate(clash)
    summed, report = nace.aggregate(clash, duplicates="sum")
    assert summed.set_index("cluster").loc["auto", "employment"] == 160
    assert report.counts["duplicate_keys_summed"] == 1


def test_bad_crosswalks_are_refused(tmp_path):
    conflicting = NACE.copy()
    conflicting.loc[2, "nace_r2"] = "C29.1"
    path = tmp_path / "bad.csv"
    conflicting.to_csv(path, index=False)
    with pytest.raises(ClusterInputError, match=r"1 code\(s\) map to several clusters.*C29.1"):
        Crosswalk.from_csv(
            path, code="nace_r2", cluster="cluster_id", cluster_name="label", type="kind"
        )
    with pytest.raises(ClusterInputError, match="missing column"):
        Crosswalk.from_csv(path)
    with pytest.raises(FileNotFoundError):
        Crosswalk.uscmp_2016(tmp_path)


def test_codes_read_as_numbers_still_match(nace):
    walk = Crosswalk(
        pd.DataFrame(
            {"code": [311111], "cluster": ["9"], "cluster_name": ["Food"], "type": ["Traded"]}
        )
    )
    assert walk.map(pd.Series([311111.0]))["cluster"].tolist() == ["9"]
