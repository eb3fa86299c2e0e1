import json

import numpy as np
import pandas as pd
import pytest
from match_cli import runner, write_registry

from innoweave.cli import app


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory, registry):
    return write_registry(tmp_path_factory.mktemp("match"), registry)


def test_recommend_json_and_table(registry_url):
    out = runner.invoke(app, ["match", "recommend", "t:sme:4", "--mode", "research", "--k", "3", "--json",
                              "--train-end", "2022-01-01", "--database-url", registry_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["organisation"] == "t:sme:4" and len(data["recommendations"]) == 3
    assert all("explanation" in r and r["kind"] in ("university", "research_institute") for r in data["recommendations"])
    table = runner.invoke(app, ["match", "recommend", "t:sme:4", "--k", "2", "--database-url", registry_url])
    assert table.exit_code == 0 and "research mode" in table.output


def test_recommend_by_exact_name(registry_url, registry):
    """An analyst may name the SME as the registry writes it (case and spaces aside)."""
    name = registry.organisations.set_index("external_id").loc["t:sme:4", "name"]
    out = runner.invoke(app, ["match", "recommend", f"  {name.upper()} ", "--k", "2", "--json",
                              "--train-end", "2022-01-01", "--database-url", registry_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["organisation"] == "t:sme:4"


def test_a_name_several_organisations_bear_is_refused(registry, capsys):
    from dataclasses import replace

    import typer

    from innoweave.cli.match import _resolve

    orgs = registry.organisations.copy()
    orgs.loc[orgs["external_id"].isin(["t:sme:1", "t:sme:2"]), "name"] = "Twin GmbH"
    with pytest.raises(typer.Exit) as exc:
        _resolve(replace(registry, organisations=orgs), "twin gmbh")
    assert exc.value.exit_code == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "2 organisations are named 'twin gmbh' (t:sme:1, t:sme:2): give the external id" in said
    assert _resolve(replace(registry, organisations=orgs), "t:sme:1") == "t:sme:1"


def test_recommend_bad_input(registry_url):
    out = runner.invoke(app, ["match", "recommend", "nobody", "--database-url", registry_url])
    assert out.exit_code == 2 and "unknown organisation 'nobody'" in out.output
    assert "innoweave orgs search" in " ".join(out.output.split())
    out = runner.invoke(app, ["match", "recommend", "t:sme:4", "--k", "0", "--database-url", registry_url])
    assert out.exit_code == 2 and "--k must be positive" in out.output
    out = runner.invoke(app, ["match", "recommend", "t:sme:4", "--mode", "dating", "--database-url", registry_url])
    assert out.exit_code == 2 and "unknown mode" in out.output


def test_assign_from_registry_and_from_file(registry_url, tmp_path):
    out = runner.invoke(app, ["match", "assign", "--k", "2", "--capacity", "3", "--json", "--database-url", registry_url])
    assert out.exit_code == 0, out.output
    stats = json.loads(out.stdout)["stats"]
    assert stats["max_load"] <= 3 and stats["assigned_pairs"] > 0
    cands = pd.DataFrame({"query": ["a", "a", "b", "b"], "partner": ["x", "y", "x", "y"], "score": [0.9, 0.1, 0.8, 0.7]})
    cands.to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame({"query": ["a"], "partner": ["x"]}).to_csv(tmp_path / "conf.csv", index=False)
    out = runner.invoke(app, ["match", "assign", "--candidates", str(tmp_path / "c.csv"), "--k", "1", "--capacity", "1",
                              "--conflicts", str(tmp_path / "conf.csv"), "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    pairs = {(p["query"], p["partner"]) for p in json.loads(out.stdout)["pairs"]}
    assert pairs == {("a", "y"), ("b", "x")}
    cands.to_excel(tmp_path / "c.xlsx", index=False)  # the same tables as workbooks
    pd.DataFrame({"query": ["a"], "partner": ["x"]}).to_excel(tmp_path / "conf.xlsx", index=False)
    out = runner.invoke(app, ["match", "assign", "--candidates", str(tmp_path / "c.xlsx"), "--k", "1", "--capacity", "1",
                              "--conflicts", str(tmp_path / "conf.xlsx"), "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert {(p["query"], p["partner"]) for p in json.loads(out.stdout)["pairs"]} == pairs
    out = runner.invoke(app, ["match", "assign", "--candidates", str(tmp_path / "c.csv"), "--capacity", "lots"])
    assert out.exit_code == 2 and "--capacity must be an integer" in out.output


def test_assign_objective_log_probability_is_the_fair_plan(registry_url, tmp_path):
    """With probabilities, the sum of log-probabilities gives b its likely partner where the
    sum of probabilities leaves it one it will not take; the pairs keep their probabilities."""
    cands = pd.DataFrame({"query": ["a", "a", "b", "b"], "partner": ["x", "y", "x", "y"],
                          "score": [0.9, 0.3, 0.6, 0.05]})  # fmt: skip
    path = tmp_path / "p.csv"
    cands.to_csv(path, index=False)

    def plan(*options):
        out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--k", "1",
                                  "--capacity", "1", "--json", *options])  # fmt: skip
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        return {(p["query"], p["partner"], p["score"]) for p in data["pairs"]}, data["stats"]

    fair, stats = plan("--objective", "log-probability")
    assert fair == {("a", "y", 0.3), ("b", "x", 0.6)}
    assert stats["objective"] == "log-probability" and stats["total_score"] == pytest.approx(0.9)
    assert stats["total_quality"] > 0
    # a file's scores are taken as given unless told otherwise
    for options in ((), ("--objective", "score")):
        pairs, stats = plan(*options)
        assert pairs == {("a", "x", 0.9), ("b", "y", 0.05)} and stats["objective"] == "score"
    # --min-quality drops pairs by their probability, before the plan
    pairs, _ = plan("--objective", "log-probability", "--min-quality", "0.1")
    assert pairs == {("a", "y", 0.3), ("b", "x", 0.6)}
    pairs, _ = plan("--objective", "log-probability", "--min-quality", "0.5")
    assert pairs == {("a", "x", 0.9)}
    # an SME left without any pair still counts in the demand (it was dropped from the
    # figures, which then looked complete), and the user is told
    for objective in ("log-probability", "score"):
        out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--k", "1", "--capacity", "1",
                                  "--json", "--objective", objective, "--min-quality", "0.7"])  # fmt: skip
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert [(p["query"], p["partner"]) for p in data["pairs"]] == [("a", "x")]
        assert data["stats"]["queries"] == 2 and data["stats"]["demand"] == 2
        assert data["stats"]["partners_used"] == 1 and data["stats"]["gini_load"] == pytest.approx(0.5)
        assert "--min-quality 0.7 leaves 1 of 2 SMEs without a pair at or above it" in " ".join(out.stderr.split())
    # from the registry (whose research mode learns a ranker): its probabilities get the
    # fair plan by default, and the pairs keep them
    for options, expected in (((), "log-probability"), (("--objective", "score"), "score")):
        out = runner.invoke(app, ["match", "assign", "--k", "2", "--capacity", "3", "--json",
                                  "--database-url", registry_url, *options])  # fmt: skip
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert data["stats"]["objective"] == expected and data["stats"]["max_load"] <= 3
        assert data["pairs"] and all(0 < p["score"] <= 1 for p in data["pairs"])


def test_assign_objective_bad_input(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame({"query": ["a", "b"], "partner": ["x", "x"], "score": [0.5, 2.5]}).to_csv(path, index=False)
    out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--objective", "log-probability"])
    assert out.exit_code == 2
    assert f"{path}, line 3 (b, x): score 2.5 is not a probability in (0, 1]" in " ".join(out.output.split())
    out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--objective", "happiness"])
    assert out.exit_code == 2 and "--objective must be one of auto, log-probability, score" in out.output
    out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--json"])  # as given: fine
    assert out.exit_code == 0, out.output


def test_assign_plan_from_the_registry_names_and_explains_each_pair(registry_url, tmp_path, registry):
    """The plan written from the registry can be handed out as it is: names, the partner's
    kind and the recommender's explanation beside every pair, in CSV or Excel."""
    plans = {}
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"plan{suffix}"
        out = runner.invoke(app, ["match", "assign", "--k", "2", "--capacity", "3", "--out", str(path),
                                  "--json", "--database-url", registry_url])  # fmt: skip
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["pairs"] == str(path)
        plans[suffix] = pd.read_csv(path) if suffix == ".csv" else pd.read_excel(path)
    csv, xlsx = plans[".csv"], plans[".xlsx"]
    assert list(csv.columns) == ["query", "query_name", "partner", "partner_name", "partner_kind",
                                 "score", "forced", "explanation"]  # fmt: skip
    assert len(csv) > 0 and csv[["query", "partner"]].equals(xlsx[["query", "partner"]])
    names = registry.organisations.set_index("external_id")["name"]
    kinds = registry.organisations.set_index("external_id")["kind"]
    assert (csv["query_name"] == names.reindex(csv["query"]).to_numpy()).all()
    assert (csv["partner_name"] == names.reindex(csv["partner"]).to_numpy()).all()
    assert csv["partner_kind"].isin(["university", "research_institute"]).all()
    assert (csv["partner_kind"] == kinds.reindex(csv["partner"]).astype(str).to_numpy()).all()
    assert csv["explanation"].str.contains("research mode").all()


def test_recommend_writes_its_table(registry_url, tmp_path):
    path = tmp_path / "recs.xlsx"
    out = runner.invoke(app, ["match", "recommend", "t:sme:4", "--k", "3", "--out", str(path),
                              "--json", "--database-url", registry_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    shown = json.loads(out.stdout)["recommendations"]
    table = pd.read_excel(path)
    assert table["partner_id"].tolist() == [r["partner_id"] for r in shown]
    assert table["explanation"].tolist() == [r["explanation"] for r in shown]


def test_table_outputs_refuse_other_suffixes_before_any_work(tmp_path):
    for args in (["match", "assign", "--out", str(tmp_path / "plan.txt")],
                 ["match", "recommend", "t:sme:4", "--out", str(tmp_path / "recs.json")]):
        out = runner.invoke(app, [*args, "--database-url", "sqlite:///" + str(tmp_path / "none.db")])
        assert out.exit_code == 2 and "--out must end in .csv or .xlsx" in out.output, out.output
        assert not (tmp_path / "none.db").exists()  # stopped before opening the registry


def _strict(text: str):
    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_recommend_json_is_strict_where_the_distance_is_unknown(registry_url):
    """A cold start without coordinates has no distance: null in the JSON, not NaN."""
    out = runner.invoke(app, ["match", "recommend", "t:sme:cold0", "--k", "3", "--json",
                              "--database-url", registry_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    recs = _strict(out.stdout)["recommendations"]
    assert recs and all(r["distance_km"] is None for r in recs)


def test_assign_checks_forced_and_conflict_ids_against_the_registry(registry_url, tmp_path):
    forced = tmp_path / "f.csv"
    forced.write_text("query,partner\nt:sme:4,t:university:0\nnobody,t:university:1\n")
    out = runner.invoke(app, ["match", "assign", "--forced", str(forced), "--database-url", registry_url])
    assert out.exit_code == 2
    assert f"{forced}, line 3: query 'nobody' is not an SME of the registry" in " ".join(out.output.split())
    forced.write_text("query,partner\nt:sme:4,t:university:0\nt:sme:5,t:nobody\n")
    out = runner.invoke(app, ["match", "assign", "--forced", str(forced), "--database-url", registry_url])
    assert out.exit_code == 2
    assert "line 3: partner 't:nobody' is not an organisation of the registry" in " ".join(out.output.split())
    # a forced pair is scored by the recommender (it had no score, null, outside the top
    # lists); an unknown conflict warns
    forced.write_text("query,partner\nt:sme:4,t:intermediary:0\nt:sme:4,t:intermediary:0\n")
    conflicts = tmp_path / "x.csv"
    conflicts.write_text("query,partner\nt:sme:4,t:ghost\n")
    out = runner.invoke(app, ["match", "assign", "--mode", "intermediary", "--k", "2", "--capacity", "20", "--forced",
                              str(forced), "--conflicts", str(conflicts), "--json", "--database-url", registry_url])  # fmt: skip
    assert out.exit_code == 0, out.output
    said = " ".join(out.output.split())
    assert "line 3: the forced pair (t:sme:4, t:intermediary:0) repeats line 2; counted once" in said
    assert "x.csv, line 2: partner 't:ghost' is not an organisation of the registry; this conflict never applies" in said
    pairs = [p for p in _strict(out.stdout)["pairs"] if p["query"] == "t:sme:4"]
    assert len(pairs) == 2
    forced_pair = next(p for p in pairs if p["forced"])
    assert forced_pair["partner"] == "t:intermediary:0" and forced_pair["score"] is not None


def test_assign_objective_score_fills_demand_with_negative_scores(tmp_path):
    """--objective score on log-scores gives the same plan as log-probability on the
    probabilities: the shift makes the lowest score 1 in both."""
    probs = pd.DataFrame({"query": ["a", "a", "b", "b", "c"], "partner": ["x", "y", "x", "y", "x"],
                          "score": [0.9, 0.3, 0.6, 0.05, 0.2]})  # fmt: skip
    probs.to_csv(tmp_path / "p.csv", index=False)
    probs.assign(score=np.log(probs["score"])).to_csv(tmp_path / "l.csv", index=False)

    def plan(path, objective):
        out = runner.invoke(app, ["match", "assign", "--candidates", str(path), "--k", "1", "--capacity", "2",
                                  "--objective", objective, "--json"])  # fmt: skip
        assert out.exit_code == 0, out.output
        return {(p["query"], p["partner"]) for p in json.loads(out.stdout)["pairs"]}

    fair = plan(tmp_path / "p.csv", "log-probability")
    assert plan(tmp_path / "l.csv", "score") == fair and len(fair) == 3


def test_train_end_before_every_project_is_bad_input(registry_url):
    """It ran with no history at all (every partner a cold start) and said only 'linear combination'."""
    for command in (["recommend", "t:sme:4"], ["assign", "--k", "2"]):
        out = runner.invoke(app, ["match", *command, "--train-end", "2000-01-01", "--database-url", registry_url])
        assert out.exit_code == 2, out.output
        assert "train_end 2000-01-01 leaves no project to learn from: the earliest project starts 2014" in " ".join(
            out.output.split())


def test_a_plan_short_of_its_demand_by_capacity_says_why(tmp_path):
    cands = pd.DataFrame({"query": ["a", "a", "b", "b", "c"], "partner": ["x", "y", "x", "y", "x"],
                          "score": [0.9, 0.5, 0.8, 0.4, 0.7]})  # fmt: skip
    cands.to_csv(tmp_path / "c.csv", index=False)
    out = runner.invoke(app, ["match", "assign", "--candidates", str(tmp_path / "c.csv"), "--k", "2", "--capacity", "1",
                              "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stats"]["assigned_pairs"] == 2
    assert ("2 of 6 pairs assigned (1 of 3 SMEs get a partner): the 2 partner(s) among the candidates can take 2 "
            "in all (--capacity 1); a larger "
            "--capacity, or a smaller --k, assigns more") in " ".join(out.stderr.split())  # fmt: skip
    roomy = runner.invoke(app, ["match", "assign", "--candidates", str(tmp_path / "c.csv"), "--k", "1", "--capacity", "2"])
    assert roomy.exit_code == 0 and "pairs assigned" not in roomy.output
