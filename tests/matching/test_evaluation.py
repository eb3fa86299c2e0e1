import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.inequality import gini
from innoweave.matching.evaluation import (
    RRF_K,
    EvalSplit,
    _reciprocal_rank,
    baseline_metrics,
    baseline_scores,
    make_split,
    per_query_metrics,
    ranking_metrics,
)
from innoweave.matching.history import project_dates
from innoweave.matching.protocols import EvaluationInputError, evaluate_files, evaluate_split

runner = CliRunner()


def _split(truth, n_cand):
    return EvalSplit(history=None, queries=np.arange(len(truth)), candidates=np.arange(n_cand),
                     truth=[np.array(t) for t in truth], excluded=sp.csr_matrix((len(truth), n_cand)),
                     new_only=True)  # fmt: skip


def test_ranking_metrics_by_hand():
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]])
    m = ranking_metrics(scores, _split([[1, 2], [0]], 4), k=2)
    # query 0: ranks 0,1,3,2 -> finds 1 of {1,2} at rank 2; query 1: item 0 is last (rank 4)
    assert m["recall@2"] == pytest.approx((0.5 + 0) / 2)
    assert m["hit@2"] == pytest.approx(0.5)
    assert m["ndcg@2"] == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)) / 2)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
        ranking_metrics(scores, _split([[1], [0]], 4), k=0)


def test_ranking_metrics_by_hand_with_exclusions_more_truth_than_k_and_ties():
    # query 0: candidate 0 scores best but is excluded (a training partner), so the order is
    # 2, 4, 1, 3, 0; of the truth {1, 3, 4} only 4 is in the top 2 (at rank 2)
    # query 1: a tie between candidates 0 and 1 keeps candidate order, so 1 is second
    scores = np.array([[0.99, 0.5, 0.9, 0.1, 0.7], [0.5, 0.5, 0.2, 0.1, 0.0]])
    split = _split([[1, 3, 4], [1]], 5)
    split.excluded = sp.csr_matrix(([1.0], ([0], [0])), shape=(2, 5))
    m = ranking_metrics(scores, split, k=2)
    d = 1 / np.log2(3)  # the discount of rank 2
    assert m["recall@2"] == pytest.approx((1 / 3 + 1) / 2)  # found over all true partners, not over k
    assert m["hit@2"] == pytest.approx(1.0)
    # the ideal list holds min(3, k) = 2 true partners
    assert m["ndcg@2"] == pytest.approx((d / (1 + d) + d / 1) / 2)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    per = per_query_metrics(scores, split, k=2)
    np.testing.assert_allclose(per["recall@2"], [1 / 3, 1.0])
    np.testing.assert_allclose(per["mrr"], [0.5, 0.5])


def test_gini():
    assert gini(np.array([5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 9])) == pytest.approx(0.75)
    assert gini(np.zeros(3)) == 0.0


def test_split_is_temporal_and_new_only_excludes_training_partners(registry):
    dates = project_dates(registry)
    train, test = dates.index[dates < "2021-01-01"], dates.index[dates >= "2021-01-01"]
    split = make_split(registry, train, test)
    A = split.history.adjacency
    assert split.n_queries > 5
    for q, t in zip(split.queries, split.truth, strict=True):
        assert split.history.kinds[q] == "sme" and split.history.degree[q] > 0
        assert A[q][:, split.candidates[t]].nnz == 0  # new partners only
    repeat = make_split(registry, train, test, new_only=False)
    assert repeat.n_queries >= split.n_queries and repeat.excluded.nnz == 0


