"""Pair features: every signal the recommender can use, for a block of queries × candidates.

Reads a :class:`~innoweave.matching.history.CollaborationHistory` and returns, for each
(query, candidate) pair, the raw signals grouped by family — text, graph, popularity,
geography, kind, recency — so that each family can be switched off. The same features
feed the baselines, the learned ranker and the explanations; the linear part is what
:func:`~innoweave.matching.scoring.score_pairs` combines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from innoweave.matching.history import CollaborationHistory
from innoweave.registry.geography import haversine_km
from innoweave.registry.kinds import FIRM_KINDS, RESEARCH_KINDS, OrgKind

SIGNAL_FAMILIES = ("text", "graph", "popularity", "geography", "kind", "recency")

#: Feature names per family (the columns of :func:`pair_features`).
FAMILY_FEATURES = {
    "text": ("text_cosine",),
    "graph": ("common_neighbours", "adamic_adar", "resource_allocation", "katz", "past_partner", "shared_projects"),
    "popularity": ("cand_degree", "cand_activity", "query_degree", "query_activity"),
    "geography": ("distance_km", "same_region"),
    "kind": ("kind_complementary", "cand_is_university"),
    "recency": ("cand_recent_activity", "cand_active_recency", "shared_recency"),
}

#: Half-life in years of the recency features: activity this many years before the end of
#: the history counts half as much as activity in its last year.
RECENCY_HALF_LIFE = 2.0

KATZ_BETA = 0.05
#: Queries whose pair features are computed together where every pair is needed (the
#: ranker's fit, an evaluation): bounds their memory by this many rows × the candidates.
QUERY_BLOCK = 256
#: Pairs in one block of queries at the most (~0.6 GB of pair features): with very many
#: candidates a block holds fewer queries (:func:`block_rows`).
BLOCK_PAIRS = 2**21
_STACK_CHUNK = 32_768


def recency_decay(years: np.ndarray) -> np.ndarray:
    """``0.5 ** (years / RECENCY_HALF_LIFE)`` for the years since an activity; 0 where
    unknown (NaN: never active). Negative years (activity dated after the end) count as 1."""
    years = np.asarray(years, dtype=float)
    with np.errstate(invalid="ignore"):
        decay = np.power(0.5, np.maximum(years, 0.0) / RECENCY_HALF_LIFE)
    return np.nan_to_num(decay, nan=0.0)


def block_rows(n_candidates: int, most: int = QUERY_BLOCK) -> int:
    """Queries per block against ``n_candidates``: ``most``, or fewer so that a block holds
    at most :data:`BLOCK_PAIRS` pairs (at least one query)."""
    return max(1, min(most, BLOCK_PAIRS // max(n_candidates, 1)))


#: Legal forms of organisations (German, European, English-speaking): part of many names,
#: never a topic — in a small registry "gmbh" was a shared topic and weighed in the cosine.
LEGAL_FORMS = frozenset({
    "gmbh", "ggmbh", "mbh", "kgaa", "ohg", "gbr", "ag", "kg", "ug", "ev", "co", "ltd", "limited", "llc",
    "llp", "inc", "corp", "plc", "sarl", "sas", "sa", "spa", "srl", "bv", "nv", "oy", "oyj", "ab",
    "as", "asa", "aps", "sl", "slu", "sp", "zoo", "sro", "kft", "zrt",
})  # fmt: skip
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | LEGAL_FORMS)


def fit_text(history: CollaborationHistory, *, embedder=None):
    """Profile vectors of every organisation: TF-IDF rows, or dense embeddings if given.

    Returns ``(vectors, vocabulary)``; rows of organisations without any text are zero, which
    makes their cosine 0 (no signal) rather than an error.
    """
    if embedder is not None:
        return embedder.encode(history.profiles), None
    texts = history.profiles
    if not any(t.strip() for t in texts):
        return sp.csr_matrix((len(texts), 1)), np.array(["<none>"])
    vec = TfidfVectorizer(
        sublinear_tf=True, min_df=2, max_df=0.3, stop_words=STOP_WORDS, token_pattern=r"(?u)\b[^\W\d_]{3,}\b"
    )
    try:
        matrix = vec.fit_transform(texts)
    except ValueError:  # every term filtered out (tiny registries): fall back to no pruning
        vec = TfidfVectorizer(sublinear_tf=True, stop_words=STOP_WORDS, token_pattern=r"(?u)\b\w+\b")
        try:
            matrix = vec.fit_transform(texts)
        except ValueError:  # nothing but stop words and legal forms: no text signal
            return sp.csr_matrix((len(texts), 1)), np.array(["<none>"])
    return matrix.tocsr().astype(np.float32), vec.get_feature_names_out()


_FIRMS = sorted(str(k) for k in FIRM_KINDS)
#: What a firm lacks in-house: research and intermediation.
_FIRM_COMPLEMENTS = sorted(str(k) for k in RESEARCH_KINDS | {OrgKind.INTERMEDIARY})


def kind_complementary(query_kind: str, cand_kinds: np.ndarray) -> np.ndarray:
    """1 where the candidate brings what a firm lacks (research, intermediation), else 0."""
    return np.isin(cand_kinds, _FIRM_COMPLEMENTS if query_kind in FIRM_KINDS else _FIRMS).astype(float)


def kind_complementary_block(query_kinds: np.ndarray, cand_kinds: np.ndarray) -> np.ndarray:
    """:func:`kind_complementary` of every (query, candidate) pair as an ``(nq, nc)`` array.

    A query is either a firm or not, so there are only two distinct rows: they are built once
    and picked per query instead of testing the candidates' kinds again for every query.
    """
    firm_row = np.isin(cand_kinds, _FIRM_COMPLEMENTS)
    other_row = np.isin(cand_kinds, _FIRMS)
    is_firm = np.isin(query_kinds, _FIRMS)[:, None]
    return np.where(is_firm, firm_row[None, :], other_row[None, :]).astype(float)


def _rows_dense(m: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return m[rows][:, cols].toarray()


def pair_features(
    history: CollaborationHistory,
    queries: np.ndarray,
    candidates: np.ndarray,
    *,
    text_vectors=None,
    families: Sequence[str] = SIGNAL_FAMILIES,
) -> dict[str, np.ndarray]:
    """Raw features of every (query, candidate) pair as ``(nq, nc)`` float arrays.

    Missing inputs degrade: no text gives cosine 0, no coordinates give NaN distance,
    an organisation with no history gives zero graph features.
    """
    queries = np.asarray(queries, dtype=np.int64)
    candidates = np.asarray(candidates, dtype=np.int64)
    nq, nc = len(queries), len(candidates)
    out: dict[str, np.ndarray] = {}
    A = history.adjacency
    degree = history.degree
    if "text" in families:
        if text_vectors is None:
            out["text_cosine"] = np.zeros((nq, nc))
        else:
            q, c = text_vectors[queries], text_vectors[candidates]
            sims = q @ c.T
            out["text_cosine"] = np.asarray(sims.toarray() if sp.issparse(sims) else sims, dtype=float)
            if not sp.issparse(q):
                norms = np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(c, axis=1)[None, :]
                out["text_cosine"] = np.divide(out["text_cosine"], norms, out=np.zeros((nq, nc)), where=norms > 0)
    if "graph" in families:
        Aq = A[queries]
        Ac = A[:, candidates].tocsc()
        inv_log = np.zeros_like(degree)
        inv_log[degree > 1] = 1.0 / np.log(degree[degree > 1])
        inv_deg = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
        out["common_neighbours"] = (Aq @ Ac).toarray()
        out["adamic_adar"] = (Aq @ sp.diags(inv_log) @ Ac).toarray()
        out["resource_allocation"] = (Aq @ sp.diags(inv_deg) @ Ac).toarray()
        two = Aq @ A
        three = two @ Ac
        out["katz"] = KATZ_BETA * out["common_neighbours"] + KATZ_BETA**2 * three.toarray()
        out["past_partner"] = _rows_dense(A, queries, candidates)
        out["shared_projects"] = _rows_dense(history.shared, queries, candidates)
    if "popularity" in families:
        out["cand_degree"] = np.broadcast_to(degree[candidates], (nq, nc)).astype(float)
        out["cand_activity"] = np.broadcast_to(history.activity[candidates], (nq, nc)).astype(float)
        out["query_degree"] = np.broadcast_to(degree[queries][:, None], (nq, nc)).astype(float)
        out["query_activity"] = np.broadcast_to(history.activity[queries][:, None], (nq, nc)).astype(float)
    if "geography" in families:
        out["distance_km"] = haversine_km(
            history.latitude[queries][:, None], history.longitude[queries][:, None],
            history.latitude[candidates][None, :], history.longitude[candidates][None, :],
        )  # fmt: skip
        # integer codes (−1 where absent) instead of comparing Python strings pair by pair
        codes = pd.factorize(np.concatenate([history.region[queries], history.region[candidates]]))[0]
        rq, rc = codes[:nq], codes[nq:]
        out["same_region"] = ((rq[:, None] == rc[None, :]) & (rq[:, None] >= 0)).astype(float)
    if "kind" in families:
        ck = history.kinds[candidates]
        out["kind_complementary"] = kind_complementary_block(history.kinds[queries], ck)
        out["cand_is_university"] = np.broadcast_to((ck == "university").astype(float), (nq, nc))
    if "recency" in families:
        # Years since the last activity as a decay in [0, 1]: 1 for this year, 0 for never.
        # Never-active organisations are the limit of "long ago", inside the range a ranker
        # learned from; a stand-in number of years (e.g. 99) lay far outside it, and a model
        # that gave the years a positive weight ranked a never-active institute first.
        end = history.end if np.isfinite(history.end) else 0.0
        active = recency_decay(end - history.last_active[candidates])
        out["cand_recent_activity"] = np.broadcast_to(history.recent_activity[candidates], (nq, nc)).astype(float)
        out["cand_active_recency"] = np.broadcast_to(active, (nq, nc)).astype(float)
        shared_year = _rows_dense(history.last_shared, queries, candidates)
        out["shared_recency"] = np.where(shared_year > 0, recency_decay(end - shared_year), 0.0)
    return out


def feature_matrix(features: dict[str, np.ndarray], names: Sequence[str], *, rows: np.ndarray | None = None) -> np.ndarray:
    """Stack the named ``(nq, nc)`` features into ``(nq*nc, len(names))`` float32 rows (row-major).

    With ``rows`` (flat pair indices, row-major) only those pairs are stacked — the same rows
    as selecting them from the full matrix, without building it.
    """
    if not names:
        return np.zeros((0, 0))
    columns = [np.asarray(features[name]) for name in names]
    shape = columns[0].shape
    if rows is not None:
        # gathered in each feature's own memory order: some are column-major (per-candidate
        # values broadcast over queries), and flattening those row-major would copy every pair
        rows = np.asarray(rows, dtype=np.int64)
        at = np.unravel_index(rows, shape)
        transposed = np.ravel_multi_index(at[::-1], shape[::-1])
        out = np.empty((len(rows), len(names)), dtype=np.float32)
        for j, column in enumerate(columns):
            if column.flags.c_contiguous:
                out[:, j] = column.reshape(-1).take(rows)
            elif column.flags.f_contiguous:
                out[:, j] = column.T.reshape(-1).take(transposed)
            else:  # a broadcast view
                out[:, j] = column[at]
        return out
    out = np.empty((int(np.prod(shape)), len(names)), dtype=np.float32)
    # filled a few leading rows at a time, so each chunk's strided writes stay in cache
    row_size = int(np.prod(shape[1:]))
    step = max(1, _STACK_CHUNK // max(row_size, 1))
    for start in range(0, shape[0], step):
        chunk = out[start * row_size : (start + step) * row_size]
        for j, column in enumerate(columns):
            chunk[:, j] = column[start : start + step].reshape(-1)
    return out


def feature_names(families: Sequence[str]) -> list[str]:
    """The names of the pair features of the given signal ``families``, in the canonical family
    order of ``SIGNAL_FAMILIES``."""
    return [name for fam in SIGNAL_FAMILIES if fam in families for name in FAMILY_FEATURES[fam]]
