"""Temporal hold-out evaluation of partner recommendations, with the baselines to beat.

The protocols of ``shared/eval/matching.md`` (P1 new research partners, P2 all research
partners, P4 capacity and spread) and the generic file mode of ``innoweave match evaluate``
all reduce to one :class:`EvalSplit`: a history built from the training projects only,
the queries (organisations of the query kinds with a training link and a partner of a
target kind in the test projects), the candidates (target-kind organisations active in
training) and the truth. The learned ranker reuses :func:`make_split` inside the training
period to choose and fit its model, so validation and test follow the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from innoweave.arguments import whole_number
from innoweave.matching.features import QUERY_BLOCK, block_rows, fit_text, pair_features
from innoweave.matching.history import (
    DEFAULT_MAX_PROJECT_SIZE,
    CollaborationHistory,
    build_history,
)
from innoweave.registry.collaborations import shared_projects
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import check_kinds
from innoweave.seeding import make_rng

RESEARCH_KINDS = ("university", "research_institute")
METRIC_NAMES = ("recall", "hit", "ndcg", "mrr")


def check_k(k, name: str = "k") -> None:
    """A cut-off or a number of partners: a whole number ≥ 1 (``True`` is a mistake, not 1)."""
    whole_number(name, k, least=1)


def kind_list(kinds, name: str) -> list[str]:
    """Organisation kinds (one kind or a list of them), each a kind of
    :class:`~innoweave.registry.kinds.OrgKind`; at least one is needed."""
    try:
        checked = check_kinds(kinds)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if checked is None:
        raise ValueError(f"{name}: no kind given")
    return list(checked)


@dataclass
class EvalSplit:
    """Queries, candidates and truth of one temporal hold-out."""

    history: CollaborationHistory
    queries: np.ndarray
    candidates: np.ndarray
    truth: list[np.ndarray]
    excluded: sp.csr_matrix
    new_only: bool

    @property
    def n_queries(self) -> int:
        """Number of query organisations in the hold-out."""
        return len(self.queries)

    def subset(self, rows: slice) -> EvalSplit:
        """The split restricted to the queries of ``rows`` (their metrics are the same)."""
        return replace(self, queries=self.queries[rows], truth=self.truth[rows], excluded=self.excluded[rows])

    @property
    def block_size(self) -> int:
        """Queries per block of :meth:`blocks` (:func:`~innoweave.matching.features.block_rows`)."""
        return block_rows(len(self.candidates), QUERY_BLOCK)

    @property
    def n_blocks(self) -> int:
        """How many blocks :meth:`blocks` yields."""
        return -(-self.n_queries // self.block_size)

    def blocks(self):
        """The split in consecutive blocks of queries, :data:`QUERY_BLOCK` or fewer where there
        are very many candidates (:attr:`block_size`): ``(rows, subset)``."""
        size = self.block_size
        for start in range(0, self.n_queries, size):
            rows = slice(start, min(start + size, self.n_queries))
            yield rows, self.subset(rows)


def links_of(frames: RegistryFrames, projects: Iterable[str], *, max_project_size: int) -> pd.DataFrame:
    """Directed co-participation links (``a``, ``b``) of the given projects (both directions)."""
    pairs = shared_projects(frames, projects=projects, max_consortium=max_project_size)
    forward = pairs.rename(columns={"org_a": "a", "org_b": "b"})[["a", "b"]]
    backward = pairs.rename(columns={"org_b": "a", "org_a": "b"})[["a", "b"]]
    return pd.concat([forward, backward], ignore_index=True)


def make_split(
    frames: RegistryFrames,
    train_projects: Iterable[str],
    test_projects: Iterable[str],
    *,
    query_kinds: Sequence[str] = ("sme",),
    target_kinds: Sequence[str] = RESEARCH_KINDS,
    new_only: bool = True,
    max_project_size: int = DEFAULT_MAX_PROJECT_SIZE,
    history: CollaborationHistory | None = None,
) -> EvalSplit:
    """The hold-out of ``shared/eval/matching.md`` for any pair of project sets."""
    query_kinds, target_kinds = kind_list(query_kinds, "query_kinds"), kind_list(target_kinds, "target_kinds")
    train_projects = set(train_projects)
    if history is None:
        history = build_history(frames, train_projects, max_project_size=max_project_size)
    index = history.index
    kinds = history.kinds
    candidates = np.flatnonzero(np.isin(kinds, list(target_kinds)) & history.active())
    cand_pos = {int(c): p for p, c in enumerate(candidates)}
    A = history.adjacency
    degree = history.degree
    test = links_of(frames, test_projects, max_project_size=max_project_size)
    test = test[test["a"].isin(index) & test["b"].isin(index)]
    a = test["a"].map(index).to_numpy(dtype=np.int64)
    b = test["b"].map(index).to_numpy(dtype=np.int64)
    keep = np.isin(kinds[a], list(query_kinds)) & (degree[a] > 0) & np.isin(b, candidates)
    a, b = a[keep], b[keep]
    if new_only and len(a):
        known = np.asarray(A[a, b]).ravel() > 0
        a, b = a[~known], b[~known]
    queries = np.unique(a)
    truth_series = pd.Series(b).groupby(a).agg(lambda s: np.unique(s))
    truth = [np.array([cand_pos[int(x)] for x in truth_series[q]]) for q in queries]
    if new_only and len(queries):
        excluded = A[queries][:, candidates].tocsr()
    else:
        excluded = sp.csr_matrix((len(queries), len(candidates)))
    return EvalSplit(history, queries, candidates, truth, excluded, new_only)


def check_score_shape(scores: np.ndarray, split: EvalSplit) -> None:
    """Scores are one row per query and one column per candidate of the split."""
    expected = (split.n_queries, len(split.candidates))
    if scores.shape != expected:
        raise ValueError(f"scores must have one row per query and one column per candidate, shape {expected}, "
                         f"got {scores.shape}")  # fmt: skip


def _descending_ranks(scores: np.ndarray) -> np.ndarray:
    """0-based rank of each candidate within its query's row (best score first; ties keep
    candidate order)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(scores.shape[1]), order.shape), axis=1)
    return ranks


