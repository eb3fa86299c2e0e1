"""The vectorised score of query–candidate pairs shared by the recommender and the simulation.

Matchmaking (``PartnerRecommender``) and the simulation's matchmaking-platform instrument rank
partners with the same linear combination of signals: cosine similarity of profile vectors,
graph proximity, a popularity prior, geography and kind complementarity. :func:`score_pairs`
computes that combination for a whole block of queries against a block of candidates at
once and is array-module agnostic: pass NumPy arrays (default) or CuPy arrays with
``xp=cupy``. Each signal is transformed the same way here as in the recommender's pair
features (:data:`FEATURE_TRANSFORMS`), so weights learned there apply here unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy

#: Default weights of the transformed signals (used where no learned weights are given).
#: They were chosen by validation inside the CORDIS training period (2014–2017 → 2018–2020)
#: and are deliberately mild on popularity so that demand is not sent to one institute.
DEFAULT_WEIGHTS: dict[str, float] = {
    "text": 1.0,
    "proximity": 1.0,
    "popularity": 0.35,
    "distance": 0.6,
    "same_region": 0.3,
    "kind": 0.5,
}

#: Distance scale (km) of the geographic decay ``exp(-d / DISTANCE_SCALE_KM)``.
DISTANCE_SCALE_KM = 150.0

#: How each raw signal becomes a feature (documentation of the transforms below).
FEATURE_TRANSFORMS = {
    "text": "cosine similarity of the L2-normalised profile vectors (0 where a profile is empty)",
    "proximity": "log(1 + proximity), proximity ≥ 0 (e.g. Adamic–Adar or truncated Katz)",
    "popularity": "log(1 + popularity) of the candidate (e.g. training degree)",
    "distance": f"exp(-distance_km / {DISTANCE_SCALE_KM:g}); 0 where the distance is unknown",
    "same_region": "1 where both lie in the same region, else 0",
    "kind": "1 where the candidate's kind complements the query's, else 0",
}


def _normalise_rows(x, xp):
    norms = xp.sqrt((x * x).sum(axis=1, keepdims=True))
    return x / xp.where(norms > 0, norms, 1.0)


def cosine_block(query_vecs, cand_vecs, *, xp=numpy):
    """Cosine similarity of every query row with every candidate row (dense ``(nq, nc)``).

    SciPy sparse rows (TF-IDF) are accepted with NumPy and stay sparse until the product.
    """
    if hasattr(query_vecs, "tocsr") or hasattr(cand_vecs, "tocsr"):
        from sklearn.preprocessing import normalize

        prod = normalize(query_vecs) @ normalize(cand_vecs).T
        return numpy.asarray(prod.toarray() if hasattr(prod, "toarray") else prod, dtype=numpy.float32)
    q = _normalise_rows(xp.asarray(query_vecs, dtype=xp.float32), xp)
    c = _normalise_rows(xp.asarray(cand_vecs, dtype=xp.float32), xp)
    return q @ c.T


def distance_feature(distance_km, *, xp=numpy):
    """Geographic closeness in 0..1; unknown (NaN) distances give 0, never a failure."""
    d = xp.asarray(distance_km, dtype=xp.float32)
    close = xp.exp(-d / DISTANCE_SCALE_KM)
    return xp.where(xp.isnan(close), 0.0, close)


def _check_shape(name, value, shape, xp):
    arr = xp.asarray(value, dtype=xp.float32)
    if arr.ndim == 1:
        if arr.shape[0] != shape[1]:
            raise ValueError(f"{name}: expected {shape[1]} values (one per candidate), got {arr.shape[0]}")
        return arr[None, :]
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape} (queries × candidates), got {arr.shape}")
    return arr


def score_pairs(
    query_vecs,
    cand_vecs,
    *,
    proximity=None,
    distance_km=None,
    same_region=None,
    popularity=None,
    kind_complementary=None,
    weights: Mapping[str, float] | None = None,
    xp=numpy,
):
    """Score every (query, candidate) pair as a weighted sum of transformed signals.

    ``query_vecs`` (nq × d) and ``cand_vecs`` (nc × d) are profile vectors (TF-IDF rows,
    embeddings or knowledge-field vectors); either may be ``None`` to leave text out.
    ``proximity``, ``distance_km`` and ``same_region`` are ``(nq, nc)`` arrays;
    ``popularity`` and ``kind_complementary`` are per candidate ``(nc,)`` or per pair
    ``(nq, nc)``. A signal left as ``None`` (or with weight 0) contributes nothing, so the
    score degrades to the signals that exist. ``weights`` overrides :data:`DEFAULT_WEIGHTS`
    key by key (unknown keys are an error). Returns an ``(nq, nc)`` float32 array of
    module ``xp``.
    """
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown weight(s) {unknown}; known: {sorted(DEFAULT_WEIGHTS)}")
        w.update({k: float(v) for k, v in weights.items()})
    shape = _pair_shape(query_vecs, cand_vecs, proximity, distance_km, same_region)
    if shape is None:
        raise ValueError("score_pairs needs profile vectors or a per-pair signal to know the shape")
    total = xp.zeros(shape, dtype=xp.float32)
    if query_vecs is not None and cand_vecs is not None and w["text"]:
        total += w["text"] * cosine_block(query_vecs, cand_vecs, xp=xp)
    if proximity is not None and w["proximity"]:
        total += w["proximity"] * xp.log1p(xp.maximum(_check_shape("proximity", proximity, shape, xp), 0))
    if popularity is not None and w["popularity"]:
        total += w["popularity"] * xp.log1p(xp.maximum(_check_shape("popularity", popularity, shape, xp), 0))
    if distance_km is not None and w["distance"]:
        total += w["distance"] * distance_feature(_check_shape("distance_km", distance_km, shape, xp), xp=xp)
    if same_region is not None and w["same_region"]:
        total += w["same_region"] * _check_shape("same_region", same_region, shape, xp)
    if kind_complementary is not None and w["kind"]:
        total += w["kind"] * _check_shape("kind_complementary", kind_complementary, shape, xp)
    return total


def _pair_shape(query_vecs, cand_vecs, *pair_arrays):
    if query_vecs is not None and cand_vecs is not None:
        return (query_vecs.shape[0], cand_vecs.shape[0])
    for arr in pair_arrays:
        if arr is not None and getattr(arr, "ndim", 0) == 2:
            return tuple(arr.shape)
    return None
