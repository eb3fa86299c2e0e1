"""Reproducing U.S. Cluster Mapping: the published state file, and other region levels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.clusters import LocationQuotients, StrongClusters, read_uscmp, reproduce_uscmp
from innoweave.clusters.specialisation import USCMP_COLUMNS

runner = CliRunner()


def test_reproduces_published_state_file(uscmp_dir):
    data = read_uscmp(uscmp_dir / "state_cluster_2016.csv")
    result, report = reproduce_uscmp(data)
    assert result == {
        "rows": 3350,
        "lq_within_1e-6": 3350,
        "lq_max_rel_error": pytest.approx(result["lq_max_rel_error"]),
        "flags": {
            "compared": 2550,
            "strong": 2550,
            "strong10": 2550,
            "significant": 2550,
            "qualifying": 2550,
        },
    }
    assert result["lq_max_rel_error"] < 1e-6
    assert not report
    summary = StrongClusters().fit(LocationQuotients(columns=USCMP_COLUMNS).fit(data)).summary()
    assert (summary["strong"], summary["strong10"]) == (512, 209)


def test_cli_prints_the_agreed_json_shape(uscmp_dir):
    out = runner.invoke(
        app,
        [
            "clusters",
            "reproduce-uscmp",
            "--data",
            str(uscmp_dir / "state_cluster_2016.csv"),
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert list(result) == ["rows", "lq_within_1e-6", "lq_max_rel_error", "flags"]
    assert list(result["flags"]) == ["compared", "strong", "strong10", "significant", "qualifying"]
    assert result["lq_within_1e-6"] == 3350 and result["flags"]["strong"] == 2550


def _publish(rows: pd.DataFrame, national: pd.Series, reference_flags) -> pd.DataFrame:
    """Add the project's published columns to region × cluster rows, computed independently."""
    rows = rows.copy()
    type_total = rows.groupby(["region_code_t", "cluster_type"])["emp_tl"].transform("sum")
    nat = rows["cluster_code_t"].map(national)
    nat_type = rows["cluster_type"].map(
        national.groupby(
            rows.drop_duplicates("cluster_code_t").set_index("cluster_code_t")["cluster_type"]
        ).sum()
    )
    rows["cluster_emp_per_tf"] = rows["emp_tl"] / nat
    rows["lq_tf"] = (rows["emp_tl"] / type_total) / (nat / nat_type)
    traded = rows["cluster_type"] == "traded"
    generic = rows.rename(
        columns={
            "cluster_code_t": "cluster",
            "emp_tl": "employment",
            "est_tl": "establishments",
            "lq_tf": "lq",
        }
    )
    flags = reference_flags(generic[traded])
    for flag in ("strong", "strong10", "significant", "qualifying"):
        rows[f"{flag}_b"] = pd.Series(pd.NA, index=rows.index, dtype=object)
        rows.loc[traded, f"{flag}_b"] = np.where(flags[flag], "TRUE", "FALSE")
    return rows


def _synthetic_level(rng: np.random.Generator, n_regions: int) -> tuple[pd.DataFrame, pd.Series]:
    clusters = [(str(c), "traded" if c <= 8 else "local") for c in range(1, 12)]
    rows = [
        {
            "region_code_t": f"{r:05d}",
            "region_name_t": f"Area {r}",
            "cluster_code_t": code,
            "cluster_name_t": f"Cluster {code}",
            "cluster_type": kind,
            "emp_tl": 0 if rng.random() < 0.08 else int(rng.lognormal(6, 1.5)),
            "est_tl": 0,
        }
        for r in range(n_regions)
        for code, kind in clusters
    ]
    rows = pd.DataFrame(rows)
    rows["est_tl"] = np.where(
        rows["emp_tl"] > 0,
        np.maximum(1, (rows["emp_tl"] / rng.uniform(5, 40, len(rows))).astype(int)),
        0,
    )
    # national totals include areas outside the file (as the project's do)
    national = rows.groupby("cluster_code_t")["emp_tl"].sum() + rng.integers(0, 5000, len(clusters))
    return rows, national


