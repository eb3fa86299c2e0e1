"""Defects found by QA in ``innoweave match``: each test fails without its fix.

Bad input must stop with one line naming what and where (file, line, option) and exit 2,
never a traceback; plans and explanations must say what they do.
"""

import json

import numpy as np
import pandas as pd
import pytest
from match_cli import invoke, one_line, runner, write_registry

from innoweave.cli import app
from innoweave.matching.assignment import assign
from innoweave.matching.inputs import InputFileError, parse_date_option, parse_dates, read_csv_lines
from innoweave.matching.protocols import EvaluationInputError, read_eval_files


# ------------------------------------------------------------------ generic evaluation files
def _eval_files(tmp_path, *, dates=None, orgs_extra=(), id_suffix=""):
    """A toy ecosystem: 12 SMEs, 4 universities; projects p0..p11 in 2015-2020 (training) and
    t0..t5 in 2021 (test, each an SME with a new university partner)."""
    orgs = [(f"s{i}", "sme", f"Firma {i}") for i in range(12)] + [(f"u{i}", "university", f"Uni {i}") for i in range(4)]
    o = pd.DataFrame(orgs + list(orgs_extra), columns=["org_id", "kind", "name"])
    o["org_id"] = o["org_id"] + id_suffix
    parts, projects = [], []
    for i in range(12):
        parts += [(f"p{i}", f"s{i}"), (f"p{i}", f"s{(i + 1) % 12}"), (f"p{i}", f"u{i % 4}")]
        projects.append((f"p{i}", f"{2015 + i % 6}-0{1 + i % 9}-01", "laser optics" if i % 2 else "battery cells"))
    for j in range(6):
        parts += [(f"t{j}", f"s{j}"), (f"t{j}", f"u{(j + 2) % 4}")]
        projects.append((f"t{j}", "2021-03-01", "laser battery"))
    paths = {n: tmp_path / f"{n}.csv" for n in ("P", "O", "PR")}
    pd.DataFrame(parts, columns=["project_id", "org_id"]).to_csv(paths["P"], index=False)
    o.to_csv(paths["O"], index=False)
    pr = pd.DataFrame(projects, columns=["project_id", "start_date", "title"])
    if dates is not None:
        pr["start_date"] = dates(pr["start_date"])
    pr.to_csv(paths["PR"], index=False)
    return paths


def _evaluate(paths, *extra, json_out=True):
    args = ["evaluate", "--participations", paths["P"], "--organisations", paths["O"], "--projects", paths["PR"],
            "--query-kinds", "sme", "--target-kinds", "university", *extra]  # fmt: skip
    return invoke(*args, *(["--json"] if json_out else []))


def test_german_dates_are_day_first_whatever_the_day(tmp_path):
    """01.02.2021 is 1 February (pandas guessed 2 January where the day was ≤ 12)."""
    lines = pd.Series(["01.02.2021", "13.02.2021", "28.02.2021"], index=[2, 3, 4])
    got = parse_dates(lines, "PR.csv", "start_date")
    assert [d.isoformat()[:10] for d in got] == ["2021-02-01", "2021-02-13", "2021-02-28"]
    iso = parse_dates(pd.Series(["2021-02-01", "2021-02-01T10:00:00"], index=[2, 3]), "PR.csv", "start_date")
    assert (iso == pd.Timestamp("2021-02-01")).all()
    assert parse_date_option("01.02.2021", "--train-end") == pd.Timestamp("2021-02-01")
    # year first with slashes (Excel in Chinese and Japanese locales): never ambiguous
    ymd = parse_dates(pd.Series(["2021/3/1", "2021/03/15 08:30"], index=[2, 3]), "PR.csv", "start_date")
    assert list(ymd) == [pd.Timestamp("2021-03-01"), pd.Timestamp("2021-03-15")]
    assert parse_date_option("2021/1/15", "--train-end") == pd.Timestamp("2021-01-15")
    # on the files: with the cut on 15 January, a project of 01.02.2021 is a test project
    paths = _eval_files(tmp_path, dates=lambda s: s.map(lambda d: f"{d[8:10]}.{d[5:7]}.{d[:4]}").where(
        ~s.str.startswith("2021"), "01.02.2021"))  # fmt: skip
    out = _evaluate(paths, "--train-end", "15.01.2021")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["train_end"] == "2021-01-15" and data["queries"] == 6


