"""The learned combination of signals: a pair-ranking model fitted with strict temporal separation.

Past collaborations are the only labels there are, so the model learns from the history
itself: within the training period, features come from an earlier slice and labels from
the slice after it. The training period is cut at quantiles of its start dates (``fit`` →
``validate``): candidate models are trained on the fit slice(s), compared by Recall@k on the
last (validation) slice, and the winner is refitted on the rows of all slices. Negatives mix random candidates with hard ones (same kind as a true
partner, same region as the query, two hops away in the graph), so the model learns more
than "popular and nearby". Nothing after the end of the training period is ever read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from innoweave.matching.evaluation import EvalSplit, make_split, per_query_metrics
from innoweave.matching.features import (
    SIGNAL_FAMILIES,
    feature_matrix,
    feature_names,
    fit_text,
    pair_features,
)
from innoweave.matching.history import DEFAULT_MAX_PROJECT_SIZE, project_dates
from innoweave.matching.scoring import DEFAULT_WEIGHTS, distance_feature
from innoweave.matching.topk import learned_proba
from innoweave.registry.frames import RegistryFrames
from innoweave.seeding import make_rng

MODEL_CHOICES = ("hgb", "logistic")
#: The simpler model, kept by ``model="auto"`` unless another validates better by more than
#: one standard error (see :func:`choose_model`).
SIMPLEST_MODEL = "logistic"
#: Count features, divided by their mean over a history's reference pairs (see
#: :func:`reference_queries`), so that a model learned on a short early slice applies to the
#: longer full history.
_SCALED = ("common_neighbours", "adamic_adar", "resource_allocation", "katz", "shared_projects",
           "cand_degree", "cand_activity", "query_degree", "query_activity", "cand_recent_activity")  # fmt: skip


#: Products of two scaled features (of their logarithms), added as columns of their own: the
#: logistic model has main effects only, and how much a partner's popularity counts depends
#: on the SME — an SME with many partners joins the consortia of the most connected
#: institutes more readily than a newcomer. Kept because it raised validation Recall@10
#: inside the training period (P1 0.376 → 0.385, P2 0.582 → 0.586; docs/matching.md).
INTERACTIONS = (("query_degree", "cand_degree"),)


def ranker_feature_names(families: Sequence[str]) -> list[str]:
    """The ranker's columns: the pair features of ``families`` and their :data:`INTERACTIONS`."""
    names = feature_names(families)
    return names + [f"{a}*{b}" for a, b in INTERACTIONS if a in names and b in names]


#: Organisations of the query kinds whose pairs with every candidate set the scale of the
#: count features: enough for a stable mean, few enough to cost little beside a fit.
REFERENCE_QUERIES = 256


def reference_queries(history, query_kinds: Sequence[str], seed) -> np.ndarray:
    """Rows of the organisations whose pairs with the candidates set the scale of the count
    features: up to :data:`REFERENCE_QUERIES` organisations of the query kinds with at least
    one collaboration in ``history``, drawn with ``seed``.

    Counts grow as a history grows, so each history (each training slice, the full training
    period) has its own scale; it depends on the history only, never on which queries are
    scored together, so an organisation's scores are the same asked alone (``recommend``),
    in a batch (``top_k``) or in an evaluation."""
    pool = np.flatnonzero(np.isin(history.kinds, list(query_kinds)) & (history.degree > 0))
    if len(pool) > REFERENCE_QUERIES:
        pool = np.sort(make_rng(seed).choice(pool, REFERENCE_QUERIES, replace=False))
    return pool


#: Signal families whose features include counts in ``_SCALED`` (the others need no scale).
SCALED_FAMILIES = ("graph", "popularity", "recency")


def reference_features(history, query_kinds: Sequence[str], candidates: np.ndarray, families: Sequence[str],
                       seed) -> dict[str, np.ndarray]:
    """The count features of :func:`reference_queries` × ``candidates`` (only the families
    that hold counts: text and geography would be computed for nothing)."""
    counted = [f for f in families if f in SCALED_FAMILIES]
    return pair_features(history, reference_queries(history, query_kinds, seed), candidates, families=counted)


def scale_means(features: dict[str, np.ndarray]) -> dict[str, float]:
    """The mean of each count feature over the reference pairs' ``features``."""
    return {name: float(np.mean(features[name])) if features[name].size else 0.0
            for name in _SCALED if name in features}  # fmt: skip


