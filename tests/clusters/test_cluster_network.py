"""Collaboration-network communities on a planted registry, and on CORDIS where present."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from innoweave.clusters import CollaborationCommunities, project_bipartite
from innoweave.clusters.network import sampled_betweenness, structural_holes


def fit(frames, **options) -> CollaborationCommunities:
    return CollaborationCommunities(
        max_consortium=8, betweenness_samples=None, seed=4, **options
    ).fit(frames)


def weight(model: CollaborationCommunities, a: str, b: str) -> float:
    graph = model.graph_
    i, j = sorted(graph.nodes.get_indexer([a, b]))
    hit = (graph.source == i) & (graph.target == j)
    return float(graph.weight[hit][0]) if hit.any() else 0.0


def test_projection_weights_and_limits(planted):
    model = fit(planted)
    assert weight(model, "a0", "a1") == pytest.approx(1.0)  # two 3-member projects: 1/2 + 1/2
    assert weight(model, "a0", "a2") == pytest.approx(0.5)
    assert weight(model, "a0", "broker") == pytest.approx(1.0)
    assert weight(model, "a0", "b3") == 0.0  # only together in the giant project, not linked
    assert model.projection_["projects_too_large_to_link"] == 1
    assert model.report_.counts["projects_too_large_to_link"] == 1
    assert model.report_.counts["participations_of_unknown_organisations"] == 1
    assert model.report_.examples["participations_of_unknown_organisations"] == ["nobody"]
    counted = fit(planted, weighting="count")
    assert weight(counted, "a0", "a1") == 2.0
    linked_all = CollaborationCommunities(
        max_consortium=None, betweenness_samples=None, seed=4
    ).fit(planted)
    assert weight(linked_all, "a0", "b3") == pytest.approx(1 / 16)  # 17 members: 1/(n-1)


@pytest.mark.parametrize("method", ["louvain", "leiden"])
def test_planted_groups_are_found_and_labelled(planted, method):
    model = fit(planted, method=method)
    community = model.membership_
    a = {community[f"a{i}"] for i in range(6)}
    b = {community[f"b{i}"] for i in range(6)}
    assert len(a) == 1 and len(b) == 1 and a != b
    assert community["ghost"] == -1 and community["lonely"] == -1
    table = model.communities_.set_index("community")
    row_a = table.loc[a.pop()]
    assert row_a["dominant_region"] == "DE30" and "battery" in row_a["topics"]
    helix = table[[c for c in table.columns if c.startswith("helix_")]].sum(axis=1)
    assert np.allclose(helix, 1.0)
    assert row_a["kinds"]["sme"] >= 3
    assert model.modularity_ > 0.3


def test_same_seed_same_communities(planted):
    assert fit(planted).membership_.equals(fit(planted).membership_)


def test_positions_and_policy_targets(planted):
    model = fit(planted)
    c = model.centrality_
    assert set(c.sort_values("betweenness", ascending=False).index[:3]) == {"broker", "a0", "b0"}
    assert c.loc["broker", "effective_size"] == pytest.approx(
        2.0
    )  # its two partners do not know each other
    assert c.loc["broker", "constraint"] == pytest.approx(0.5)
    assert c.loc["a1", "clustering"] > 0.5 and c.loc["broker", "clustering"] == 0
    assert (
        c.loc["a0", "projects"] == 5
    )  # pa0, pa4, pa5, pab1 and the giant project (activity, not links)
    targets = model.policy_targets_
    assert set(targets.index) == {"ghost", "lonely", "fringe", "island1", "island2"}
    assert targets.loc["ghost", "reason"] == "isolated: no project in the registry"
    assert targets.loc["lonely", "reason"] == "isolated: projects without linked partners"
    assert (
        targets.loc["fringe", "status"] == "peripheral"
        and "fringe" in targets.loc["fringe", "reason"]
    )
    assert "outside the main" in targets.loc["island1", "reason"]
    json.dumps(model.summary(), default=str)


def test_structural_holes_match_networkx():
    graph = nx.gnm_random_graph(40, 120, seed=2)
    rng = np.random.default_rng(2)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.1, 3))
    graph.add_node(40)  # isolated
    constraint, effective = structural_holes(
        nx.to_scipy_sparse_array(graph, nodelist=range(41), format="csr")
    )
    expected_c = nx.constraint(graph, weight="weight")
    assert np.allclose(constraint[:40], [expected_c[i] for i in range(40)])
    # Burt's effective size written out: sum over neighbours j of 1 - sum_q p_iq m_jq
    a = nx.to_numpy_array(graph, nodelist=range(40))
    p, m = a / a.sum(axis=1, keepdims=True), a / a.max(axis=1, keepdims=True)
    expected_e = [
        sum(
            1 - sum(p[i, q] * m[j, q] for q in np.flatnonzero(a[i]) if q != j)
            for j in np.flatnonzero(a[i])
        )
        for i in range(40)
    ]
    assert np.allclose(effective[:40], expected_e)
    unweighted = nx.effective_size(nx.Graph(graph.edges))  # Borgatti's form for unit weights
    ones = structural_holes(
        nx.to_scipy_sparse_array(
            nx.Graph(graph.edges), nodelist=range(40), format="csr", weight=None
        )
    )[1]
    assert np.allclose(ones, [unweighted[i] for i in range(40)])
    assert np.isnan(constraint[40]) and np.isnan(effective[40])


def test_betweenness_exact_and_sampled():
    import igraph as ig

    graph = nx.karate_club_graph()
    g = ig.Graph(n=34, edges=list(graph.edges))
    rng = np.random.default_rng(0)
    exact = sampled_betweenness(g, samples=None, rng=rng)
    expected = nx.betweenness_centrality(graph)
    assert np.allclose(exact, [expected[i] for i in range(34)])
    estimates = np.mean([sampled_betweenness(g, samples=17, rng=rng) for _ in range(200)], axis=0)
    assert np.argmax(estimates) == np.argmax(exact)
    assert np.abs(estimates - exact).max() < 0.05


def test_empty_and_edgeless_registries():
    from innoweave.registry.frames import RegistryFrames

    orgs = pd.DataFrame(
        {"external_id": ["x", "y"], "name": ["X", "Y"], "kind": ["sme", "university"]}
    )
    model = CollaborationCommunities(seed=0).fit(RegistryFrames(organisations=orgs))
    assert model.communities_.empty and (model.membership_ == -1).all()
    assert list(model.policy_targets_.index) == ["x"]
    graph, stats = project_bipartite(pd.DataFrame({"project": [], "org": []}), pd.Index([]))
    assert graph.n_nodes == 0 and stats["projects"] == 0


def test_bad_options(planted):
    with pytest.raises(ValueError, match="method must be one of"):
        CollaborationCommunities(method="magic").fit(planted)
    with pytest.raises(ValueError, match="weighting must be one of"):
        CollaborationCommunities(weighting="square").fit(planted)


def test_cordis_network(cordis_dir):
    from innoweave.registry.cordis import read_cordis

    model = CollaborationCommunities(method="leiden", seed=1).fit(read_cordis(cordis_dir))
    assert model.graph_.n_nodes == 6542
    assert len(model.communities_) > 20 and model.modularity_ > 0.35
    assert (model.centrality_.loc[model.policy_targets_.index, "kind"] == "sme").all()
    top = model.centrality_.sort_values("betweenness", ascending=False).index[0]
    assert top == "cordis:999984059"  # Fraunhofer: the best-connected broker


def test_repeated_participations_count_once_and_are_named(planted):
    first = planted.participations.iloc[[0]]
    planted.participations = pd.concat([planted.participations, first], ignore_index=True)
    model = fit(planted)
    org, project = first["org_external_id"].iloc[0], first["project_external_id"].iloc[0]
    assert model.report_.counts["repeated_participations"] == 1
    assert model.report_.examples["repeated_participations"] == [f"{org} in {project}"]
    assert weight(model, "a0", "a1") == pytest.approx(1.0)  # counted once: weights unchanged