@pytest.mark.parametrize("values, message", [
    (["2021-02-01", "01.03.2021"], "PR.csv, line 3: start_date '01.03.2021' is DD.MM.YYYY but line 2 is YYYY-MM-DD"),
    (["01/02/2021"], "PR.csv, line 2: start_date '01/02/2021' is ambiguous (day or month first?)"),
    (["13 Jan 2016"], "PR.csv, line 2: start_date '13 Jan 2016' is not a date in a known format"),
    (["2016/13/01"], "PR.csv, line 2: start_date '2016/13/01' is not a valid date"),
    (["2021/03/01", "2021-03-02"], "PR.csv, line 3: start_date '2021-03-02' is YYYY-MM-DD but line 2 is YYYY/MM/DD"),
    (["31.02.2021"], "PR.csv, line 2: start_date '31.02.2021' is not a valid date"),
    (["2021-01-01", None], "PR.csv, line 3: empty date in column 'start_date'"),
])  # fmt: skip
def test_mixed_ambiguous_and_invalid_dates_name_the_line(values, message):
    with pytest.raises(InputFileError) as info:
        parse_dates(pd.Series(values, index=range(2, 2 + len(values))), "PR.csv", "start_date")
    assert message in str(info.value)


def test_an_empty_date_is_unknown_where_allowed():
    got = parse_dates(pd.Series(["2021-02-01", None, "2020-05-03"], index=[2, 3, 4]), "PR.csv", "start_date",
                      allow_empty=True)  # fmt: skip
    assert got[2] == pd.Timestamp("2021-02-01") and pd.isna(got[3]) and got[4] == pd.Timestamp("2020-05-03")
    with pytest.raises(InputFileError, match="line 3: start_date '13 Jan 2016' is not a date"):
        parse_dates(pd.Series(["2021-02-01", "13 Jan 2016", None], index=[2, 3, 4]), "PR.csv", "start_date",
                    allow_empty=True)  # fmt: skip


def test_undated_projects_are_left_out_of_the_evaluation_and_named(tmp_path):
    """CORDIS lists a few projects without a start date: they cannot be placed before or after
    --train-end, so the evaluation leaves them out and says which, instead of stopping."""
    paths = _eval_files(tmp_path)
    base = json.loads(_evaluate(paths, "--train-end", "2021-01-01").stdout)
    pr = pd.read_csv(paths["PR"])
    pr.loc[pr["project_id"] == "t5", "start_date"] = None  # a test project: its SME is no query now
    pr.loc[pr["project_id"] == "p11", "start_date"] = None
    pr.to_csv(paths["PR"], index=False)
    out = _evaluate(paths, "--train-end", "2021-01-01")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["undated_projects"] == {"count": 2, "first": ["p11", "t5"]}
    assert data["queries"] == base["queries"] - 1 and "undated_projects" not in base
    assert "note: 2 project(s) without a start date are neither training nor test (first: p11, t5)" in one_line(
        out.stderr)


def test_mixed_date_formats_stop_the_cli(tmp_path):
    paths = _eval_files(tmp_path, dates=lambda s: s.where(s.index != 3, "01.05.2016"))
    out = _evaluate(paths, "--train-end", "2021-01-01")
    assert out.exit_code == 2
    assert "PR.csv, line 5: start_date '01.05.2016' is DD.MM.YYYY but line 2 is YYYY-MM-DD" in one_line(out.output)
    out = _evaluate(_eval_files(tmp_path), "--train-end", "1/2/2021")
    assert out.exit_code == 2 and "--train-end: cannot parse '1/2/2021' as a date" in one_line(out.output)


