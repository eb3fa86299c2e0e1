"""Related clusters: the published pairs as a weighted graph with seeded groups."""

from __future__ import annotations

import pandas as pd
import pytest

from innoweave.clusters import ClusterInputError, ClusterRelatedness, read_related_clusters


def _pairs() -> pd.DataFrame:
    """Six clusters in two triangles of strong relatedness, weak across."""
    rows = []
    names = {c: f"cluster {c}" for c in "123456"}
    for a in names:
        for b in names:
            same = (a in "123") == (b in "123")
            rows.append(
                {
                    "clustera": a,
                    "clusterb": b,
                    "cluster_name": names[a],
                    "cluster_name_2": names[b],
                    "cr_all": 2.0 if same else 0.1,
                    "cr_all_pc": 95 if same else 10,
                    "rel_all_90_v3": int(same and a != b),
                }
            )
    return pd.DataFrame(rows)


def test_groups_of_planted_pairs():
    model = ClusterRelatedness(seed=3).fit(_pairs())
    assert model.graph_.number_of_edges() == 6
    groups = model.groups_.groupby("group")["cluster"].apply(frozenset).tolist()
    assert set(groups) == {frozenset("123"), frozenset("456")}
    assert model.agreement_ == {"pairs": 30, "agree": 30, "flagged": 12, "rule": 12}
    assert model.related_to("1")["cluster"].tolist() in (["2", "3"], ["3", "2"])
    with pytest.raises(KeyError):
        model.related_to("9")


def test_published_relatedness(uscmp_dir):
    pairs = read_related_clusters(uscmp_dir / "related_clusters.json")
    model = ClusterRelatedness(seed=0).fit(pairs)
    assert model.graph_.number_of_nodes() == 51
    assert model.graph_.number_of_edges() == 128  # 256 directed published pairs, symmetric
    assert model.agreement_["agree"] == 2538 and model.agreement_["pairs"] == 2550
    again = ClusterRelatedness(seed=0).fit(pairs)
    assert model.groups_.equals(again.groups_)
    by_percentile = ClusterRelatedness(percentile=75, seed=0).fit(pairs)
    assert by_percentile.graph_.number_of_edges() > model.graph_.number_of_edges()


def test_bad_relatedness_input(tmp_path):
    with pytest.raises(ClusterInputError, match="no measure column 'cr_nope'"):
        ClusterRelatedness(measure="cr_nope").fit(_pairs())
    with pytest.raises(ClusterInputError, match="no percentile column"):
        ClusterRelatedness(percentile=90).fit(_pairs().drop(columns="cr_all_pc"))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ClusterInputError, match="cannot be read as JSON"):
        read_related_clusters(broken)
