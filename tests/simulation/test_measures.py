"""Per-step measures: Gini, network measures (exact and sampled transitivity)."""

import networkx as nx
import numpy as np
import pytest

from innoweave.simulation import measures
from innoweave.simulation.measures import gini, network_measures, unique_pairs


def test_gini():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 1.0])) == pytest.approx(0.75)
    assert gini(np.zeros(0)) == 0.0


def test_unique_pairs_drops_duplicates_and_loops():
    pairs = unique_pairs(np.array([1, 2, 3, 3]), np.array([2, 1, 3, 4]))
    assert pairs.tolist() == [[1, 2], [3, 4]]


def test_network_measures_match_networkx():
    g = nx.watts_strogatz_graph(300, 4, 0.2, seed=1)
    e = np.array(g.edges())
    m = network_measures(e[:, 0], e[:, 1])
    assert m["net_edges"] == g.number_of_edges()
    assert m["net_clustering"] == pytest.approx(nx.transitivity(g))
    assert m["net_density"] == pytest.approx(nx.density(g))
    largest = max(len(c) for c in nx.connected_components(g))
    assert m["net_largest_component"] == pytest.approx(largest / g.number_of_nodes())
    assert m["net_max_degree"] == max(d for _, d in g.degree())


def test_sampled_transitivity_is_close(monkeypatch):
    g = nx.watts_strogatz_graph(20000, 6, 0.1, seed=2)
    e = np.array(g.edges())
    monkeypatch.setattr(measures, "EXACT_CLUSTERING_MAX_EDGES", 100)
    est = network_measures(e[:, 0], e[:, 1])["net_clustering"]
    assert est == pytest.approx(nx.transitivity(g), abs=0.01)
    pytest.importorskip("numba")
    # the compiled path hands a window this large to the same sampled count
    assert network_measures(e[:, 0], e[:, 1], fused=True) == network_measures(e[:, 0], e[:, 1])