def test_duplicate_org_id_names_the_id_and_both_lines(tmp_path):
    paths = _eval_files(tmp_path, orgs_extra=[("s3", "sme", "Firma 3 again")])
    out = _evaluate(paths, "--train-end", "2021-01-01")
    assert out.exit_code == 2
    assert "O.csv: org_id 's3' appears on line 5 and line 18; list each organisation once" in one_line(out.output)
    (tmp_path / "ok").mkdir()
    paths = _eval_files(tmp_path / "ok")
    pr = pd.read_csv(paths["PR"])
    pd.concat([pr, pr.iloc[[1]]]).to_csv(paths["PR"], index=False)
    with pytest.raises(EvaluationInputError, match="PR.csv: project_id 'p1' appears on line 3 and line 20"):
        read_eval_files(paths["P"], paths["O"], paths["PR"])


def test_ids_with_surrounding_spaces_are_trimmed(tmp_path):
    paths = _eval_files(tmp_path, id_suffix=" ")
    text = paths["O"].read_text()
    assert "s0 ," in text  # the organisations file has "s0 " ids, the participations "s0"
    out = _evaluate(paths, "--train-end", "2021-01-01")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["queries"] == 6


def test_unknown_ids_name_the_line(tmp_path):
    paths = _eval_files(tmp_path)
    with paths["P"].open("a") as f:
        f.write("p3,ghost\n")
    out = _evaluate(paths, "--train-end", "2021-01-01")
    assert out.exit_code == 2 and "P.csv, line 50: org_id 'ghost' is not in" in one_line(out.output)


def test_no_query_is_bad_input_with_and_without_json(tmp_path):
    """With no query the command exits 2 either way and says why (it was 1 in the table and
    0 with --json, and the table hid the reason)."""
    paths = _eval_files(tmp_path)
    for json_out in (True, False):
        out = _evaluate(paths, "--train-end", "2021-01-01", "--new-only", json_out=json_out)
        assert out.exit_code == 0, out.output  # the toy's test partners are new
        out = runner.invoke(app, ["match", "evaluate", "--participations", str(paths["P"]), "--organisations",
                                  str(paths["O"]), "--projects", str(paths["PR"]), "--train-end", "2021-01-01",
                                  "--query-kinds", "university", "--target-kinds", "university",
                                  *(["--json"] if json_out else [])])  # fmt: skip
        assert out.exit_code == 2, out.output
        assert "nothing to evaluate: no query has a test partner of the target kinds" in one_line(out.output)
        assert out.stdout.strip() == "" or not out.stdout.lstrip().startswith("{")


