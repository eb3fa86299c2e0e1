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

from innoweave.estimator import Estimator
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
from innoweave.seeding import make_rng, spawn_seeds

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


#: The linear combination's weight names and the pair feature each reads (:func:`score_pairs`).
_LINEAR_COLUMNS = {"text": "text_cosine", "proximity": "katz", "popularity": "cand_degree",
                   "distance": "distance_km", "same_region": "same_region", "kind": "kind_complementary"}  # fmt: skip


@dataclass
class SliceData:
    """One slice of the training period: its split and what its pair features are computed
    from (the text vectors of its history, the count features' scale). The features are
    computed a block of queries at a time (:meth:`blocks`: 256 queries, or fewer so that a
    block holds at most :data:`~innoweave.matching.features.BLOCK_PAIRS` pairs), so a slice
    never holds the features of every pair: memory grows with the candidates, not with
    queries × candidates."""

    split: EvalSplit
    families: Sequence[str]
    text_vectors: object
    means: dict[str, float]

    def blocks(self):
        """``(rows, features)`` of each block of queries (:meth:`EvalSplit.blocks`), in query
        order: ``features`` are the normalised pair features of ``split.queries[rows]`` × every
        candidate."""
        split = self.split
        for rows, block in split.blocks():
            feats = pair_features(split.history, block.queries, split.candidates,
                                  text_vectors=self.text_vectors, families=self.families)  # fmt: skip
            yield rows, normalised_features(feats, self.means)

    def labels(self, rows: slice) -> np.ndarray:
        """Whether each candidate is a true partner of each query of ``rows`` (boolean array)."""
        out = np.zeros((len(range(self.split.n_queries)[rows]), len(self.split.candidates)), dtype=bool)
        for i, t in enumerate(self.split.truth[rows]):
            out[i, t] = True
        return out


#: Pairs the shortlist's weights are fitted on, at most. Above it every positive and, in each
#: block of queries, a uniform sample of its negatives are kept, each negative weighted by the
#: inverse of its block's sampling fraction: the weighted loss is an unbiased estimate of the
#: loss over every pair. Every CORDIS fit is below it (alliance: 1.2 million pairs), so there
#: every pair counts; a synthetic registry of 100k SMEs has ~10^8 (4.8 GB at 48 bytes a pair).
LINEAR_FIT_PAIRS = 20_000_000


class _PairSignals:
    """The linear combination's transformed signals and label of the pairs of the training
    slices, filled block by block (the rows of :meth:`LearnedRanker._linear_weights`): every
    pair, or above :data:`LINEAR_FIT_PAIRS` a weighted sample of the negatives."""

    def __init__(self, families: Sequence[str], pairs: int, *, positives: int = 0, blocks: int = 1, seed=0):
        names = feature_names(families)
        self.columns = {w: c for w, c in _LINEAR_COLUMNS.items() if c in names}
        self.rate = min(1.0, LINEAR_FIT_PAIRS / max(pairs, 1))
        # each block keeps round(rate × its negatives): at most half a pair more than rate × all
        size = pairs if self.rate == 1.0 else positives + int(self.rate * (pairs - positives)) + blocks
        self.X = np.empty((size, len(self.columns)))
        self.y = np.empty(size, dtype=bool)
        self.weight = None if self.rate == 1.0 else np.empty(size)
        self.rng = None if self.rate == 1.0 else make_rng(seed)
        self.filled = 0

    @classmethod
    def of(cls, families: Sequence[str], slices: Sequence[SliceData], *, seed=0) -> _PairSignals:
        """Room for the pairs of ``slices``, added a block of queries at a time; ``seed``
        draws the sample of negatives, if any."""
        return cls(families, sum(sl.split.n_queries * len(sl.split.candidates) for sl in slices),
                   positives=sum(len(t) for sl in slices for t in sl.split.truth),
                   blocks=sum(sl.split.n_blocks for sl in slices), seed=seed)  # fmt: skip

    def add(self, features: dict[str, np.ndarray], labels: np.ndarray) -> None:
        """Add a block's pairs (``labels``: whether each is a true partner)."""
        keep = None
        if self.weight is not None:
            flat = labels.ravel()
            negatives = np.flatnonzero(~flat)
            m = int(round(self.rate * len(negatives)))
            keep = np.sort(np.concatenate([np.flatnonzero(flat), self.rng.choice(negatives, m, replace=False)]))
        n = labels.size if keep is None else len(keep)
        at = slice(self.filled, self.filled + n)
        for j, (w, c) in enumerate(self.columns.items()):
            v = features[c] if keep is None else np.asarray(features[c]).ravel()[keep]
            if w == "distance":
                v = distance_feature(np.where(v >= 1000.0, np.nan, v))
            elif w in ("proximity", "popularity"):
                v = np.log1p(np.maximum(v, 0))
            self.X[at, j] = np.asarray(v, dtype=float).ravel()
        self.y[at] = labels.ravel() if keep is None else labels.ravel()[keep]
        if keep is not None:
            negatives_kept = n - int(self.y[at].sum())
            self.weight[at] = np.where(self.y[at], 1.0, (labels.size - labels.sum()) / max(negatives_kept, 1))
        self.filled = at.stop


