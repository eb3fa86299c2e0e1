"""The Python API of matchmaking: full top-k lists, consistent scores, arguments named when wrong.

Each test fails without its fix: a re-ranking shortlist shorter than k (or holding known
partners) cut lists short; ``score`` scaled a lone pair's features to 1 and disagreed with
``recommend``; bad dates, kinds, k, capacities and loads reached pandas, NumPy or the
auction and came back as their messages — or as a silent wrong result.
"""

import datetime
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from innoweave.inequality import gini
from innoweave.matching import PartnerRecommender, assign, capacity_from_activity, greedy_assign
from innoweave.matching.evaluation import make_split, ranking_metrics
from innoweave.matching.history import build_history, project_dates
from innoweave.matching.protocols import (
    EvaluationInputError,
    evaluate_preset,
    evaluate_split,
    p4_capacity,
)


@pytest.fixture(scope="module")
def shortlisted(registry):
    """Alliance mode with a re-ranking depth below k: 106 firm candidates > 5 × 3."""
    return PartnerRecommender(modes=("alliance",), ranker="logistic", rerank=3, seed=0).fit(
        registry, train_end="2021-01-01"
    )


def _eligible(rec, q: int, mode: str) -> int:
    cands = rec.candidates(mode)
    known = (
        np.isin(cands, rec.history_.adjacency[q].indices)
        if rec.new_only
        else np.zeros(len(cands), bool)
    )
    return int((~known & (cands != q)).sum())


# ------------------------------------------------------------------- full top-k lists
def test_a_shortlist_shorter_than_k_still_gives_k_partners(shortlisted):
    rec = shortlisted
    assert rec._reranks_shortlist(len(rec.candidates("alliance")))
    for org in ("t:sme:0", "t:sme:5", "t:university:1"):
        table = rec.recommend(org, mode="alliance", k=10)
        assert len(table) == 10 and table["score"].is_monotonic_decreasing
        assert org not in set(table["partner_id"])
    smes = np.flatnonzero(rec.history_.kinds == "sme")
    idx, scores = rec.top_k(smes, mode="alliance", k=10)
    assert np.isfinite(scores).all()
    # more than the eligible candidates: every eligible one, none of the query or its partners
    for q in smes[:5]:
        table = rec.recommend(rec.history_.org_ids[q], mode="alliance", k=500)
        assert len(table) == _eligible(rec, q, "alliance")
        rows = [rec.row_of(p) for p in table["partner_id"]]
        assert q not in rows and not np.isin(rows, rec.history_.adjacency[q].indices).any()


