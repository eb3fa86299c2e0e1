"""The SME diagnosis: indicators, stage, peers, weakest factors, support, synthetic flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from innoweave.diagnosis.questionnaire import load_questionnaire, simulate_answers
from innoweave.diagnosis.sme import (
    FACTORS,
    INDICATORS,
    SMEDiagnoser,
    UnknownOrganisation,
    peer_level_name,
    sme_hierarchy,
)
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.instruments import INSTRUMENTS, RestrictingFactor, instruments_for
from innoweave.registry.kinds import GrowthStage
from innoweave.registry.stages import STAGE_ORDER, classify_stage


@pytest.fixture
def fitted(frames):
    return SMEDiagnoser(complete_attributes=False, min_peers=5).fit(frames)


def test_every_factor_has_registry_and_questionnaire_indicators():
    h = sme_hierarchy()
    assert h.dimension_names == FACTORS
    for f in FACTORS:
        sources = {s for i in INDICATORS if i.factor == f for s in i.sources}
        assert "questionnaire" in sources and len(sources) >= 2


def test_scores_follow_the_capability_ladder(fitted):
    scores = fitted.scores_
    assert len(scores) == 60 and scores[FACTORS].stack().between(0, 100).all()
    # SMEs 9, 19, ... sit on the top rung of every attribute; 0, 10, ... on the bottom
    top, bottom = scores.loc["syn:sme:9", "talent"], scores.loc["syn:sme:0", "talent"]
    assert top > bottom
    assert fitted.report_["unused_indicators"] == [f"q_{f}" for f in FACTORS]


def test_collaboration_indicators_count_partner_kinds(fitted, frames):
    ind = fitted.indicators_
    assert (ind["projects"] >= 0).all() and ind["projects"].sum() == 40 * 3
    share = ind["research_partner_share"].dropna()
    assert share.between(0, 1).all() and share.gt(0).any()
    # the reference: project by project, each SME member counts its fellow members by kind
    kind = frames.organisations.set_index("external_id")["kind"]
    expected = {org: {"projects": 0, "partner_links": 0, "research_links": 0, "support_body_links": 0,
                      "eu_funding": 0.0} for org in ind.index}  # fmt: skip
    for _, members in frames.participations.groupby("project_external_id"):
        orgs = members["org_external_id"].tolist()
        for org, money in zip(orgs, members["net_public_contribution"], strict=True):
            if org not in expected:
                continue
            others = [kind[o] for o in orgs if o != org]
            expected[org]["projects"] += 1
            expected[org]["partner_links"] += len(others)
            expected[org]["research_links"] += sum(k in ("university", "research_institute") for k in others)
            expected[org]["support_body_links"] += sum(k in ("intermediary", "government") for k in others)
            expected[org]["eu_funding"] += money
    want = pd.DataFrame.from_dict(expected, orient="index").astype(float)
    shown = ["projects", "partner_links", "support_body_links"]
    pd.testing.assert_frame_equal(ind[shown], want[shown], check_names=False)
    assert (want["support_body_links"] > 0).any() and (want["research_links"] > 0).any()
    from innoweave.diagnosis.sme import collaboration_indicators

    got = collaboration_indicators(frames, ind.index, reference_year=2024)
    pd.testing.assert_frame_equal(got[want.columns], want, check_names=False)
    per_employee = want["eu_funding"] / frames.organisations.set_index("external_id").loc[ind.index, "employees"]
    np.testing.assert_allclose(ind["eu_funding_per_employee"], per_employee)
    # those with partners: research links over partner links; none: unknown
    has = want["partner_links"] > 0
    np.testing.assert_allclose(ind.loc[has, "research_partner_share"],
                               want.loc[has, "research_links"] / want.loc[has, "partner_links"])  # fmt: skip
    assert ind.loc[~has, "research_partner_share"].isna().all() and (~has).any()


def test_recent_projects_are_the_five_years_up_to_the_reference_year(frames):
    from innoweave.diagnosis.sme import collaboration_indicators

    orgs = frames.organisations
    smes = pd.Index(orgs.loc[orgs["kind"] == "sme", "external_id"])
    start = pd.to_datetime(frames.projects.set_index("external_id")["start_date"]).dt.year
    parts = frames.participations.assign(year=frames.participations["project_external_id"].map(start))
    for year in (2018, 2020, 2030):  # projects start 2015..2023: later ones have not started by 2018
        got = collaboration_indicators(frames, smes, reference_year=year)["recent_projects"]
        window = parts[(parts["year"] > year - 5) & (parts["year"] <= year)]
        expected = window[window["org_external_id"].isin(smes)].groupby("org_external_id")["project_external_id"].nunique()
        assert (got.to_numpy() == expected.reindex(smes, fill_value=0).to_numpy()).all(), year


def test_percentiles_peers_and_weakest(fitted):
    pct = fitted.percentiles_[FACTORS]
    assert pct.stack().between(0, 100).all()
    assert (fitted.peer_size_ >= 5).all()
    assert set(fitted.peer_level_) <= {"stage+sector+region", "stage+sector+nuts2", "stage+sector+nuts1",
                                       "stage+sector+country", "stage+sector", "stage", "all",
                                       "stage+region (sector unknown)", "stage+nuts2 (sector unknown)",
                                       "stage+nuts1 (sector unknown)", "stage+country (sector unknown)",
                                       "stage (sector unknown)"}
    scores, medians = fitted.scores_[FACTORS], fitted.peer_medians_[FACTORS]
    for org, weak in fitted.weakest_.items():
        assert 1 <= len(weak) <= 2
        below = scores.loc[org] < medians.loc[org]
        # the lowest percentile among the factors behind the peers' median, if any
        pool = pct.loc[org][below] if below.any() else pct.loc[org]
        assert pct.loc[org, weak[0]] == pool.min()
        assert all(below[f] for f in weak[1:])


def test_a_score_tied_with_most_peers_is_typical_not_weak():
    """Half the SMEs without a project sit at innovation level 0: their mid-rank percentile
    (~25) is low, yet they are at the peers' median. A factor where the SME is truly behind
    its peers is named first, and the tied one is not named beside it."""
    import innoweave

    frames = innoweave.synthesize(n_smes=400, seed=0)
    model = SMEDiagnoser(seed=0).fit(frames)
    scores, medians = model.scores_[FACTORS], model.peer_medians_[FACTORS]
    pct = model.percentiles_[FACTORS]
    tied = (scores["innovation_level"] == medians["innovation_level"]) & (pct["innovation_level"] < 40)
    tied &= (scores < medians).any(axis=1)  # and behind the median on some other factor
    assert tied.sum() >= 20
    for org in tied[tied].index:
        assert "innovation_level" not in model.weakest_[org], org
        assert scores.at[org, model.weakest_[org][0]] < medians.at[org, model.weakest_[org][0]]
    # named weak at or above the median only as the one factor of an SME behind on none
    for org, weak in model.weakest_.items():
        at_or_above = [f for f in weak if scores.at[org, f] >= medians.at[org, f]]
        assert not at_or_above or (weak == at_or_above and not (scores.loc[org] < medians.loc[org]).any())


def test_peer_groups_widen_when_too_small(frames):
    narrow = SMEDiagnoser(complete_attributes=False, min_peers=1).fit(frames)
    wide = SMEDiagnoser(complete_attributes=False, min_peers=1000).fit(frames)
    assert (narrow.peer_level_ == "stage+sector+region").all()
    assert (wide.peer_level_ == "all").all() and (wide.peer_size_ == 60).all()


def test_diagnose_profile_and_recommendations(fitted):
    profile = fitted.diagnose("syn:sme:0")
    assert profile["stage"]["value"] in {s.value for s in GrowthStage}
    assert set(profile["factors"]) == set(FACTORS)
    assert profile["weakest"]
    for rec in profile["recommendations"]:
        inst = INSTRUMENTS[rec["instrument"]]
        assert inst.eligible(profile["stage"]["value"])
        assert rec["factor"] in profile["weakest"] and RestrictingFactor(rec["factor"]) in inst.addresses
        assert profile["stage"]["value"] in rec["reason"]
    # every indicator of a synthetic-origin registry is flagged synthetic where present
    flagged = {c for f in profile["factors"].values() for c, v in f["indicators"].items() if v["synthetic"]}
    assert flagged == set(profile["synthetic_indicators"]) and "patents" in flagged


def test_weakest_factors_without_an_instrument_at_the_stage_say_why(fitted):
    """A weakest factor no instrument serves at the SME's stage is named, with the
    instruments for it and the stages they serve, instead of silently getting nothing."""
    uncovered_seen = 0
    for org_id in fitted.weakest_.index:
        profile = fitted.diagnose(org_id)
        stage = profile["stage"]["value"]
        served = {r["factor"] for r in profile["recommendations"]}
        uncovered = {u["factor"]: u["reason"] for u in profile["weakest_without_support"]}
        assert set(uncovered) == {f for f in profile["weakest"] if not instruments_for(f, stage)}
        assert served <= set(profile["weakest"]) - set(uncovered)
        for factor, reason in uncovered.items():
            assert not instruments_for(factor, stage)
            assert f"at the {stage} stage" in reason
            elsewhere = instruments_for(factor)
            assert all(i.key in reason for i in elsewhere)
            uncovered_seen += 1
    assert uncovered_seen  # the synthetic registry has such SMEs: the check above ran


def test_unknown_and_ambiguous_ids(fitted):
    with pytest.raises(UnknownOrganisation, match="no SME 'nobody'"):
        fitted.diagnose("nobody")
    with pytest.raises(UnknownOrganisation):
        fitted.diagnose("syn:university:0")  # exists, but is not an SME
    assert fitted.resolve("sme 3") == "syn:sme:3"


def test_transform_and_stage_distribution(fitted, frames):
    table = fitted.transform()
    assert len(table) == 60 and {"weakest", "recommended", "overall_score", "ip_percentile"} <= set(table.columns)
    # each SME's stage is the registry rule on its age at the reference year (2024), its
    # employees and its growth, applied here one SME at a time
    smes = frames.organisations[frames.organisations["kind"] == "sme"].set_index("external_id")
    expected = pd.Series({org: classify_stage([2024 - row.founding_year], [row.employees],
                                              [row.attributes["growth"]]).item()
                          for org, row in smes.iterrows()})  # fmt: skip
    assert fitted.stages_.to_dict() == expected.to_dict()
    assert table.set_index("org_id")["stage"].to_dict() == expected.to_dict()
    dist = fitted.stage_distribution()
    assert dist["total"] == 60 and sum(dist["counts"].values()) == 60
    assert dist["counts"] == {s: int((expected == s).sum()) for s in STAGE_ORDER}
    assert len([s for s in STAGE_ORDER if dist["counts"][s]]) >= 3  # the registry holds several stages
    assert dist["shares"] == pytest.approx({s: n / 60 for s, n in dist["counts"].items()})
    assert sum(dist["shares"].values()) == pytest.approx(1.0)
    # at the age boundary: founded 2020, an SME is 4 in 2024 (a start-up); founded 2019, 5 (not)
    orgs = frames.organisations
    for org, year in (("syn:sme:1", 2020), ("syn:sme:3", 2019)):
        row = orgs.index[orgs["external_id"] == org][0]
        orgs.at[row, "founding_year"], orgs.at[row, "employees"] = year, 10.0
        orgs.at[row, "attributes"] = {**orgs.at[row, "attributes"], "growth": 0.0}
    stages = SMEDiagnoser(complete_attributes=False, min_peers=5).fit(frames).stages_
    assert (stages["syn:sme:1"], stages["syn:sme:3"]) == ("start-up", "maturity")
    for row in table.itertuples():
        for key in filter(None, row.recommended.split("; ")):
            assert INSTRUMENTS[key].eligible(row.stage)


def test_questionnaire_answers_enter_the_factors(frames):
    q = load_questionnaire()
    ids = [f"syn:sme:{i}" for i in range(60)]
    latent = pd.DataFrame({f: np.linspace(0, 1, 60) for f in FACTORS}, index=ids)
    answers = simulate_answers(latent, q, seed=1)
    model = SMEDiagnoser(complete_attributes=False, answers=answers, answers_synthetic=True).fit(frames)
    assert model.indicators_["q_ip"].notna().all()
    assert model.synthetic_["q_ip"].all() and model.answered_.all()
    assert model.report_["unused_indicators"] == []
    bad = answers.copy()
    bad.loc[0, "answer"] = 9
    with pytest.raises(ValueError, match="outside the scale"):
        SMEDiagnoser(complete_attributes=False, answers=bad).fit(frames)


def test_one_smes_answers_count(frames):
    """Answers from a single SME once left its scores unchanged without a word: each
    self-assessment was scaled between the lowest and highest answer received, so one
    respondent made it constant and it was dropped. They are scored on the fixed scale."""
    q = load_questionnaire()
    items = [i.id for i in q.items if i.factor == "awareness"]
    reverse = {i.id for i in q.items if i.reverse}

    def answered(best: bool):
        high = [(1 if i in reverse else 5) if best else (5 if i in reverse else 1) for i in items]
        return pd.DataFrame({"org_id": "syn:sme:7", "item_id": items, "answer": high})

    plain = SMEDiagnoser(complete_attributes=False).fit(frames).scores_.at["syn:sme:7", "awareness"]
    strong = SMEDiagnoser(complete_attributes=False, answers=answered(True)).fit(frames)
    weak = SMEDiagnoser(complete_attributes=False, answers=answered(False)).fit(frames)
    assert strong.indicators_.at["syn:sme:7", "q_awareness"] == 1.0
    assert "q_awareness" not in strong.report_["unused_indicators"]
    assert weak.scores_.at["syn:sme:7", "awareness"] < plain < strong.scores_.at["syn:sme:7", "awareness"]
    # the others did not answer: their scores are as without answers
    others = strong.scores_.drop(index="syn:sme:7")
    pd.testing.assert_frame_equal(others, SMEDiagnoser(complete_attributes=False).fit(frames).scores_.drop(index="syn:sme:7"))


def test_sme_with_every_value_missing(frames):
    orgs = frames.organisations
    row = orgs.index[orgs["external_id"] == "syn:sme:5"][0]
    for col in ("founding_year", "employees", "revenue", "rd_spending", "rd_staff", "patents", "trademarks"):
        orgs.at[row, col] = None
    orgs.at[row, "attributes"] = {}
    frames.participations = frames.participations[frames.participations["org_external_id"] != "syn:sme:5"]
    model = SMEDiagnoser(complete_attributes=False, min_peers=5).fit(frames)
    profile = model.diagnose("syn:sme:5")
    # with no collaboration the history indicators are 0 (known absence), the rest missing
    assert profile["factors"]["talent"]["score"] is None
    assert profile["stage"]["value"] == "maturity"  # the documented rule for no data at all
    assert "talent" not in profile["weakest"]


def test_attribute_model_fills_registry_gaps_and_flags_them(make_registry):
    frames = make_registry(30)
    orgs = frames.organisations
    for col in ("employees", "rd_staff", "patents", "founding_year"):
        orgs[col] = None
    orgs["source"] = "cordis"
    frames.participations["source"] = "cordis"
    model = SMEDiagnoser(min_peers=3, seed=1).fit(frames)
    assert model.indicators_["rd_staff_share"].notna().all()
    assert model.synthetic_["rd_staff_share"].all() and model.synthetic_["patents"].all()
    assert not model.synthetic_["projects"].any()  # the collaboration history is real here
    again = SMEDiagnoser(min_peers=3, seed=1).fit(frames)
    pd.testing.assert_frame_equal(model.scores_, again.scores_)


def test_no_smes_is_an_error(frames):
    frames.organisations = frames.organisations[frames.organisations["kind"] != "sme"]
    with pytest.raises(ValueError, match="no organisations of kinds"):
        SMEDiagnoser(complete_attributes=False).fit(frames)


def test_instrument_catalogue():
    assert len(INSTRUMENTS) == 13
    for f in RestrictingFactor:
        assert any(instruments_for(f, s) for s in GrowthStage), f
    assert [i.key for i in instruments_for("ip", "transformation")] == []
    assert {"rd_grant", "innovation_voucher", "collaborative_call", "matchmaking_platform"} <= set(INSTRUMENTS)


def test_cordis_smes(cordis_dir):
    from innoweave.registry.cordis import read_cordis

    model = SMEDiagnoser(seed=0).fit(read_cordis(cordis_dir))
    assert len(model.scores_) > 1000
    assert not model.synthetic_["projects"].any() and model.synthetic_["patents"].all()
    assert model.stage_distribution()["total"] == len(model.scores_)


# -- QA defects 2, 3, 4, 10 -------------------------------------------------------------------


def test_stage_resting_on_drawn_attributes_is_marked(make_registry):
    frames = make_registry(30)
    orgs = frames.organisations
    orgs["source"] = "cordis"
    frames.participations["source"] = "cordis"
    cordis_like = orgs["external_id"].isin([f"syn:sme:{i}" for i in range(20)])
    orgs.loc[cordis_like, ["founding_year", "employees"]] = None  # CORDIS records neither
    for i in range(20):
        orgs.at[orgs.index[i], "attributes"] = {k: v for k, v in orgs.at[orgs.index[i], "attributes"].items()
                                                if k != "growth"}
    model = SMEDiagnoser(min_peers=3, seed=1).fit(frames)
    drawn = model.diagnose("syn:sme:1")["stage"]
    assert drawn["basis"] == "synthetic" and drawn["synthetic_attributes"] == ["age", "employees", "growth"]
    assert "synthetic (drawn)" in drawn["note"] and "illustrative" in drawn["note"]
    real = model.diagnose("syn:sme:25")["stage"]
    assert real["basis"] == "observed" and real["synthetic_attributes"] == [] and "note" not in real
    table = model.transform().set_index("org_id")
    assert table.loc["syn:sme:1", "stage_basis"] == "synthetic"
    # region and sector as the peers are grouped, so a table can be cut by them
    keys = model.peer_keys_.loc[table.index]
    assert table["region"].tolist() == keys["region"].tolist()
    assert table["sector"].tolist() == keys["sector"].tolist()
    assert table.loc["syn:sme:1", "stage_synthetic_attributes"] == "age; employees; growth"
    assert table.loc["syn:sme:25", "stage_synthetic_attributes"] == ""
    # only the age drawn: partly synthetic
    orgs.loc[orgs["external_id"] == "syn:sme:25", "founding_year"] = None
    partly = SMEDiagnoser(min_peers=3, seed=1).fit(frames).diagnose("syn:sme:25")["stage"]
    assert partly["basis"] == "partly synthetic" and partly["synthetic_attributes"] == ["age"]


def test_a_synthetic_registry_marks_every_stage(fitted):
    assert set(fitted.stage_basis_) == {"synthetic"}
    assert fitted.diagnose("syn:sme:0")["stage"]["synthetic_attributes"] == ["age", "employees", "growth"]


def test_an_organisation_that_is_not_an_sme_is_named_as_such(fitted):
    with pytest.raises(UnknownOrganisation, match=r"organisation 'syn:research_institute:1' \(research_institute 1\) "
                                                  r"exists but is a research_institute, not an SME"):
        fitted.diagnose("syn:research_institute:1")
    with pytest.raises(UnknownOrganisation, match="exists but is an intermediary, not an SME"):
        fitted.diagnose("intermediary 2")  # by exact name too
    # the example offered is an id of this registry, not a fixed CORDIS id
    with pytest.raises(UnknownOrganisation, match=r"give an external id such as 'syn:sme:0'"):
        fitted.diagnose("nobody")


def test_answer_ids_are_stripped_and_take_the_forms_the_sme_argument_takes(frames):
    orgs = frames.organisations
    orgs.loc[orgs["external_id"] == "syn:sme:7", "external_id"] = "cordis:865913472"
    orgs.loc[orgs["external_id"] == "syn:research_institute:1", "external_id"] = "cordis:999984059"
    parts = frames.participations
    parts.loc[parts["org_external_id"] == "syn:sme:7", "org_external_id"] = "cordis:865913472"
    parts.loc[parts["org_external_id"] == "syn:research_institute:1", "org_external_id"] = "cordis:999984059"
    answers = pd.DataFrame({"org_id": [" syn:sme:3 ", "865913472", "nobody", "syn:university:0", "ghost",
                                       "999984059"],
                            "item_id": ["AW1"] * 6, "answer": [5, 5, 3, 3, 3, 4]})  # fmt: skip
    model = SMEDiagnoser(complete_attributes=False, answers=answers).fit(frames)
    assert model.answered_["syn:sme:3"] and model.answered_["cordis:865913472"]
    assert model.answered_.sum() == 2
    assert model.report_["answers_for_unknown_orgs"] == ["999984059", "ghost", "nobody", "syn:university:0"]
    assert model.report_["answers_for_unknown_orgs_count"] == 4
    # an institute named by its bare PIC is recognised as such, as a university by its external id
    assert model.report_["answers_for_other_kinds"] == {"999984059": "research_institute",
                                                        "syn:university:0": "university"}
    # the PIC and the external id of one SME answering one item differently is a conflict
    clash = pd.DataFrame({"org_id": ["865913472", "cordis:865913472"], "item_id": ["AW1", "AW1"], "answer": [5, 1]})
    with pytest.raises(ValueError, match="'cordis:865913472' answers item 'AW1' twice, differently"):
        SMEDiagnoser(complete_attributes=False, answers=clash).fit(frames)


def test_reference_year_must_be_a_plausible_year(frames):
    for year in (-5, 1900, 2101, 2024.5, True):
        with pytest.raises(ValueError, match="reference_year must be a year after 1900 and at most 2100"):
            SMEDiagnoser(complete_attributes=False, reference_year=year).fit(frames)
    early = SMEDiagnoser(complete_attributes=False, reference_year=1990, min_peers=5).fit(frames)
    founded = frames.organisations.query("kind == 'sme'")["founding_year"]
    assert early.report_["founded_after_reference_year"] == int((founded > 1990).sum()) > 0


def test_stage_rules_file_values_are_checked(tmp_path):
    from innoweave.diagnosis.sme import read_stage_rules

    path = tmp_path / "rules.toml"
    cases = {
        "[stages]\nstartup_max_age = true\n": r"\[stages\]: startup_max_age must be a number, got True",
        "[stages]\ngrowth_min_rate = 10\n": r"growth_min_rate = 10 is not an annual rate as a fraction",
        "[stages]\ntransformation_max_growth = -5\n": r"transformation_max_growth = -5 is not an annual rate",
        "[stages]\nstartup_max_employees = -1\n": r"startup_max_employees must not be negative",
        "[stages]\nstartup_max_age = \"abc\"\n": r"startup_max_age must be a number, got 'abc'",
        "stages = 3\n": r"'stages' must be a table \(\[stages\] followed by key = value lines\), got stages = 3",
        "[stage]\nstartup_max_age = 3.0\n": r"has no \[stages\] table \(it has \[stage\]\)",
        "[stages\nstartup_max_age = 3.0\n": r"is not valid TOML",
        "[stages]\nfoo = 3\n": r"unknown stage rule keys \['foo'\]",
        "[stages]\nmissing_stage = \"Startup\"\n": r"missing_stage must be one of",
        "[stages]\ngrowth_min_rate = -0.1\n": r"must be below growth_min_rate",
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            read_stage_rules(path)
        with pytest.raises(ValueError, match="rules.toml"):
            read_stage_rules(path)
    path.write_text("[stages]\nstartup_max_age = 3\ngrowth_min_rate = 0.2\n")
    rules = read_stage_rules(path)
    assert rules.startup_max_age == 3 and rules.growth_min_rate == 0.2
    with pytest.raises(ValueError, match="stage rules file not found"):
        read_stage_rules(tmp_path / "absent.toml")


def test_kinds_given_as_one_string_are_one_kind(frames):
    assert SMEDiagnoser(kinds="SME").fit(frames).scores_.shape == SMEDiagnoser().fit(frames).scores_.shape


def test_fit_takes_registry_frames(frames):
    for given in (frames.organisations, None):
        with pytest.raises(TypeError, match="SMEDiagnoser.fit takes RegistryFrames"):
            SMEDiagnoser().fit(given)


def _with(frames, row: int, **changes) -> RegistryFrames:
    orgs = frames.organisations.copy()
    for column, value in changes.items():
        if column == "attributes":
            orgs.at[row, column] = {**orgs.at[row, column], **value}
        else:
            orgs[column] = orgs[column].astype(float)
            orgs.loc[row, column] = value
    return RegistryFrames(orgs, frames.projects, frames.participations)


@pytest.mark.parametrize(("changes", "message"), [
    ({"employees": np.inf}, "column 'employees' must be a finite number at least 0; 1 organisation\\(s\\) give "
                            "other values, e.g. 'syn:sme:5' \\(inf\\)"),
    ({"employees": -5.0}, "column 'employees' must be a finite number at least 0; 1 organisation\\(s\\) give "
                          "other values, e.g. 'syn:sme:5' \\(-5.0\\)"),
    ({"revenue": -1e6}, "column 'revenue' must be a finite number at least 0"),
    ({"rd_spending": np.inf}, "column 'rd_spending' must be a finite number at least 0"),
    ({"patents": np.inf}, "column 'patents' must be a whole number at least 0"),
    ({"patents": 2.5}, "column 'patents' must be a whole number at least 0; .* 'syn:sme:5' \\(2.5\\)"),
    ({"founding_year": 1066.0}, "column 'founding_year' must be a whole number at least 1800 and at most"),
])  # fmt: skip
def test_impossible_figures_are_refused_naming_column_and_organisation(frames, changes, message):
    """They shifted other SMEs' scores silently (min–max over all: SME 8's innovation 92 → 69)."""
    with pytest.raises(ValueError, match=message):
        SMEDiagnoser().fit(_with(frames, 5, **changes))


def _with_text(frames, row: int, column: str, value: object) -> RegistryFrames:
    orgs = frames.organisations.copy()
    orgs[column] = orgs[column].astype(object)
    orgs.at[row, column] = value
    return RegistryFrames(orgs, frames.projects, frames.participations)


def test_a_firm_figure_given_as_text_is_refused_and_numeric_text_is_a_number(frames):
    """Text such as "many" was read as missing without a word."""
    with pytest.raises(ValueError, match="column 'employees' must be a finite number at least 0; "
                                         "1 organisation\\(s\\) give other values, e.g. 'syn:sme:5' \\('many'\\)"):
        SMEDiagnoser().fit(_with_text(frames, 5, "employees", "many"))
    as_number = SMEDiagnoser().fit(frames)
    value = frames.organisations.at[5, "employees"]
    as_text = SMEDiagnoser().fit(_with_text(frames, 5, "employees", f" {value:g} "))
    pd.testing.assert_frame_equal(as_text.scores_, as_number.scores_)


@pytest.mark.parametrize(("attributes", "message"), [
    ({"awareness": "high"}, "attributes.awareness must be a finite number at least 0 and at most 1 \\(a score\\); "
                            "1 organisation\\(s\\) give other values, e.g. 'syn:sme:5' \\('high'\\)"),
    ({"awareness": 5.0}, "attributes.awareness must be .* at most 1 .* 'syn:sme:5' \\(5.0\\)"),
    ({"awareness": np.inf}, "attributes.awareness must be a finite number"),
    ({"credit_access": -0.2}, "attributes.credit_access must be a finite number at least 0 and at most 1"),
    ({"talent": True}, "attributes.talent must be .* 'syn:sme:5' \\(True\\)"),
    ({"ip_awareness": "n/a"}, "attributes.ip_awareness must be"),
    ({"innovating": "yes"}, "attributes.innovating must be true or false \\(or 1 / 0\\); .* 'syn:sme:5' \\('yes'\\)"),
    ({"innovating": 2}, "attributes.innovating must be true or false"),
    ({"growth": -1.5}, "attributes.growth must be a finite number at least -1 \\(an annual rate as a fraction"),
    ({"growth": "fast"}, "attributes.growth must be"),
    ({"barriers": "credit"}, "attributes.barriers must be a mapping of names to true or false \\(a JSON object\\); .* 'syn:sme:5'"),
    ({"barriers": {"credit": "no"}}, "attributes.barriers.credit must be true or false .* \\('no'\\)"),
    ({"barriers": {"credit": "0"}}, "attributes.barriers.credit must be true or false .* \\('0'\\)"),
    ({"innovating": "1"}, "attributes.innovating must be true or false"),
    ({"support_use": {"grants": 3}}, "attributes.support_use.grants must be true or false"),
])  # fmt: skip
def test_attributes_off_their_scale_are_refused_before_any_score(frames, attributes, message):
    """Text was read as missing; 5.0 where awareness runs 0..1 moved every other SME's
    min–max score (SME 8's awareness 94 → 59)."""
    with pytest.raises(ValueError, match=message):
        SMEDiagnoser().fit(_with(frames, 5, attributes=attributes))


def test_many_organisations_off_scale_are_counted_and_the_first_named(frames):
    orgs = frames.organisations.copy()
    for row in range(8):
        orgs.at[row, "attributes"] = {**orgs.at[row, "attributes"], "awareness": 10 * (row + 1)}
    with pytest.raises(ValueError, match="8 organisation\\(s\\) give other values, e.g. 'syn:sme:0' \\(10.0\\), "
                                         "'syn:sme:1' \\(20.0\\), .*'syn:sme:4' \\(50.0\\), …$"):
        SMEDiagnoser().fit(RegistryFrames(orgs, frames.projects, frames.participations))


def test_attributes_that_are_not_a_mapping_are_refused(frames):
    orgs = frames.organisations.copy()
    orgs.at[5, "attributes"] = '{"awareness": 0.4}'
    with pytest.raises(ValueError, match="attributes must be a mapping of names to values \\(a JSON object\\); .* 'syn:sme:5' \\('\\{\"awareness\": 0.4\\}'\\)"):
        SMEDiagnoser().fit(RegistryFrames(orgs, frames.projects, frames.participations))


def test_values_on_their_scale_give_the_same_scores_as_before(frames):
    """Numbers written as text, 0/1 flags, scale ends and missing values are accepted; the
    scores are those of the same values given as numbers."""
    base = SMEDiagnoser().fit(frames)
    orgs = frames.organisations.copy()
    for row in range(len(orgs)):
        attrs = orgs.at[row, "attributes"]
        if "awareness" in attrs:
            orgs.at[row, "attributes"] = {**attrs, "awareness": str(attrs["awareness"]),
                                          "innovating": int(attrs["innovating"])}
    text = SMEDiagnoser().fit(RegistryFrames(orgs, frames.projects, frames.participations))
    pd.testing.assert_frame_equal(text.scores_, base.scores_)
    ends = _with(frames, 5, attributes={"awareness": 1, "talent": 0.0, "growth": -1.0, "credit_access": None,
                                        "barriers": {"credit": None, "internal_finance": 1}})
    SMEDiagnoser().fit(ends)
    # an organisation that is not diagnosed is not held to the SMEs' rules (a university of 1386)
    university = int(np.flatnonzero(frames.organisations["kind"] == "university")[0])
    SMEDiagnoser().fit(_with(frames, university, founding_year=1386.0))
    with pytest.raises(ValueError, match="column 'founding_year' .* 'syn:university:0' \\(1386.0\\)"):
        SMEDiagnoser(kinds=("sme", "university")).fit(_with(frames, university, founding_year=1386.0))


def test_an_organisation_listed_twice_is_refused(frames):
    orgs = pd.concat([frames.organisations, frames.organisations.iloc[[3]].assign(name="Other")], ignore_index=True)
    with pytest.raises(ValueError, match="1 organisation id\\(s\\) are listed more than once, e.g. 'syn:sme:3'"):
        SMEDiagnoser().fit(RegistryFrames(orgs, frames.projects, frames.participations))


def test_diagnoser_settings_out_of_range_are_refused(frames):
    for options, message in [({"max_per_factor": -1}, "max_per_factor must be at least 1, got -1"),
                             ({"weak_percentile": 500}, r"weak_percentile \(a percentile\) must be a finite number at least 0 and at most 100"),
                             ({"weak_percentile": float("nan")}, r"weak_percentile \(a percentile\) must be a finite number"),
                             ({"weak_percentile": "50"}, r"weak_percentile \(a percentile\) must be a number, got '50'"),
                             ({"min_peers": True}, "min_peers must be a whole number >= 1, got True"),
                             ({"min_peers": 1.5}, "min_peers must be a whole number >= 1, got 1.5"),
                             ({"n_weakest": 2.5}, "n_weakest must be a whole number >= 1, got 2.5"),
                             ({"max_per_factor": float("nan")}, "max_per_factor must be a whole number"),
                             ({"kinds": ["spaceship"]}, "unknown kind\\(s\\) 'spaceship'; valid kinds: sme"),
                             ({"kinds": []}, "no kind given"),
                             ({"kinds": None}, "kinds must name the kinds diagnosed"),
                             ({"stage_rules": {"startup_max_age": 3}}, "stage_rules must be a StageRules"),
                             ({"composite": {"bogus": 1}}, r"composite has unknown setting\(s\) \['bogus'\]"),
                             ({"on_invalid_answer": "skip"}, "on_invalid_answer must be 'raise' or 'missing', got 'skip'"),
                             ({"answers": "answers.csv"}, r"answers must be a DataFrame \(read_answers\(path\) reads a file\), got str"),
                             ({"complete_attributes": "no"}, "complete_attributes must be True or False"),
                             ({"answers_synthetic": "yes"}, "answers_synthetic must be True or False"),
                             ({"seed": -1}, "seed must be a whole number >= 0"),
                             ({"seed": 1.5}, "seed must be a whole number >= 0")]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            SMEDiagnoser(**options).fit(frames)


def test_flag_names_outside_the_attribute_model_are_reported(frames):
    """A misspelt barrier was ignored without a word; a scheme of another name counted as used
    without a word. Both are now in the report (and the CLI warns)."""
    base = SMEDiagnoser().fit(frames)
    assert "barriers_not_read" not in base.report_ and "support_schemes_not_drawn" not in base.report_
    attrs = frames.organisations.at[5, "attributes"]
    model = SMEDiagnoser().fit(_with(frames, 5, attributes={
        "barriers": {**attrs["barriers"], "skiled_employees": True},
        "support_use": {**attrs["support_use"], "innovation_voucher": True}}))  # fmt: skip
    assert model.report_["barriers_not_read"] == {"names": ["skiled_employees"], "organisations": 1}
    assert model.report_["support_schemes_not_drawn"] == {"names": ["innovation_voucher"], "organisations": 1}
    # the scheme counts as used; the unknown barrier changes nothing
    used = model.indicators_.loc["syn:sme:5", "support_schemes_used"]
    assert used == base.indicators_.loc["syn:sme:5", "support_schemes_used"] + 1
    assert model.indicators_.loc["syn:sme:5", "skills_barrier"] == base.indicators_.loc["syn:sme:5", "skills_barrier"]


def test_the_cli_warns_about_flag_names_outside_the_attribute_model(frames, capsys):
    from innoweave.cli.diagnose import _report_warnings

    attrs = frames.organisations.at[5, "attributes"]
    model = SMEDiagnoser().fit(_with(frames, 5, attributes={
        "barriers": {**attrs["barriers"], "skiled_employees": True},
        "support_use": {**attrs["support_use"], "innovation_voucher": True}}))  # fmt: skip
    _report_warnings(model, None)
    text = " ".join(capsys.readouterr().err.split())
    assert "warning: attributes.barriers: skiled_employees (reported by 1 SME(s)) is not among the barriers" in text
    assert "warning: attributes.support_use: innovation_voucher (used by 1 SME(s)) counted as support scheme(s)" in text


def test_peer_level_says_when_the_sector_is_unknown_without_changing_the_peers(frames):
    """An SME of unknown sector is grouped with the other unknowns; its level must not claim
    a sector match, and its peers, percentiles and medians stay as they were."""
    known = SMEDiagnoser(complete_attributes=False, min_peers=1).fit(frames)
    orgs = frames.organisations.copy()
    smes = list(known.peer_level_.index)
    blank = set(smes[: len(smes) // 2])
    orgs["sector_codes"] = [[] if org in blank else codes
                            for org, codes in zip(orgs["external_id"], orgs["sector_codes"], strict=True)]
    import dataclasses

    model = SMEDiagnoser(complete_attributes=False, min_peers=1).fit(dataclasses.replace(frames, organisations=orgs))
    unknown = model.peer_keys_["sector"] == "unknown"
    assert unknown.any() and (~unknown).any()
    assert (model.peer_level_[unknown] == "stage+region (sector unknown)").all()
    assert (model.peer_level_[~unknown] == "stage+sector+region").all()
    assert not model.peer_level_[unknown].str.contains("sector\\+|\\+sector").any()
    keys = model.peer_keys_[["stage", "sector", "region"]]
    assert (model.peer_size_ == keys.groupby(list(keys.columns))["stage"].transform("size")).all()
    org = model.peer_level_[unknown].index[0]
    assert model.diagnose(org)["peers"]["level"] == "stage+region (sector unknown)"
    # the names only: who the peers are does not depend on them
    assert peer_level_name("stage+sector+country", "unknown") == "stage+country (sector unknown)"
    assert peer_level_name("stage+sector", "unknown") == "stage (sector unknown)"
    assert peer_level_name("stage+sector+region", "C25") == "stage+sector+region"
    assert peer_level_name("all", "unknown") == "all" and peer_level_name("stage", "unknown") == "stage"


def test_smes_without_a_region_get_no_regional_peers(frames):
    """The SMEs of unknown region were grouped as if they shared one region (level
    'stage+sector+region' among themselves, wherever they sit); they now skip the regional
    levels, and the country level where their country is unknown too."""
    import dataclasses

    orgs = frames.organisations.copy()
    smes = list(orgs.loc[orgs["kind"] == "sme", "external_id"])
    nowhere, german = set(smes[:20]), set(smes[20:30])
    orgs.loc[orgs["external_id"].isin(nowhere | german), "region_code"] = None
    orgs.loc[orgs["external_id"].isin(nowhere), "country"] = None
    orgs.loc[orgs["external_id"].isin(german), "country"] = "DE"
    model = SMEDiagnoser(complete_attributes=False, min_peers=1).fit(dataclasses.replace(frames, organisations=orgs))
    levels = model.peer_level_
    regional = ("region", "nuts2", "nuts1")
    assert not levels[list(nowhere)].str.contains("|".join(regional + ("country",))).any()
    assert (levels[list(nowhere)].str.split(" ").str[0] == "stage+sector").all()
    assert (levels[list(german)].str.split(" ").str[0] == "stage+sector+country").all()
    others = levels.drop(list(nowhere | german))
    assert (others == "stage+sector+region").all()  # min_peers 1: the narrowest level
    org = smes[0]
    keys = model.peer_keys_
    peers = keys[(keys["stage"] == keys.at[org, "stage"]) & (keys["sector"] == keys.at[org, "sector"])]
    assert model.peer_size_[org] == len(peers)
