"""The learned ranker's columns: scaled pair features plus the interactions it was validated with."""

import numpy as np
import pytest

from innoweave.matching.features import SIGNAL_FAMILIES, feature_names
from innoweave.matching.history import project_dates
from innoweave.matching.ranker import (
    INTERACTIONS,
    SIMPLEST_MODEL,
    LearnedRanker,
    choose_model,
    normalised_features,
    ranker_feature_names,
    reference_queries,
    scale_means,
)
from innoweave.matching.scoring import DEFAULT_WEIGHTS

SIZE = "query_degree*cand_degree"


def test_interaction_columns_follow_the_families():
    names = ranker_feature_names(SIGNAL_FAMILIES)
    assert names[: len(feature_names(SIGNAL_FAMILIES))] == feature_names(SIGNAL_FAMILIES)
    assert names[-len(INTERACTIONS) :] == [SIZE]
    # without the popularity family there is nothing to multiply
    assert SIZE not in ranker_feature_names(("text", "graph"))


def test_normalised_features_scale_counts_and_add_the_interaction():
    qd = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])
    cd = np.array([[0.0, 2.0, 4.0], [0.0, 2.0, 4.0]])
    dist = np.array([[5.0, np.nan, 1.0], [2.0, 3.0, np.nan]])
    means = scale_means({"query_degree": qd, "cand_degree": cd, "distance_km": dist})
    assert means == {"query_degree": 2.0, "cand_degree": 2.0}  # distance is not a count
    out = normalised_features({"query_degree": qd, "cand_degree": cd, "distance_km": dist}, means)
    assert np.allclose(out["query_degree"], qd / 2.0) and np.allclose(out["cand_degree"], cd / 2.0)
    assert np.allclose(out[SIZE], np.log1p(qd / 2.0) * np.log1p(cd / 2.0))
    # the scale is the reference's, not the block's: one row alone reads the same
    alone = normalised_features({"query_degree": qd[1:], "cand_degree": cd[1:], "distance_km": dist[1:]}, means)
    assert np.allclose(alone["query_degree"], out["query_degree"][1:])
    assert out["distance_km"][0, 1] == 1000.0 and np.isfinite(out["distance_km"]).all()
    # the caller's arrays are not modified, and an empty block stays empty
    assert np.isnan(dist[0, 1]) and qd[1, 0] == 3.0
    empty_block = {"query_degree": np.zeros((0, 4)), "cand_degree": np.zeros((0, 4))}
    empty = normalised_features(empty_block, scale_means(empty_block))
    assert empty[SIZE].shape == (0, 4)


@pytest.fixture(scope="module")
def ranker(registry):
    dates = project_dates(registry)
    train = dates.index[dates < "2021-01-01"].tolist()
    return LearnedRanker(model="logistic", seed=0).fit(
        registry, train, query_kinds=("sme",), target_kinds=("university", "research_institute")
    )


def test_fitted_ranker_uses_the_interaction_and_predicts_probabilities(ranker, fitted):
    assert ranker.feature_names_ == ranker_feature_names(SIGNAL_FAMILIES)
    assert ranker.model_[-1].coef_.shape == (1, len(ranker.feature_names_))
    h = fitted.history_
    queries = np.flatnonzero(h.kinds == "sme")[:7]
    cands = np.flatnonzero(np.isin(h.kinds, ["university", "research_institute"]))
    ranker.set_scale(fitted.features(reference_queries(h, ("sme",), 0), cands))
    p = ranker.predict(fitted.features(queries, cands))
    assert p.shape == (7, len(cands)) and ((p > 0) & (p < 1)).all()
    keep = np.zeros(p.shape, dtype=bool)
    keep[:, :3] = True
    part = ranker.predict(fitted.features(queries, cands), pairs=keep)
    assert np.allclose(part[keep], p[keep]) and np.isneginf(part[~keep]).all()


