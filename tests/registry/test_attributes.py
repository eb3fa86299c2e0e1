"""The attribute model: calibration to NCSES by size class, kept values, flags, seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from innoweave.registry.attributes import (
    FIRM_ATTRIBUTES,
    FIRM_COLUMNS,
    AttributeModel,
    calibration_table,
    size_class_of,
)
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.ncses import SIZE_CLASSES, embedded_shares
from innoweave.registry.stages import STAGE_ORDER

SHARES = embedded_shares()


def _orgs(kinds, **columns) -> RegistryFrames:
    n = len(kinds)
    data = {"external_id": [f"t:{i}" for i in range(n)], "name": [f"org {i}" for i in range(n)],
            "kind": list(kinds)}  # fmt: skip
    data.update(columns)
    return RegistryFrames(pd.DataFrame(data))


@pytest.fixture(scope="module")
def calibrated():
    """20,000 firms in each size class, everything drawn."""
    model = AttributeModel(shares=SHARES, size_mix=dict.fromkeys(SIZE_CLASSES, 1.0))
    return model.complete(_orgs(["company"] * 80_000), seed=11)


@pytest.fixture(scope="module")
def smes():
    """20,000 SMEs, everything drawn: the growth stage is drawn for SMEs only."""
    return AttributeModel(shares=SHARES).complete(_orgs(["sme"] * 20_000), seed=11)


def test_reproduces_ncses_shares_by_size_class_within_two_points(calibrated):
    table = calibration_table(calibrated, SHARES)
    assert set(table["size_class"]) == set(SIZE_CLASSES)
    groups = {m.split(".")[0] for m in table["measure"]}
    assert groups == {"innovating", "barriers", "barriers_non_innovating", "cooperation", "ip",
                      "government_support"}  # fmt: skip
    assert table["n"].min() > 5000
    worst = table.loc[table["diff"].abs().idxmax()]
    assert abs(worst["diff"]) <= 0.02, f"{worst['measure']} ({worst['size_class']}): {worst.to_dict()}"


def test_sizes_stay_in_their_class(calibrated):
    orgs = calibrated.organisations
    cls = orgs["attributes"].map(lambda a: a["size_class"])
    assert (size_class_of(orgs["employees"]) == cls.to_numpy()).all()
    assert orgs["employees"].min() >= 1
    assert orgs["revenue"].gt(0).all()
    assert (orgs["rd_staff"] <= orgs["employees"]).all()
    # larger firms are older on average and use more IP
    by_cls = orgs.groupby(cls)
    age = 2024 - orgs["founding_year"].astype(float)
    assert age.groupby(cls).median()["micro"] < age.groupby(cls).median()["large"]
    assert by_cls["patents"].mean()["micro"] < by_cls["patents"].mean()["large"]
    assert orgs["stage"].isna().all()  # companies of unknown size are not SMEs: no stage


def test_smes_get_every_stage(smes):
    orgs = smes.organisations
    assert set(orgs["stage"]) == set(STAGE_ORDER)
    # start-ups only among young firms; no start-ups with 50+ employees
    assert orgs.loc[orgs["stage"] == "start-up", "employees"].max() < 50


def test_scores_agree_with_their_barriers(calibrated):
    attrs = calibrated.organisations["attributes"]
    for score, barrier in (("credit_access", "credit"), ("talent", "skilled_employees"),
                           ("awareness", "government_grants")):  # fmt: skip
        s = attrs.map(lambda a, k=score: a[k]).to_numpy()
        b = attrs.map(lambda a, k=barrier: a["barriers"][k]).to_numpy()
        assert ((s < 0.5) == b).all()
        assert ((0 <= s) & (s <= 1)).all()
    coop = attrs.map(lambda a: a["cooperates_research"])
    partner = attrs.map(lambda a: a["cooperation"]["university"] or a["cooperation"]["public_research"]
                        or a["cooperation"]["private_research"])  # fmt: skip
    assert (coop == partner).all()
    innovating = attrs.map(lambda a: a["innovating"])
    assert not coop[~innovating].any()  # cooperation is asked of innovating firms only


def test_every_drawn_value_is_flagged():
    frames = AttributeModel(shares=SHARES).complete(
        _orgs(["sme", "large_firm", "company", "university", "research_institute", "government"]), seed=1
    )
    orgs = frames.organisations.set_index("kind")
    expected_firm = set(FIRM_COLUMNS) | {f"attributes.{k}" for k in FIRM_ATTRIBUTES}
    for kind in ("sme", "large_firm", "company"):
        # the growth stage is an SME attribute: drawn (and flagged) for SMEs only
        expected = expected_firm if kind == "sme" else expected_firm - {"stage"}
        assert set(orgs.at[kind, "synthetic_fields"]) == expected
        assert set(orgs.at[kind, "attributes"]) == set(FIRM_ATTRIBUTES)
    assert orgs.at["sme", "stage"] in STAGE_ORDER
    assert pd.isna(orgs.at["large_firm", "stage"]) and pd.isna(orgs.at["company", "stage"])
    for kind in ("university", "research_institute"):
        flags = set(orgs.at[kind, "synthetic_fields"])
        assert {"employees", "attributes.capacity", "attributes.openness"} <= flags
        assert 0 <= orgs.at[kind, "attributes"]["capacity"] <= 1
    assert orgs.at["government", "synthetic_fields"] == []
    assert orgs.at["government", "attributes"] == {}


def test_present_values_are_kept_and_not_flagged():
    frames = _orgs(
        ["sme", "sme", "company"],
        employees=[120.0, None, 3000.0],
        founding_year=[1990, 2021, None],
        revenue=[None, 5e5, None],
        attributes=[{"talent": 0.9, "note": "x"}, {"innovating": False}, {}],
        synthetic_fields=[[], ["keywords"], []],
    )
    out = AttributeModel(shares=SHARES).complete(frames, seed=3).organisations
    assert out["employees"].tolist()[0] == 120.0 and out["employees"].tolist()[2] == 3000.0
    assert out.at[0, "founding_year"] == 1990 and out.at[1, "founding_year"] == 2021
    assert out.at[1, "revenue"] == 5e5
    assert out.at[0, "attributes"]["talent"] == 0.9 and out.at[0, "attributes"]["note"] == "x"
    assert out.at[0, "attributes"]["size_class"] == "medium"  # from the observed head count
    assert out.at[2, "attributes"]["size_class"] == "large"
    assert out.at[1, "attributes"]["innovating"] is False
    assert not out.at[1, "attributes"]["cooperates_research"]
    flags0, flags1 = set(out.at[0, "synthetic_fields"]), out.at[1, "synthetic_fields"]
    assert not {"employees", "founding_year", "attributes.talent", "attributes.size_class"} & flags0
    assert "revenue" in flags0
    assert flags1[0] == "keywords" and flags1.count("keywords") == 1
    assert "revenue" not in flags1 and "attributes.innovating" not in flags1
    # the input frames are not modified
    assert frames.organisations.at[0, "attributes"] == {"talent": 0.9, "note": "x"}
    assert pd.isna(frames.organisations.at[1, "employees"])


def test_size_class_of_head_counts():
    out = size_class_of([0, 1, 9, 10, 49, 50, 249, 250, 10**6, None, -1, "n/a"])
    assert out.tolist() == ["micro", "micro", "micro", "small", "small", "medium", "medium", "large",
                            "large", None, None, None]  # fmt: skip


def test_sme_flag_bounds_the_size_of_firms_without_head_counts():
    n = 3000
    frames = _orgs(["sme"] * n + ["company"] * n + ["large_firm"] * n,
                   sme_flag=[True] * n + [True] * (n // 2) + [None] * (n - n // 2) + [False] * n)  # fmt: skip
    out = AttributeModel(shares=SHARES).complete(frames, seed=5).organisations
    emp = out["employees"].to_numpy()
    assert emp[: n + n // 2].max() < 250
    assert emp[2 * n :].min() >= 250
    micro_share = (emp[:n] < 10).mean()
    expected = SHARES.size_mix()["micro"] / sum(SHARES.size_mix()[c] for c in ("micro", "small", "medium"))
    assert micro_share == pytest.approx(expected, abs=0.03)


def test_project_participation_is_evidence_of_innovation():
    orgs = pd.DataFrame({
        "external_id": ["f1", "f2", "f3", "u1"], "name": ["a", "b", "c", "d"],
        "kind": ["sme", "sme", "large_firm", "university"],
    })  # fmt: skip
    parts = pd.DataFrame({
        "project_external_id": ["p1", "p1", "p2", "p2"],
        "org_external_id": ["f1", "u1", "f2", "f3"],
    })  # fmt: skip
    out = AttributeModel(shares=SHARES).complete(RegistryFrames(orgs, participations=parts), seed=2)
    o = out.organisations.set_index("external_id")
    assert o.at["f1", "attributes"]["innovating"] and o.at["f1", "attributes"]["cooperates_research"]
    assert o.at["f2", "attributes"]["innovating"] and not o.at["f2", "attributes"]["cooperates_research"]
    assert o.at["f3", "attributes"]["innovating"] and not o.at["f3", "attributes"]["cooperates_research"]
    coop = o.at["f1", "attributes"]["cooperation"]
    assert coop["university"] or coop["public_research"] or coop["private_research"]
    # derived from observed participations: not flagged as drawn
    assert "attributes.innovating" not in o.at["f1", "synthetic_fields"]
    assert "attributes.cooperates_research" not in o.at["f1", "synthetic_fields"]


def test_same_seed_same_values_other_seed_other_values():
    frames = _orgs(["sme"] * 200 + ["university"] * 5)
    a = AttributeModel(shares=SHARES).complete(frames, seed=42).organisations
    b = AttributeModel(shares=SHARES).complete(frames, seed=42).organisations
    c = AttributeModel(shares=SHARES).complete(frames, seed=43).organisations
    pd.testing.assert_frame_equal(a, b)
    assert not a["employees"].equals(c["employees"])
    rng = np.random.default_rng(0)
    assert AttributeModel(shares=SHARES).complete(frames, seed=rng).organisations["employees"].notna().all()


def test_bad_input_names_the_problem():
    frames = _orgs(["sme"], attributes=[{"size_class": "huge"}])
    with pytest.raises(ValueError, match=r"'t:0'.*size_class 'huge'"):
        AttributeModel(shares=SHARES).complete(frames, seed=0)
    with pytest.raises(ValueError, match=r"'t:1'.*employees -3.0 is negative"):
        AttributeModel(shares=SHARES).complete(_orgs(["sme", "sme"], employees=[4.0, -3.0]), seed=0)
    with pytest.raises(ValueError, match="unknown size classes"):
        AttributeModel(shares=SHARES, size_mix={"tiny": 1.0}).fit()
    with pytest.raises(ValueError, match="not all zero"):
        AttributeModel(shares=SHARES, size_mix=dict.fromkeys(SIZE_CLASSES, 0.0)).fit()
    with pytest.raises(ValueError, match="run AttributeModel.complete first"):
        calibration_table(_orgs(["sme"]), SHARES)


def test_empty_and_non_firm_registries_pass_through():
    out = AttributeModel(shares=SHARES).complete(RegistryFrames(), seed=0)
    assert out.organisations.empty
    out = AttributeModel(shares=SHARES).complete(_orgs(["government", "intermediary"]), seed=0)
    assert out.organisations["synthetic_fields"].map(len).sum() == 0


kinds_st = st.sampled_from(["sme", "large_firm", "company", "university", "research_institute",
                            "government", "intermediary"])  # fmt: skip
row_st = st.tuples(
    kinds_st,
    st.one_of(st.none(), st.integers(0, 5000).map(float)),
    st.one_of(st.none(), st.integers(1900, 2024)),
    st.one_of(st.none(), st.floats(0, 1)),
)


@settings(max_examples=15, deadline=None)
@given(st.lists(row_st, min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_a_value_is_flagged_exactly_when_it_was_missing(rows, seed):
    kinds, employees, founded, talent = zip(*rows, strict=True)
    frames = _orgs(kinds, employees=list(employees), founding_year=list(founded),
                   attributes=[{} if t is None else {"talent": t} for t in talent])  # fmt: skip
    out = AttributeModel(shares=SHARES).complete(frames, seed=seed).organisations
    for i, (kind, emp, year, tal) in enumerate(rows):
        flags = set(out.at[i, "synthetic_fields"])
        completed = kind in ("sme", "large_firm", "company", "university", "research_institute")
        assert ("employees" in flags) == (completed and emp is None)
        assert ("founding_year" in flags) == (completed and year is None)
        if emp is not None:
            assert out.at[i, "employees"] == emp
        if year is not None:
            assert out.at[i, "founding_year"] == year
        if kind in ("sme", "large_firm", "company"):
            assert ("attributes.talent" in flags) == (tal is None)
            assert out.at[i, "attributes"]["talent"] == (tal if tal is not None else out.at[i, "attributes"]["talent"])
            assert not pd.isna(out.at[i, "employees"])
        elif not completed:
            assert flags == set()
        if kind == "sme":
            assert out.at[i, "stage"] in STAGE_ORDER and "stage" in flags
        else:  # the growth stage is an SME attribute
            assert pd.isna(out.at[i, "stage"]) and "stage" not in flags


def test_drawn_founding_years_stay_in_the_range_the_import_accepts():
    """The log-normal age has a long tail (a university 650 years old); drawn founding years
    are clipped to the import's range, so a completed registry exports and re-imports."""
    from innoweave.registry.attributes import FOUNDING_YEAR_RANGE
    from innoweave.registry.validation import ORGS

    column = ORGS.column("founding_year")
    assert FOUNDING_YEAR_RANGE == (column.minimum, column.maximum) == (1800, column.maximum)
    kinds = ["university"] * 2000 + ["large_firm"] * 2000
    orgs = AttributeModel(shares=SHARES).complete(_orgs(kinds), seed=0).organisations
    years = orgs["founding_year"].astype(int)
    assert years.between(*FOUNDING_YEAR_RANGE).all()
    assert (years == 1800).sum() >= 10  # the tail exists and is clipped, not redrawn
    observed = _orgs(["university"], founding_year=[1386])  # an observed year is kept as it is
    assert AttributeModel(shares=SHARES).complete(observed, seed=0).organisations["founding_year"].iat[0] == 1386
    future = AttributeModel(shares=SHARES, reference_year=column.maximum + 10).complete(_orgs(kinds), seed=0)
    assert future.organisations["founding_year"].astype(int).max() <= column.maximum


