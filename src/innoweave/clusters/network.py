"""Collaboration-network clusters: who works with whom, in which communities, who brokers.

Part of the analyses layer (registry → analyses → simulation → interfaces). From the
registry's organisations, projects and participations it builds the organisation–project
bipartite graph and projects it onto organisations: two organisations are linked when they
share a project, each project adding ``1/(n−1)`` to the links of its ``n`` members (so a
big consortium, where everyone meets everyone, weighs no more per member than a pair), and
projects with more than ``max_consortium`` members are not linked at all (they still count
as activity). On that weighted graph it finds communities (Louvain in NetworkX, or Leiden
in igraph's C core for large graphs), labels each by dominant region, kinds, title
topics (TF-IDF) and triple-helix mix, measures each organisation's position (degree,
strength, sampled betweenness, Burt's constraint and effective size, clustering, coreness)
and lists the SMEs that are isolated or on the periphery — the targets of matchmaking and
cluster policy in the simulation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

import innoweave
from innoweave.arguments import real_number, whole_number
from innoweave.clusters.inputs import ClusterInputError, InputReport
from innoweave.clusters.topics import top_words, topic_vectoriser
from innoweave.estimator import Estimator
from innoweave.registry.frames import RegistryFrames, require_frames
from innoweave.registry.kinds import FIRM_KINDS, RESEARCH_KINDS, OrgKind
from innoweave.seeding import SeedLike, check_seed, make_rng

HELIX = {
    "firms": {k.value for k in FIRM_KINDS},
    "research": {k.value for k in RESEARCH_KINDS},
    "government": {OrgKind.GOVERNMENT.value},
    "intermediaries": {OrgKind.INTERMEDIARY.value},
}
METHODS = ("louvain", "leiden")
WEIGHTINGS = ("inverse", "count")


@dataclass
class CollaborationGraph:
    """The weighted one-mode projection: nodes ``0..n-1`` and undirected edges ``source < target``."""

    nodes: pd.Index
    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    shared_projects: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of organisations (nodes) in the projection, linked or not."""
        return len(self.nodes)

    def to_igraph(self):
        """The projection as an undirected weighted ``igraph.Graph`` (edge attribute ``weight``), as
        the Leiden search needs it."""
        import igraph as ig

        graph = ig.Graph(n=self.n_nodes, edges=np.column_stack([self.source, self.target]).tolist())
        graph.es["weight"] = self.weight.tolist()
        return graph

    def to_networkx(self):
        """The projection as a ``networkx.Graph``: nodes ``0..n-1``, a ``weight`` on each edge."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_nodes))
        graph.add_weighted_edges_from(
            zip(self.source.tolist(), self.target.tolist(), self.weight.tolist(), strict=True)
        )
        return graph

    def adjacency(self) -> sp.csr_matrix:
        """The symmetric weighted adjacency matrix (sparse CSR, ``n_nodes`` square)."""
        n = self.n_nodes
        upper = sp.coo_matrix((self.weight, (self.source, self.target)), shape=(n, n))
        return (upper + upper.T).tocsr()


def project_bipartite(
    memberships: pd.DataFrame,
    nodes: pd.Index,
    *,
    max_consortium: int | None = 40,
    weighting: str = "inverse",
) -> tuple[CollaborationGraph, dict[str, int]]:
    """Project ``project, org`` memberships onto organisations (see the module text for weights).

    ``memberships`` holds columns ``project`` and ``org`` (org labels found in ``nodes``).
    Returns the graph and counts of projects linked, too large to link, and with one member.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, not {weighting!r}")
    pairs = memberships[["project", "org"]].drop_duplicates()
    org_index = nodes.get_indexer(pairs["org"])
    project_codes, project_index = np.unique(
        pairs["project"].to_numpy(dtype=str), return_inverse=True
    )
    order = np.argsort(project_index, kind="stable")
    project_index, org_index = project_index[order], org_index[order]
    sizes = np.bincount(project_index, minlength=len(project_codes))
    too_big = (
        sizes > max_consortium if max_consortium is not None else np.zeros_like(sizes, dtype=bool)
    )
    sources, targets, weights = [], [], []
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for size in np.unique(sizes[(sizes >= 2) & ~too_big]):
        # All projects of one size at once: their members form a (projects × size) matrix.
        first = starts[sizes == size]
        members = org_index[first[:, None] + np.arange(size)[None, :]]
        upper_a, upper_b = np.triu_indices(size, k=1)
        a, b = members[:, upper_a].ravel(), members[:, upper_b].ravel()
        sources.append(np.minimum(a, b))
        targets.append(np.maximum(a, b))
        weights.append(np.full(a.size, 1.0 / (size - 1) if weighting == "inverse" else 1.0))
    n = len(nodes)
    if sources:
        key = np.concatenate(sources).astype(np.int64) * n + np.concatenate(targets)
        unique_keys, inverse = np.unique(key, return_inverse=True)
        weight = np.bincount(inverse, weights=np.concatenate(weights))
        shared = np.bincount(inverse)
        source, target = unique_keys // n, unique_keys % n
    else:
        source = target = shared = np.zeros(0, dtype=np.int64)
        weight = np.zeros(0)
    stats = {
        "projects": len(project_codes),
        "projects_linked": int(((sizes >= 2) & ~too_big).sum()),
        "projects_too_large_to_link": int(too_big.sum()),
        "projects_single_member": int((sizes == 1).sum()),
    }
    return CollaborationGraph(nodes, source, target, weight, shared), stats


