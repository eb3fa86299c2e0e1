"""Related clusters as a weighted graph, and groups of clusters that belong together.

Delgado, Porter and Stern measure how related two cluster categories are (co-location of
employment and establishments, input–output links, shared occupations) and publish a flag for
the pairs that are clearly related. This module turns those measures into a weighted graph
over cluster categories and finds groups of related clusters by modularity (Louvain, seeded),
so an analyst can see which strong clusters of a region could support each other — a step
between the specialisation analysis and the collaboration network in the analyses layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

import innoweave
from innoweave.clusters.inputs import ClusterInputError, InputReport, require_columns
from innoweave.config import default_data_dir
from innoweave.estimator import Estimator
from innoweave.seeding import SeedLike, make_rng

RELATED_CLUSTERS = "us_cluster_mapping_2016/related_clusters.json"
MEASURES = ("cr_all", "cr_lc", "cr_lcemp", "cr_lcest", "cr_io", "cr_occ")


def read_related_clusters(path: str | Path | None = None) -> pd.DataFrame:
    """The published pairs (``related_clusters.json``) as a table with numeric measures."""
    path = Path(path) if path else default_data_dir() / RELATED_CLUSTERS
    try:
        records = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ClusterInputError(f"{path}: cannot be read as JSON ({exc})") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ClusterInputError(f"{path}: expected a JSON list of cluster pairs (objects)")
    if not records:
        raise ClusterInputError(f"{path}: no cluster pairs (an empty list)")
    table = pd.DataFrame(records)
    require_columns(table, ["clustera", "clusterb", "cluster_name", "cluster_name_2"], str(path))
    for column in table.columns:
        if column.startswith(("cr_", "rel_")):
            table[column] = pd.to_numeric(table[column], errors="coerce")
    table["clustera"] = table["clustera"].astype(str)
    table["clusterb"] = table["clusterb"].astype(str)
    return table


class ClusterRelatedness(Estimator):
    """Weighted graph of related cluster categories with groups found by Louvain.

    Parameters
    ----------
    measure
        Relatedness column used as edge weight (``cr_all`` by default; any of ``MEASURES``).
    percentile
        Link two clusters when the measure's percentile column (``<measure>_pc``) reaches it
        in either direction; ``None`` uses the published flag ``flag`` instead. Must lie
        between 0 and 100 (``ValueError`` otherwise).
    flag
        Published related-pair flag (``rel_all_90_v3``), used when ``percentile`` is None and
        always reported in ``agreement_``.
    resolution
        Louvain resolution (higher gives more, smaller groups); positive.
    seed
        Seed for Louvain's node order.

    Attributes
    ----------
    graph_ : networkx.Graph
        Nodes are cluster codes (attribute ``name``); edge ``weight`` is the measure
        (mean of the two directions).
    groups_ : DataFrame
        ``cluster, name, group, degree, strength`` sorted by group.
    agreement_ : dict
        How many off-diagonal ordered pairs the percentile rule and the published flag agree on.
    modularity_ : float or None
        Modularity of the groups; ``None`` when no pair is linked (every cluster alone).
    report_ : InputReport
        Notes, e.g. ``no_links`` when no pair reaches the rule.
    """

    def __init__(
        self,
        *,
        measure: str = "cr_all",
        percentile: float | None = None,
        flag: str = "rel_all_90_v3",
        resolution: float = 1.0,
        seed: SeedLike = None,
    ):
        self.measure = measure
        self.percentile = percentile
        self.flag = flag
        self.resolution = resolution
        self.seed = seed

    def fit(self, pairs: pd.DataFrame) -> ClusterRelatedness:
        """Build the related-cluster graph from the ``pairs`` table (``clustera``, ``clusterb`` and
        the measure columns) by the percentile rule or the published flag, and group the clusters
        with Louvain. Returns ``self``."""
        if self.percentile is not None and not 0 <= self.percentile <= 100:
            raise ValueError(
                f"percentile must lie between 0 and 100 (the scale of the measure's "
                f"percentile column), not {self.percentile}"
            )
        if not self.resolution > 0:
            raise ValueError(f"resolution must be positive, not {self.resolution}")
        if self.measure not in pairs.columns:
            present = [m for m in MEASURES if m in pairs.columns]
            raise ClusterInputError(
                f"related clusters: no measure column {self.measure!r}"
                + (f"; measures present: {', '.join(present)}" if present else "")
            )
        rng = make_rng(self.seed)
        report = InputReport()
        off = pairs[pairs["clustera"] != pairs["clusterb"]]
        pct_col = f"{self.measure}_pc"
        if self.percentile is None:
            if self.flag not in off.columns:
                raise ClusterInputError(
                    f"related clusters: no flag column {self.flag!r}; give a percentile instead"
                )
            linked = off[self.flag] == 1
        else:
            if pct_col not in off.columns:
                raise ClusterInputError(f"related clusters: no percentile column {pct_col!r}")
            linked = off[pct_col] >= self.percentile
        self.agreement_ = {}
        if self.flag in off.columns and pct_col in off.columns:
            rule = off[pct_col] >= (self.percentile if self.percentile is not None else 90)
            self.agreement_ = {
                "pairs": len(off),
                "agree": int((rule == (off[self.flag] == 1)).sum()),
                "flagged": int((off[self.flag] == 1).sum()),
                "rule": int(rule.sum()),
            }
        names = dict(zip(pairs["clustera"], pairs["cluster_name"], strict=False))
        graph = nx.Graph()
        for code, name in names.items():
            graph.add_node(code, name=name)
        chosen = off[linked]
        weights = chosen.groupby(
            [
                np.minimum(chosen["clustera"], chosen["clusterb"]),
                np.maximum(chosen["clustera"], chosen["clusterb"]),
            ]
        )
        mean_weight = (
            off.assign(
                a=np.minimum(off["clustera"], off["clusterb"]),
                b=np.maximum(off["clustera"], off["clusterb"]),
            )
            .groupby(["a", "b"])[self.measure]
            .mean()
        )
        for a, b in weights.groups:
            graph.add_edge(a, b, weight=float(mean_weight[(a, b)]))
        # Louvain needs positive weights; relatedness can be negative for weakly related pairs.
        for _, _, data in graph.edges(data=True):
            data["weight"] = max(data["weight"], 1e-9)
        louvain_seed = int(rng.integers(2**31 - 1))
        if graph.number_of_edges():
            communities = nx.community.louvain_communities(
                graph, weight="weight", resolution=self.resolution, seed=louvain_seed
            )
        else:  # nothing links: every cluster is its own group, modularity is undefined
            communities = [{node} for node in graph.nodes]
            rule = (
                "the published flag"
                if self.percentile is None
                else f"percentile {self.percentile:g} of {self.measure}"
            )
            report.add(
                "no_links",
                1,
                note=f"no pair of clusters reaches {rule}: no links, every cluster is its own "
                "group and modularity is undefined",
            )
        ordered = sorted(communities, key=lambda c: (-len(c), min(c)))
        group_of = {node: g for g, members in enumerate(ordered) for node in members}
        self.graph_ = graph
        self.groups_ = (
            pd.DataFrame(
                [
                    {
                        "cluster": n,
                        "name": graph.nodes[n]["name"],
                        "group": group_of[n],
                        "degree": graph.degree(n),
                        "strength": graph.degree(n, weight="weight"),
                    }
                    for n in graph.nodes
                ]
            )
            .sort_values(["group", "strength"], ascending=[True, False])
            .reset_index(drop=True)
        )
        self.modularity_ = (
            float(nx.community.modularity(graph, ordered, weight="weight"))
            if graph.number_of_edges()
            else None
        )
        self.report_ = report
        self.settings_ = {
            "measure": self.measure,
            "percentile": self.percentile,
            "flag": self.flag,
            "resolution": self.resolution,
            "seed": self.seed,
            "version": innoweave.__version__,
        }
        return self

    def related_to(self, cluster: str) -> pd.DataFrame:
        """Clusters linked to ``cluster``, strongest first."""
        cluster = str(cluster)
        if cluster not in self.graph_:
            raise KeyError(f"unknown cluster {cluster!r}")
        rows = [
            {"cluster": n, "name": self.graph_.nodes[n]["name"], "weight": d["weight"]}
            for n, d in self.graph_[cluster].items()
        ]
        return pd.DataFrame(rows, columns=["cluster", "name", "weight"]).sort_values(
            "weight", ascending=False
        )