def test_top_k_blocks_hold_fewer_queries_with_very_many_candidates(shortlisted, monkeypatch):
    """Blocks of 512 queries × 30,300 firm candidates took 8.4 GB (two blocks at once, 100k
    SMEs: 101,000 candidates): blocks now hold at most BLOCK_PAIRS pairs. The lists do not
    change."""
    import innoweave.matching.features as features

    rec = shortlisted
    smes = np.flatnonzero(rec.history_.kinds == "sme")
    n_cands = len(rec.candidates("alliance"))
    whole = rec.top_k(smes, mode="alliance", k=10)
    assert features.block_rows(n_cands, 512) == min(512, features.BLOCK_PAIRS // n_cands)
    monkeypatch.setattr(features, "BLOCK_PAIRS", 3 * n_cands)  # three queries a block
    assert features.block_rows(n_cands, 512) == 3 and features.block_rows(10 * features.BLOCK_PAIRS) == 1
    small = rec.top_k(smes, mode="alliance", k=10)
    # the same lists; the logistic model's float32 matrix product may round a few scores
    # differently with the number of rows (1.8e-7 at most here)
    assert np.array_equal(small[0], whole[0]) and np.allclose(small[1], whole[1], rtol=0, atol=1e-6)


def test_known_partners_do_not_take_shortlist_places(registry):
    """rerank = k: the shortlist held known partners and self, which were then dropped."""
    rec = PartnerRecommender(modes=("alliance",), ranker="logistic", rerank=10, seed=0).fit(
        registry, train_end="2021-01-01"
    )
    smes = np.flatnonzero(rec.history_.kinds == "sme")
    _, scores = rec.top_k(smes, mode="alliance", k=10)
    expected = np.minimum(10, [_eligible(rec, q, "alliance") for q in smes])
    assert (np.isfinite(scores).sum(axis=1) == expected).all()


def test_score_of_a_pair_is_its_score_in_the_recommendations(fitted, shortlisted):
    for rec, mode in ((fitted, "research"), (fitted, "alliance"), (shortlisted, "alliance")):
        table = rec.recommend("t:sme:4", mode=mode, k=5)
        pairs = [("t:sme:4", p) for p in table["partner_id"]]
        assert np.allclose(rec.score(pairs, mode=mode), table["score"], rtol=1e-12, atol=0)
        assert np.allclose(rec.score(pairs[::-1]), table["score"][::-1], rtol=1e-12, atol=0)
    # a partner off the re-ranking shortlist still gets the learned model's probability
    rec = shortlisted
    q = rec.row_of("t:sme:4")
    cands = rec.candidates("alliance")
    ranked = rec.top_k(np.array([q]), mode="alliance", k=len(cands))[0][0]
    far = str(rec.history_.org_ids[ranked[-1]])
    assert 0 < rec.score([("t:sme:4", far)], mode="alliance")[0] < 1


def test_score_names_what_it_cannot_score(fitted):
    with pytest.raises(
        ValueError, match=r"pairs must be a list of \(organisation, partner\) pairs"
    ):
        fitted.score(("t:sme:1", "t:university:0"))
    with pytest.raises(ValueError, match=r"pairs\[1\] must be an \(organisation, partner\) pair"):
        fitted.score([("t:sme:1", "t:university:0"), ("t:sme:1",)])
    with pytest.raises(
        ValueError, match="'t:sme:2' is of kind 'sme', which mode 'research' does not recommend"
    ):
        fitted.score([("t:sme:1", "t:sme:2")], mode="research")
    with pytest.raises(ValueError, match="cluster mode scores clusters to join, not partners"):
        fitted.score([("t:sme:1", "t:university:0")], mode="cluster")
    assert fitted.score([]).shape == (0,)


# ------------------------------------------------------------------------- dates
@pytest.mark.parametrize("bad, message", [
    ("notadate", "train_end: cannot parse 'notadate' as a date"),
    ("31.02.2021", "train_end: cannot parse '31.02.2021' as a date"),
    (True, "train_end must be a date .* got True"),
    (2021, "train_end must be a date .* got 2021"),  # pandas read it as 2021 ns after 1970
    (float("nan"), "train_end must be a date .* got nan"),  # NaT: nothing trained
    (pd.NaT, "train_end must be a date .* got NaT"),
])  # fmt: skip
def test_train_end_that_is_not_a_date_is_named(registry, bad, message):
    with pytest.raises(ValueError, match=message):
        PartnerRecommender(modes=("research",), ranker="none").fit(registry, train_end=bad)


def test_train_end_as_date_objects_and_out_of_range(registry):
    def trained(end):
        return (
            PartnerRecommender(modes=("research",), ranker="none")
            .fit(registry, train_end=end)
            .train_projects_
        )

    expected = trained("2021-01-01")
    for end in (datetime.date(2021, 1, 1), datetime.datetime(2021, 1, 1), np.datetime64("2021-01-01"),
                pd.Timestamp("2021-01-01", tz="UTC"), "01.01.2021"):  # fmt: skip
        assert trained(end) == expected
    with pytest.raises(
        ValueError,
        match="train_end 2000-01-01 leaves no project to learn from: the earliest project starts 2014",
    ):
        trained("2000-01-01")
    with pytest.raises(ValueError, match="train_projects must be a list of project ids"):
        PartnerRecommender().fit(registry, train_projects="t:project:1")
    with pytest.raises(ValueError, match="give train_end or train_projects, not both"):
        PartnerRecommender().fit(registry, train_projects=["t:project:1"], train_end="2020-01-01")


# ------------------------------------------------------------------ recommender settings
@pytest.mark.parametrize("k", [True, "3", 2.5, 0, -1])
def test_k_that_is_not_a_positive_whole_number_is_refused(fitted, k):
    with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
        fitted.recommend("t:sme:1", k=k)
    with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
        fitted.recommend("t:sme:1", mode="cluster", k=k)
    with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
        fitted.top_k(np.array([1]), mode="research", k=k)


def test_top_k_queries_are_rows(fitted):
    for queries in (np.array(["t:sme:1"]), np.array([10**6]), np.array([[1, 2]]), np.array([-1])):
        with pytest.raises(
            ValueError, match=r"queries must be a 1-D array of organisation rows .*row_of"
        ):
            fitted.top_k(queries, mode="research", k=3)
    assert fitted.top_k(np.array([], dtype=int), mode="research", k=3)[0].shape == (0, 3)


@pytest.mark.parametrize("settings, message", [
    ({"query_kinds": ["smes"]}, r"query_kinds: unknown kind\(s\) 'smes'"),
    ({"modes": ("x",), "target_kinds": {"x": ["wizard"]}}, r"target_kinds\['x'\]: unknown kind\(s\) 'wizard'"),
    ({"modes": ("x",), "target_kinds": {"x": []}}, r"target_kinds\['x'\]: no kind given"),
    ({"target_kinds": ["university"]}, "target_kinds must map a mode to its partner kinds"),
    ({"ranker": "hbg"}, "ranker must be one of auto, hgb, logistic, none, got 'hbg'"),  # was: linear, silently
    ({"new_only": "no"}, "new_only must be True or False, got 'no'"),
    ({"max_project_size": 0}, "max_project_size must be at least 2, got 0"),
    ({"max_project_size": True}, "max_project_size must be a whole number >= 2"),
    ({"seed": -1}, "seed must be a whole number >= 0"),  # was: linear, silently, in every mode
    ({"seed": 1.5}, "seed must be a whole number >= 0"),
])  # fmt: skip
def test_recommender_settings_are_named(registry, settings, message):
    with pytest.raises(ValueError, match=message):
        PartnerRecommender(**settings).fit(registry)


@pytest.mark.parametrize("mode", ["research", "alliance"])
def test_an_smes_list_is_the_same_asked_alone_or_in_a_batch(registry, mode):
    """The learned model read count features scaled by the mean over the queries scored
    together, so recommend(org) and a batch top_k (and the evaluation) gave different lists
    (on CORDIS 52 % of research and 95 % of alliance top-10 lists differed)."""
    rec = PartnerRecommender(modes=(mode,), ranker="logistic", rerank=5, seed=0).fit(registry, train_end="2021-01-01")
    smes = np.flatnonzero(rec.history_.kinds == "sme")
    batch, batch_scores = rec.top_k(smes, mode=mode, k=5)[:2]
    for i in range(0, len(smes), max(len(smes) // 6, 1)):
        alone, alone_scores = rec.top_k(smes[i : i + 1], mode=mode, k=5)[:2]
        assert np.array_equal(alone[0], batch[i]) and np.allclose(alone_scores[0], batch_scores[i])


def test_one_query_kind_given_as_text_is_that_kind(registry):
    """``query_kinds="sme"`` used to be read letter by letter ('s', 'm', 'e': no query)."""
    rec = PartnerRecommender(modes=("research",), query_kinds="sme", ranker="none", seed=0).fit(registry)
    assert rec.query_kinds_ == ("sme",) and rec.metadata_["settings"]["query_kinds"] == ["sme"]


def test_capacity_shown_is_never_below_the_current_load(registry):
    """Four projects in the last twelve months, two in each calendar year: capacity 4, not 2."""
    org = "t:large_firm:0"
    dates = ["2019-11-01", "2019-12-01", "2020-02-01", "2020-03-01"]
    projects = pd.DataFrame({"external_id": [f"x{i}" for i in range(4)], "title": "x",
                             "start_date": [pd.Timestamp(d).date() for d in dates]})  # fmt: skip
    parts = pd.DataFrame({"project_external_id": projects["external_id"], "org_external_id": org})
    frames = replace(registry, projects=projects, participations=parts)
    h = build_history(frames, projects["external_id"])
    row = h.index[org]
    assert h.current_load[row] == 4 and h.peak_yearly[row] == 4


# -------------------------------------------------------------------------- assignment
TABLE = pd.DataFrame(
    {"query": ["a", "a", "b", "b"], "partner": ["x", "y", "x", "y"], "score": [0.9, 0.5, 0.8, 0.4]}
)


@pytest.mark.parametrize("capacity, error, message", [
    (True, ValueError, "capacity must be a whole number ≥ 0 .* got True"),
    (float("nan"), ValueError, "capacity must be a whole number ≥ 0 .* got nan"),
    (-1, ValueError, "capacity must be a whole number ≥ 0 .* got -1"),
    (2.5, ValueError, "capacity must be a whole number ≥ 0 .* got 2.5"),
    ("5", TypeError, "capacity must be a whole number ≥ 0 or a mapping partner → capacity, got str '5'"),
    (None, TypeError, "capacity must be a whole number ≥ 0 or a mapping"),
    ({"x": 1, "y": float("nan")}, ValueError, "the capacity of partner 'y' must be a whole number ≥ 0, got nan"),
    ({"x": "1", "y": 2}, ValueError, "the capacity of partner 'x' must be a whole number ≥ 0, got '1'"),
    ({"x": 1.5, "y": 2}, ValueError, "the capacity of partner 'x' must be a whole number ≥ 0, got 1.5"),
    ({"x": True, "y": 1}, ValueError, "the capacity of partner 'x' must be a whole number ≥ 0, got True"),
    ({"x": -1, "y": 1}, ValueError, "the capacity of partner 'x' must be a whole number ≥ 0, got -1"),
])  # fmt: skip
def test_bad_capacities_are_named(capacity, error, message):
    for plan in (assign, greedy_assign):
        with pytest.raises(error, match=message):
            plan(TABLE, k=1, capacity=capacity)


def test_whole_float_capacities_are_the_integers():
    for plan in (assign, greedy_assign):
        a, b = (
            plan(TABLE, k=1, capacity=1.0),
            plan(TABLE, k=1, capacity={"x": 1.0, "y": np.int64(1)}),
        )
        assert a.pairs.equals(plan(TABLE, k=1, capacity=1).pairs) and a.pairs.equals(b.pairs)


def test_greedy_assign_checks_what_assign_checks():
    for k in (True, 2.5, "3", 0):
        with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
            greedy_assign(TABLE, k=k, capacity=2)
    with pytest.raises(ValueError, match="queries: missing column"):
        greedy_assign(TABLE.drop(columns="score"), k=1, capacity=2)
    with pytest.raises(ValueError, match=r"scores must be finite numbers, got nan for \(a, x\)"):
        greedy_assign(TABLE.assign(score=[np.nan, 1, 1, 1]), k=1, capacity=2)


def test_assign_arguments_are_named():
    with pytest.raises(ValueError, match=r"scores must be finite numbers, got 'high' for \(a, x\)"):
        assign(TABLE.assign(score=["high", 1, 1, 1]), k=1, capacity=2)
    with pytest.raises(
        TypeError, match="queries must be a DataFrame with columns query, partner, score, got list"
    ):
        assign([("a", "x", 1.0)], k=1, capacity=2)
    for value in (float("nan"), "x", True):  # NaN used to drop nothing, silently
        with pytest.raises(ValueError, match="min_quality must be a number"):
            assign(TABLE, k=1, capacity=2, min_quality=value)
    for value in (-1, float("nan"), "0.1"):  # NaN assigned nothing; a negative one piles up load
        with pytest.raises(ValueError, match="load_penalty must be a finite number ≥ 0"):
            assign(TABLE, k=1, capacity=2, load_penalty=value)
    with pytest.raises(
        ValueError, match=r"forced\[0\] must be a \(query, partner\) pair, got \('a',\)"
    ):
        assign(TABLE, k=1, capacity=2, forced=[("a",)])
    with pytest.raises(
        ValueError, match=r"conflicts\[1\] must be a \(query, partner\) pair, got 'ax'"
    ):
        assign(TABLE, k=1, capacity=2, conflicts=[("a", "y"), "ax"])


def test_capacity_from_activity_arguments_are_named():
    with pytest.raises(
        ValueError, match="activity of partner 'y' must be a finite number, got nan"
    ):
        capacity_from_activity(pd.Series({"x": 1.0, "y": np.nan}), total=5)
    with pytest.raises(TypeError, match="activity must be a Series or mapping"):
        capacity_from_activity([1, 2], total=5)
    with pytest.raises(ValueError, match="total must be a whole number ≥ 0, got -5"):
        capacity_from_activity(pd.Series({"x": 1}), total=-5)
    assert capacity_from_activity({"x": 3, "y": 1}, total=8).to_dict() == {"x": 6, "y": 2}


# -------------------------------------------------------------------------- evaluation
@pytest.fixture(scope="module")
def split(registry):
    dates = project_dates(registry)
    return make_split(
        registry, dates.index[dates < "2021-01-01"], dates.index[dates >= "2021-01-01"]
    )


def test_evaluation_arguments_are_named(registry, split):
    scores = np.random.default_rng(0).random((split.n_queries, len(split.candidates)))
    for k in (True, "10", 2.5):
        with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
            ranking_metrics(scores, split, k=k)
        with pytest.raises(EvaluationInputError, match=r"k must be (a whole number >= 1|at least 1)"):
            evaluate_split(registry, [], [], k=k)
    shape = rf"shape \({split.n_queries}, {len(split.candidates)}\)"
    with pytest.raises(
        ValueError, match=f"one row per query and one column per candidate, {shape}"
    ):
        ranking_metrics(scores.T, split, k=3)
    with pytest.raises(
        ValueError, match=f"one row per query and one column per candidate, {shape}"
    ):
        p4_capacity(split, scores[:, :3])
    with pytest.raises(ValueError, match="top_n must be at least 1, got 0"):
        p4_capacity(split, scores, top_n=0)
    with pytest.raises(EvaluationInputError, match=r"protocols must be a list, e.g. \('P1',\)"):
        evaluate_preset(registry, protocols="P1")


def test_split_kinds_are_checked_and_normalised(registry, split):
    dates = project_dates(registry)
    train, test = dates.index[dates < "2021-01-01"], dates.index[dates >= "2021-01-01"]
    # one kind given as text is that kind (its letters matched nothing before)
    one = make_split(registry, train, test, target_kinds="university")
    listed = make_split(registry, train, test, target_kinds=["university"])
    assert len(one.candidates) > 0 and np.array_equal(one.candidates, listed.candidates)
    with pytest.raises(ValueError, match=r"query_kinds: unknown kind\(s\) 'smes'"):
        make_split(registry, train, test, query_kinds=["smes"])
    upper = make_split(
        registry,
        train,
        test,
        query_kinds=["SME"],
        target_kinds=["University", "research_institute"],
    )
    assert np.array_equal(upper.queries, split.queries) and np.array_equal(
        upper.candidates, split.candidates
    )


def test_gini_refuses_loads_it_has_no_value_for():
    with pytest.raises(ValueError, match="gini: values must be finite numbers ≥ 0, got -1.0"):
        gini(np.array([-1, 2]))  # gave 1.5
    with pytest.raises(ValueError, match="gini: values must be finite numbers ≥ 0, got nan"):
        gini(np.array([np.nan, 2]))
    assert gini(np.array([0, 0, 0, 9])) == pytest.approx(0.75)
