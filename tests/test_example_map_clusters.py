"""The Python-API example examples/map_clusters.py runs and writes what it promises."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

import innoweave

_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "map_clusters.py"
_spec = importlib.util.spec_from_file_location("example_map_clusters", _SCRIPT)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

SEED = 2
FILES = ("communities.csv", "policy_targets.csv", "centrality.csv", "spatial_clusters.csv",
         "spatial_points.csv", "spatial_clusters.geojson", "specialisation.csv")  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clusters")
    assert example.main(["--quick", "--seed", str(SEED), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def orgs():
    """The organisations of the example's ecosystem (--quick: 200 SMEs)."""
    return innoweave.synthesize(n_smes=200, seed=SEED).organisations


def test_writes_every_table(run):
    for name in FILES:
        assert (run / name).stat().st_size > 0, name


def test_communities_account_for_every_linked_organisation(run, orgs):
    centrality = pd.read_csv(run / "centrality.csv", index_col="external_id")
    communities = pd.read_csv(run / "communities.csv")
    assert set(centrality.index) == set(orgs["external_id"])  # one row per organisation
    assert len(communities) >= 2 and communities["community"].is_unique
    assert (communities["size"] >= 2).all()
    inside = centrality[centrality["community"] >= 0]
    assert communities["size"].sum() == len(inside)
    sizes = inside["community"].value_counts()
    assert communities.set_index("community")["size"].to_dict() == sizes.to_dict()
    assert communities["dominant_region_share"].between(0, 1, inclusive="right").all()
    # the strongest first, and regions named by NUTS-2 (each synthetic region its own)
    assert communities["internal_weight"].is_monotonic_decreasing
    assert communities["dominant_region"].isin(orgs["region_code"].str[:4]).all()
    assert communities["dominant_region"].nunique() > 1


def test_policy_targets_are_the_smes_outside_the_network(run, orgs):
    targets = pd.read_csv(run / "policy_targets.csv", index_col="external_id")
    centrality = pd.read_csv(run / "centrality.csv", index_col="external_id")
    smes = set(orgs.loc[orgs["kind"] == "sme", "external_id"])
    assert set(targets.index) <= smes and set(targets["status"]) == {"isolated", "peripheral"}
    isolated = targets[targets["status"] == "isolated"]
    assert (isolated["degree"] == 0).all() and (isolated["community"] == -1).all()
    assert (targets.loc[targets["status"] == "peripheral", "degree"] > 0).all()
    unlinked = centrality[(centrality["kind"] == "sme") & (centrality["degree"] == 0)]
    assert set(unlinked.index) == set(isolated.index)


def test_spatial_clusters_place_every_sme(run, orgs):
    points = pd.read_csv(run / "spatial_points.csv")
    clusters = pd.read_csv(run / "spatial_clusters.csv")
    assert sorted(points["external_id"]) == sorted(orgs.loc[orgs["kind"] == "sme", "external_id"])
    assert len(clusters) >= 1 and (points["cluster"] >= -1).all()
    counts = points.loc[points["cluster"] >= 0, "cluster"].value_counts().to_dict()
    assert clusters.set_index("cluster")["size"].to_dict() == counts
    assert (clusters["radius_km"] >= 0).all()
    geojson = json.loads((run / "spatial_clusters.geojson").read_text())
    kinds = pd.Series([f["properties"]["feature"] for f in geojson["features"]]).value_counts()
    assert geojson["type"] == "FeatureCollection"
    assert kinds["organisation"] == len(points) and kinds["cluster_outline"] == len(clusters)


def test_specialisation_shows_the_registered_clusters(run):
    lq = pd.read_csv(run / "specialisation.csv")
    frames = innoweave.synthesize(n_smes=200, seed=SEED)
    firms = frames.organisations[frames.organisations["kind"].isin(["sme", "large_firm"])]
    assert lq["establishments"].sum() == len(firms)
    assert lq["employment"].sum() == pytest.approx(firms["employees"].sum())
    assert (lq["lq"] >= 0).all()
    # the generator puts cluster members in the cluster's region and sector
    keyed = lq.set_index(["region", "cluster"])["lq"]
    for cluster in frames.clusters.itertuples():
        assert keyed[(cluster.region_code, cluster.sector)] > 1, cluster.name


def test_prints_the_summary(tmp_path, capsys):
    example.main(["--quick", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    for part in ("212 organisations (200 SMEs)", "collaboration communities", "Strongest",
                 "isolated", "spatial clusters hold", "Specialisations", "Registered clusters"):  # fmt: skip
        assert part in text, part


def test_same_seed_same_output_and_another_seed_differs(run, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    example.main(["--quick", "--seed", str(SEED), "--out", str(again)])
    example.main(["--quick", "--seed", str(SEED + 1), "--out", str(other)])
    for name in FILES:
        assert (again / name).read_bytes() == (run / name).read_bytes(), name
    assert (other / "centrality.csv").read_bytes() != (run / "centrality.csv").read_bytes()


def test_higher_topic_similarity_gives_tighter_spatial_clusters(run, tmp_path):
    example.main(
        ["--quick", "--seed", str(SEED), "--min-similarity", "0.5", "--out", str(tmp_path)]
    )
    loose = pd.read_csv(run / "spatial_points.csv")
    tight = pd.read_csv(tmp_path / "spatial_points.csv")
    assert (tight["cluster"] >= 0).sum() < (loose["cluster"] >= 0).sum()