def test_baselines_scored_in_blocks_of_queries_read_as_the_whole_split(registry, monkeypatch):
    """The baselines are scored a block of queries at a time (their score matrices of every
    query × every candidate took ~3 GB at 100k synthetic SMEs); the figures, the random
    baseline's included, are those of the whole split scored at once."""
    import innoweave.matching.evaluation as evaluation

    dates = project_dates(registry)
    split = make_split(registry, dates.index[dates < "2021-01-01"], dates.index[dates >= "2021-01-01"])
    whole = {name: ranking_metrics(s, split, k=5) for name, s in baseline_scores(split, seed=3).items()}
    monkeypatch.setattr(evaluation, "QUERY_BLOCK", 4)
    assert split.n_blocks == -(-split.n_queries // 4) > 2
    blocks = list(split.blocks())
    assert [q for _, b in blocks for q in b.queries] == list(split.queries)
    assert all(np.array_equal(t, u) for t, u in zip([t for _, b in blocks for t in b.truth], split.truth, strict=True))
    assert (blocks[1][1].excluded != split.excluded[4:8]).nnz == 0
    assert baseline_metrics(split, seed=3, k=5) == whole


def test_evaluate_split_reports_every_baseline(registry):
    dates = project_dates(registry)
    res = evaluate_split(registry, dates.index[dates < "2021-01-01"], dates.index[dates >= "2021-01-01"], k=5)
    keys = {"recall@5", "hit@5", "ndcg@5", "mrr"}
    assert set(res["metrics"]) == keys
    for name in ("random", "popularity", "common_neighbours", "adamic_adar", "tfidf", "same_region", "rank_fusion"):
        assert set(res["baselines"][name]) == keys
    assert res["metrics"]["recall@5"] > res["baselines"]["random"]["recall@5"]
    assert res["model"]["validation"]["cuts"][0] < "2021-01-01"  # chosen inside the training period


def _write_files(registry, tmp_path):
    orgs = registry.organisations
    o = pd.DataFrame({"org_id": orgs["external_id"], "kind": orgs["kind"], "name": orgs["name"],
                      "region": orgs["region_code"], "lat": orgs["latitude"], "lon": orgs["longitude"]})  # fmt: skip
    p = registry.participations.rename(columns={"project_external_id": "project_id", "org_external_id": "org_id"})
    pr = registry.projects.rename(columns={"external_id": "project_id"})[["project_id", "start_date", "title"]]
    paths = {n: tmp_path / f"{n}.csv" for n in ("P", "O", "PR")}
    p[["project_id", "org_id", "role"]].to_csv(paths["P"], index=False)
    o.to_csv(paths["O"], index=False)
    pr.to_csv(paths["PR"], index=False)
    return paths


def test_generic_files_cli_json_shape(registry, tmp_path):
    paths = _write_files(registry, tmp_path)
    out = runner.invoke(app, ["match", "evaluate", "--participations", str(paths["P"]), "--organisations",
                              str(paths["O"]), "--projects", str(paths["PR"]), "--train-end", "2021-01-01",
                              "--query-kinds", "sme", "--target-kinds", "university,research_institute",
                              "--new-only", "--k", "10", "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["queries"] > 0
    assert set(data["metrics"]) == {"recall@10", "hit@10", "ndcg@10", "mrr"}
    assert {"random", "popularity", "common_neighbours", "adamic_adar", "tfidf", "same_region",
            "rank_fusion"} <= set(data["baselines"])  # fmt: skip


def test_generic_files_bad_input(registry, tmp_path):
    paths = _write_files(registry, tmp_path)
    kw = dict(train_end="2021-01-01", query_kinds=["sme"], target_kinds=["university"], new_only=True)
    pd.read_csv(paths["P"]).drop(columns="org_id").to_csv(tmp_path / "bad_p.csv", index=False)
    with pytest.raises(EvaluationInputError, match=r"bad_p.csv: missing column\(s\) org_id"):
        evaluate_files(tmp_path / "bad_p.csv", paths["O"], paths["PR"], **kw)
    o = pd.read_csv(paths["O"])
    o.loc[3, "kind"] = "wizard"
    o.to_csv(tmp_path / "bad_o.csv", index=False)
    with pytest.raises(EvaluationInputError, match=r"bad_o.csv, line 5: unknown kind 'wizard'"):
        evaluate_files(paths["P"], tmp_path / "bad_o.csv", paths["PR"], **kw)
    pr = pd.read_csv(paths["PR"])
    pr.loc[0, "start_date"] = "next tuesday"
    pr.to_csv(tmp_path / "bad_pr.csv", index=False)
    with pytest.raises(EvaluationInputError, match=r"bad_pr.csv, line 2: start_date 'next tuesday' is not a date"):
        evaluate_files(paths["P"], paths["O"], tmp_path / "bad_pr.csv", **kw)
    with pytest.raises(EvaluationInputError, match="no project dates"):
        evaluate_files(paths["P"], paths["O"], None, **kw)
    with pytest.raises(EvaluationInputError, match="--train-end: cannot parse"):
        evaluate_files(paths["P"], paths["O"], paths["PR"], **{**kw, "train_end": "soon"})
    with pytest.raises(EvaluationInputError, match="unknown kind 'robot'"):
        evaluate_files(paths["P"], paths["O"], paths["PR"], **{**kw, "target_kinds": ["robot"]})
    out = runner.invoke(app, ["match", "evaluate", "--participations", str(tmp_path / "bad_p.csv"),
                              "--organisations", str(paths["O"]), "--projects", str(paths["PR"]),
                              "--train-end", "2021-01-01"])  # fmt: skip
    assert out.exit_code == 2 and "missing column" in out.output
    out = runner.invoke(app, ["match", "evaluate", "--preset", "cordis-de", "--k", "0"])
    assert out.exit_code == 2 and "--k must be positive" in out.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": 95.5}, r"bad_ll.csv, line 5: lat 95.5 is outside −90..90"),
        ({"lon": -400.0}, r"bad_ll.csv, line 5: lon -400 is outside −180..180"),
        ({"lon": None}, r"bad_ll.csv, line 5: lat and lon go together; one of them is empty"),
    ],
)
def test_impossible_coordinates_are_named(registry, tmp_path, change, message):
    """They were taken as given (distances from a latitude of 95.5), where imports refuse them."""
    paths = _write_files(registry, tmp_path)
    o = pd.read_csv(paths["O"])
    for column, value in change.items():
        o.loc[3, column] = value
    o.to_csv(tmp_path / "bad_ll.csv", index=False)
    kw = dict(train_end="2021-01-01", query_kinds=["sme"], target_kinds=["university"], new_only=True)
    with pytest.raises(EvaluationInputError, match=message):
        evaluate_files(paths["P"], tmp_path / "bad_ll.csv", paths["PR"], **kw)
    only_lat = pd.read_csv(paths["O"]).drop(columns="lon")
    only_lat.to_csv(tmp_path / "lat_only.csv", index=False)
    with pytest.raises(EvaluationInputError, match="a lat column needs a lon column beside it"):
        evaluate_files(paths["P"], tmp_path / "lat_only.csv", paths["PR"], **kw)


@pytest.mark.data
def test_p1_on_real_cordis(cordis_dir):
    from innoweave.matching.protocols import cordis_programme_split
    from innoweave.registry.cordis import read_cordis

    frames = read_cordis(cordis_dir)
    train, test = cordis_programme_split(frames)
    res = evaluate_split(frames, train, test, new_only=True, k=10)
    assert res["queries"] == 287 and res["candidates"] == 579
    assert res["baselines"]["popularity"]["recall@10"] == pytest.approx(0.271, abs=0.002)
    assert res["metrics"]["recall@10"] >= 0.29


def test_assignment_quality_log_objective_is_fair_under_capacity():
    from innoweave.matching.assignment import assign
    from innoweave.matching.protocols import assignment_quality

    p = np.array([[0.9, 0.1], [0.5, 0.05]])
    logq = assignment_quality(p)
    assert np.all(logq >= 1.0) and np.array_equal(np.argsort(logq, axis=None), np.argsort(p, axis=None))
    assert np.array_equal(assignment_quality(p, "probability"), p)
    with_excluded = assignment_quality(np.array([[0.5, -np.inf]]))
    assert with_excluded[0, 1] == -np.inf and np.isfinite(with_excluded[0, 0])

    def plan(objective):
        s = assignment_quality(p, objective)
        table = pd.DataFrame({"query": [0, 0, 1, 1], "partner": [0, 1, 0, 1], "score": s.ravel()})
        pairs = assign(table, k=1, capacity=1).pairs
        return dict(zip(pairs["query"], pairs["partner"], strict=True))

    # expected hits give the sure query its favourite (0.9 + 0.05); the fair plan moves it to
    # its second choice so that the other query keeps a likely partner (0.1 · 0.5 > 0.9 · 0.05)
    assert plan("probability") == {0: 0, 1: 1}
    assert plan("log_probability") == {0: 1, 1: 0}
    with pytest.raises(ValueError, match="unknown assignment objective 'rank'"):
        assignment_quality(p, "rank")


def test_reciprocal_rank_fusion_terms():
    scores = np.array([[0.1, 0.9, 0.5], [2.0, 2.0, 1.0]])
    rr = _reciprocal_rank(scores)
    # row 0 ranks: 0.9 first, 0.5 second, 0.1 third; row 1: tie kept in candidate order
    np.testing.assert_allclose(rr[0], 1.0 / (RRF_K + np.array([3, 1, 2])))
    np.testing.assert_allclose(rr[1], 1.0 / (RRF_K + np.array([1, 2, 3])))
    # fusion favours a candidate ranked well by every signal over one first by a single signal
    other = np.array([[0.2, 0.1, 0.3], [0.0, 0.0, 0.0]])
    fused = rr + _reciprocal_rank(other)
    assert fused[0].argmax() == 2
