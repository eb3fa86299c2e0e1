"""Defects found by QA in the plans, records and explanations of ``innoweave match``
(sixteenth session): each test fails without its fix.

A result must say what made it (version, seed, every setting, no machine paths), a plan must
say the truth about forced pairs, and a message must name the file and line it is about.
"""

import json

import pandas as pd
import pytest
from match_cli import invoke, one_line, write_registry


@pytest.fixture(scope="module")
def tiny_url(tmp_path_factory):
    """Three SMEs, two universities, a large firm: s1 worked with u1, s2 and s3 with f1."""
    from innoweave.registry.frames import RegistryFrames

    orgs = pd.DataFrame({"external_id": ["s1", "s2", "s3", "u1", "u2", "f1"],
                         "name": ["Alpha GmbH", "Beta GmbH", "Gamma GmbH", "Uni One", "Uni Two", "Big AG"],
                         "kind": ["sme", "sme", "sme", "university", "university", "large_firm"],
                         "source": "test"})  # fmt: skip
    projects = pd.DataFrame({"external_id": ["p1", "p2", "p3", "p4"],
                             "title": ["laser welding", "robot arm", "robot vision", "laser optics"],
                             "start_date": pd.to_datetime(["2018-01-01", "2019-01-01", "2020-01-01",
                                                           "2020-06-01"]).date, "source": "test"})  # fmt: skip
    parts = pd.DataFrame({"project_external_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4"],
                          "org_external_id": ["s1", "u1", "s2", "f1", "s3", "f1", "u2"], "source": "test",
                          "external_id": [f"pa{i}" for i in range(7)]})  # fmt: skip
    return write_registry(tmp_path_factory.mktemp('tiny'), RegistryFrames(orgs, projects, parts))


