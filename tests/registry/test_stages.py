"""The growth-stage rule: each branch, its order, NaN handling, configuration, distribution."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.stages import STAGE_ORDER, StageRules, classify_stage, stage_distribution

NAN = float("nan")


@pytest.mark.parametrize(
    ("age", "employees", "growth", "expected"),
    [
        (2, 8, 0.0, "start-up"),
        (2, 8, 0.5, "start-up"),  # young and small beats fast growth
        (2, 8, -0.3, "start-up"),  # young and small beats shrinking
        (2, 120, 0.2, "growth"),  # young but not small
        (7, 30, 0.10, "growth"),  # threshold is inclusive
        (7, 30, 0.099, "maturity"),
        (25, 400, 0.0, "maturity"),
        (25, 400, -0.06, "transformation"),
        (9.9, 400, -0.5, "maturity"),  # shrinking but not old enough
        (10, 400, -0.05, "maturity"),  # -5 % is not below the threshold
        (5, 10, 0.0, "maturity"),  # age 5 is no longer a start-up
    ],
)
def test_default_rule(age, employees, growth, expected):
    assert classify_stage(age, employees, growth).tolist() == [expected]


@pytest.mark.parametrize(
    ("age", "employees", "growth", "expected"),
    [
        (NAN, NAN, NAN, "maturity"),  # nothing known -> missing_stage
        (3, NAN, NAN, "start-up"),  # employees unknown: age alone decides start-up
        (30, NAN, NAN, "maturity"),
        (NAN, 5, 0.4, "growth"),  # growth alone decides growth
        (NAN, 5, -0.4, "maturity"),  # transformation needs a known age
        (None, None, 0.2, "growth"),
        (20, 300, None, "maturity"),
    ],
)
def test_missing_values(age, employees, growth, expected):
    assert classify_stage([age], [employees], [growth]).tolist() == [expected]


def test_missing_stage_can_be_none():
    rules = StageRules(missing_stage=None)
    out = classify_stage([NAN, 3], [NAN, 4], [NAN, 0.0], rules=rules)
    assert out.tolist() == [None, "start-up"]


def test_vectorised_broadcasting_and_series_input():
    ages = pd.Series([1.0, 12.0, 30.0, None])
    out = classify_stage(ages, 20, pd.Series([0.0, 0.3, -0.2, 0.0]))
    assert out.tolist() == ["start-up", "growth", "transformation", "maturity"]
    assert classify_stage(np.arange(10), 5, 0.0).shape == (10,)
    nullable = pd.array([3, None], dtype="Int64")
    assert classify_stage(nullable, [5, 5], [0, 0]).tolist() == ["start-up", "maturity"]


def test_custom_rules_change_the_outcome():
    rules = StageRules(startup_max_age=3, growth_min_rate=0.3, transformation_min_age=5)
    assert classify_stage([4, 6, 8], [10, 10, 10], [0.0, 0.2, -0.1], rules=rules).tolist() == [
        "maturity", "maturity", "transformation"
    ]  # fmt: skip


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="age must be >= 0"):
        classify_stage([-1], [5], [0.0])
    with pytest.raises(ValueError, match="employees must be numeric"):
        classify_stage([1], ["many"], [0.0])
    with pytest.raises(ValueError, match="shape mismatch|broadcast"):
        classify_stage([1, 2], [1, 2, 3], [0.0])


def test_rules_validate_and_load(tmp_path):
    with pytest.raises(ValueError, match="transformation_max_growth"):
        StageRules(growth_min_rate=0.0, transformation_max_growth=0.1)
    with pytest.raises(ValueError, match="startup_max_age"):
        StageRules(startup_max_age=0)
    with pytest.raises(ValueError, match="missing_stage"):
        StageRules(missing_stage="scale-up")
    with pytest.raises(ValueError, match="growth_min_rate must be a number"):
        StageRules(growth_min_rate="fast")
    with pytest.raises(ValueError, match="startup_max_age must be a number, got True"):
        StageRules(startup_max_age=True)  # TOML's true is not 1 year
    with pytest.raises(ValueError, match="growth_min_rate = 10 is not an annual rate as a fraction"):
        StageRules(growth_min_rate=10)  # 10 %, written as a percentage
    with pytest.raises(ValueError, match="transformation_min_age must not be negative"):
        StageRules(transformation_min_age=-1)
    with pytest.raises(ValueError, match=r"unknown stage rule keys \['speed'\]"):
        StageRules.from_dict({"speed": 3})
    path = tmp_path / "rules.toml"
    path.write_text("[stages]\nstartup_max_age = 3\ngrowth_min_rate = 0.2\n")
    rules = StageRules.from_toml(path)
    assert rules.startup_max_age == 3 and rules.growth_min_rate == 0.2
    assert StageRules.from_dict(rules.to_dict()) == rules


def test_thresholds_are_floats_whatever_was_given():
    given = StageRules(startup_max_age=3, startup_max_employees=np.int64(40), transformation_min_age=np.float32(12))
    assert given.to_dict() == StageRules(startup_max_age=3.0, startup_max_employees=40.0,
                                         transformation_min_age=12.0).to_dict()  # fmt: skip
    assert all(type(v) is float for k, v in given.to_dict().items() if k != "missing_stage")
    with pytest.raises(ValueError, match="startup_max_employees is too large"):
        StageRules(startup_max_employees=10**400)
    with pytest.raises(ValueError, match="growth_min_rate must be a number, got np.True_|got True"):
        StageRules(growth_min_rate=np.True_)


def test_stage_distribution_counts_smes_only():
    orgs = pd.DataFrame({
        "external_id": list("abcdef"),
        "name": list("abcdef"),
        "kind": ["sme", "sme", "sme", "sme", "large_firm", "sme"],
        "stage": ["start-up", "growth", "growth", "maturity", "transformation", None],
    })  # fmt: skip
    dist = stage_distribution(RegistryFrames(orgs))
    assert dist == {"start-up": 0.25, "growth": 0.5, "maturity": 0.25, "transformation": 0.0}
    assert list(dist) == STAGE_ORDER
    assert stage_distribution(orgs, kinds=("large_firm",))["transformation"] == 1.0
    assert set(stage_distribution(RegistryFrames()).values()) == {0.0}
    with pytest.raises(ValueError, match="'kind' and 'stage'"):
        stage_distribution(pd.DataFrame({"kind": ["sme"]}))


def _scalar_rule(age, emp, g, r: StageRules):
    nan = [x is None or math.isnan(x) for x in (age, emp, g)]
    if all(nan):
        return r.missing_stage
    if not nan[0] and age < r.startup_max_age and (nan[1] or emp < r.startup_max_employees):
        return "start-up"
    if not nan[2] and not nan[0] and g < r.transformation_max_growth and age >= r.transformation_min_age:
        return "transformation"
    if not nan[2] and g >= r.growth_min_rate:
        return "growth"
    return "maturity"


maybe = lambda lo, hi: st.one_of(st.none(), st.floats(lo, hi))  # noqa: E731


@given(st.lists(st.tuples(maybe(0, 80), maybe(0, 5000), maybe(-1, 3)), min_size=1, max_size=40))
def test_vectorised_rule_matches_the_scalar_rule(rows):
    ages, emps, growths = zip(*rows, strict=True)
    out = classify_stage(list(ages), list(emps), list(growths))
    r = StageRules()
    to_f = lambda v: NAN if v is None else v  # noqa: E731
    assert out.tolist() == [_scalar_rule(to_f(a), to_f(e), to_f(g), r) for a, e, g in rows]
    assert set(out.tolist()) <= set(STAGE_ORDER)