def scaled_counts(features: dict[str, np.ndarray], means: dict[str, float]) -> dict[str, np.ndarray]:
    """The count features divided by their reference ``means`` (:func:`scale_means`); the
    other features as they are."""
    out = dict(features)
    for name, mean in means.items():
        if name in out and mean > 0:
            out[name] = out[name] / mean
    return out


def normalised_features(features: dict[str, np.ndarray], means: dict[str, float]) -> dict[str, np.ndarray]:
    """:func:`scaled_counts`, distance made finite, and the interactions added."""
    out = scaled_counts(features, means)
    if "distance_km" in out:
        out["distance_km"] = np.nan_to_num(out["distance_km"], nan=1000.0)
    for a, b in INTERACTIONS:
        if a in out and b in out:
            out[f"{a}*{b}"] = np.log1p(np.maximum(out[a], 0)) * np.log1p(np.maximum(out[b], 0))
    return out


def _make_model(name: str, seed: int):
    if name == "hgb":
        return HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
            l2_regularization=1.0, random_state=seed,
        )  # fmt: skip
    if name == "logistic":
        return make_pipeline(
            FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression(C=0.3, max_iter=500)
        )
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_CHOICES)} or 'auto'")


def choose_model(recalls: dict[str, np.ndarray]) -> tuple[str, dict]:
    """The model to refit, from each model's per-query validation recall (same queries).

    The one-standard-error rule: keep :data:`SIMPLEST_MODEL` unless another model's mean
    recall is higher by more than the standard error of the paired per-query difference —
    a validation slice has one or two hundred queries, and a smaller lead is within what
    another draw of queries would reverse. Returns the name and a record of the rule.
    """
    if len(recalls) == 1 or SIMPLEST_MODEL not in recalls:
        name = max(recalls, key=lambda m: recalls[m].mean())
        return name, {"rule": "best validation recall", "chosen": name}
    base = recalls[SIMPLEST_MODEL]
    record = {"rule": f"one standard error: {SIMPLEST_MODEL} unless another model leads by more than the "
                      "standard error of the per-query difference", "leads": {}}  # fmt: skip
    chosen, chosen_lead = SIMPLEST_MODEL, 0.0
    for name, values in recalls.items():
        if name == SIMPLEST_MODEL:
            continue
        diff = values - base
        lead = float(diff.mean())
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("inf")
        record["leads"][name] = {"lead": lead, "standard_error": se}
        if lead > se and lead > chosen_lead:
            chosen, chosen_lead = name, lead
    record["chosen"] = chosen
    return chosen, record


@dataclass
class SliceData:
    split: EvalSplit
    features: dict[str, np.ndarray]


def temporal_cuts(frames: RegistryFrames, train_projects: Sequence[str], *, fractions=(0.45, 0.7)):
    """Dates at the given quantiles of the training projects' start dates (and those dates)."""
    dates = project_dates(frames).reindex(list(train_projects)).dropna().sort_values()
    if len(dates) < 10:
        raise ValueError(
            f"the training period has {len(dates)} dated project(s); at least 10 are needed "
            "to learn a ranking model (the untrained linear combination needs none)"
        )
    return [dates.iloc[int(f * (len(dates) - 1))] for f in fractions], dates