def per_query_metrics(scores: np.ndarray, split: EvalSplit, *, k: int = 10) -> dict[str, np.ndarray]:
    """Recall@k, Hit@k, nDCG@k and MRR of each of the split's queries (arrays in query order)."""
    check_k(k)
    keys = (f"recall@{k}", f"hit@{k}", f"ndcg@{k}", "mrr")
    if split.n_queries == 0:
        return {key: np.zeros(0) for key in keys}
    s = np.array(scores, dtype=float, copy=True)
    check_score_shape(s, split)
    ex = split.excluded.tocoo()
    s[ex.row, ex.col] = -np.inf
    rank = _descending_ranks(s)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    values = np.zeros((4, split.n_queries))
    for i, t in enumerate(split.truth):
        r = rank[i, t]
        found = r < k
        ideal = discounts[: min(len(t), k)].sum()
        values[:, i] = (found.sum() / len(t), float(found.any()), discounts[r[found]].sum() / ideal,
                        1.0 / (r.min() + 1))  # fmt: skip
    return dict(zip(keys, values, strict=True))


def ranking_metrics(scores: np.ndarray, split: EvalSplit, *, k: int = 10) -> dict[str, float]:
    """Recall@k, Hit@k, nDCG@k and MRR averaged over the split's queries."""
    return {key: float(v.mean()) if len(v) else 0.0 for key, v in per_query_metrics(scores, split, k=k).items()}


#: Constant of reciprocal rank fusion (the usual 60): with it our fusion baselines reproduce
#: the page's (P1 R@10 0.290 and 0.308 with distance, page 0.290 and 0.310).
RRF_K = 60


def _reciprocal_rank(scores: np.ndarray) -> np.ndarray:
    """Per-query reciprocal rank ``1 / (RRF_K + rank)`` (rank 1 = highest score; ties keep
    candidate order), the term each signal adds in reciprocal rank fusion."""
    return 1.0 / (RRF_K + 1 + _descending_ranks(scores))


def baseline_scores(split: EvalSplit, *, seed=0, text_vectors=None) -> dict[str, np.ndarray]:
    """Score matrices of the baselines of ``shared/eval/matching.md``.

    Ties of the count-based signals are broken by popularity (training degree), as a
    user-facing list would be. ``text_vectors``: the history's profile vectors, if already
    fitted (:func:`fit_text`).
    """
    h = split.history
    text = fit_text(h)[0] if text_vectors is None else text_vectors
    f = pair_features(h, split.queries, split.candidates, text_vectors=text,
                      families=("text", "graph", "popularity", "geography"))  # fmt: skip
    pop = f["cand_degree"]
    tie = 1e-6 * pop / max(float(pop.max(initial=0)), 1.0)
    rng = make_rng(seed)
    closeness = np.nan_to_num(-f["distance_km"], nan=-1e4)
    out = {
        "random": rng.random(pop.shape),
        "popularity": pop.copy(),
        "common_neighbours": f["common_neighbours"] + tie,
        "adamic_adar": f["adamic_adar"] + tie,
        "resource_allocation": f["resource_allocation"] + tie,
        "tfidf": f["text_cosine"] + tie,
        "same_region": f["same_region"] + tie,
    }
    fused = _reciprocal_rank(out["adamic_adar"]) + _reciprocal_rank(out["tfidf"]) + _reciprocal_rank(pop)
    out["rank_fusion"] = fused
    out["rank_fusion_distance"] = fused + _reciprocal_rank(closeness)
    return out


def baseline_metrics(split: EvalSplit, *, seed=0, k: int = 10) -> dict[str, dict[str, float]]:
    """Metrics of every baseline (:func:`baseline_scores`), scored a block of queries at a
    time so that only one block's score matrices are in memory; each query's scores depend on
    its own row only, and the random baseline draws its rows in order from one generator, so
    the figures are those of scoring the whole split at once."""
    rng = make_rng(seed)
    text = fit_text(split.history)[0]
    per_query: dict[str, list] = {}
    for _, block in split.blocks():
        for name, scores in baseline_scores(block, seed=rng, text_vectors=text).items():
            per_query.setdefault(name, []).append(per_query_metrics(scores, block, k=k))
    return {name: {key: float(np.concatenate([b[key] for b in blocks]).mean()) for key in blocks[0]}
            for name, blocks in per_query.items()}  # fmt: skip