def detect_communities(
    graph: CollaborationGraph,
    *,
    method: str = "louvain",
    resolution: float = 1.0,
    seed: SeedLike = None,
) -> np.ndarray:
    """Community of each node (``-1`` for nodes without links), numbered by size, largest first."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    rng = make_rng(seed)
    library_seed = int(rng.integers(2**31 - 1))
    raw = np.full(graph.n_nodes, -1, dtype=np.int64)
    if len(graph.source):
        if method == "louvain":
            import networkx as nx

            parts = nx.community.louvain_communities(
                graph.to_networkx(), weight="weight", resolution=resolution, seed=library_seed
            )
            for label, members in enumerate(parts):
                raw[list(members)] = label
        else:
            raw = _igraph_leiden(graph, resolution=resolution, seed=library_seed)
    linked = np.zeros(graph.n_nodes, dtype=bool)
    linked[graph.source] = True
    linked[graph.target] = True
    raw[~linked] = -1
    labels, counts = np.unique(raw[raw >= 0], return_counts=True)
    rank = np.empty(labels.size, dtype=np.int64)
    rank[np.lexsort((labels, -counts))] = np.arange(labels.size)
    membership = np.full(graph.n_nodes, -1, dtype=np.int64)
    membership[raw >= 0] = rank[np.searchsorted(labels, raw[raw >= 0])]
    return membership


def _igraph_leiden(graph: CollaborationGraph, *, resolution: float, seed: int) -> np.ndarray:
    """Leiden (modularity objective) in igraph's C core, two iterations (igraph's default).

    igraph draws from a Python random generator; a private one seeded here makes the result
    reproducible, and the module-wide generator is put back afterwards.
    """
    import random

    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        partition = graph.to_igraph().community_leiden(
            objective_function="modularity", weights="weight", resolution=resolution, n_iterations=2
        )
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(partition.membership, dtype=np.int64)


def modularity(
    graph: CollaborationGraph, membership: np.ndarray, *, resolution: float = 1.0
) -> float:
    """Weighted modularity of a partition (nodes labelled ``-1`` have no links and add nothing)."""
    total = graph.weight.sum()
    if total == 0:
        return 0.0
    inside = membership[graph.source] == membership[graph.target]
    strength = np.bincount(graph.source, graph.weight, graph.n_nodes) + np.bincount(
        graph.target, graph.weight, graph.n_nodes
    )
    linked = membership >= 0
    community_strength = np.bincount(membership[linked], strength[linked])
    return float(
        graph.weight[inside].sum() / total
        - resolution * np.sum(community_strength**2) / (2 * total) ** 2
    )


def structural_holes(adjacency: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Burt's constraint and effective size of every node of a weighted undirected graph.

    With ``p_ij = w_ij / Σ_k w_ik`` and ``m_jq = w_jq / max_k w_jk``: constraint
    ``c_i = Σ_j (p_ij + Σ_q p_iq p_qj)²`` and effective size
    ``Σ_j (1 − Σ_q p_iq m_jq)``, sums over neighbours ``j`` and ``q ≠ i, j``. Constraint
    equals NetworkX's ``constraint``; effective size equals Burt's formula written out (and
    NetworkX's for unit weights), as sparse products instead of loops. Nodes without links
    get NaN.
    """
    adjacency = adjacency.tocsr()
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    strength = np.asarray(adjacency.sum(axis=1)).ravel()
    biggest = adjacency.max(axis=1).toarray().ravel()
    with np.errstate(divide="ignore"):
        p = sp.diags(np.where(strength > 0, 1 / strength, 0)) @ adjacency
        m = sp.diags(np.where(biggest > 0, 1 / biggest, 0)) @ adjacency
    mask = (adjacency > 0).astype(float)
    indirect = (p @ p).multiply(mask)  # diagonal of p is zero, so q = i, j drop out
    constraint = np.asarray((p + indirect).power(2).sum(axis=1)).ravel()
    redundancy = (p @ m.T).multiply(mask)
    effective = np.asarray((mask - redundancy).sum(axis=1)).ravel()
    isolated = strength == 0
    constraint[isolated] = np.nan
    effective[isolated] = np.nan
    return constraint, effective


