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


def test_linear_weights_are_fitted_to_convergence_on_rare_positives():
    """With one positive in 5,000 pairs the mean loss's gradient met lbfgs's default tolerance
    after about a dozen iterations, far from the optimum: on synthetic data with 100k SMEs the
    shortlist of the two-stage ranking was no better than random. Here: 40 queries × 5,000
    candidates, one true partner each, whose signals are larger on average."""
    from types import SimpleNamespace

    from sklearn.metrics import roc_auc_score

    from innoweave.matching.ranker import SliceData
    from innoweave.matching.scoring import DISTANCE_SCALE_KM

    rng = np.random.default_rng(0)
    nq, nc = 40, 5000
    neg = np.array([0.08, 0.52, 0.625, 0.207, 0.229])
    pos = np.array([0.132, 1.46, 1.12, 0.644, 0.759])
    X = rng.exponential(neg, (nq, nc, 5))
    truth = rng.integers(0, nc, nq)
    X[np.arange(nq), truth] = rng.exponential(pos, (nq, 5))
    X[..., 3] = np.clip(X[..., 3], 1e-6, 1.0)  # closeness exp(-d / scale)
    X[..., 4] = X[..., 4] > 0.5
    features = {"text_cosine": X[..., 0], "katz": np.expm1(X[..., 1]), "cand_degree": np.expm1(X[..., 2]),
                "distance_km": -DISTANCE_SCALE_KM * np.log(X[..., 3]), "same_region": X[..., 4]}  # fmt: skip
    split = SimpleNamespace(n_queries=nq, candidates=np.arange(nc), truth=[np.array([t]) for t in truth])
    weights = LearnedRanker()._linear_weights([SliceData(split, features)], rng)
    w = np.array([weights[k] for k in ("text", "proximity", "popularity", "distance", "same_region")])
    labels = np.zeros((nq, nc), bool)
    labels[np.arange(nq), truth] = True
    auc = roc_auc_score(labels.ravel(), (X @ w).ravel())
    assert auc > 0.88, (weights, auc)  # 0.83 with the early stop
    assert (w > 0).all()  # every signal is larger for the true partners