def test_unreadable_files_say_why(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.csv is empty: it needs a header line with the columns org_id, kind"):
        read_csv_lines(empty, "organisations", ["org_id", "kind"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("org_id,kind,name\ns0,sme,Firma M\xfcller\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"latin.csv, line 2: not UTF-8 text .*save the file as UTF-8"):
        read_csv_lines(latin, "organisations", ["org_id", "kind"])
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufefforg_id,kind\ns0 ,sme\n\n s1,sme\n".encode())
    df = read_csv_lines(bom, "organisations", ["org_id", "kind"])
    assert df["org_id"].tolist() == ["s0", "s1"] and df.index.tolist() == [2, 4]  # lines of the file


# ------------------------------------------------------------------------------- assign
def _write(path, text: str):
    path.write_text(text)
    return path


def _assign(*args):
    return invoke("assign", *args)


CANDS = "query,partner,score\nq1,a,0.9\nq1,b,0.5\nq1,c,0.2\nq2,a,0.8\nq2,b,0.6\nq3,a,0.7\nq3,c,0.3\n"


@pytest.mark.parametrize("content, message", [
    (b"", "c.csv is empty: it needs a header line with the columns query, partner, score"),
    ("query,partner,score\nM\xfcller,a,0.5\n".encode("latin-1"), "c.csv, line 2: not UTF-8 text"),
    (b"query,partner,score\nq1,a,inf\nq1,b,0.5\n", "c.csv, line 2 (q1, a): score 'inf' is not a finite number"),
    (b"query,partner,score\nq1,b,0.5\nq1,a,-Infinity\n", "c.csv, line 3 (q1, a): score '-Infinity' is not a finite number"),
    (b"query,partner,score\nq1,a,high\n", "c.csv, line 2 (q1, a): score 'high' is not a number"),
    (b"query,partner,score\nq1,b,0.5\nq1,a,\n", "c.csv, line 3 (q1, a): empty score"),
    (b"query,partner,score\n,a,0.9\nq1,b,0.5\n", "c.csv, line 2: empty query"),
    (b"query,partner,score\n", "c.csv has no candidate pairs"),
    (b"query,partner,score\nq1,a,0.9\nq1,b,0.5\nq1,a,0.1\n",
     "c.csv: the pair (q1, a) is on line 2 (score 0.9) and line 4 (score 0.1); give each pair once"),
    (b"query;partner;score\nq1;a;0,9\n", "the file looks separated by ';'"),
])  # fmt: skip
def test_bad_candidate_files_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    out = _assign("--candidates", path, "--json")
    assert out.exit_code == 2 and out.stdout == "", out.output
    assert message in one_line(out.output)


def test_bad_forced_and_conflict_files(tmp_path):
    cands = _write(tmp_path / "c.csv", CANDS)
    (tmp_path / "f.csv").write_bytes(b"")
    out = _assign("--candidates", cands, "--forced", tmp_path / "f.csv")
    assert out.exit_code == 2 and "f.csv is empty: it needs a header line with the columns query, partner" in one_line(out.output)
    out = _assign("--candidates", cands, "--forced", _write(tmp_path / "f2.csv", "query,partner\nq1,a\n ,b\n"))
    assert out.exit_code == 2 and "f2.csv, line 3: empty query" in one_line(out.output)
    out = _assign("--candidates", cands, "--conflicts", tmp_path / "nope.csv")
    assert out.exit_code == 2 and "--conflicts conflicts file" in out.output and "does not exist" in out.output


def test_forced_pairs_count_once(tmp_path):
    """A forced pair listed twice used two units of demand and capacity; with a duplicated
    candidate pair it came out three times for k = 2."""
    forced = _write(tmp_path / "f.csv", "query,partner\nq1,a\nq1,a\n")
    cands = _write(tmp_path / "c.csv", CANDS + "q1,a,0.9\n")  # the same pair again, same score
    out = _assign("--candidates", cands, "--forced", forced, "--k", "2", "--capacity", "2", "--json")
    assert out.exit_code == 0, out.output
    assert "f.csv, line 3: the forced pair (q1, a) repeats line 2; counted once" in one_line(out.output)
    assert "c.csv, line 9: the pair (q1, a) repeats line 2; counted once" in one_line(out.output)
    pairs = pd.DataFrame(json.loads(out.stdout)["pairs"])
    assert pairs.groupby("query").size().max() <= 2 and not pairs.duplicated(["query", "partner"]).any()
    assert pairs["partner"].value_counts()["a"] == 2  # the forced pair uses one unit of a's 2
    assert pairs.set_index(["query", "partner"]).loc[("q1", "a"), "forced"]
    # the library too
    table = pd.DataFrame({"query": ["q1", "q1", "q1", "q2"], "partner": ["a", "a", "b", "a"], "score": [0.9, 0.9, 0.5, 0.8]})
    res = assign(table, k=2, capacity=2, forced=[("q1", "a"), ("q1", "a")])
    assert len(res.pairs) == 3 and res.pairs.duplicated(["query", "partner"]).sum() == 0
    assert res.load["a"] == 2


def test_negative_scores_still_give_every_sme_its_best_partners(tmp_path):
    """z-scores or log-scores are negative: the plan still gives each SME its k best feasible
    partners (it assigned nothing, silently)."""
    cands = _write(tmp_path / "c.csv", "query,partner,score\nq1,a,-0.5\nq1,b,-1.2\nq1,c,-3\nq2,a,-0.7\nq2,c,-2.5\n")
    out = _assign("--candidates", cands, "--k", "2", "--capacity", "2", "--objective", "score", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    pairs = {(p["query"], p["partner"], p["score"]) for p in data["pairs"]}
    assert pairs == {("q1", "a", -0.5), ("q1", "b", -1.2), ("q2", "a", -0.7), ("q2", "c", -2.5)}
    assert data["stats"]["total_score"] == pytest.approx(-4.9)
    # shifting every score by a constant gives the same plan
    shifted = _write(tmp_path / "s.csv", "query,partner,score\nq1,a,9.5\nq1,b,8.8\nq1,c,7\nq2,a,9.3\nq2,c,7.5\n")
    out = _assign("--candidates", shifted, "--k", "2", "--capacity", "2", "--json")
    assert {(p["query"], p["partner"]) for p in json.loads(out.stdout)["pairs"]} == {p[:2] for p in pairs}


def test_inf_scores_are_refused_by_the_library_too():
    table = pd.DataFrame({"query": ["q1", "q1"], "partner": ["a", "b"], "score": [np.inf, 0.5]})
    with pytest.raises(ValueError, match=r"scores must be finite numbers, got inf for \(q1, a\)"):
        assign(table, k=1, capacity=1)


def test_forced_and_conflict_ids_must_be_known(tmp_path):
    cands = _write(tmp_path / "c.csv", CANDS)
    forced = _write(tmp_path / "f.csv", "query,partner\nq1,a\nghost,a\n")
    out = _assign("--candidates", cands, "--forced", forced, "--json")
    assert out.exit_code == 2 and out.stdout == ""
    assert f"f.csv, line 3: query 'ghost' is not a query of {cands}" in one_line(out.output)
    # a partner outside the candidate lists may be forced, with a warning
    forced = _write(tmp_path / "f2.csv", "query,partner\nq1,newpartner\n")
    out = _assign("--candidates", cands, "--forced", forced, "--capacity", "activity", "--json")
    assert out.exit_code == 0, out.output
    assert "f2.csv, line 2: partner 'newpartner' is in no candidate pair" in one_line(out.output)
    got = json.loads(out.stdout)["pairs"]
    assert {"query": "q1", "partner": "newpartner", "score": None, "forced": True} in got  # strict JSON: null
    conflicts = _write(tmp_path / "x.csv", "query,partner\nq1,zz\nghost,a\nq1,b\n")
    out = _assign("--candidates", cands, "--conflicts", conflicts, "--json")
    assert out.exit_code == 0, out.output
    assert ("x.csv, line 2: partner 'zz' is not a partner of" in one_line(out.output)
            and "this conflict never applies (1 more such line(s))" in one_line(out.output))  # fmt: skip
    assert ("q1", "b") not in {(p["query"], p["partner"]) for p in json.loads(out.stdout)["pairs"]}


def test_options_that_do_not_apply_to_a_candidate_file_are_checked_and_warned(tmp_path):
    cands = _write(tmp_path / "c.csv", CANDS)
    for args, message in ((["--top", "0"], "--top must be positive, got 0"),
                          (["--mode", "dating"], "unknown mode 'dating'"),
                          (["--train-end", "soon"], "--train-end: cannot parse 'soon' as a date"),
                          (["--capacity", "-1"], "--capacity must be a positive integer or 'activity'")):  # fmt: skip
        out = _assign("--candidates", cands, *args)
        assert out.exit_code == 2 and message in one_line(out.output), out.output
    out = _assign("--candidates", cands, "--top", "5", "--train-end", "2020-01-01", "--json")
    assert out.exit_code == 0
    assert "--top, --train-end do not apply with --candidates" in one_line(out.output)
    out = _assign("--candidates", cands, "--json")
    assert "warning" not in out.output.split("{")[0]


def test_assign_refuses_cluster_mode_before_the_fit(tmp_path):
    out = _assign("--mode", "cluster", "--database-url", "sqlite:///" + str(tmp_path / "none.db"))
    assert out.exit_code == 2
    assert "--mode cluster recommends clusters to join" in one_line(out.output)
    assert "match assign takes research, alliance or intermediary" in one_line(out.output)
    assert not (tmp_path / "none.db").exists()  # before opening the registry


def test_out_suffix_in_any_case(tmp_path):
    cands = _write(tmp_path / "c.csv", CANDS)
    out = _assign("--candidates", cands, "--out", tmp_path / "PLAN.CSV", "--json")
    assert out.exit_code == 0, out.output
    assert len(pd.read_csv(tmp_path / "PLAN.CSV")) > 0


# -------------------------------------------------------------------- recommender texts
def test_cluster_mode_does_not_recommend_the_own_cluster(fitted, registry):
    orgs = registry.organisations.set_index("external_id")
    for org in ("t:sme:0", "t:sme:2", "t:large_firm:0"):
        own = orgs.loc[org, "cluster"]
        assert isinstance(own, str)
        table = fitted.recommend(org, mode="cluster", k=10)
        assert own not in set(table["cluster_id"]) and len(table) == 4


def test_cold_start_explanation_does_not_contradict_itself(fitted):
    """A cold start's profile text is its name alone: the words its name shares with a
    partner are said as such, not as "shared topics" beside "no profile text"."""
    for mode in ("research", "alliance"):
        table = fitted.recommend("t:sme:cold0", mode=mode, k=5)
        assert table["cold_start"].all()
        for text, terms in zip(table["explanation"], table["shared_keywords"], strict=True):
            assert "shared topics" not in text and "no past collaborations or profile text" not in text
            assert text.startswith("cold start: no past collaborations, keywords or project titles")
            if terms:
                assert "words of its name in the partner's profile: " + ", ".join(terms) in text
    # "Cold SME 0" and its alliance partner "Cold SME 1" share the word "cold"
    table = fitted.recommend("t:sme:cold0", mode="alliance", k=5)
    named = table[table["shared_keywords"].map(len) > 0]
    assert len(named) and named["explanation"].str.contains("words of its name in the partner's profile: cold").all()


def test_mode_reason_follows_the_query_kind(fitted):
    sme = fitted.recommend("t:sme:4", mode="research", k=2)
    assert sme["mode_reason"].str.contains("an SME rarely has in-house").all()
    uni = fitted.recommend("t:university:0", mode="research", k=2)
    assert not uni["mode_reason"].str.contains("SME").any()
    assert uni["mode_reason"].str.startswith("research mode: another university or research institute").all()
    assert uni["explanation"].str.contains("another university or research institute").all()
    uni_alliance = fitted.recommend("t:university:0", mode="alliance", k=2)
    assert uni_alliance["mode_reason"].str.contains("put research to use").all()


def test_assign_refuses_an_epsilon_or_k_it_cannot_use():
    """epsilon 0 gave a plan short of the optimum, a negative one no plan; k 1.5 ran."""
    table = pd.DataFrame({"query": ["a", "a", "b", "b"], "partner": ["x", "y", "x", "y"],
                          "score": [0.9, 0.5, 0.8, 0.4]})  # fmt: skip
    best = assign(table, k=1, capacity=1)
    assert best.stats["assigned_pairs"] == 2 and best.stats["total_score"] == pytest.approx(1.3, abs=1e-3)
    for epsilon in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="epsilon must be a positive number"):
            assign(table, k=1, capacity=1, epsilon=epsilon)
    for k in (1.5, "1", True):
        with pytest.raises(ValueError, match=r"k must be (a whole number >= 1|at least 1)"):
            assign(table, k=k, capacity=1)


def test_recommender_settings_and_use_before_fit_are_named():
    from innoweave.matching import PartnerRecommender

    for call in (lambda r: r.recommend("a", mode="research", k=3), lambda r: r.score([("a", "b")]),
                 lambda r: r.candidates("research")):  # fmt: skip
        with pytest.raises(RuntimeError, match="call fit\\(\\) first"):
            call(PartnerRecommender())
    with pytest.raises(ValueError, match="modes must be a non-empty list of names, e.g. \\('research',\\)"):
        PartnerRecommender(modes="research").fit(None)  # a string is not split into letters
    with pytest.raises(ValueError, match="signals must name at least one"):
        PartnerRecommender(signals=()).fit(None)
    for rerank in (0, -3, 2.5):
        with pytest.raises(ValueError, match="rerank must be (a whole number >= 1|at least 1)"):
            PartnerRecommender(rerank=rerank).fit(None)


def test_the_evaluation_table_says_which_model_ranked(tmp_path):
    out = _evaluate(_eval_files(tmp_path), "--train-end", "2021-01-01", json_out=False)
    assert out.exit_code == 0, out.output
    data = json.loads(_evaluate(_eval_files(tmp_path), "--train-end", "2021-01-01").stdout)
    assert f"note: evaluation: {data['model']['fit']}" in one_line(out.stderr)


def test_evaluation_files_may_be_workbooks(tmp_path):
    """Analysts keep these tables in Excel: the first sheet of an .xlsx reads as the CSV does
    (dates as date cells, numbers as numbers), with row numbers in messages."""
    paths = _eval_files(tmp_path)
    as_csv = json.loads(_evaluate(paths, "--train-end", "2021-01-01").stdout)
    books = {}
    for name, path in paths.items():
        frame = pd.read_csv(path, dtype=str)
        if name == "PR":
            frame["start_date"] = pd.to_datetime(frame["start_date"])
        books[name] = tmp_path / f"{name}.xlsx"
        frame.to_excel(books[name], index=False)
    out = _evaluate(books, "--train-end", "2021-01-01")
    assert out.exit_code == 0, out.output
    as_xlsx = json.loads(out.stdout)
    for key in ("queries", "candidates", "metrics", "baselines"):
        assert as_xlsx[key] == as_csv[key]
    frame = pd.read_excel(books["O"], dtype=str)
    frame.loc[3, "kind"] = "spaceship"
    frame.to_excel(books["O"], index=False)
    out = _evaluate(books, "--train-end", "2021-01-01")
    assert out.exit_code == 2 and "O.xlsx, line 5: " in one_line(out.output) and "spaceship" in out.output
    frame.loc[3, "kind"] = "sme"
    frame.to_excel(books["O"], index=False)
    books["PR"].write_bytes(b"PK\x03\x04 not a workbook")
    out = _evaluate(books, "--train-end", "2021-01-01")
    assert out.exit_code == 2 and "PR.xlsx: cannot be read as an XLSX workbook" in one_line(out.output)


def test_evaluate_takes_the_ranker_by_name(tmp_path):
    paths = _eval_files(tmp_path)
    out = _evaluate(paths, "--train-end", "2021-01-01", "--ranker", "none")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["model"]["fit"].startswith("linear combination with default weights (ranker='none')")
    out = _evaluate(paths, "--train-end", "2021-01-01", "--ranker", "forest")
    assert out.exit_code == 2 and "--ranker: unknown 'forest'; choose from auto, hgb, logistic, none" in one_line(out.output)


def test_a_workbook_names_its_rows_and_refuses_a_repeated_column(tmp_path):
    from openpyxl import Workbook

    def book(rows):
        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(tmp_path / "c.xlsx")
        return tmp_path / "c.xlsx"

    got = read_csv_lines(book([["query", "partner", None, "score"], ["a", "x", "stray", 0.5], [None] * 4,
                               [" b ", "y", None, 2.0]]), "candidates", ["query", "partner"])  # fmt: skip
    assert list(got.index) == [2, 4] and got.loc[4, "query"] == "b" and got.loc[4, "score"] == "2"
    with pytest.raises(InputFileError, match="column\\(s\\) 'query' appear more than once in the header row"):
        read_csv_lines(book([["query", "query", "partner"], ["a", "b", "x"]]), "candidates", ["query", "partner"])
    with pytest.raises(InputFileError, match="c.xlsx is empty: its first sheet needs a header row"):
        read_csv_lines(book([]), "candidates", ["query", "partner"])


# ------------------------------------------------------------------ SMEs without any candidate
@pytest.fixture(scope="module")
def tiny_url(tmp_path_factory):
    """Three SMEs, one university: s1 has already worked with it (no research candidate is
    left for s1), s2 and s3 have not; f1 is a large firm."""
    from innoweave.registry.frames import RegistryFrames

    orgs = pd.DataFrame({"external_id": ["s1", "s2", "s3", "u1", "f1"],
                         "name": ["Alpha GmbH", "Beta GmbH", "Gamma GmbH", "Uni One", "Big AG"],
                         "kind": ["sme", "sme", "sme", "university", "large_firm"], "source": "test"})  # fmt: skip
    projects = pd.DataFrame({"external_id": ["p1", "p2", "p3"], "title": ["laser", "robot", "robot arm"],
                             "start_date": pd.to_datetime(["2018-01-01", "2019-01-01", "2020-01-01"]).date,
                             "source": "test"})  # fmt: skip
    parts = pd.DataFrame({"project_external_id": ["p1", "p1", "p2", "p2", "p3", "p3"],
                          "org_external_id": ["s1", "u1", "s2", "f1", "s3", "f1"], "source": "test",
                          "external_id": [f"pa{i}" for i in range(6)]})  # fmt: skip
    return write_registry(tmp_path_factory.mktemp('tiny'), RegistryFrames(orgs, projects, parts))


def test_an_empty_recommendation_says_why(tiny_url):
    out = invoke("recommend", "s1", "--mode", "research", "--json", "--database-url", tiny_url)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["recommendations"] == []
    assert "already a partner" in data["note"] and "only new partners are recommended" in data["note"]
    assert "no partner to recommend for s1" in one_line(out.stderr)
    other = json.loads(invoke("recommend", "s2", "--mode", "research", "--json", "--database-url", tiny_url).stdout)
    assert [r["partner_id"] for r in other["recommendations"]] == ["u1"]
    # one row of the ten asked for: the note says only one candidate exists, not why none
    assert other["note"].startswith("only 1 candidate(s) exist, fewer than k = 10")


def test_assign_counts_smes_without_candidates_and_names_them(tiny_url):
    out = invoke("assign", "--mode", "research", "--k", "1", "--capacity", "5", "--json", "--database-url", tiny_url)
    assert out.exit_code == 0, out.output
    stats = json.loads(out.stdout)["stats"]
    assert stats["queries"] == 3 and stats["demand"] == 3 and stats["smes_without_candidates"] == 1
    assert stats["queries_served"] == 2 and stats["assigned_pairs"] == 2
    assert "1 of 3 SMEs have no candidate partner in research mode" in one_line(out.stderr)
    assert "'s1'" in out.stderr


def test_candidates_pairing_an_organisation_with_itself_are_refused(tmp_path):
    (tmp_path / "c.csv").write_text("query,partner,score\nq0,p1,0.5\nq0,q0,0.9\n")
    out = invoke("assign", "--candidates", tmp_path / "c.csv", "--k", "1", "--capacity", "2")
    assert out.exit_code == 2 and "c.csv, line 3: 'q0' is paired with itself" in one_line(out.stderr)


def test_shortfall_counts_the_forced_partners_load(tmp_path):
    """A forced partner outside the candidates was assigned but left out of the room: '9 of 12
    pairs assigned: the 4 partners can take 8 in all'."""
    rows = [f"q{i},p{j},{0.1 * (i + j + 1):.2f}" for i in range(6) for j in range(2)]
    (tmp_path / "c.csv").write_text("query,partner,score\n" + "\n".join(rows) + "\n")
    (tmp_path / "f.csv").write_text("query,partner\nq0,pZ\n")
    out = invoke("assign", "--candidates", tmp_path / "c.csv", "--k", "2", "--capacity", "2", "--forced",
                 tmp_path / "f.csv", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    said = one_line(out.stderr)
    assert "the 3 partner(s) among the candidates can take 6 in all" in said
    stats = json.loads(out.stdout)["stats"]
    assert stats["assigned_pairs"] <= 6 and f"{stats['assigned_pairs']} of 12 pairs assigned" in said


def test_legal_forms_and_name_words_are_not_topics(tiny_url):
    """In a small registry 'gmbh' was the shared topic of two firms (and weighed in the cosine)."""
    out = invoke("recommend", "s2", "--mode", "alliance", "--k", "3", "--json", "--database-url", tiny_url)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)["recommendations"]
    assert rows and all("gmbh" not in r["explanation"].lower() for r in rows)
    assert all("gmbh" not in map(str.lower, r["shared_keywords"]) for r in rows)
    gamma = [r for r in rows if r["partner_id"] == "s3"]
    assert gamma and "robot" in gamma[0]["shared_keywords"]  # the topic both firms' projects share


def test_fit_text_drops_legal_forms():
    from innoweave.matching.features import LEGAL_FORMS, STOP_WORDS

    assert {"gmbh", "ltd", "inc", "sarl"} <= LEGAL_FORMS and set(LEGAL_FORMS) <= set(STOP_WORDS)