def test_a_drawn_stage_follows_from_the_values_stored(smes):
    """The stage was decided on the unrounded growth and the growth stored rounded to 4
    decimals, so re-deriving the stage from the record (``diagnose stages``) could disagree
    (one CORDIS SME: stored 'maturity', its stored growth of 0.1 gives 'growth')."""
    from innoweave.registry.stages import classify_stage

    orgs = smes.organisations
    growth = orgs["attributes"].map(lambda a: a["growth"]).to_numpy(dtype=float)
    age = np.clip(2024 - orgs["founding_year"].astype(float).to_numpy(), 0, None)
    again = classify_stage(age, orgs["employees"].astype(float).to_numpy(), growth)
    assert (again == orgs["stage"].to_numpy(dtype=object)).all()


def test_stages_are_drawn_for_smes_only():
    """QA: ``innoweave complete`` wrote a growth stage onto ``company`` and ``large_firm``
    records; stages are an SME attribute. A stage a firm records is kept; one an earlier
    version drew for a non-SME (flagged synthetic) is removed, with its flag."""
    frames = _orgs(
        ["sme", "large_firm", "company", "large_firm", "company", "sme"],
        stage=[None, None, None, "growth", "maturity", "start-up"],
        synthetic_fields=[[], [], [], ["stage", "employees"], [], ["stage"]],
    )
    out = AttributeModel(shares=SHARES).complete(frames, seed=2).organisations
    assert out.at[0, "stage"] in STAGE_ORDER and "stage" in out.at[0, "synthetic_fields"]
    for i in (1, 2):  # never drawn for other firms
        assert pd.isna(out.at[i, "stage"]) and "stage" not in out.at[i, "synthetic_fields"]
    # drawn by an earlier version: removed, the flag too (the other flags stay)
    assert pd.isna(out.at[3, "stage"]) and out.at[3, "synthetic_fields"][0] == "employees"
    assert "stage" not in out.at[3, "synthetic_fields"]
    assert out.at[4, "stage"] == "maturity"  # recorded (not synthetic): kept
    assert out.at[5, "stage"] == "start-up"  # an SME's stage is kept as it is
    assert out.at[5, "synthetic_fields"].count("stage") == 1
    assert frames.organisations.at[3, "stage"] == "growth"  # the input is not modified
