"""The fast paths of the matchmaking scores give exactly what the reference paths give."""

from dataclasses import replace

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from innoweave.matching import PartnerRecommender
from innoweave.matching.features import (
    SIGNAL_FAMILIES,
    feature_matrix,
    feature_names,
    kind_complementary,
    pair_features,
)
from innoweave.matching.ranker import normalised_features, scaled_counts
from innoweave.matching.recommender import SHORTLIST_RANDOM_NEGATIVES
from innoweave.matching.topk import learned_proba


@pytest.fixture(scope="module")
def alliance(registry):
    """Alliance mode with a small re-ranking depth, so the two-stage path runs on the small registry."""
    return PartnerRecommender(modes=("alliance",), ranker="hgb", rerank=5, seed=0).fit(
        registry, train_end="2021-01-01"
    )


def test_pair_features_match_their_pairwise_definitions(fitted):
    h = fitted.history_
    queries = np.flatnonzero(np.isin(h.kinds, ["sme", "university"]))[::3]
    cands = np.arange(len(h.kinds))
    f = pair_features(h, queries, cands, text_vectors=fitted.text_vectors_)
    kinds = np.stack([kind_complementary(k, h.kinds[cands]) for k in h.kinds[queries]])
    assert np.array_equal(f["kind_complementary"], kinds) and f["kind_complementary"].dtype == float
    region = h.region.copy()
    region[::5] = None  # organisations without a region are in no region, not in the same one
    f = pair_features(replace(h, region=region), queries, cands, families=("geography",))
    rq, rc = region[queries], region[cands]
    same = (rq[:, None] == rc[None, :]) & (rq[:, None] != None)  # noqa: E711 - object arrays
    assert np.array_equal(f["same_region"], same.astype(float)) and f["same_region"].any()
    empty = pair_features(h, np.array([], dtype=int), cands, text_vectors=fitted.text_vectors_)
    assert all(v.shape == (0, len(cands)) for v in empty.values())


def test_feature_matrix_rows_are_the_rows_of_the_full_stack(fitted):
    h = fitted.history_
    f = pair_features(h, np.arange(40), np.arange(len(h.kinds)), text_vectors=fitted.text_vectors_)
    names = feature_names(SIGNAL_FAMILIES)
    full = feature_matrix(f, names)
    reference = np.stack([np.asarray(f[n], dtype=np.float32).ravel() for n in names], axis=1)
    assert full.dtype == np.float32 and full.flags.c_contiguous
    assert np.array_equal(full, reference, equal_nan=True)
    rows = np.sort(np.random.default_rng(0).choice(len(full), len(full) // 7, replace=False))
    assert np.array_equal(feature_matrix(f, names, rows=rows), full[rows], equal_nan=True)
    assert feature_matrix(f, names, rows=np.array([], dtype=np.int64)).shape == (0, len(names))
    assert feature_matrix(f, []).shape == (0, 0)


def test_learned_proba_is_bit_identical_to_predict_proba():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 5)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values take the trees' learned side
    y = (np.nan_to_num(X[:, 0]) + X[:, 1] ** 2 > 0.5) | (rng.random(3000) < 0.1)
    trees = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7, random_state=0).fit(X, y)
    test = rng.normal(size=(1001, 5)).astype(np.float32)
    test[::17, 2] = np.nan
    assert np.array_equal(learned_proba(trees, test), trees.predict_proba(test)[:, 1])
    assert np.array_equal(learned_proba(trees, test, threads=1), learned_proba(trees, test, threads=3))
    linear = LogisticRegression().fit(np.nan_to_num(X), y)
    assert np.array_equal(learned_proba(linear, np.nan_to_num(test)), linear.predict_proba(np.nan_to_num(test))[:, 1])
    assert learned_proba(trees, test[:0]).shape == (0,)
    codes = np.column_stack([np.nan_to_num(X[:, :4]), rng.integers(0, 4, len(X))])
    categorical = HistGradientBoostingClassifier(max_iter=10, categorical_features=[4], random_state=0).fit(codes, y)
    assert np.array_equal(learned_proba(categorical, codes[:50]), categorical.predict_proba(codes[:50])[:, 1])
    with pytest.raises(ValueError, match="5 feature columns"):
        learned_proba(trees, test[:, :4])


def test_second_stage_equals_the_rankers_own_prediction(alliance):
    rec = alliance
    ranker = rec.rankers_["alliance"]
    assert ranker.chosen_model_ == "hgb"
    queries = np.flatnonzero(rec.history_.kinds == "sme")
    cands = rec.candidates("alliance")
    assert len(cands) > 5 * rec.rerank  # the two-stage path
    feats = rec.features(queries, cands)
    keep = np.random.default_rng(1).random((len(queries), len(cands))) < 0.2
    fast = ranker.predict(feats, pairs=keep)
    # reference: scikit-learn on the whole block's feature matrix
    full = ranker.model_.predict_proba(feature_matrix(normalised_features(feats, ranker.scale_), ranker.feature_names_))[:, 1]
    assert np.array_equal(fast[keep], full.reshape(keep.shape)[keep])
    assert np.isneginf(fast[~keep]).all()
    scores = rec.score_matrix(queries, cands, mode="alliance")
    assert (np.isfinite(scores).sum(axis=1) == rec.rerank).all()
    first = rec._linear(scaled_counts(feats, ranker.scale_), ranker.scoring_weights_)  # on the scale fitted
    kth = -np.sort(-first, axis=1)[:, rec.rerank - 1]
    assert (first[np.isfinite(scores)].reshape(len(queries), -1) >= kth[:, None]).all()
    idx, top = rec.top_k(queries, mode="alliance", k=3, block=16)
    assert np.isin(idx, cands).all() and (top[:, :-1] >= top[:, 1:]).all()
    one_thread = rec.top_k(queries, mode="alliance", k=3, block=16, threads=1)
    assert np.array_equal(idx, one_thread[0]) and np.array_equal(top, one_thread[1])


def test_shortlist_modes_learn_from_fewer_random_negatives(alliance, fitted):
    assert alliance.rankers_["alliance"].n_random == SHORTLIST_RANDOM_NEGATIVES
    assert fitted.rankers_["alliance"].n_random == 1000  # few candidates: the ranker's default
