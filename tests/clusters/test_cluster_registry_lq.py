"""Specialisation of the registry's own firms: region × sector rows, LQs, the CLI's --registry."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import innoweave
from innoweave.cli import app
from innoweave.clusters import (
    REGISTRY_COLUMNS,
    ClusterInputError,
    LocationQuotients,
    registry_employment,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def frames():
    return innoweave.synthesize(n_smes=500, seed=3)


def firms_of(frames):
    orgs = frames.organisations
    return orgs[orgs["kind"].isin(["sme", "large_firm", "company"])]


def test_rows_sum_the_firms_by_region_and_sector(frames):
    rows, report = registry_employment(frames)
    firms = firms_of(frames)
    sector = firms["sector_codes"].map(lambda c: c[0].split(".")[0])
    expected = firms.assign(sector=sector).groupby(["region_code", "sector"])["employees"].agg(["sum", "size"])
    got = rows.set_index(["region", "sector"])
    assert len(got) == len(expected) and not report.counts
    assert np.allclose(got.loc[expected.index, "employment"], expected["sum"])
    assert (got.loc[expected.index, "establishments"] == expected["size"]).all()
    assert (rows["synthetic_share"] == 1.0).all()  # every synthetic firm's size is drawn
    lq = LocationQuotients(columns=REGISTRY_COLUMNS).fit(rows).table_
    # the LQ of one row by hand: its share of the region's employment over the sector's share
    r = lq.iloc[0]
    region = rows[rows["region"] == r["region"]]["employment"].sum()
    sector_total = rows[rows["sector"] == r["cluster"]]["employment"].sum()
    assert r["lq"] == pytest.approx((r["employment"] / region) / (sector_total / rows["employment"].sum()))


def test_establishments_region_prefix_and_kinds(frames):
    counts, _ = registry_employment(frames, measure="establishments")
    assert (counts["employment"] == counts["establishments"]).all()
    assert counts["establishments"].sum() == len(firms_of(frames))
    nuts1, _ = registry_employment(frames, region_prefix=3)
    assert set(nuts1["region"]) == {r[:3] for r in firms_of(frames)["region_code"]}
    assert nuts1["employment"].sum() == pytest.approx(registry_employment(frames)[0]["employment"].sum())
    smes, _ = registry_employment(frames, kinds="sme")
    assert smes["establishments"].sum() == (frames.organisations["kind"] == "sme").sum()


def test_firms_without_what_is_needed_are_counted_not_dropped_silently(frames):
    damaged = innoweave.synthesize(n_smes=200, seed=4)
    orgs = damaged.organisations
    firm_rows = orgs.index[orgs["kind"].isin(["sme", "large_firm"])]
    orgs.loc[firm_rows[:3], "region_code"] = None
    orgs.loc[firm_rows[3:5], "sector_codes"] = pd.Series([[], []], index=firm_rows[3:5])
    orgs.loc[firm_rows[5:9], "employees"] = np.nan
    rows, report = registry_employment(damaged)
    assert report.counts == {"firms_without_region": 3, "firms_without_sector": 2, "firms_without_employees": 4}
    assert report.examples["firms_without_region"] == orgs.loc[firm_rows[:3], "external_id"].tolist()
    assert any("no employee count" in note and "establishments" in note for note in report.notes)
    assert rows["establishments"].sum() == len(firm_rows) - 9
    counted, report = registry_employment(damaged, measure="establishments")
    assert "firms_without_employees" not in report.counts and counted["establishments"].sum() == len(firm_rows) - 5


def test_a_registry_without_usable_firms_says_why():
    frames = innoweave.synthesize(n_smes=50, seed=0)
    frames.organisations["sector_codes"] = [[] for _ in range(len(frames.organisations))]
    with pytest.raises(ClusterInputError, match=r"no firm has a region, a sector code .* no sector code"):
        registry_employment(frames)
    only_research = frames.organisations["kind"].isin(["university"])
    frames.organisations = frames.organisations[only_research]
    with pytest.raises(ClusterInputError, match="the registry has none"):
        registry_employment(frames)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"measure": "jobs"}, ValueError, "measure must be one of employment, establishments, not 'jobs'"),
        ({"region_prefix": 0}, ValueError, "region_prefix"),
        ({"kinds": ["firm"]}, ValueError, "firm"),
    ],
)
def test_bad_settings(frames, kwargs, error, message):
    with pytest.raises(error, match=message):
        registry_employment(frames, **kwargs)


def test_refuses_anything_but_frames():
    with pytest.raises(TypeError, match="registry_employment takes RegistryFrames"):
        registry_employment(pd.DataFrame())


def test_cli_lq_from_the_registry(tmp_path):
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.writer import write_frames

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    frames = innoweave.synthesize(n_smes=300, seed=5)
    write_frames(engine, frames)
    engine.dispose()
    out = tmp_path / "lq.csv"
    result = runner.invoke(app, ["clusters", "lq", "--registry", "--database-url", url, "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows, _ = registry_employment(frames)
    assert payload["rows"] == len(rows) and payload["regions"] == rows["region"].nunique()
    table = pd.read_csv(out)
    assert np.isclose(table["lq"].max(), payload["top"][0]["lq"])
    counts = runner.invoke(app, ["clusters", "lq", "--registry", "--database-url", url, "--measure",
                                 "establishments", "--region-prefix", "3", "--json"])  # fmt: skip
    assert counts.exit_code == 0, counts.output
    assert json.loads(counts.stdout)["regions"] == len({r[:3] for r in frames.organisations["region_code"]})


def test_cli_lq_needs_one_source(tmp_path):
    flat = lambda text: " ".join(text.split())  # noqa: E731
    neither = runner.invoke(app, ["clusters", "lq"])
    assert neither.exit_code == 2 and "give --data FILE (region × cluster rows) or --registry" in flat(neither.stderr)
    both = runner.invoke(app, ["clusters", "lq", "--registry", "--data", str(tmp_path / "x.csv")])
    assert both.exit_code == 2 and "not both" in flat(both.stderr)
    bad = runner.invoke(app, ["clusters", "lq", "--registry", "--measure", "jobs"])
    assert bad.exit_code == 2 and "--measure must be employment or establishments" in flat(bad.stderr)
