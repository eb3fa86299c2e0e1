"""Exact top-k partners for very many SMEs: blocked dense scoring over augmented vectors.

At national scale (hundreds of thousands of SMEs, tens of thousands of partners) the pair
features of :mod:`~innoweave.matching.features` cannot be built for every pair. The linear
score of :func:`~innoweave.matching.scoring.score_pairs` can, once each signal is written as
a dot product or a bias: profile cosine (normalised vectors), geographic closeness (3-D
unit vectors on the sphere: their dot product falls with the chord distance, so it ranks
like closeness), every per-candidate term (popularity, kind complementarity) as a bias,
and "same region" as a per-region bias row (queries are processed grouped by region, so
the region costs no extra dimensions). :func:`augment` builds the vectors and
:func:`blocked_top_k` scores queries block by block with one matrix product and keeps the
exact top-k of each row, so memory stays bounded by the block size.

Where the learned model re-ranks each SME's best candidates (the recommender's second stage
on large candidate sets), :func:`learned_proba` scores the pairs: a fitted gradient-boosted
tree ensemble is walked by one compiled pass (Numba) over the rows, all trees per row, which
gives exactly scikit-learn's ``predict_proba`` (same comparisons, the trees' values summed in
the same order) several times faster; other models use their own ``predict_proba``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from innoweave.matching.scoring import DEFAULT_WEIGHTS
from innoweave.seeding import make_rng

try:
    import numba
except ImportError:  # scikit-learn's own prediction still works
    numba = None


def unit_sphere(lat, lon) -> np.ndarray:
    """3-D unit vectors of coordinates (zeros where unknown, so geography then adds nothing)."""
    lat, lon = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    return np.nan_to_num(xyz, nan=0.0).astype(np.float32)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def augment(
    profiles: np.ndarray,
    *,
    lat=None,
    lon=None,
    side: str,
    weights: dict[str, float] | None = None,
) -> np.ndarray:
    """Query-side (weights applied) or candidate-side augmented vectors, float32."""
    if side not in ("query", "candidate"):
        raise ValueError(f"side must be 'query' or 'candidate', got {side!r}")
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    blocks = [_normalise(profiles) * (w["text"] if side == "query" else 1.0)]
    if lat is not None and lon is not None:
        blocks.append(unit_sphere(lat, lon) * (w["distance"] if side == "query" else 1.0))
    return np.ascontiguousarray(np.hstack(blocks), dtype=np.float32)


def region_bias(cand_region: np.ndarray, n_regions: int, *, weight: float | None = None) -> np.ndarray:
    """``(n_regions, nc)`` bias: row r adds the same-region weight to candidates in region r."""
    w = DEFAULT_WEIGHTS["same_region"] if weight is None else weight
    cand_region = np.asarray(cand_region)
    out = np.zeros((n_regions, len(cand_region)), dtype=np.float32)
    known = (cand_region >= 0) & (cand_region < n_regions)
    out[cand_region[known], np.flatnonzero(known)] = w
    return out


def blocked_top_k(
    query_vecs: np.ndarray,
    cand_vecs: np.ndarray,
    *,
    k: int,
    cand_bias: np.ndarray | None = None,
    query_group: np.ndarray | None = None,
    group_bias: np.ndarray | None = None,
    block: int = 256,
    threads: int = 2,
    sample_size: int = 2048,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` candidates (indices, scores; best first) of each query.

    Score = ``query_vecs @ cand_vecs.T + cand_bias + group_bias[query_group]`` (a group of −1
    gets no group bias). Blocks never mix groups, so the group bias is one row per block.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    nq, nc = len(query_vecs), len(cand_vecs)
    if nc == 0:
        raise ValueError("empty candidate set: no candidate vectors to rank")
    if query_vecs.shape[1] != cand_vecs.shape[1]:
        raise ValueError(f"query vectors have {query_vecs.shape[1]} columns, candidates {cand_vecs.shape[1]}")
    kk = min(k, nc)
    C_T = np.ascontiguousarray(np.asarray(cand_vecs, dtype=np.float32).T)
    bias = None if cand_bias is None else np.asarray(cand_bias, dtype=np.float32)[None, :]
    groups = np.full(nq, -1, dtype=np.int64) if query_group is None else np.asarray(query_group, dtype=np.int64)
    if group_bias is not None and groups.max(initial=-1) >= len(group_bias):
        raise ValueError(f"query_group has codes up to {groups.max()} but group_bias has {len(group_bias)} rows")
    order_q = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order_q])) + 1
    jobs = [(g_start + off, min(g_start + off + block, g_end))
            for g_start, g_end in zip(np.r_[0, bounds], np.r_[bounds, nq], strict=True)
            for off in range(0, g_end - g_start, block)]  # fmt: skip
    top_idx = np.empty((nq, kk), dtype=np.int64)
    top_score = np.empty((nq, kk), dtype=np.float32)

    # A lower bound on each row's k-th best score, from a fixed sample of candidate columns:
    # the k-th best of a subset can only be lower than the k-th best of all, so every true
    # top-k score passes the threshold, and only a few hundred others do. This replaces a
    # full partition of each row (the slow part) by one comparison pass.
    sample = np.sort(make_rng(0).choice(nc, min(nc, max(sample_size, kk)), replace=False))

    def run(job: tuple[int, int]) -> None:
        rows_q = order_q[job[0] : job[1]]
        s = np.asarray(query_vecs[rows_q], dtype=np.float32) @ C_T
        if bias is not None:
            s += bias
        g = groups[rows_q[0]]
        if group_bias is not None and g >= 0:
            s += group_bias[g][None, :]
        sub = s[:, sample]
        floor = np.partition(sub, sub.shape[1] - kk, axis=1)[:, sub.shape[1] - kk]
        rows, cols = np.nonzero(s >= floor[:, None])
        vals = s[rows, cols]
        order = np.lexsort((-vals, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        first = np.searchsorted(rows, np.arange(len(s)))
        take = first[:, None] + np.arange(kk)[None, :]
        top_idx[rows_q] = cols[take]
        top_score[rows_q] = vals[take]

    # BLAS and the partition both release the GIL, so two blocks run truly in parallel
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(run, jobs))
    return top_idx, top_score


def _ensemble_raw(X, baseline, starts, feature, threshold, missing_left, left, right, is_leaf, value, out):
    """Raw score of each row: ``baseline`` plus the leaf value of every tree, trees in order."""
    for i in range(X.shape[0]):
        raw = baseline
        for t in range(len(starts)):
            root = starts[t]
            node = root
            while not is_leaf[node]:
                x = X[i, feature[node]]
                go_left = missing_left[node] if np.isnan(x) else x <= threshold[node]
                node = root + (left[node] if go_left else right[node])
            raw += value[node]
        out[i] = raw


if numba is not None:
    _ensemble_raw = numba.njit(cache=True, nogil=True)(_ensemble_raw)


#: The fields of scikit-learn's tree nodes that the compiled walk reads.
_NODE_FIELDS = ("feature_idx", "num_threshold", "missing_go_to_left", "left", "right", "is_leaf", "value")


def _compiled_trees(model) -> bool:
    """Whether ``model`` is a binary, numeric-only tree ensemble the compiled walk reproduces.

    It reads scikit-learn's fitted trees (private attributes), so any other layout falls back
    to ``predict_proba`` instead of failing.
    """
    if numba is None or not isinstance(model, HistGradientBoostingClassifier):
        return False
    predictors = getattr(model, "_predictors", None)
    return (
        bool(predictors) and model.n_trees_per_iteration_ == 1 and not np.any(model.is_categorical_)
        and hasattr(model, "_baseline_prediction")
        and set(_NODE_FIELDS) <= set(predictors[0][0].nodes.dtype.names or ())
    )  # fmt: skip


def learned_proba(model, X: np.ndarray, *, threads: int = 2) -> np.ndarray:
    """Probability of the positive class of each row of ``X`` under a fitted classifier.

    For a binary :class:`~sklearn.ensemble.HistGradientBoostingClassifier` without
    categorical features the trees are walked by a compiled kernel on ``threads`` chunks of
    rows (bit-identical to ``model.predict_proba(X)[:, 1]``); any other model is asked
    directly.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != model.n_features_in_:
        raise ValueError(f"X must have {model.n_features_in_} feature columns, got shape {X.shape}")
    if len(X) == 0:
        return np.zeros(0)
    if not _compiled_trees(model):
        with threadpool_limits(1, user_api="openmp"):
            return model.predict_proba(X)[:, 1]
    trees = [predictors[0].nodes for predictors in model._predictors]
    starts = np.cumsum([0] + [len(t) for t in trees[:-1]]).astype(np.int64)
    nodes = np.concatenate(trees)
    arrays = (
        starts, nodes["feature_idx"].astype(np.int64), nodes["num_threshold"].astype(np.float64),
        nodes["missing_go_to_left"].astype(np.bool_), nodes["left"].astype(np.int64),
        nodes["right"].astype(np.int64), nodes["is_leaf"].astype(np.bool_), nodes["value"].astype(np.float64),
    )  # fmt: skip
    baseline = float(np.ravel(model._baseline_prediction)[0])
    raw = np.empty(len(X))
    bounds = np.linspace(0, len(X), max(1, threads) + 1).astype(np.int64)

    def run(lo_hi: tuple[int, int]) -> None:
        lo, hi = lo_hi
        _ensemble_raw(X[lo:hi], baseline, *arrays, raw[lo:hi])

    # the kernel releases the GIL, so the chunks run truly in parallel
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(run, zip(bounds[:-1], bounds[1:], strict=True)))
    # the binomial link of the classifier: P(y = 1) = expit(raw score)
    return expit(raw)
