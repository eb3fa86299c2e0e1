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
    """Optimum of the same b-matching by networkx's network simplex (integer costs); ``cap``
    is one capacity for every partner or a mapping partner -> capacity."""
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
        g.add_edge(("p", p), "t", capacity=cap[p] if isinstance(cap, dict) else cap, weight=0)
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
    # a floor is the same plan as leaving out the pairs below it (and a per-query floor only
    # those of its query: every other query keeps its low-scoring pairs)
    plain = assign(table[table["score"] >= 0.5], k=2, capacity=3)
    pd.testing.assert_frame_equal(res.pairs, plain.pairs)
    per_query = assign(table, k=2, capacity=3, min_quality={"q1": 0.9})
    assert (per_query.pairs.loc[per_query.pairs["query"] == "q1", "score"] >= 0.9).all()
    dropped = table[(table["query"] == "q1") & (table["score"] < 0.9)]
    assert len(dropped) and (per_query.pairs["score"] < 0.5).any()
    pd.testing.assert_frame_equal(per_query.pairs, assign(table.drop(index=dropped.index), k=2, capacity=3).pairs)


def test_forced_pairs_use_up_demand_and_capacity():
    """By hand: q0 is forced onto p0 (k = 1, capacity 1). q0 then has no demand left for p1
    (0.95), and p0 no capacity left for q1 (0.9): q1 gets p1."""
    table = pd.DataFrame({"query": ["q0", "q0", "q1", "q1"], "partner": ["p0", "p1", "p0", "p1"],
                          "score": [0.1, 0.95, 0.9, 0.2]})  # fmt: skip
    res = assign(table, k=1, capacity=1, forced=[("q0", "p0")])
    assert list(zip(res.pairs["query"], res.pairs["partner"], res.pairs["forced"], strict=True)) == [
        ("q0", "p0", True), ("q1", "p1", False)]  # fmt: skip
    assert res.pairs["score"].tolist() == [0.1, 0.2] and res.stats["total_score"] == pytest.approx(0.3)
    assert res.load.to_dict() == {"p0": 1, "p1": 1}
    # without the forced pair the best plan is the other one
    free = assign(table, k=1, capacity=1)
    assert set(zip(free.pairs["query"], free.pairs["partner"], strict=True)) == {("q0", "p1"), ("q1", "p0")}


def test_capacity_mapping_and_activity():
    table = _random_table(4)
    caps = {p: (0 if p == "p0" else 5) for p in table["partner"].unique()}
    res = assign(table, k=2, capacity=caps)
    assert "p0" not in set(res.pairs["partner"])
    # capacities that bind, given in another order than the partners appear in the table
    tight = {p: (0 if p == "p0" else 1 if p == "p1" else 2) for p in sorted(table["partner"].unique())}
    res = assign(table, k=2, capacity=tight)
    assert res.load.to_dict() == res.pairs["partner"].value_counts().reindex(res.load.index, fill_value=0).to_dict()
    assert all(res.load[p] <= c for p, c in tight.items())
    units = 2 * table["query"].nunique()
    assert res.stats["total_score"] == pytest.approx(_exact_total(table, 2, tight), abs=units * 1e-4 + 1e-9)
    # shares 0.1, 0.3, 0, 0.6 of 9 are 0.9, 2.7, 0, 5.4: rounded, and at least the minimum of 1
    prop = capacity_from_activity(pd.Series({"a": 10, "b": 30, "c": 0, "d": 60}), total=9)
    assert prop.to_dict() == {"a": 1, "b": 3, "c": 1, "d": 5}
    assert capacity_from_activity(pd.Series({"a": 10, "b": 30, "c": 0, "d": 60}), total=9,
                                  minimum=0).to_dict() == {"a": 1, "b": 3, "c": 0, "d": 5}  # fmt: skip


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
