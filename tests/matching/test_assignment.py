import networkx as nx
import numpy as np
import pandas as pd
import pytest

from innoweave.matching.assignment import assign, capacity_from_activity, greedy_assign


def _random_table(seed, nq=30, npart=12, per=5):
    rng = np.random.default_rng(seed)
    rows = [(f"q{i}", f"p{j}", float(rng.random() ** 2)) for i in range(nq) for j in rng.choice(npart, per, replace=False)]
    return pd.DataFrame(rows, columns=["query", "partner", "score"])


def _exact_total(table, k, cap):
    """Optimum of the same b-matching by networkx's network simplex (integer costs)."""
    scale = 10**6
    g = nx.DiGraph()
    queries, partners = table["query"].unique(), table["partner"].unique()
    total = k * len(queries)
    g.add_node("s", demand=-total)
    g.add_node("t", demand=total)
    g.add_edge("s", "t", capacity=total, weight=0)  # unmet demand is allowed at no cost
    for q in queries:
        g.add_edge("s", ("q", q), capacity=k, weight=0)
    for p in partners:
        g.add_edge(("p", p), "t", capacity=cap, weight=0)
    for q, p, s in table.itertuples(index=False):
        g.add_edge(("q", q), ("p", p), capacity=1, weight=-round(s * scale))
    flow = nx.min_cost_flow(g)
    return sum(s for q, p, s in table.itertuples(index=False) if flow[("q", q)][("p", p)])


@pytest.mark.parametrize("seed,k,cap", [(0, 2, 3), (1, 3, 4), (2, 1, 2), (3, 3, 20)])
def test_auction_reaches_the_min_cost_flow_optimum(seed, k, cap):
    table = _random_table(seed)
    result = assign(table, k=k, capacity=cap)
    exact = _exact_total(table, k, cap)
    units = k * table["query"].nunique()
    assert result.stats["total_score"] == pytest.approx(exact, abs=units * 1e-4 * table["score"].max() + 1e-9)
    assert result.load.max() <= cap
    assert result.pairs.groupby("query").size().max() <= k
    assert not result.pairs.duplicated(["query", "partner"]).any()


def test_capacity_spreads_load_and_flow_beats_greedy():
    table = _random_table(5, nq=60, npart=15, per=6)
    free = assign(table, k=2, capacity=1000)
    capped = assign(table, k=2, capacity=4)
    assert capped.stats["max_load"] <= 4 < free.stats["max_load"]
    assert capped.stats["gini_load"] < free.stats["gini_load"]
    greedy = greedy_assign(table, k=2, capacity=4)
    assert capped.stats["total_score"] >= greedy.stats["total_score"] - 1e-6


def test_conflicts_forced_and_min_quality():
    table = _random_table(3)
    best = table.sort_values("score").iloc[-1]
    conflict = (best["query"], best["partner"])
    res = assign(table, k=2, capacity=3, conflicts=[conflict])
    assert not ((res.pairs["query"] == conflict[0]) & (res.pairs["partner"] == conflict[1])).any()
    worst = table.sort_values("score").iloc[0]
    forced = (worst["query"], worst["partner"])
    res = assign(table, k=2, capacity=3, forced=[forced, ("q0", "new-partner")])
    chosen = set(zip(res.pairs["query"], res.pairs["partner"], strict=True))
    assert forced in chosen and ("q0", "new-partner") in chosen
    assert res.pairs.groupby("query").size().max() <= 2
    res = assign(table, k=2, capacity=3, min_quality=0.5)
    assert (res.pairs["score"] >= 0.5).all()
    per_query = assign(table, k=2, capacity=3, min_quality={"q1": 0.9})
    assert (per_query.pairs.loc[per_query.pairs["query"] == "q1", "score"] >= 0.9).all()


def test_capacity_mapping_and_activity():
    table = _random_table(4)
    caps = {p: (0 if p == "p0" else 5) for p in table["partner"].unique()}
    res = assign(table, k=2, capacity=caps)
    assert "p0" not in set(res.pairs["partner"])
    prop = capacity_from_activity(pd.Series({"a": 10, "b": 30, "c": 0}), total=8)
    assert prop["b"] > prop["a"] >= prop["c"] >= 1


def test_bad_input_is_named():
    table = _random_table(0)
    with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
        assign(table, k=0, capacity=2)
    with pytest.raises(ValueError, match="missing column"):
        assign(table.drop(columns="score"), k=1, capacity=2)
    with pytest.raises(ValueError, match="no capacity for partner"):
        assign(table, k=1, capacity={"p0": 1})
    with pytest.raises(ValueError, match="both forced and in conflict"):
        assign(table, k=1, capacity=2, forced=[("q0", "p1")], conflicts=[("q0", "p1")])
    with pytest.raises(ValueError, match="exceed the capacity"):
        assign(table, k=3, capacity=1, forced=[("q0", "p1"), ("q1", "p1")])
    with pytest.raises(ValueError, match="capacity must be a whole number ≥ 0"):
        assign(table, k=1, capacity=-1)
    empty = assign(table.iloc[:0], k=2, capacity=1)
    assert empty.stats["assigned_pairs"] == 0