def test_ranker_refuses_too_short_a_history(registry):
    few = project_dates(registry).sort_values().index[:6].tolist()
    with pytest.raises(ValueError, match="6 dated project"):
        LearnedRanker(model="logistic").fit(registry, few, query_kinds=("sme",), target_kinds=("university",))
    dates = project_dates(registry)
    with pytest.raises(ValueError, match="unknown model 'forest'"):
        LearnedRanker(model="forest").fit(registry, dates.index.tolist(), query_kinds=("sme",),
                                          target_kinds=("university",))  # fmt: skip


def test_choose_model_keeps_the_simpler_model_unless_another_leads_by_a_standard_error():
    rng = np.random.default_rng(0)
    logistic = rng.uniform(0, 1, 150)
    noise = rng.normal(0, 0.3, 150)
    noisy = logistic + noise - noise.mean() + 0.003  # a lead of 0.003, well inside the noise
    name, record = choose_model({"hgb": noisy, "logistic": logistic})
    lead = record["leads"]["hgb"]
    assert SIMPLEST_MODEL == "logistic" and noisy.mean() > logistic.mean()  # best by the mean alone ...
    assert name == "logistic" == record["chosen"] and 0 < lead["lead"] < lead["standard_error"]  # ... but not kept
    better = logistic + 0.05 + rng.normal(0, 0.01, 150)
    assert choose_model({"hgb": better, "logistic": logistic})[0] == "hgb"
    assert choose_model({"hgb": logistic, "logistic": logistic})[0] == "logistic"  # a tie keeps the simpler
    assert choose_model({"hgb": noisy})[0] == "hgb"  # one model: nothing to choose


def test_auto_ranker_records_its_choice(registry):
    dates = project_dates(registry)
    train = dates.index[dates < "2021-01-01"].tolist()
    auto = LearnedRanker(seed=0).fit(registry, train, query_kinds=("sme",), target_kinds=("university", "research_institute"))
    selection = auto.validation_["selection"]
    assert selection["chosen"] == auto.chosen_model_ and set(auto.validation_["models"]) == {"hgb", "logistic"}
    lead = selection["leads"]["hgb"]
    assert (auto.chosen_model_ == "hgb") == (lead["lead"] > lead["standard_error"])


LINEAR = ("text", "graph", "popularity", "geography")  # families holding five of the linear signals
LINEAR_WEIGHTS = ("text", "proximity", "popularity", "distance", "same_region")


def _rare_positive_pairs(nq: int = 40, nc: int = 5000):
    """``nq`` queries × ``nc`` candidates, one true partner each, whose signals are larger on
    average: the pair features, the labels and the transformed signals ``X`` (nq, nc, 5)."""
    from innoweave.matching.scoring import DISTANCE_SCALE_KM

    rng = np.random.default_rng(0)
    neg = np.array([0.08, 0.52, 0.625, 0.207, 0.229])
    pos = np.array([0.132, 1.46, 1.12, 0.644, 0.759])
    X = rng.exponential(neg, (nq, nc, 5))
    truth = rng.integers(0, nc, nq)
    X[np.arange(nq), truth] = rng.exponential(pos, (nq, 5))
    X[..., 3] = np.clip(X[..., 3], 1e-6, 1.0)  # closeness exp(-d / scale)
    X[..., 4] = X[..., 4] > 0.5
    features = {"text_cosine": X[..., 0], "katz": np.expm1(X[..., 1]), "cand_degree": np.expm1(X[..., 2]),
                "distance_km": -DISTANCE_SCALE_KM * np.log(X[..., 3]), "same_region": X[..., 4]}  # fmt: skip
    labels = np.zeros((nq, nc), bool)
    labels[np.arange(nq), truth] = True
    return features, labels, X


def test_linear_weights_are_fitted_to_convergence_on_rare_positives():
    """With one positive in 5,000 pairs the mean loss's gradient met lbfgs's default tolerance
    after about a dozen iterations, far from the optimum: on synthetic data with 100k SMEs the
    shortlist of the two-stage ranking was no better than random."""
    from sklearn.metrics import roc_auc_score

    from innoweave.matching.ranker import _PairSignals

    features, labels, X = _rare_positive_pairs()
    signals = _PairSignals(LINEAR, labels.size)
    signals.add(features, labels)
    weights = LearnedRanker()._linear_weights(signals)
    w = np.array([weights[k] for k in LINEAR_WEIGHTS])
    auc = roc_auc_score(labels.ravel(), (X @ w).ravel())
    assert auc > 0.88, (weights, auc)  # 0.83 with the early stop
    assert (w > 0).all()  # every signal is larger for the true partners


