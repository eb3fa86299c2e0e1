import numpy as np
import pytest

from innoweave.matching.scoring import DEFAULT_WEIGHTS, DISTANCE_SCALE_KM, score_pairs


def test_score_pairs_is_the_weighted_sum_of_transformed_signals():
    rng = np.random.default_rng(0)
    q, c = rng.random((3, 5)), rng.random((4, 5))
    prox, dist = rng.random((3, 4)), rng.random((3, 4)) * 300
    region, pop, kind = rng.random((3, 4)) > 0.5, rng.random(4) * 10, np.array([1, 0, 1, 1])
    got = score_pairs(q, c, proximity=prox, distance_km=dist, same_region=region, popularity=pop,
                      kind_complementary=kind)  # fmt: skip
    cos = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (c / np.linalg.norm(c, axis=1, keepdims=True)).T
    w = DEFAULT_WEIGHTS
    want = (w["text"] * cos + w["proximity"] * np.log1p(prox) + w["popularity"] * np.log1p(pop)[None, :]
            + w["distance"] * np.exp(-dist / DISTANCE_SCALE_KM) + w["same_region"] * region
            + w["kind"] * kind[None, :])  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert got.shape == (3, 4) and got.dtype == np.float32


def test_missing_signals_degrade_and_unknown_distance_counts_zero():
    prox = np.ones((2, 3))
    only_graph = score_pairs(None, None, proximity=prox)
    np.testing.assert_allclose(only_graph, np.log(2.0), rtol=1e-6)
    with_nan = score_pairs(None, None, proximity=prox, distance_km=np.full((2, 3), np.nan))
    np.testing.assert_allclose(with_nan, only_graph)
    zero_text = score_pairs(np.zeros((2, 4)), np.zeros((3, 4)))
    assert np.all(zero_text == 0)


def test_weights_override_and_bad_input():
    prox = np.ones((2, 3))
    assert np.all(score_pairs(None, None, proximity=prox, weights={"proximity": 0}) == 0)
    with pytest.raises(ValueError, match="unknown weight"):
        score_pairs(None, None, proximity=prox, weights={"colour": 1})
    with pytest.raises(ValueError, match="popularity: expected 3 values"):
        score_pairs(None, None, proximity=prox, popularity=np.ones(5))
    with pytest.raises(ValueError, match="distance_km: expected shape"):
        score_pairs(None, None, proximity=prox, distance_km=np.ones((3, 3)))
    with pytest.raises(ValueError, match="needs profile vectors"):
        score_pairs(None, None, popularity=np.ones(3))


def test_sparse_profiles_match_dense():
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    q, c = rng.random((3, 6)) * (rng.random((3, 6)) > 0.5), rng.random((5, 6))
    np.testing.assert_allclose(score_pairs(sp.csr_matrix(q), sp.csr_matrix(c)), score_pairs(q, c), rtol=1e-5)
