"""The versioned bilingual questionnaire and the scoring of answers."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from innoweave.diagnosis.questionnaire import (
    Questionnaire,
    load_questionnaire,
    read_answers,
    score_answers,
    simulate_answers,
)
from innoweave.registry.instruments import RestrictingFactor

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_v1_has_4_to_6_items_per_factor_in_english_and_chinese():
    q = load_questionnaire("v1")
    assert q.version == "1" and q.scale == (1, 5)
    for factor in RestrictingFactor:
        items = q.items_of(factor.value)
        assert 4 <= len(items) <= 6
        for item in items:
            assert item.text["en"].isascii() and CJK.search(item.text["zh"])
    assert len(q.scale_labels["zh"]) == 5


def test_scoring_flips_reverse_items_and_maps_to_unit_interval():
    q = load_questionnaire()
    answers = pd.DataFrame({"org_id": ["a"] * 5, "item_id": ["AW1", "AW2", "AW3", "AW4", "AW5"],
                            "answer": [5, 5, 5, 1, 5]})
    scores = score_answers(answers, q)
    assert scores.loc["a", "awareness"] == 1.0
    assert scores.loc["a"].drop("awareness").isna().all()


def test_wide_answers_file(tmp_path):
    path = tmp_path / "answers.csv"
    pd.DataFrame({"org_id": ["x", "y"], "IP1": [1, 5], "IP2": [1, 5], "IP5": [5, 1]}).to_csv(path, index=False)
    scores = score_answers(read_answers(path), load_questionnaire())
    assert scores.loc["x", "ip"] == 0.0 and scores.loc["y", "ip"] == 1.0


def test_answers_outside_the_scale():
    q = load_questionnaire()
    answers = pd.DataFrame({"org_id": ["a", "b"], "item_id": ["TA1", "TA2"], "answer": [3, 7]})
    with pytest.raises(ValueError, match=r"answer '7' of organisation 'b' to item 'TA2' is outside the scale 1..5"):
        score_answers(answers, q)
    lenient = score_answers(answers, q, on_invalid="missing")
    assert lenient.loc["a", "talent"] == 0.5 and pd.isna(lenient.loc["b", "talent"])
    with pytest.raises(ValueError, match="outside the scale"):
        score_answers(pd.DataFrame({"org_id": ["a"], "item_id": ["TA1"], "answer": [2.5]}), q)


def test_unknown_items_and_bad_instruments():
    q = load_questionnaire()
    with pytest.raises(ValueError, match=r"items \['ZZ9'\]"):
        score_answers(pd.DataFrame({"org_id": ["a"], "item_id": ["ZZ9"], "answer": [3]}), q)
    with pytest.raises(ValueError, match="no questionnaire 'v9'"):
        load_questionnaire("v9")
    bad = {"version": "x", "scale": {"min": 1, "max": 5},
           "items": [{"id": f"A{i}", "factor": "awareness", "en": "e", "zh": "中"} for i in range(3)]}
    with pytest.raises(ValueError, match="'awareness' has 3 items; 4-6 required"):
        Questionnaire.from_dict(bad)
    with pytest.raises(ValueError, match="lacks"):
        Questionnaire.from_dict({"version": "x", "scale": {"min": 1, "max": 5}, "items": [{"id": "A", "factor": "ip"}]})


def test_simulated_answers_track_the_latent_level():
    q = load_questionnaire()
    latent = pd.DataFrame({f.value: [0.1, 0.9] for f in RestrictingFactor}, index=["low", "high"])
    scores = score_answers(simulate_answers(latent, q, seed=0), q)
    assert (scores.loc["high"] > scores.loc["low"]).all()