def test_linear_weights_from_a_weighted_sample_of_negatives(monkeypatch):
    """Above LINEAR_FIT_PAIRS pairs every positive and a sample of each block's negatives are
    kept, weighted by the inverse of the block's sampling fraction: the weights then estimate
    those fitted on every pair."""
    import innoweave.matching.ranker as ranker_module
    from innoweave.matching.ranker import _PairSignals

    features, labels, _ = _rare_positive_pairs()
    every = _PairSignals(LINEAR, labels.size)
    every.add(features, labels)
    full = LearnedRanker()._linear_weights(every)
    monkeypatch.setattr(ranker_module, "LINEAR_FIT_PAIRS", labels.size // 4)
    sample = _PairSignals(LINEAR, labels.size, positives=int(labels.sum()), blocks=4, seed=5)
    assert sample.rate == 0.25 and len(sample.y) < labels.size // 4 + labels.sum() + 4
    for rows in (slice(0, 10), slice(10, 20), slice(20, 30), slice(30, 40)):
        sample.add({k: v[rows] for k, v in features.items()}, labels[rows])
    kept, weight = sample.y[: sample.filled], sample.weight[: sample.filled]
    assert kept.sum() == labels.sum()  # every positive
    assert abs(sample.filled - labels.sum() - 0.25 * (~labels).sum()) <= 4  # a quarter of the negatives
    assert (weight[kept] == 1).all() and np.isclose(weight.sum(), labels.size)  # they stand for every pair
    estimate = LearnedRanker()._linear_weights(sample)
    for name in LINEAR_WEIGHTS:
        assert estimate[name] == pytest.approx(full[name], rel=0.15), (name, estimate, full)  # within 10 % over 8 seeds


def test_fit_is_the_same_whatever_the_block_of_queries(registry, monkeypatch):
    """The fit computes the pair features of a block of queries at a time, so that its memory
    grows with the candidates, not with queries × candidates (a synthetic registry of 100k
    SMEs needed 19.8 GB when every pair was held). Negatives are drawn per query in query
    order, so the learned ranker must not depend on where the blocks end."""
    import innoweave.matching.evaluation as evaluation

    dates = project_dates(registry)
    train = dates.index[dates < "2021-01-01"].tolist()

    def fit():
        return LearnedRanker(seed=0).fit(registry, train, query_kinds=("sme",), target_kinds=("sme", "large_firm"))

    whole = fit()
    monkeypatch.setattr(evaluation, "QUERY_BLOCK", 3)
    blocks = fit()
    assert whole.validation_["validation_queries"] > 3 * 5 and whole.validation_["fit_queries"] > 3 * 5
    assert blocks.validation_ == whole.validation_  # both models' validation metrics, the cuts, the choice
    assert blocks.scoring_weights_ == whole.scoring_weights_
    X = np.random.default_rng(1).exponential(1.0, (200, len(whole.feature_names_))).astype(np.float32)
    assert np.array_equal(blocks.model_.predict_proba(X), whole.model_.predict_proba(X))


def test_ranker_without_linear_signals_keeps_the_default_shortlist_weights(registry):
    """Families without any of the linear combination's signals (recency alone) still learn a
    model; the shortlist's weights are then the defaults (there is nothing to fit them on)."""
    dates = project_dates(registry)
    train = dates.index[dates < "2021-01-01"].tolist()
    ranker = LearnedRanker(model="logistic", families=("recency",), seed=0).fit(
        registry, train, query_kinds=("sme",), target_kinds=("university", "research_institute")
    )
    assert ranker.feature_names_ == feature_names(("recency",))
    assert ranker.scoring_weights_ == dict(DEFAULT_WEIGHTS)
