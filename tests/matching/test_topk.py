import numpy as np
import pytest

from innoweave.matching.scoring import score_pairs
from innoweave.matching.topk import augment, blocked_top_k, region_bias


def test_blocked_top_k_is_exact_and_matches_score_pairs():
    rng = np.random.default_rng(3)
    nq, nc = 700, 3000
    qv, cv = rng.random((nq, 8)), rng.random((nc, 8))
    qlat, qlon, clat, clon = rng.uniform(47, 55, nq), rng.uniform(6, 15, nq), rng.uniform(47, 55, nc), rng.uniform(6, 15, nc)
    qlat[:5] = np.nan  # unknown coordinates add nothing
    qr, cr = rng.integers(-1, 5, nq), rng.integers(0, 5, nc)
    pop = rng.pareto(1.5, nc)
    Q, C = augment(qv, lat=qlat, lon=qlon, side="query"), augment(cv, lat=clat, lon=clon, side="candidate")
    bias = 0.35 * np.log1p(pop)
    groups = region_bias(cr, 5)
    idx, scores = blocked_top_k(Q, C, k=7, cand_bias=bias, query_group=qr, group_bias=groups, block=128, sample_size=64)
    full = Q @ C.T + bias[None, :] + np.where(qr[:, None] >= 0, groups[np.maximum(qr, 0)], 0)
    want = np.sort(full, axis=1)[:, ::-1][:, :7]
    np.testing.assert_allclose(scores, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(full, idx, axis=1), want, rtol=1e-5, atol=1e-5)
    # the text part is score_pairs' cosine term
    text_only = augment(qv, side="query") @ augment(cv, side="candidate").T
    np.testing.assert_allclose(text_only[:3, :4], score_pairs(qv[:3], cv[:4], weights={"text": 1.0}), rtol=1e-5)


def test_blocked_top_k_bad_input():
    q, c = np.ones((3, 2), np.float32), np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="k must be positive"):
        blocked_top_k(q, c, k=0)
    with pytest.raises(ValueError, match="empty candidate set"):
        blocked_top_k(q, c[:0], k=2)
    with pytest.raises(ValueError, match="columns"):
        blocked_top_k(q, np.ones((4, 3), np.float32), k=2)
    idx, _ = blocked_top_k(q, c, k=10)
    assert idx.shape == (3, 4)  # k larger than the candidate set gives all of them