#: Queries with a new partner that the fit slices and the validation slice each need at the
#: least. With fewer the model is learned from a handful of SMEs (its probabilities come out
#: near 1: three fit queries gave 0.99 on a 120-SME synthetic registry) and the choice between
#: models rests on noise: the recommender keeps the linear combination and says why.
MIN_SLICE_QUERIES = 10


def temporal_cuts(frames: RegistryFrames, train_projects: Sequence[str], *, fractions=(0.45, 0.7)):
    """Dates at the given quantiles of the training projects' start dates (and those dates)."""
    dates = project_dates(frames).reindex(list(train_projects)).dropna().sort_values()
    if len(dates) < 10:
        raise ValueError(
            f"the training period has {len(dates)} dated project(s); at least 10 are needed "
            "to learn a ranking model (the untrained linear combination needs none)"
        )
    return [dates.iloc[int(f * (len(dates) - 1))] for f in fractions], dates


class LearnedRanker(Estimator):
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
        # the sample of negatives for the shortlist's weights, if any, has a generator of its own
        # (a child of the run's seed), so the training rows are those of a fit on every pair
        signals = _PairSignals.of(self.families, slices, seed=spawn_seeds(seed_int, 1)[0])
        rows = [self._pass(sl, rng, signals=signals)[:2] for sl in fit_slices]
        X0, y0 = np.vstack([r[0] for r in rows]), np.concatenate([r[1] for r in rows])
        self.validation_ = {"cuts": [str(c.date()) for c in cuts],
                            "fit_queries": sum(sl.split.n_queries for sl in fit_slices),
                            "validation_queries": val.split.n_queries, "models": {}}  # fmt: skip
        few = min(self.validation_["fit_queries"], val.split.n_queries) < MIN_SLICE_QUERIES
        if len(np.unique(y0)) < 2 or few:
            raise ValueError(
                "too few collaborations inside the training period to learn a ranking model "
                f"({self.validation_['fit_queries']} fit queries, {val.split.n_queries} validation queries; "
                f"at least {MIN_SLICE_QUERIES} of each are needed)"
            )
        models = [_make_model(name, seed_int).fit(X0, y0) for name in choices]
        # one pass over the validation slice: each model's metrics, its training rows, its signals
        X1, y1, metrics = self._pass(val, rng, models=models, signals=signals)
        recalls = {}
        for name, per_query in zip(choices, metrics, strict=True):
            self.validation_["models"][name] = {key: float(v.mean()) for key, v in per_query.items()}
            recalls[name] = per_query[f"recall@{self.k}"]
        best, self.validation_["selection"] = choose_model(recalls)
        self.chosen_model_ = best
        X, y = np.vstack([X0, X1]), np.concatenate([y0, y1])
        self.model_ = _make_model(best, seed_int).fit(X, y)
        self.scoring_weights_ = self._linear_weights(signals)
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
        reference = reference_features(history, query_kinds, split.candidates, self.families, self.seed)
        return SliceData(split, self.families, text, scale_means(reference))

    def _pass(self, data: SliceData, rng=None, *, models=(), signals: _PairSignals | None = None):
        """One pass over a slice's blocks of queries, collecting what is asked for.

        Returns ``(X, y, metrics)``: with ``rng``, the training rows — every positive, then
        hard negatives (same kind as a true partner, same region as the query, two hops away),
        then random ones, drawn per query in query order — else ``None, None``; the per-query
        metrics of each of ``models`` (:func:`per_query_metrics` at ``k``, read block by block:
        no score matrix of every pair is kept); and, with ``signals``, every pair's linear
        signals are added to it.
        """
        split = data.split
        cand_kinds = split.history.kinds[split.candidates]
        c_region = split.history.region[split.candidates]
        Xs, ys = [], []
        metrics = [[] for _ in models]
        for rows, feats in data.blocks():
            labels = data.labels(rows)
            for out, model in zip(metrics, models, strict=True):
                out.append(per_query_metrics(self._block_proba(model, feats), split.subset(rows), k=self.k))
            if signals is not None:
                signals.add(feats, labels)
            if rng is None:
                continue
            excluded = split.excluded[rows].toarray() > 0
            q_region = split.history.region[split.queries[rows]]
            two_hop = feats.get("common_neighbours", np.zeros(labels.shape)) > 0
            chosen = labels.copy()
            for i in range(len(labels)):
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
            Xs.append(feature_matrix(feats, self.feature_names_, rows=np.flatnonzero(chosen.ravel())))
            ys.append(labels.ravel()[chosen.ravel()])
        metrics = [{key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]} if blocks else {}
                   for blocks in metrics]  # fmt: skip
        if rng is None:
            return None, None, metrics
        width = len(self.feature_names_)
        return (np.vstack(Xs) if Xs else np.zeros((0, width), dtype=np.float32),
                np.concatenate(ys) if ys else np.zeros(0, dtype=bool), metrics)  # fmt: skip

    def _block_proba(self, model, feats: dict[str, np.ndarray]) -> np.ndarray:
        """``model``'s probability of every pair of a block's features, ``(rows, nc)``."""
        shape = next(iter(feats.values())).shape
        return learned_proba(model, feature_matrix(feats, self.feature_names_)).reshape(shape)

    def _rows(self, data: SliceData, rng) -> tuple[np.ndarray, np.ndarray]:
        """Training rows of a slice (see :meth:`_pass`)."""
        return self._pass(data, rng)[:2]

    def _predict(self, model, data: SliceData) -> np.ndarray:
        """``model``'s probability of every pair of a slice, ``(nq, nc)``."""
        blocks = [self._block_proba(model, feats) for _, feats in data.blocks()]
        return np.vstack(blocks) if blocks else np.zeros((0, len(data.split.candidates)))

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
        if pairs is None:
            return self._block_proba(self.model_, feats)
        shape = next(iter(feats.values())).shape
        # only the kept pairs' rows are stacked
        out = np.full(shape, -np.inf)
        flat = np.flatnonzero(np.asarray(pairs).ravel())
        out.ravel()[flat] = learned_proba(self.model_, feature_matrix(feats, self.feature_names_, rows=flat))
        return out

    def _linear_weights(self, signals: _PairSignals) -> dict[str, float]:
        """Weights of :func:`score_pairs`, fitted on its own transformed signals of the pairs of
        the slices (every pair, or a weighted sample: :data:`LINEAR_FIT_PAIRS`)."""
        X, y = signals.X[: signals.filled], signals.y[: signals.filled]
        weight = None if signals.weight is None else signals.weight[: signals.filled]
        if not signals.columns or len(np.unique(y)) < 2:  # nothing to fit them on
            return dict(DEFAULT_WEIGHTS)
        # Fitted to convergence: the loss is a mean over every pair, and with one positive in
        # thousands its gradient is so small that lbfgs met the default tolerance (1e-4) after
        # a dozen iterations far from the optimum (synthetic, 100k SMEs: a popularity weight
        # of -1.8 and a shortlist no better than random). Standardised columns keep that
        # quick (~25 iterations); the weights are mapped back to the raw signals, which is
        # what score_pairs reads.
        if weight is None:
            mean, std = X.mean(axis=0), X.std(axis=0)
        else:
            mean = np.average(X, axis=0, weights=weight)
            std = np.sqrt([np.average((X[:, j] - mean[j]) ** 2, weights=weight) for j in range(X.shape[1])])
        std[std == 0] = 1.0
        X -= mean
        X /= std
        lr = LogisticRegression(C=1.0, tol=1e-8, max_iter=1000).fit(X, y, sample_weight=weight)
        weights = {w: 0.0 for w in DEFAULT_WEIGHTS}
        weights.update({w: float(c) for w, c in zip(signals.columns, lr.coef_[0] / std, strict=True)})
        return weights


def validation_table(ranker: LearnedRanker) -> pd.DataFrame:
    """The validation metrics of each candidate model (rows) for reports."""
    return pd.DataFrame(ranker.validation_["models"]).T