def test_another_region_level_synthetic(reference_flags, tmp_path):
    """A county-like level: 120 areas with the same columns; LQs and flags all reproduce."""
    rows, national = _synthetic_level(np.random.default_rng(11), 120)
    published = _publish(rows, national, reference_flags)
    path = tmp_path / "county_cluster.csv"
    published.to_csv(path, index=False)
    result, _ = reproduce_uscmp(read_uscmp(path))
    n_traded = int((published["cluster_type"] == "traded").sum())
    assert result["rows"] == len(published) == result["lq_within_1e-6"]
    assert result["flags"] == {
        "compared": n_traded,
        **dict.fromkeys(("strong", "strong10", "significant", "qualifying"), n_traded),
    }
    assert "notes" not in result


def test_type_from_traded_flag_when_no_type_column(uscmp_dir):
    data = read_uscmp(uscmp_dir / "state_cluster_2016.csv").drop(columns="cluster_type")
    result, _ = reproduce_uscmp(data)
    assert result["lq_within_1e-6"] == 3350 and result["flags"]["strong"] == 2550


def test_a_file_with_two_years_is_compared_year_by_year(reference_flags):
    rng = np.random.default_rng(13)
    years = []
    for year in (2015, 2016):
        rows, national = _synthetic_level(rng, 30)
        years.append(_publish(rows, national, reference_flags).assign(year_t=year))
    result, _ = reproduce_uscmp(pd.concat(years, ignore_index=True))
    n_traded = 2 * 30 * 8
    assert result["rows"] == result["lq_within_1e-6"] == 2 * 30 * 11
    assert result["flags"]["compared"] == result["flags"]["strong"] == n_traded


def test_too_few_regions_flags_not_computed_and_said(reference_flags, tmp_path):
    rows, national = _synthetic_level(np.random.default_rng(12), 6)
    path = tmp_path / "division_cluster.csv"
    _publish(rows, national, reference_flags).to_csv(path, index=False)
    out = runner.invoke(app, ["clusters", "reproduce-uscmp", "--data", str(path), "--json"])
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["lq_within_1e-6"] == result["rows"] == len(rows)
    assert result["flags"]["compared"] == 0
    assert "fewer than 10 regions" in result["notes"][0]
    assert "fewer than 10 regions" in out.stderr


def test_aggregated_states_reproduce(uscmp_dir, reference_flags):
    """States summed into 25 pairs (a coarser level made from the real rows)."""
    states = read_uscmp(uscmp_dir / "state_cluster_2016.csv")
    national = (
        (states["emp_tl"] / states["cluster_emp_per_tf"])
        .groupby(states["cluster_code_t"])
        .median()
        .round()
    )
    codes = sorted(states["region_code_t"].unique())
    pair = {code: f"P{i // 2:02d}" for i, code in enumerate(codes)}
    grouped = (
        states.assign(region_code_t=states["region_code_t"].map(pair))
        .groupby(
            ["region_code_t", "cluster_code_t", "cluster_name_t", "cluster_type"], as_index=False
        )[["emp_tl", "est_tl"]]
        .sum()
    )
    national.index = national.index.astype(str)
    published = _publish(grouped, national, reference_flags)
    result, _ = reproduce_uscmp(published)
    assert result["rows"] == result["lq_within_1e-6"] == 25 * 67
    assert result["flags"]["compared"] == 25 * 51
    assert all(
        result["flags"][f] == 25 * 51 for f in ("strong", "strong10", "significant", "qualifying")
    )


def test_bad_files_exit_2(tmp_path):
    missing = runner.invoke(
        app, ["clusters", "reproduce-uscmp", "--data", str(tmp_path / "nope.csv"), "--json"]
    )
    assert missing.exit_code == 2 and "cannot be read" in " ".join(missing.stderr.split())
    no_lq = tmp_path / "no_lq.csv"
    pd.DataFrame({"region_code_t": ["01"], "cluster_code_t": [1], "emp_tl": [5]}).to_csv(
        no_lq, index=False
    )
    out = runner.invoke(app, ["clusters", "reproduce-uscmp", "--data", str(no_lq)])
    assert out.exit_code == 2 and "lq_tf" in out.stderr
