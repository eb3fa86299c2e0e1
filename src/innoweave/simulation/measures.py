"""Phase 8 of the model: the outputs recorded each step (``docs/model.md`` section 5).

The :class:`Recorder` turns the state after a step into one flat record: innovation,
collaboration by mode, patents, capability and its spread, knowledge variety, demography,
the collaboration network of the last few steps, spending by instrument and the NCSES-style
three-year shares by size class used for calibration. Network measures are computed on the
host (the edge list is small next to the population): a sort-built adjacency, connected
components by label propagation and an exact wedge count for the clustering.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy import sparse

from innoweave.inequality import gini_of_sorted
from innoweave.simulation import kernels
from innoweave.simulation.arrays import count_true, to_host
from innoweave.simulation.government import INSTRUMENT_KEYS
from innoweave.simulation.params import SIZE_CLASSES, SME

NETWORK_COLUMNS = ("net_nodes", "net_edges", "net_density", "net_largest_component",
                   "net_clustering", "net_mean_degree", "net_max_degree")


def gini(values: np.ndarray, *, fused: bool = False) -> float:
    """Gini coefficient of non-negative values (0 for empty or all-zero input).

    ``fused=True`` (float values) sorts with :func:`kernels.sorted_values`: the same sorted
    array, so the same figure."""
    values = np.asarray(values)
    if fused and values.dtype.kind == "f":
        v = kernels.sorted_values(values)
    else:
        # sorted in the values' own dtype, then widened: the same float64 values in the
        # same order (the widening is exact and monotone)
        v = np.sort(values).astype(float)
    return gini_of_sorted(v)


def unique_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distinct undirected pairs without self-loops, as ``(m, 2)`` with low index first."""
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    keep = lo != hi
    lo, hi = lo[keep], hi[keep]
    if lo.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.int64)
    width = int(hi.max()) + 1
    key = np.sort(lo * width + hi)  # sort-based unique: faster here than hashing
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    return np.stack([key // width, key % width], axis=1)


#: Above this many edges the transitivity is estimated from sampled wedges.
EXACT_CLUSTERING_MAX_EDGES = 100_000
WEDGE_SAMPLES = 200_000
#: The exact count lists every wedge; past this many it multiplies sparse matrices instead.
MAX_LISTED_WEDGES = 5_000_000


def transitivity(indptr: np.ndarray, indices: np.ndarray, degree: np.ndarray) -> float:
    """3 x triangles / connected triples of a simple undirected graph in CSR form.

    ``indices`` are sorted within each row. Exact up to :data:`EXACT_CLUSTERING_MAX_EDGES`
    edges: every wedge (two neighbours of a centre) is looked up among the edges and the
    share of closed ones is the transitivity (each triangle closes three wedges); above, the
    share of closed wedges among :data:`WEDGE_SAMPLES` wedges drawn uniformly (centre with
    probability ∝ d(d-1), then two distinct neighbours) by a generator with a fixed seed, so
    the estimate is deterministic for a graph (standard error below 0.0012).
    """
    triples = float((degree * (degree - 1.0)).sum())  # 2 x connected triples
    if triples <= 0:
        return 0.0
    n = degree.shape[0]
    # edge keys in ascending order: CSR rows in order, columns sorted within each row
    keys = np.repeat(np.arange(n, dtype=np.int64), degree) * n + indices
    if indices.shape[0] // 2 <= EXACT_CLUSTERING_MAX_EDGES:
        if triples / 2 > MAX_LISTED_WEDGES:
            adj = sparse.csr_matrix((np.ones(indices.shape[0]), indices, indptr), shape=(n, n))
            return float(adj.multiply(adj @ adj).sum() / triples)
        # wedge (k, k') for every pair of positions k < k' of the same row
        later = np.repeat(indptr[1:], degree) - np.arange(indices.shape[0]) - 1
        first = np.repeat(np.arange(indices.shape[0]), later)
        offset = np.arange(first.shape[0]) - np.repeat(np.cumsum(later) - later, later)
        query = indices[first] * n + indices[first + 1 + offset]
        pos = np.minimum(np.searchsorted(keys, query), keys.shape[0] - 1)
        closed = float((keys[pos] == query).sum())
        return closed / (triples / 2)
    rng = np.random.default_rng(0)
    weights = degree * (degree - 1.0)
    centre = np.searchsorted(np.cumsum(weights), rng.random(WEDGE_SAMPLES) * weights.sum(),
                             side="right")
    d = degree[centre]
    first = np.minimum((rng.random(WEDGE_SAMPLES) * d).astype(np.int64), d - 1)
    second = np.minimum((rng.random(WEDGE_SAMPLES) * (d - 1)).astype(np.int64), d - 2)
    second = second + (second >= first)
    u = indices[indptr[centre] + first]
    v = indices[indptr[centre] + second]
    query = np.minimum(u, v) * n + np.maximum(u, v)
    pos = np.minimum(np.searchsorted(keys, query), keys.shape[0] - 1)
    return float((keys[pos] == query).mean())


def component_labels(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Connected component of each of ``n`` nodes given edges ``a[k] - b[k]``: the smallest
    node number of the component.

    Each round hooks every node to the smallest label among its neighbours, then follows
    labels to their roots (pointer jumping); it stops when every edge joins equal labels.
    A handful of whole-array passes, where building a SciPy sparse matrix for
    ``connected_components`` costs more than the graph of a step's window.
    """
    labels = np.arange(n)
    while True:
        la, lb = labels[a], labels[b]
        if np.array_equal(la, lb):
            return labels
        low = np.minimum(la, lb)
        np.minimum.at(labels, la, low)
        np.minimum.at(labels, lb, low)
        while True:
            up = labels[labels]
            if np.array_equal(up, labels):
                break
            labels = up


def network_measures(a: np.ndarray, b: np.ndarray, *, fused: bool = False) -> dict[str, float]:
    """Measures of the undirected simple graph with edges ``a[k] - b[k]``.

    ``fused=True`` counts in one compiled pass (``kernels.network_counts``); the figures are
    the same (the wedge sampling above :data:`EXACT_CLUSTERING_MAX_EDGES` stays here).
    """
    out = dict.fromkeys(NETWORK_COLUMNS, 0.0)
    if fused:
        lo, hi = kernels.unique_pairs(a.astype(np.int64, copy=False),
                                      b.astype(np.int64, copy=False))
        m = lo.shape[0]
    else:
        pairs = unique_pairs(a, b)
        m = pairs.shape[0]
    if m == 0:
        return out
    if fused and m <= EXACT_CLUSTERING_MAX_EDGES:
        n, largest, max_degree, triples, closed = kernels.network_counts(lo, hi)
        clustering = closed / (triples / 2) if triples > 0 else 0.0
    else:
        if fused:  # the sampled clustering of a large window works on the pairs
            pairs = np.stack([lo, hi], axis=1)
        # CSR of both directions on compact node numbers, built by one sort (SciPy's
        # conversions cost more than the whole graph at the sizes of a step's window)
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        width = int(pairs[:, 1].max()) + 1
        order = np.argsort(src * width + dst)
        src, dst = src[order], dst[order]
        starts = np.concatenate([[True], src[1:] != src[:-1]])
        nodes = src[starts]
        n = nodes.shape[0]
        indptr = np.append(np.flatnonzero(starts), 2 * m).astype(np.int64)
        position = np.empty(width, dtype=np.int64)  # node id -> compact number (no search)
        position[nodes] = np.arange(n)
        indices = position[dst]
        degree = np.diff(indptr)
        largest = np.bincount(component_labels(position[pairs[:, 0]], position[pairs[:, 1]],
                                               n)).max()
        clustering = transitivity(indptr, indices, degree)
        max_degree = degree.max()
    out.update(
        net_nodes=float(n),
        net_edges=float(m),
        net_density=float(2 * m / (n * (n - 1))) if n > 1 else 0.0,
        net_largest_component=float(largest / n),
        net_clustering=clustering,
        net_mean_degree=float(2 * m / n),  # the mean degree, exactly (degrees sum to 2m)
        net_max_degree=float(max_degree),
    )
    return out


class Recorder:
    """Collects the outputs of each step of an engine."""

    def __init__(self, engine):
        self.engine = engine
        rp = engine.params_.record
        self.window: deque = deque(maxlen=rp.network_window)
        s = engine.state_
        self.n_initial_firms = int(to_host(s.initial_firm).sum())
        self.patents_total = int(to_host(s.patents).sum())
        self.last_network = dict.fromkeys(NETWORK_COLUMNS, 0.0)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """The collaboration edges of the current network window (host arrays)."""
        if not self.window:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return (np.concatenate([w[0] for w in self.window]),
                np.concatenate([w[1] for w in self.window]))

    def degrees(self) -> np.ndarray:
        """Degree of every organisation with at least one tie in the window."""
        pairs = unique_pairs(*self.edges())
        if pairs.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        _, counts = np.unique(pairs.ravel(), return_counts=True)
        return counts

    def record(self, dv, project, success, collab, entries, exits, dropped) -> dict[str, float]:
        """Phase 8: the step's flat record — innovation, collaboration by mode, patents, capability
        and its Gini, knowledge variety and breadth, survival and demography, the network of the
        recent window, spending per instrument and the NCSES shares by size class."""
        eng = self.engine
        xp, s, p = eng.xp_, eng.state_, eng.params_
        t = eng.t_
        window = p.record.innovating_window
        firm = s.alive & s.is_firm()
        count = self._counts_fused if eng._fused else self._counts
        (n_firms, n_smes, sme_project, sme_success, innovations, alliance, uir, same_cluster,
         sme_partner, survivors, links, secondments, by_class) = count(
            dv, project, success, collab, firm, window)
        # capability: mean ability of the idea units / ability_max, of the firms alive at the
        # start of the step (this step's entrants have no phase-0 idea)
        kp = p.knowledge
        if eng._fused:
            idea_ability, counts, held = kernels.knowledge_outputs(
                s.ability, dv.idea, s.mask, s.field, firm, s.n_fields)
        else:
            idea_ability = (s.ability * dv.idea).sum(axis=0) / xp.maximum(
                count_true(xp, dv.idea), 1)
            # variety: distinct kenes (field x ability band of width 2) among firms' units
            units = xp.flatnonzero(s.mask & firm[None, :])  # flat positions: take() beats masks
            kene = (xp.take(s.field, units) * 5
                    + xp.minimum((xp.take(s.ability, units) * 0.5).astype(xp.int32), 4))
            counts = xp.bincount(kene, minlength=s.n_fields * 5)
            held = count_true(xp, s.mask)
        q = to_host(idea_ability[firm & eng.alive_at_start_] / kp.ability_max)
        counts = to_host(counts).astype(float)
        share = counts / max(counts.sum(), 1.0)
        nz = share[share > 0]
        firm_rows = xp.flatnonzero(firm)  # one index for the three means: beats three masks
        breadth = xp.take(held, firm_rows)  # after this step's learning and entry
        self.patents_total += eng.patents_step_
        rec: dict[str, float] = {
            "step": t,
            "n_firms": n_firms,
            "n_smes": n_smes,
            "share_sme_project": float(sme_project) / max(n_smes, 1),
            "share_sme_success": float(sme_success) / max(n_smes, 1),
            "innovations": innovations,
            "innovations_sme": sme_success,
            "radical_innovations": eng.radical_success_,
            "collab_alliance": alliance,
            "collab_uir": uir,
            "collab_cluster": same_cluster,
            "collab_total": int(collab.a.shape[0]),
            "share_sme_research_partner": float(sme_partner) / max(n_smes, 1),
            "new_partnerships": eng.new_partnerships_,
            "patents": eng.patents_step_,
            "patents_total": self.patents_total,
            "capability_mean": float(q.mean()) if q.size else 0.0,
            "capability_gini": gini(q, fused=eng._fused),
            "knowledge_variety": float(np.exp(-(nz * np.log(nz)).sum())) if nz.size else 0.0,
            "knowledge_breadth": float(breadth.mean()) if n_firms else 0.0,
            "survival": float(survivors) / max(self.n_initial_firms, 1),
            "entries": entries,
            "exits": exits,
            "entry_dropped": dropped,
        }
        self.window.append((to_host(collab.a).astype(np.int64), to_host(collab.b).astype(np.int64)))
        every = p.record.network_every
        if every and (t % every == 0 or t == eng.steps_ - 1):
            self.last_network = network_measures(*self.edges(), fused=eng._fused)
        rec.update(self.last_network)
        spending = eng.government_.spending_
        for key in INSTRUMENT_KEYS:
            rec[f"spend_{key}"] = spending[key]
        rec["spend_total"] = float(sum(spending.values()))
        for key in INSTRUMENT_KEYS:
            rec[f"reach_{key}"] = eng.government_.reach_[key]
        n_class, n_inn, n_coop = by_class
        for c, name in enumerate(SIZE_CLASSES):
            rec[f"innovating_{name}"] = n_inn[c] / n_class[c] if n_class[c] else float("nan")
            rec[f"coop_research_{name}"] = n_coop[c] / n_inn[c] if n_inn[c] else float("nan")
        rec["mean_awareness"] = float(xp.take(s.awareness, firm_rows).mean()) if n_firms else 0.0
        rec["mean_talent"] = float(xp.take(s.talent, firm_rows).mean()) if n_firms else 0.0
        rec["links_active"] = links
        rec["secondments_active"] = secondments
        return rec

    def _counts_fused(self, dv, project, success, collab, firm, window):
        eng = self.engine
        s = eng.state_
        return kernels.record_counts(
            s.alive, s.is_firm(), s.kind, SME, s.is_research(), s.cluster, s.initial_firm,
            project, success, collab.a, collab.b, s.last_success, s.last_uir, eng.t_, window,
            dv.size_class, s.link_left, s.second_left)

    def _counts(self, dv, project, success, collab, firm, window):
        """The counts of :func:`kernels.record_counts`, as whole-array operations."""
        eng = self.engine
        xp, s, t = eng.xp_, eng.state_, eng.t_
        sme = s.alive & (s.kind == SME)
        research_b = s.is_research()[collab.b]
        same_cluster = (s.cluster[collab.a] == s.cluster[collab.b]) & (s.cluster[collab.a] >= 0)
        sme_research = xp.zeros(s.N, dtype=bool)
        sme_research[collab.a[research_b]] = True
        innovating = firm & (s.last_success > t - window)
        cooperating = innovating & (s.last_uir > t - window)
        classes = dv.size_class
        by_class = [to_host(xp.bincount(classes[rows], minlength=4))
                    for rows in (firm, innovating, cooperating)]
        return (int(xp.count_nonzero(firm)), int(xp.count_nonzero(sme)),
                int(xp.count_nonzero(project & sme)), int(xp.count_nonzero(success & sme)),
                int(xp.count_nonzero(success)), int(xp.count_nonzero(~research_b)),
                int(xp.count_nonzero(research_b)), int(xp.count_nonzero(same_cluster)),
                int(xp.count_nonzero(sme_research & sme)),
                int(xp.count_nonzero(firm & s.initial_firm)),
                int(xp.count_nonzero((s.link_left > 0) & s.alive)),
                int(xp.count_nonzero((s.second_left > 0) & s.alive)), by_class)

