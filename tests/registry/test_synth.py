"""The synthetic ecosystem: composition, history rules, reproducibility, registry and CLI."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.registry.frames import load_frames
from innoweave.registry.kinds import OrgKind
from innoweave.registry.ncses import embedded_shares
from innoweave.registry.stages import STAGE_ORDER, stage_distribution
from innoweave.registry.synth import TOPICS, synthesize, synthetic_regions
from innoweave.registry.writer import write_frames

VOCABULARY = {t for terms in TOPICS.values() for t in terms}


@pytest.fixture(scope="module")
def eco():
    return synthesize(n_smes=3000, seed=5, shares=embedded_shares())


def test_composition(eco):
    orgs = eco.organisations
    kinds = orgs["kind"].value_counts()
    assert kinds["sme"] == 3000
    for kind in ("large_firm", "university", "research_institute", "intermediary", "government"):
        assert kinds[kind] >= 1, kind
    assert orgs["external_id"].is_unique and orgs["name"].is_unique
    assert (orgs["source"] == "synthetic").all()
    assert orgs["synthetic_fields"].map(len).gt(0).all()
    assert orgs["latitude"].between(-90, 90).all() and orgs["longitude"].between(-180, 180).all()
    assert orgs["region_code"].str.fullmatch(r"XS\d{3}").all()
    smes = orgs[orgs["kind"] == "sme"]
    assert smes["employees"].max() < 250
    assert (orgs.loc[orgs["kind"] == "large_firm", "employees"] >= 250).all()
    assert set(smes["stage"]) == set(STAGE_ORDER)
    assert abs(sum(stage_distribution(eco).values()) - 1) < 1e-9
    for field in ("employees", "stage", "attributes.credit_access", "attributes.talent",
                  "attributes.ip_awareness", "attributes.barriers", "capabilities"):  # fmt: skip
        assert smes["synthetic_fields"].map(lambda f, x=field: x in f).all(), field


def test_clusters_and_text_profiles(eco):
    orgs, clusters = eco.organisations, eco.clusters
    assert len(clusters) >= 3 and clusters["external_id"].is_unique
    members = orgs["cluster"].dropna()
    assert set(members) <= set(clusters["external_id"])
    # a cluster's members are in its region and its sector
    merged = orgs.dropna(subset=["cluster"]).merge(clusters, left_on="cluster", right_on="external_id",
                                                   suffixes=("", "_c"))  # fmt: skip
    assert (merged["region_code"] == merged["region_code_c"]).all()
    assert (merged["sector_codes"].map(lambda s: s[0]) == merged["sector"]).all()
    firms = orgs[orgs["kind"].isin(["sme", "large_firm"])]
    assert 0.3 < firms["cluster"].notna().mean() < 0.8
    assert firms["keywords"].map(lambda k: len(k) >= 4 and set(k) <= VOCABULARY).all()
    assert firms["capabilities"].map(lambda c: any(t in c for t in VOCABULARY)).all()
    # firms of one cluster share vocabulary more than firms of different clusters
    kw = firms.dropna(subset=["cluster"]).groupby("cluster")["keywords"].sum().map(Counter)
    top = [set(dict(c.most_common(8))) for c in kw]
    assert len(top[0] & top[0]) > len(top[0] & top[-1]) or len(top) == 1


def test_collaboration_history(eco):
    orgs, projects, parts = eco.organisations, eco.projects, eco.participations
    assert len(projects) == 600
    assert projects["external_id"].is_unique and parts["external_id"].is_unique
    assert set(parts["project_external_id"]) == set(projects["external_id"])
    assert set(parts["org_external_id"]) <= set(orgs["external_id"])
    assert not parts.duplicated(["project_external_id", "org_external_id"]).any()
    roles = parts.groupby("project_external_id")["role"].apply(lambda r: (r == "coordinator").sum())
    assert (roles == 1).all()
    start = pd.to_datetime(projects["start_date"])
    end = pd.to_datetime(projects["end_date"])
    assert start.dt.year.between(2014, 2023).all() and (end > start).all()
    assert (projects["public_funding"] <= projects["budget"]).all()
    sums = parts.groupby("project_external_id")["public_contribution"].sum()
    funding = projects.set_index("external_id")["public_funding"]
    assert np.allclose(sums.sort_index(), funding.loc[sums.sort_index().index], rtol=1e-3)
    assert projects["title"].map(lambda t: any(v in t for v in VOCABULARY)).all()

    info = orgs.set_index("external_id")[["kind", "cluster", "region_code"]]
    pk = parts[["project_external_id", "org_external_id"]].join(info, on="org_external_id")
    # firms work with research partners: most projects include a university or institute
    research = pk["kind"].isin(["university", "research_institute"])
    assert research.groupby(pk["project_external_id"]).any().mean() > 0.5
    # partners in the same cluster / region far more often than chance
    pairs = pk.merge(pk, on="project_external_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["org_external_id_a"] < pairs["org_external_id_b"]]
    firm_pairs = pairs[pairs["kind_a"].isin(["sme", "large_firm"]) & pairs["kind_b"].isin(["sme", "large_firm"])]
    same_cluster = (firm_pairs["cluster_a"].notna() & (firm_pairs["cluster_a"] == firm_pairs["cluster_b"])).mean()
    same_region = (firm_pairs["region_code_a"] == firm_pairs["region_code_b"]).mean()
    firms = orgs[orgs["kind"].isin(["sme", "large_firm"])]
    chance_region = (firms["region_code"].value_counts(normalize=True) ** 2).sum()
    assert same_region > 2 * chance_region
    assert same_cluster > 0.2
    # repeat partners: some pairs of organisations work together in several projects
    repeats = pairs.groupby(["org_external_id_a", "org_external_id_b"]).size()
    assert (repeats >= 2).sum() > 20
    # innovating firms that cooperate with research take part more often
    active = set(parts["org_external_id"])
    smes = orgs[orgs["kind"] == "sme"]
    coop = smes["attributes"].map(lambda a: a["cooperates_research"])
    rate_coop = smes.loc[coop, "external_id"].isin(active).mean()
    rate_other = smes.loc[~coop, "external_id"].isin(active).mean()
    assert rate_coop > 1.5 * rate_other


def test_same_seed_same_frames_other_seed_other_frames():
    first = synthesize(n_smes=800, seed=5, shares=embedded_shares())
    again = synthesize(n_smes=800, seed=5, shares=embedded_shares())
    for name in ("organisations", "projects", "participations", "clusters"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name), obj=name)
    other = synthesize(n_smes=800, seed=6, shares=embedded_shares())
    assert not other.organisations["employees"].equals(first.organisations["employees"])
    assert not other.participations["org_external_id"].equals(first.participations["org_external_id"])
    assert first.settings["seed"] == 5 and first.settings["n_smes"] == 800


def test_small_ecosystems_and_options():
    tiny = synthesize(n_smes=1, seed=0, n_regions=1, n_clusters=0, shares=embedded_shares())
    assert (tiny.organisations["kind"] == OrgKind.SME.value).sum() == 1
    assert tiny.organisations["cluster"].isna().all() and tiny.clusters.empty
    assert len(tiny.projects) == 5
    custom = synthesize(n_smes=200, seed=1, n_regions=5, n_clusters=2, years=(2020, 2021),
                        projects_per_sme=0.5, shares=embedded_shares())  # fmt: skip
    assert custom.organisations["region_code"].nunique() <= 5
    assert len(custom.clusters) == 2 and len(custom.projects) == 100
    assert pd.to_datetime(custom.projects["start_date"]).dt.year.isin([2020, 2021]).all()
    regions = synthetic_regions(12, seed=3)
    assert regions["code"].is_unique and len(regions) == 12
    assert regions["weight"].mean() == pytest.approx(1.0)


@pytest.mark.parametrize("n", [1, 12, 60, 90, 91, 250, 900])
def test_region_codes_form_a_nuts_hierarchy(n):
    codes = synthetic_regions(n, seed=0)["code"]
    assert codes.is_unique and codes.str.fullmatch(r"XS[1-9]\d{2}").all()
    nuts2 = codes.str[:4]
    # up to 90 regions each is its own NUTS-2 region, so "same region" at NUTS-2 (matching,
    # diagnosis peers) is not true of every pair; beyond, at most ten regions share one
    assert nuts2.nunique() == min(n, 90) if n <= 90 else nuts2.value_counts().max() <= 10
    # neighbouring grid cells (consecutive) share a NUTS-2 code: each code is one run
    runs = (nuts2 != nuts2.shift()).sum()
    assert runs == nuts2.nunique()
    assert synthetic_regions(12, seed=0)["code"].tolist()[:3] == ["XS100", "XS110", "XS120"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_smes": 0}, "n_smes must be at least 1, got 0"),
        ({"n_smes": -3}, "n_smes must be at least 1, got -3"),
        ({"n_smes": True}, "n_smes must be a whole number >= 1, got True"),
        ({"n_smes": np.True_}, "n_smes must be a whole number"),
        ({"n_smes": 10.0}, "n_smes must be a whole number >= 1, got 10.0"),
        ({"n_smes": "10"}, "n_smes must be a whole number >= 1, got '10'"),
        ({"n_smes": 10, "n_regions": 0}, "n_regions must be at least 1, got 0"),  # was: the default
        ({"n_smes": 10, "n_regions": 2.5}, "n_regions must be a whole number >= 1 or None, got 2.5"),
        ({"n_smes": 10, "n_regions": True}, "n_regions must be a whole number"),
        ({"n_smes": 10, "n_regions": 5000}, "n_regions must be between"),
        ({"n_smes": 10, "n_clusters": -1}, "n_clusters must be at least 0, got -1"),
        ({"n_smes": 10, "n_large": 1.5}, "n_large must be a whole number"),
        ({"n_smes": 10, "n_universities": -1}, "n_universities must be at least 0"),
        ({"n_smes": 10, "n_institutes": False}, "n_institutes must be a whole number"),
        ({"n_smes": 10, "n_intermediaries": -2}, "n_intermediaries must be at least 0"),
        ({"n_smes": 10, "years": (2023, 2014)}, "years must be"),
        ({"n_smes": 10, "years": (2020,)}, r"years must be a pair \(first, last\)"),
        ({"n_smes": 10, "years": (2020.5, 2022)}, r"years \(first\) must be a whole number >= 1800, got 2020.5"),
        ({"n_smes": 10, "years": (1500, 1600)}, r"years \(first\) must be at least 1800"),
        ({"n_smes": 10, "years": (2020, 99999)}, r"years \(last\) must be at most 2100"),
        ({"n_smes": 10, "cluster_membership": 1.5}, "cluster_membership"),
        ({"n_smes": 10, "cluster_membership": float("nan")}, "cluster_membership must be a finite number"),
        ({"n_smes": 10, "projects_per_sme": -1}, "projects_per_sme"),
        ({"n_smes": 10, "projects_per_sme": float("inf")}, "projects_per_sme must be a finite number at least 0, got inf"),
        ({"n_smes": 10, "projects_per_sme": float("nan")}, "projects_per_sme must be a finite number"),
        ({"n_smes": 10, "projects_per_sme": "1"}, "projects_per_sme must be a number, got '1'"),
        ({"n_smes": 10, "projects_per_sme": True}, "projects_per_sme must be a number, got True"),
        ({"n_smes": 10, "country": "germany"}, "country must be two capital letters"),
        ({"n_smes": 10, "country": 5}, "country must be two capital letters"),
        ({"n_smes": 10, "seed": -1}, "seed must be a whole number >= 0"),
        ({"n_smes": 10, "seed": 1.5}, "seed must be a whole number >= 0"),
        ({"n_smes": 10, "seed": True}, "seed must be a whole number >= 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesize(**{"seed": 0, **kwargs})


def test_numpy_whole_numbers_are_counts():
    frames = synthesize(n_smes=np.int64(20), n_regions=np.int32(3), seed=0)
    assert (frames.organisations["kind"] == OrgKind.SME.value).sum() == 20
    assert frames.organisations["region_code"].nunique() <= 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_regions": True}, "n_regions must be a whole number"),
        ({"n_regions": 3, "country": "x"}, "country must be two capital letters"),
        ({"n_regions": 3, "centre": (float("nan"), 10.0)}, "centre latitude must be a finite number"),
        ({"n_regions": 3, "centre": (51.0,)}, r"centre must be a pair \(latitude, longitude\)"),
    ],
)
def test_bad_region_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic_regions(**kwargs)


def test_writes_to_the_registry_and_reads_back(registry_engine):
    frames = synthesize(n_smes=150, seed=2, shares=embedded_shares())
    write_frames(registry_engine, frames)
    write_frames(registry_engine, frames)  # upsert: a second write changes nothing
    back = load_frames(registry_engine)
    assert back.counts() == frames.counts()
    assert len(back.clusters) == len(frames.clusters)
    org = back.organisations.set_index("external_id").loc["synthetic:sme:000001"]
    src = frames.organisations.set_index("external_id").loc["synthetic:sme:000001"]
    assert org["attributes"] == src["attributes"]
    assert org["synthetic_fields"] == src["synthetic_fields"]
    assert org["stage"] == src["stage"] and org["cluster"] == src["cluster"]


runner = CliRunner()


def _flat(text: str) -> str:
    """Rich wraps long messages; compare on single spaces."""
    return " ".join(text.split())


def test_cli_synth_and_complete(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = runner.invoke(app, ["synth", "--smes", "300", "--seed", "4", "--projects-per-sme", "0.5",
                                 "--first-year", "2018", "--json", "--database-url", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["seed"] == 4 and report["written"]["organisations"] > 300
    assert set(report["stage_distribution"]) == set(STAGE_ORDER)
    assert report["settings"]["years"] == [2018, 2023] and report["written"]["projects"] == 150
    stats = json.loads(runner.invoke(app, ["db", "stats", "--json", "--database-url", url]).stdout)
    assert stats["by_kind"]["sme"] == 300

    # a synthetic registry is already complete
    result = runner.invoke(app, ["complete", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["completed"] == 0


def test_cli_complete_fills_real_style_organisations(tmp_path):
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.frames import RegistryFrames

    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    upgrade(engine)
    orgs = pd.DataFrame({
        "external_id": ["cordis:1", "cordis:2", "cordis:3", "cordis:4"],
        "name": ["A GmbH", "B AG", "Uni C", "Ministry D"],
        "kind": ["sme", "large_firm", "university", "government"],
        "sme_flag": [True, False, None, None],
        "employees": [None, 900.0, None, None],
        "source": "cordis",
    })  # fmt: skip
    write_frames(engine, RegistryFrames(orgs))
    result = runner.invoke(app, ["complete", "--seed", "3", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["completed"] == 3 and report["completed_by_kind"] == {"sme": 1, "large_firm": 1,
                                                                        "university": 1}  # fmt: skip
    back = load_frames(engine).organisations.set_index("external_id")
    assert back.at["cordis:1", "employees"] < 250 and "employees" in back.at["cordis:1", "synthetic_fields"]
    assert back.at["cordis:2", "employees"] == 900 and "employees" not in back.at["cordis:2", "synthetic_fields"]
    assert back.at["cordis:2", "attributes"]["size_class"] == "large"
    assert back.at["cordis:4", "synthetic_fields"] == []
    # completing again draws nothing new
    again = json.loads(runner.invoke(app, ["complete", "--json", "--database-url", url]).stdout)
    assert again["completed"] == 0


def test_cli_bad_input(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = runner.invoke(app, ["synth", "--smes", "0", "--database-url", url])
    assert result.exit_code == 2 and "--smes must be at least 1" in _flat(result.output)
    result = runner.invoke(app, ["synth", "--smes", "5", "--first-year", "2020", "--last-year", "2019",
                                 "--database-url", url])  # fmt: skip
    assert result.exit_code == 2 and "must not precede --first-year" in _flat(result.output)
    result = runner.invoke(app, ["synth", "--smes", "5", "--first-year", "1500", "--database-url", url])
    assert result.exit_code == 2 and "--first-year must lie in 1800..2100, got 1500" in _flat(result.output)
    result = runner.invoke(app, ["complete", "--database-url", url])
    assert result.exit_code == 2 and "there is no registry at" in _flat(result.output)
    runner.invoke(app, ["db", "init", "--database-url", url])
    result = runner.invoke(app, ["complete", "--database-url", url])
    assert result.exit_code == 2 and "no organisations" in _flat(result.output)