class LearnedRanker:
    """Pointwise ranking model on pair features (settings stored as given; see ``fit``).

    ``model``: ``"auto"`` (choose by validation), ``"hgb"`` or ``"logistic"``; ``families``:
    signal families used; ``n_hard`` / ``n_random``: negatives per query; ``k``: cut-off of
    the validation Recall@k; ``cuts``: quantiles of the training projects' start dates — each
    consecutive pair bounds a fit slice, the last cut starts the validation labels (more cuts
    were tried on CORDIS: no better in validation, so two is the default); ``seed``.
    """

    def __init__(
        self,
        *,
        model: str = "auto",
        families: Sequence[str] = SIGNAL_FAMILIES,
        n_random: int = 1000,
        n_hard: int = 10,
        k: int = 10,
        cuts: Sequence[float] = (0.45, 0.7),
        seed=0,
    ):
        self.model = model
        self.families = families
        self.n_random = n_random
        self.n_hard = n_hard
        self.k = k
        self.cuts = cuts
        self.seed = seed

    def fit(self, frames: RegistryFrames, train_projects: Sequence[str], **kw) -> LearnedRanker:
        """Fit on ``frames`` restricted to ``train_projects`` (see :meth:`_fit` for keywords)."""
        # OpenMP threads of the gradient-boosting trees thrash on small, busy machines: the
        # model is small, so one thread is faster and gives the same trees.
        with threadpool_limits(1, user_api="openmp"):
            return self._fit(frames, train_projects, **kw)

    def _fit(
        self,
        frames: RegistryFrames,
        train_projects: Sequence[str],
        *,
        query_kinds: Sequence[str],
        target_kinds: Sequence[str],
        new_only: bool = True,
        max_project_size: int = DEFAULT_MAX_PROJECT_SIZE,
        embedder=None,
    ) -> LearnedRanker:
        rng = make_rng(self.seed)
        seed_int = int(rng.integers(2**31 - 1))
        cuts, slices = self.slices(frames, train_projects, query_kinds=query_kinds, target_kinds=target_kinds,
                                   new_only=new_only, max_project_size=max_project_size, embedder=embedder)  # fmt: skip
        fit_slices, val = slices[:-1], slices[-1]
        self.feature_names_ = ranker_feature_names(self.families)
        choices = MODEL_CHOICES if self.model == "auto" else (self.model,)
        rows = [self._rows(sl, rng) for sl in fit_slices]
        X0, y0 = np.vstack([r[0] for r in rows]), np.concatenate([r[1] for r in rows])
        self.validation_ = {"cuts": [str(c.date()) for c in cuts],
                            "fit_queries": sum(sl.split.n_queries for sl in fit_slices),
                            "validation_queries": val.split.n_queries, "models": {}}  # fmt: skip
        if len(np.unique(y0)) < 2 or val.split.n_queries == 0:
            raise ValueError(
                "too few collaborations inside the training period to learn a ranking model "
                f"({self.validation_['fit_queries']} fit queries, {val.split.n_queries} validation queries)"
            )
        recalls = {}
        for name in choices:
            model = _make_model(name, seed_int).fit(X0, y0)
            per_query = per_query_metrics(self._predict(model, val), val.split, k=self.k)
            self.validation_["models"][name] = {key: float(v.mean()) for key, v in per_query.items()}
            recalls[name] = per_query[f"recall@{self.k}"]
        best, self.validation_["selection"] = choose_model(recalls)
        self.chosen_model_ = best
        X1, y1 = self._rows(val, rng)
        X, y = np.vstack([X0, X1]), np.concatenate([y0, y1])
        self.model_ = _make_model(best, seed_int).fit(X, y)
        self.scoring_weights_ = self._linear_weights(slices, rng)
        return self

    def slices(self, frames: RegistryFrames, train_projects: Sequence[str], *, embedder=None,
               **split_kw) -> tuple[list, list[SliceData]]:
        """The cut dates and the slices of the training period: fit slices (history before cut
        i, labels between cut i and cut i+1), then the validation slice (history before the
        last cut, labels after it); ``split_kw`` go to :func:`make_split`."""
        cuts, dates = temporal_cuts(frames, train_projects, fractions=self.cuts)
        bounds = [*cuts, dates.max() + pd.Timedelta(days=1)]
        query_kinds = split_kw.get("query_kinds", ("sme",))
        return cuts, [
            self._slice(make_split(frames, dates.index[dates < lo], dates.index[(dates >= lo) & (dates < hi)], **split_kw), embedder,
                        query_kinds)
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]  # fmt: skip

    def _slice(self, split: EvalSplit, embedder, query_kinds: Sequence[str]) -> SliceData:
        history = split.history
        text = fit_text(history, embedder=embedder)[0] if "text" in self.families else None
        feats = pair_features(history, split.queries, split.candidates, text_vectors=text, families=self.families)
        reference = reference_features(history, query_kinds, split.candidates, self.families, self.seed)
        return SliceData(split, normalised_features(feats, scale_means(reference)))

    def _rows(self, data: SliceData, rng) -> tuple[np.ndarray, np.ndarray]:
        """Training rows: all positives, hard negatives, then random negatives, per query."""
        split = data.split
        nq, nc = split.n_queries, len(split.candidates)
        labels = np.zeros((nq, nc), dtype=bool)
        for i, t in enumerate(split.truth):
            labels[i, t] = True
        excluded = split.excluded.toarray() > 0
        cand_kinds = split.history.kinds[split.candidates]
        q_region = split.history.region[split.queries]
        c_region = split.history.region[split.candidates]
        two_hop = data.features.get("common_neighbours", np.zeros((nq, nc))) > 0
        chosen = labels.copy()
        for i in range(nq):
            free = ~labels[i] & ~excluded[i]
            true_kinds = set(cand_kinds[labels[i]])
            hard = free & np.isin(cand_kinds, list(true_kinds)) & two_hop[i]
            if q_region[i] is not None:
                hard &= c_region == q_region[i]
            hard_idx = np.flatnonzero(hard)
            if len(hard_idx) > self.n_hard:
                hard_idx = rng.choice(hard_idx, self.n_hard, replace=False)
            chosen[i, hard_idx] = True
            rest = np.flatnonzero(free & ~chosen[i])
            if len(rest):
                chosen[i, rng.choice(rest, min(self.n_random, len(rest)), replace=False)] = True
        X = feature_matrix(data.features, self.feature_names_, rows=np.flatnonzero(chosen.ravel()))
        return X, labels.ravel()[chosen.ravel()]

    def _predict(self, model, data: SliceData) -> np.ndarray:
        X = feature_matrix(data.features, self.feature_names_)
        nq, nc = data.split.n_queries, len(data.split.candidates)
        return learned_proba(model, X).reshape(nq, nc)

    def set_scale(self, reference: dict[str, np.ndarray]) -> LearnedRanker:
        """Fix the scale of the count features for :meth:`predict`: ``reference`` are the pair
        features of :func:`reference_queries` × the candidates in the history the model will
        score (the recommender's full training period)."""
        self.scale_ = scale_means(reference)
        return self

    def predict(self, features: dict[str, np.ndarray], *, pairs: np.ndarray | None = None) -> np.ndarray:
        """Probability that each pair collaborates (``(nq, nc)`` from raw pair features, read
        on the scale fixed by :meth:`set_scale`).

        With a boolean ``pairs`` mask only those pairs are predicted (the others are −inf):
        the recommender's second stage on large candidate sets.
        """
        feats = normalised_features(features, self.scale_)
        shape = next(iter(feats.values())).shape
        if pairs is None:
            return learned_proba(self.model_, feature_matrix(feats, self.feature_names_)).reshape(shape)
        # only the kept pairs' rows are stacked
        out = np.full(shape, -np.inf)
        flat = np.flatnonzero(np.asarray(pairs).ravel())
        out.ravel()[flat] = learned_proba(self.model_, feature_matrix(feats, self.feature_names_, rows=flat))
        return out

    def _linear_weights(self, slices: list[SliceData], rng) -> dict[str, float]:
        """Weights of :func:`score_pairs`, fitted on its own transformed signals (same slices)."""
        cols = {"text": "text_cosine", "proximity": "katz", "popularity": "cand_degree",
                "distance": "distance_km", "same_region": "same_region", "kind": "kind_complementary"}  # fmt: skip
        rows, ys = [], []
        for data in slices:
            f = data.features
            present = {w: c for w, c in cols.items() if c in f}
            labels = np.zeros((data.split.n_queries, len(data.split.candidates)), dtype=bool)
            for i, t in enumerate(data.split.truth):
                labels[i, t] = True
            mats = []
            for w, c in present.items():
                v = f[c]
                if w == "distance":
                    v = distance_feature(np.where(v >= 1000.0, np.nan, v))
                elif w in ("proximity", "popularity"):
                    v = np.log1p(np.maximum(v, 0))
                mats.append(np.asarray(v, dtype=float).ravel())
            rows.append(np.stack(mats, axis=1))
            ys.append(labels.ravel())
        X, y = np.vstack(rows), np.concatenate(ys)
        if len(np.unique(y)) < 2:
            return dict(DEFAULT_WEIGHTS)
        # Fitted to convergence: the loss is a mean over every pair, and with one positive in
        # thousands its gradient is so small that lbfgs met the default tolerance (1e-4) after
        # a dozen iterations far from the optimum (synthetic, 100k SMEs: a popularity weight
        # of -1.8 and a shortlist no better than random). Standardised columns keep that
        # quick (~25 iterations); the weights are mapped back to the raw signals, which is
        # what score_pairs reads.
        mean, std = X.mean(axis=0), X.std(axis=0)
        std[std == 0] = 1.0
        X -= mean
        X /= std
        lr = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(X, y)
        weights = {w: 0.0 for w in DEFAULT_WEIGHTS}
        weights.update({w: float(c) for w, c in zip(present, lr.coef_[0] / std, strict=True)})
        return weights


def validation_table(ranker: LearnedRanker) -> pd.DataFrame:
    """The validation metrics of each candidate model (rows) for reports."""
    return pd.DataFrame(ranker.validation_["models"]).T