def sampled_betweenness(
    igraph_graph, *, samples: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Normalised betweenness (hop paths); from ``samples`` random sources when fewer than nodes.

    The sample estimate scales the sources' dependencies by ``n / samples`` (Brandes and
    Pich's pivot estimator), so it is unbiased for the exact value.
    """
    n = igraph_graph.vcount()
    if n < 3:
        return np.zeros(n)
    if samples is None or samples >= n:
        raw = np.asarray(igraph_graph.betweenness(directed=False))
    else:
        sources = rng.choice(n, size=samples, replace=False)
        raw = (
            np.asarray(igraph_graph.betweenness(directed=False, sources=sources.tolist()))
            * n
            / samples
        )
    return raw / ((n - 1) * (n - 2) / 2)


def _memberships(frames: RegistryFrames, report: InputReport) -> tuple[pd.DataFrame, pd.Index]:
    orgs = frames.organisations
    nodes = pd.Index(orgs["external_id"].astype(str))
    duplicated = nodes.duplicated()
    report.add(
        "duplicate_organisations",
        int(duplicated.sum()),
        list(nodes[duplicated][:5]),
        note=f"{int(duplicated.sum())} organisation id(s) listed twice: the first row is used"
        if duplicated.any()
        else None,
    )
    nodes = nodes[~duplicated]
    parts = frames.participations
    memberships = pd.DataFrame(
        {
            "project": parts["project_external_id"].astype(str),
            "org": parts["org_external_id"].astype(str),
        }
    )
    unknown = ~memberships["org"].isin(nodes)
    report.add(
        "participations_of_unknown_organisations",
        int(unknown.sum()),
        sorted(set(memberships.loc[unknown, "org"]))[:5],
        note=f"{int(unknown.sum())} participation(s) name organisations not in the registry and are not linked"
        if unknown.any()
        else None,
    )
    repeated = memberships.duplicated()
    report.add(
        "repeated_participations",
        int(repeated.sum()),
        [f"{org} in {project}" for project, org in
         memberships.loc[repeated].drop_duplicates().head(5).itertuples(index=False, name=None)],
        note=f"{int(repeated.sum())} repeated organisation × project participation(s) (several roles) count once"
        if repeated.any()
        else None,
    )
    return memberships[~unknown], nodes


def _title_topics(
    frames: RegistryFrames, memberships: pd.DataFrame, community_of: pd.Series, n_words: int
) -> dict[int, list[str]]:
    """Top TF-IDF words of each community's project titles and organisation keywords."""
    titles = (
        frames.projects.set_index(frames.projects["external_id"].astype(str))["title"]
        .fillna("")
        .astype(str)
    )
    titles = titles[~titles.index.duplicated()]
    per_member = memberships.assign(
        community=memberships["org"].map(community_of), text=memberships["project"].map(titles)
    )
    per_member = per_member[per_member["community"] >= 0]
    docs = per_member.groupby("community")["text"].apply(lambda s: " ".join(s.dropna()))
    orgs = frames.organisations
    keyword_text = pd.Series(
        [" ".join(map(str, k)) if isinstance(k, list | tuple) else "" for k in orgs["keywords"]],
        index=orgs["external_id"].astype(str),
    )
    keyword_text = keyword_text[~keyword_text.index.duplicated()]
    extra = pd.DataFrame(
        {"community": community_of, "text": keyword_text.reindex(community_of.index).fillna("")}
    )
    extra = (
        extra[(extra["community"] >= 0) & (extra["text"] != "")]
        .groupby("community")["text"]
        .apply(" ".join)
    )
    docs = docs.add(" " + extra, fill_value="").str.strip() if len(extra) else docs
    docs = docs[docs.str.len() > 0]
    if docs.empty:
        return {}
    vectoriser = topic_vectoriser()
    try:
        matrix = vectoriser.fit_transform(docs.to_numpy())
    except ValueError:  # only stop words
        return {}
    vocabulary = np.asarray(vectoriser.get_feature_names_out())
    return {
        int(community): top_words(matrix[row].toarray().ravel(), vocabulary, n_words)
        for row, community in enumerate(docs.index)
    }


def helix_of(kind: str) -> str:
    """Triple-helix sphere of an organisation kind (``other`` when none applies)."""
    for sphere, kinds in HELIX.items():
        if kind in kinds:
            return sphere
    return "other"


class CollaborationCommunities(Estimator):
    """Communities, positions and policy targets of the registry's collaboration network.

    Parameters
    ----------
    method
        ``"louvain"`` (NetworkX, default) or ``"leiden"`` (igraph, seeded; for large graphs).
    resolution
        Modularity resolution (higher gives more, smaller communities).
    max_consortium
        Projects with more members than this are not linked (40, as in the evaluation protocol;
        ``None`` links all).
    weighting
        ``"inverse"``: each project adds ``1/(n−1)`` to each of its member pairs; ``"count"``: 1.
    betweenness_samples
        Number of random source nodes for betweenness (``None``: exact).
    structural_holes
        Compute Burt's constraint and effective size (sparse products; off for huge graphs).
    region_prefix
        Characters of the region code used for the dominant region (4 = NUTS-2; ``None``: all).
    topic_words
        Words per community label.
    seed
        Seed for the community search and the betweenness sample.

    Attributes
    ----------
    graph_ : CollaborationGraph
    membership_ : Series  community of each organisation (``-1``: no links)
    communities_ : DataFrame  one row per community of two or more organisations
    centrality_ : DataFrame  one row per organisation
    policy_targets_ : DataFrame  isolated and peripheral SMEs with the reason
    modularity_ : float
    report_ : InputReport
    timings_ : dict  seconds per step
    settings_ : dict  settings, seed and ``innoweave`` version
    """

    def __init__(
        self,
        *,
        method: str = "louvain",
        resolution: float = 1.0,
        max_consortium: int | None = 40,
        weighting: str = "inverse",
        betweenness_samples: int | None = 256,
        structural_holes: bool = True,
        region_prefix: int | None = 4,
        topic_words: int = 6,
        seed: SeedLike = None,
    ):
        self.method = method
        self.resolution = resolution
        self.max_consortium = max_consortium
        self.weighting = weighting
        self.betweenness_samples = betweenness_samples
        self.structural_holes = structural_holes
        self.region_prefix = region_prefix
        self.topic_words = topic_words
        self.seed = seed

    def fit(self, frames: RegistryFrames) -> CollaborationCommunities:
        """Project the registry's participations onto the organisation network, find its communities
        and each organisation's position, and name the isolated and peripheral SMEs. Returns
        ``self``."""
        require_frames(frames, "CollaborationCommunities.fit")
        check_seed(self.seed)
        real_number("resolution", self.resolution, low=0, above_low=True)
        for name, least in (("max_consortium", 2), ("betweenness_samples", 1), ("region_prefix", 1)):
            whole_number(name, getattr(self, name), least=least, none=True)
        whole_number("topic_words", self.topic_words, least=1)
        if not isinstance(self.structural_holes, (bool, np.bool_)):
            raise ValueError(f"structural_holes must be True or False, got {self.structural_holes!r}")
        if frames.organisations.empty:
            raise ClusterInputError("the frames hold no organisations: there is no network to analyse")
        rng = make_rng(self.seed)
        timings = {}
        report = InputReport()
        started = time.perf_counter()
        memberships, nodes = _memberships(frames, report)
        graph, stats = project_bipartite(
            memberships, nodes, max_consortium=self.max_consortium, weighting=self.weighting
        )
        report.add(
            "projects_too_large_to_link",
            stats["projects_too_large_to_link"],
            note=f"{stats['projects_too_large_to_link']} project(s) with more than {self.max_consortium} members count as activity but are not linked"
            if stats["projects_too_large_to_link"]
            else None,
        )
        report.add(
            "no_links",
            int(len(graph.source) == 0),
            note="no two organisations share a linked project: no links, no communities "
            "(modularity 0)"
            if len(graph.source) == 0
            else None,
        )
        timings["projection"] = time.perf_counter() - started

        started = time.perf_counter()
        membership = detect_communities(
            graph, method=self.method, resolution=self.resolution, seed=rng
        )
        timings["communities"] = time.perf_counter() - started

        started = time.perf_counter()
        centrality = self._centrality(graph, membership, memberships, frames, rng)
        timings["centrality"] = time.perf_counter() - started

        started = time.perf_counter()
        community_of = pd.Series(membership, index=nodes)
        topics = _title_topics(frames, memberships, community_of, self.topic_words)
        self.communities_ = self._label(centrality, topics, graph, membership)
        timings["labels"] = time.perf_counter() - started

        self.graph_ = graph
        self.membership_ = community_of
        self.centrality_ = centrality
        self.policy_targets_ = self._policy_targets(centrality)
        self.modularity_ = modularity(graph, membership, resolution=self.resolution)
        self.projection_ = stats
        self.report_ = report
        self.timings_ = timings
        self.settings_ = {
            "method": self.method,
            "resolution": self.resolution,
            "max_consortium": self.max_consortium,
            "weighting": self.weighting,
            "betweenness_samples": self.betweenness_samples,
            "structural_holes": self.structural_holes,
            "region_prefix": self.region_prefix,
            "seed": self.seed if not isinstance(self.seed, np.random.Generator) else "generator",
            "version": innoweave.__version__,
        }
        return self

    def _centrality(self, graph, membership, memberships, frames, rng) -> pd.DataFrame:
        n = graph.n_nodes
        degree = np.bincount(graph.source, minlength=n) + np.bincount(graph.target, minlength=n)
        strength = np.bincount(graph.source, graph.weight, n) + np.bincount(
            graph.target, graph.weight, n
        )
        igraph_graph = graph.to_igraph()
        components = np.asarray(igraph_graph.connected_components().membership)
        component_sizes = np.bincount(components)
        orgs = frames.organisations.drop_duplicates("external_id")
        orgs = orgs.set_index(orgs["external_id"].astype(str)).reindex(graph.nodes)
        table = pd.DataFrame(
            {
                "name": orgs["name"].to_numpy(),
                "kind": orgs["kind"].astype(object).to_numpy(),
                "region": orgs["region_code"].to_numpy(),
                "community": membership,
                "projects": memberships.drop_duplicates()
                .groupby("org")
                .size()
                .reindex(graph.nodes, fill_value=0)
                .to_numpy(),
                "degree": degree,
                "strength": strength,
                "betweenness": sampled_betweenness(
                    igraph_graph, samples=self.betweenness_samples, rng=rng
                ),
                "clustering": np.asarray(igraph_graph.transitivity_local_undirected(mode="zero")),
                "coreness": np.asarray(igraph_graph.coreness()),
                "component_size": component_sizes[components],
            },
            index=graph.nodes,
        )
        table.index.name = "external_id"
        if self.structural_holes:
            table["constraint"], table["effective_size"] = structural_holes(graph.adjacency())
        table["helix"] = [helix_of(k) for k in table["kind"]]
        return table

    def _label(
        self,
        centrality: pd.DataFrame,
        topics: dict,
        graph: CollaborationGraph,
        membership: np.ndarray,
    ) -> pd.DataFrame:
        members = centrality[centrality["community"] >= 0]
        inside = membership[graph.source] == membership[graph.target]
        internal_weight = (
            pd.Series(graph.weight[inside]).groupby(membership[graph.source][inside]).sum()
        )
        rows = []
        for community, group in members.groupby("community"):
            regions = group["region"].dropna().astype(str)
            if self.region_prefix:
                regions = regions.str[: self.region_prefix]
            region_counts = regions.value_counts()
            helix = group["helix"].value_counts(normalize=True)
            top = group.sort_values(["strength", "degree"], ascending=False).head(3)
            rows.append(
                {
                    "community": int(community),
                    "size": len(group),
                    "smes": int((group["kind"] == OrgKind.SME.value).sum()),
                    "dominant_region": region_counts.index[0] if len(region_counts) else None,
                    "dominant_region_share": float(region_counts.iloc[0] / len(group))
                    if len(region_counts)
                    else 0.0,
                    "kinds": {str(k): int(v) for k, v in group["kind"].value_counts().items()},
                    "topics": topics.get(int(community), []),
                    **{
                        f"helix_{sphere}": float(helix.get(sphere, 0.0))
                        for sphere in (*HELIX, "other")
                    },
                    "internal_weight": float(internal_weight.get(community, 0.0)),
                    "hubs": top["name"].astype(str).tolist(),
                    "brokers": group.sort_values("betweenness", ascending=False)
                    .head(3)["name"]
                    .astype(str)
                    .tolist(),
                }
            )
        columns = [
            "community",
            "size",
            "smes",
            "dominant_region",
            "dominant_region_share",
            "kinds",
            "topics",
            *(f"helix_{s}" for s in (*HELIX, "other")),
            "internal_weight",
            "hubs",
            "brokers",
        ]
        return pd.DataFrame(rows, columns=columns)

    @staticmethod
    def _policy_targets(centrality: pd.DataFrame) -> pd.DataFrame:
        """Isolated SMEs (no link) and peripheral ones (one-partner fringe or outside the main component)."""
        smes = centrality[centrality["kind"] == OrgKind.SME.value]
        biggest = centrality["component_size"].max() if len(centrality) else 0
        isolated = smes["degree"] == 0
        outside = (smes["degree"] > 0) & (smes["component_size"] < biggest)
        fringe = (smes["degree"] > 0) & ~outside & (smes["coreness"] <= 1)
        reason = pd.Series(None, index=smes.index, dtype=object)
        reason[fringe] = "peripheral: on the fringe (core number 1)"
        reason[outside] = "peripheral: outside the main collaboration component"
        reason[isolated & (smes["projects"] == 0)] = "isolated: no project in the registry"
        reason[isolated & (smes["projects"] > 0)] = "isolated: projects without linked partners"
        targets = smes.loc[
            reason.notna(), ["name", "region", "projects", "degree", "community", "component_size"]
        ].copy()
        targets.insert(
            0,
            "status",
            np.where(reason[reason.notna()].str.startswith("isolated"), "isolated", "peripheral"),
        )
        targets["reason"] = reason[reason.notna()]
        return targets.sort_values(["status", "degree", "projects"], ascending=[True, True, False])

    def summary(self, *, top: int | None = 10) -> dict:
        """A JSON-ready digest: sizes, modularity, communities, brokers, policy targets
        (``top`` communities and brokers listed; ``None`` for all)."""
        if not hasattr(self, "centrality_"):
            raise RuntimeError("call fit() first")
        whole_number("top", top, least=1, none=True)
        centrality = self.centrality_
        linked = centrality[centrality["degree"] > 0]
        brokers = linked.sort_values("betweenness", ascending=False).head(top)
        return {
            "settings": self.settings_,
            "organisations": int(self.graph_.n_nodes),
            "links": int(len(self.graph_.source)),
            "projection": self.projection_,
            "communities": int(len(self.communities_)),
            "modularity": self.modularity_,
            "isolated_organisations": int((centrality["degree"] == 0).sum()),
            "community_table": self.communities_.head(top).to_dict(orient="records"),
            "top_brokers": [
                {
                    "external_id": idx,
                    "name": row["name"],
                    "kind": row["kind"],
                    "betweenness": float(row["betweenness"]),
                    "constraint": float(row["constraint"]) if "constraint" in row else None,
                    "effective_size": float(row["effective_size"])
                    if "effective_size" in row
                    else None,
                    "degree": int(row["degree"]),
                }
                for idx, row in brokers.iterrows()
            ],
            "policy_targets": {
                "isolated_smes": int((self.policy_targets_["status"] == "isolated").sum()),
                "peripheral_smes": int((self.policy_targets_["status"] == "peripheral").sum()),
            },
            "input_report": self.report_.to_dict(),
            "timings_s": self.timings_,
        }