# --------------------------------------------------------------------- what made a result
def test_a_plan_records_version_seed_and_settings(tiny_url, tmp_path):
    """`match assign --json` gave the figures and pairs only: neither the version, the seed,
    the mode, the capacity nor the files the plan came from."""
    import innoweave

    out = invoke("assign", "--mode", "research", "--k", "1", "--capacity", "2", "--seed", "3",
                 "--train-end", "2021-01-01", "--json", "--database-url", tiny_url)  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["version"] == innoweave.__version__ and data["seed"] == 3
    assert data["settings"] == {"mode": "research", "k": 1, "capacity": 2, "top": 50, "objective": "auto",
                                "min_quality": None, "train_end": "2021-01-01", "candidates": None,
                                "forced": None, "conflicts": None}  # fmt: skip
    assert data["model"].startswith("linear combination")  # too little history to learn from
    (tmp_path / "c.csv").write_text("query,partner,score\nq1,p1,0.5\nq2,p1,0.4\n")
    (tmp_path / "f.csv").write_text("query,partner\nq2,p1\n")
    out = invoke("assign", "--candidates", tmp_path / "c.csv", "--forced", tmp_path / "f.csv", "--k", "1",
                 "--capacity", "activity", "--min-quality", "0.1", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    # files by name only: a result must not carry the machine's folders
    assert data["settings"] == {"mode": None, "k": 1, "capacity": "activity", "top": None, "objective": "auto",
                                "min_quality": 0.1, "train_end": None, "candidates": "c.csv",
                                "forced": "f.csv", "conflicts": None}  # fmt: skip
    assert str(tmp_path) not in out.stdout and data["model"] is None


def test_a_recommendation_records_its_train_end(tiny_url):
    """The JSON said how many projects trained (`train_projects`), never up to which date."""
    out = invoke("recommend", "s2", "--train-end", "2020-03-01", "--json", "--database-url", tiny_url)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["train_end"] == "2020-03-01" and data["train_projects"] == 3
    data = json.loads(invoke("recommend", "s2", "--json", "--database-url", tiny_url).stdout)
    assert data["train_end"] is None and data["train_projects"] == 4


def test_the_generic_evaluation_records_its_options(tmp_path):
    """Two evaluations of the same files, with and without --new-only or of other kinds, gave
    JSON that could not be told apart."""
    orgs = [(f"s{i}", "sme") for i in range(12)] + [(f"u{i}", "university") for i in range(4)]
    parts, projects = [], []
    for i in range(12):
        parts += [(f"p{i}", f"s{i}"), (f"p{i}", f"s{(i + 1) % 12}"), (f"p{i}", f"u{i % 4}")]
        projects.append((f"p{i}", f"{2015 + i % 6}-0{1 + i % 9}-01"))
    for j in range(6):
        parts += [(f"t{j}", f"s{j}"), (f"t{j}", f"u{(j + 2) % 4}")]
        projects.append((f"t{j}", "2021-03-01"))
    pd.DataFrame(orgs, columns=["org_id", "kind"]).to_csv(tmp_path / "O.csv", index=False)
    pd.DataFrame(parts, columns=["project_id", "org_id"]).to_csv(tmp_path / "P.csv", index=False)
    pd.DataFrame(projects, columns=["project_id", "start_date"]).to_csv(tmp_path / "PR.csv", index=False)
    out = invoke("evaluate", "--participations", tmp_path / "P.csv", "--organisations", tmp_path / "O.csv",
                 "--projects", tmp_path / "PR.csv", "--train-end", "2021-01-01", "--target-kinds", "university",
                 "--new-only", "--k", "5", "--ranker", "none", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["settings"] == {"query_kinds": ["sme"], "target_kinds": ["university"], "new_only": True,
                                "ranker": "none", "k": 5, "participations": "P.csv",
                                "organisations": "O.csv", "projects": "PR.csv"}  # fmt: skip
    assert str(tmp_path) not in out.stdout


# ------------------------------------------------------------------------------ forced pairs
def test_a_forced_past_partner_gets_its_probability(tiny_url, tmp_path):
    """A forced pair outside the SME's top list (here a past partner, never recommended) was
    written with an empty score and left out of total_score, without a word."""
    (tmp_path / "f.csv").write_text("query,partner\ns1,u1\n")
    out = invoke("assign", "--mode", "research", "--k", "1", "--capacity", "5", "--forced", tmp_path / "f.csv",
                 "--json", "--database-url", tiny_url)  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    pairs = {(p["query"], p["partner"]): p for p in data["pairs"]}
    forced = pairs[("s1", "u1")]
    assert forced["forced"] and forced["score"] is not None and forced["score"] > 0
    assert "already worked together in 1 project(s)" in forced["explanation"]
    assert data["stats"]["total_score"] == pytest.approx(sum(p["score"] for p in data["pairs"]))


def test_a_forced_partner_of_another_kind_is_refused_before_the_fit(tiny_url, tmp_path):
    """A research plan took a large firm as a forced partner and explained it as "a university
    or research institute brings technology…"."""
    (tmp_path / "f.csv").write_text("query,partner\ns2,u2\ns2,f1\n")
    out = invoke("assign", "--mode", "research", "--k", "2", "--forced", tmp_path / "f.csv", "--database-url", tiny_url)
    assert out.exit_code == 2
    assert ("f.csv, line 3: partner 'f1' is of kind 'large_firm', which research mode does not plan (its kinds: "
            "university, research_institute)") in one_line(out.stderr)  # fmt: skip
    out = invoke("assign", "--mode", "alliance", "--k", "2", "--forced", tmp_path / "f.csv", "--database-url", tiny_url)
    assert out.exit_code == 2 and "partner 'u2' is of kind 'university', which alliance mode" in one_line(out.stderr)


@pytest.mark.parametrize("source", ["registry", "file"])
def test_an_sme_forced_onto_itself_is_refused(tiny_url, tmp_path, source):
    """An SME forced as its own alliance partner was planned: 'Gamma GmbH – Gamma GmbH, 0 km away'."""
    (tmp_path / "f.csv").write_text("query,partner\ns2,f1\ns3,s3\n")
    (tmp_path / "c.csv").write_text("query,partner,score\ns2,f1,0.5\ns3,f1,0.4\n")
    where = ["--mode", "alliance", "--database-url", tiny_url] if source == "registry" else \
        ["--candidates", tmp_path / "c.csv"]  # fmt: skip
    out = invoke("assign", *where, "--k", "1", "--forced", tmp_path / "f.csv")
    assert out.exit_code == 2
    assert "f.csv, line 3: 's3' is paired with itself; an organisation cannot be its own partner" in one_line(out.stderr)


@pytest.mark.parametrize("forced, options, message", [
    ("q1,p1\nq2,p1\nq3,p1\n", ["--k", "1", "--capacity", "2"],
     "f.csv, lines 2, 3, 4: 3 forced pairs for partner 'p1', more than its capacity 2 (--capacity 2)"),
    ("q1,p1\nq2,p2\nq1,p2\n", ["--k", "1", "--capacity", "5"],
     "f.csv, lines 2, 4: 2 forced partners for 'q1', more than --k 1 partners per SME"),
    ("q1,p1\nq2,p1\nq3,p1\n", ["--k", "1", "--capacity", "activity"],
     "f.csv, lines 2, 3, 4: 3 forced pairs for partner 'p1', more than its capacity 2 (--capacity activity)"),
])  # fmt: skip
def test_forced_pairs_beyond_demand_or_capacity_name_their_lines(tmp_path, forced, options, message):
    """The solver's message named the partner only ("forced pairs exceed the capacity of
    partner 'p1'"), neither the lines nor the capacity."""
    # 'activity' of a candidates file: p1 is listed once and p2 three times, so p1 may take
    # round(2 × k × 3 SMEs × 1/4) = 2
    (tmp_path / "c.csv").write_text("query,partner,score\nq1,p1,0.9\nq1,p2,0.5\nq2,p2,0.4\nq3,p2,0.3\n")
    (tmp_path / "f.csv").write_text("query,partner\n" + forced)
    out = invoke("assign", "--candidates", tmp_path / "c.csv", "--forced", tmp_path / "f.csv", *options)
    assert out.exit_code == 2 and message in one_line(out.stderr)


def test_min_quality_warning_counts_the_smes_served_by_forced_pairs(tmp_path):
    """'--min-quality 0.95 leaves 3 of 3 SMEs without a pair … they get no partner' while one
    of them got its forced partner."""
    (tmp_path / "c.csv").write_text("query,partner,score\nq1,p1,0.9\nq2,p1,0.8\nq3,p2,0.7\n")
    (tmp_path / "f.csv").write_text("query,partner\nq3,p2\n")
    out = invoke("assign", "--candidates", tmp_path / "c.csv", "--forced", tmp_path / "f.csv", "--k", "1",
                 "--min-quality", "0.95", "--json")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stats"]["queries_served"] == 1
    assert ("--min-quality 0.95 leaves 2 of 3 SMEs without a pair at or above it or a forced pair: they get no "
            "partner") in one_line(out.stderr)  # fmt: skip


def test_no_organisation_in_cluster_mode_gives_an_empty_table(fitted):
    """recommend_many([], mode='cluster') raised KeyError "['query_id', 'query_name'] not in
    index"; the partner modes gave an empty table."""
    from innoweave.matching.recommender import CLUSTER_COLUMNS

    out = fitted.recommend_many([], mode="cluster", k=2)
    assert out.empty and list(out.columns) == ["query_id", "query_name", *CLUSTER_COLUMNS]
    assert fitted.recommend_many([], mode="research", k=2).empty


# ------------------------------------------------------------------------------ explanations
def test_the_current_load_names_the_year_it_counts(tiny_url):
    """"current load: 5 project(s) started in the last year" counted the twelve months up to
    the latest project start of the history — on CORDIS 2027-10-01, a project announced ahead
    — which an analyst reads as the year up to today."""
    out = invoke("recommend", "s2", "--json", "--database-url", tiny_url)
    assert out.exit_code == 0, out.output
    row = next(r for r in json.loads(out.stdout)["recommendations"] if r["partner_id"] == "u2")
    assert row["current_load"] == 1
    assert ("current load: 1 project(s) started in the 12 months to 2020-06-01, the history's latest project "
            "start") in row["explanation"]  # fmt: skip
    out = invoke("recommend", "s2", "--train-end", "2020-03-01", "--json", "--database-url", tiny_url)
    row = json.loads(out.stdout)["recommendations"][0]
    assert "started in the 12 months to 2020-01-01," in row["explanation"]
