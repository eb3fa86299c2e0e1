"""The versioned bilingual questionnaire and the scoring of answers."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from innoweave.diagnosis.questionnaire import (
    InvalidAnswer,
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
    with pytest.raises(ValueError, match="'2.5' of organisation 'a' to item 'TA1' is not a whole number on the scale"):
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


# -- answers as people type them (QA defects 1, 5, 8, 9) ----------------------------------------


def test_numbers_as_text_parse_and_other_text_is_named():
    q = load_questionnaire()
    as_text = pd.DataFrame({"org_id": ["a", "a", "b"], "item_id": ["AW1", "AW2", "AW1"],
                            "answer": ["3", " 5 ", "4.0"]}, dtype=object)
    scores = score_answers(as_text, q)
    assert scores.loc["a", "awareness"] == pytest.approx(0.75) and scores.loc["b", "awareness"] == 0.75
    for text in ("agree", "don't know", True):
        answers = pd.DataFrame({"org_id": ["a", "b"], "item_id": ["AW1", "AW2"], "answer": ["4", text]}, dtype=object)
        with pytest.raises(InvalidAnswer, match=rf"answer {str(text)!r} of organisation 'b' to item 'AW2' is not a "
                                                r"number on the scale 1..5"):
            score_answers(answers, q)
        lenient = score_answers(answers, q, on_invalid="missing")
        assert lenient.loc["a", "awareness"] == 0.75 and pd.isna(lenient.loc["b", "awareness"])
        assert lenient.attrs["invalid_answers"] == 1
    # Arrow-backed strings (pandas' default for text) took the read-only path of the crash
    arrow = pd.DataFrame({"org_id": ["a"], "item_id": ["AW1"], "answer": pd.array(["agree"], dtype="str")})
    with pytest.raises(InvalidAnswer, match="'agree'"):
        score_answers(arrow, q)


def test_text_answers_in_a_file_name_file_and_line(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("org_id,item_id,answer\nx,AW1,3\nx,AW2,agree\ny,AW1,\n")
    answers = read_answers(path)
    with pytest.raises(ValueError, match=r"answers.csv line 3: answer 'agree' of organisation 'x' to item 'AW2'"):
        score_answers(answers, load_questionnaire())
    scores = score_answers(answers, load_questionnaire(), on_invalid="missing")
    assert scores.loc["x", "awareness"] == 0.5 and scores.loc["y"].isna().all()  # an empty cell is unanswered


def test_unreadable_answer_files_are_named(tmp_path):
    cases = {
        "header.csv": ("org_id,item_id,answer\n", "has no answers"),
        "empty.csv": ("", "is empty"),
        "blank_org.csv": ("org_id,item_id,answer\nx,AW1,3\n,AW2,4\n", r"blank_org.csv line 3: org_id is empty"),
        "no_answer.csv": ("org_id,item_id\nx,AW1\n", r"has no 'answer' column"),
        "no_org.csv": ("item_id,answer\nAW1,3\n", r"has no 'org_id' column"),
        "bad.json": ("{oops", r"bad.json is not valid JSON: .* line 1, column 2"),
        "scalar.json": ("3", "JSON answers must be a list of records"),
        "corrupt.xlsx": ("not a zip", r"corrupt.xlsx is not a readable Excel workbook"),
        # a name beside the id is read and left out (the answer form has one); other columns are not
        "wide_extra.csv": ("org_id,name,city,AW1\nx,X GmbH,Köln,3\n", r"columns \['city'\] are not items"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            score_answers(read_answers(path), load_questionnaire())
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("org_id,item_id,answer,note\nx,AW1,5,非常同意\n".encode("gbk"))
    with pytest.raises(ValueError, match=r"gbk.csv is not UTF-8 text \(byte \d+, line 2.*--answers-encoding"):
        read_answers(gbk)
    assert read_answers(gbk, encoding="gbk")["answer"].tolist() == ["5"]
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        read_answers(gbk, encoding="klingon")
    with pytest.raises(ValueError, match="answers file not found"):
        read_answers(tmp_path / "absent.csv")


def test_separators_encodings_and_header_spelling_are_recognised(tmp_path):
    expected = pd.DataFrame({"org_id": ["x", "x"], "item_id": ["AW1", "AW2"], "answer": ["5", "4"]})
    files = {
        "semi.csv": b"org_id;item_id;answer\nx;AW1;5\nx;AW2;4\n",
        "tab.tsv": b"org_id\titem_id\tanswer\nx\tAW1\t5\nx\tAW2\t4\n",
        "bom.csv": "\ufeffOrg_ID , item_id,Answer\n x ,AW1,5\n\nx,aw2,4\n".encode(),
        "utf16.csv": "org_id,item_id,answer\nx,AW1,5\nx,AW2,4\n".encode("utf-16"),
    }
    q = load_questionnaire()
    for name, raw in files.items():
        path = tmp_path / name
        path.write_bytes(raw)
        answers = read_answers(path)
        got = answers[["org_id", "item_id", "answer"]].reset_index(drop=True)
        got["item_id"] = got["item_id"].str.upper()
        pd.testing.assert_frame_equal(got.astype(object), expected.astype(object), check_dtype=False)
        assert score_answers(answers, q).loc["x", "awareness"] == pytest.approx(0.875), name
    assert read_answers(tmp_path / "bom.csv")["_line"].tolist() == [2, 4]  # the blank line 3 is skipped


def test_excel_and_json_answers_name_rows_and_records(tmp_path):
    wide = pd.DataFrame({"org_id": ["x", "y"], "AW1": [5, "don't know"]})
    wide.to_excel(tmp_path / "wide.xlsx", index=False)
    with pytest.raises(InvalidAnswer, match=r"wide.xlsx row 3: answer \"don't know\" of organisation 'y'"):
        score_answers(read_answers(tmp_path / "wide.xlsx"), load_questionnaire())
    (tmp_path / "a.json").write_text('[{"org_id": 865913472, "item_id": "AW1", "answer": "4"},'
                                     ' {"org_id": "y", "item_id": "AW1", "answer": true}]')
    answers = read_answers(tmp_path / "a.json")
    assert answers["org_id"].tolist() == ["865913472", "y"]
    with pytest.raises(InvalidAnswer, match=r"a.json record 2: answer 'True'"):
        score_answers(answers, load_questionnaire())


def test_duplicate_answers_count_once_and_conflicts_are_errors(tmp_path):
    q = load_questionnaire()
    path = tmp_path / "dup.csv"
    path.write_text("org_id,item_id,answer\nx,AW1,5\nx,AW2,1\nx,AW1,5\n")
    scores = score_answers(read_answers(path), q)
    assert scores.loc["x", "awareness"] == pytest.approx(0.5)  # (1 + 0) / 2, the repeat not counted twice
    dup = scores.attrs["duplicate_answers"]
    assert dup["count"] == 1 and "dup.csv line 4" in dup["examples"][0]
    path.write_text("org_id,item_id,answer\nx,AW1,5\nx,AW2,1\nx,AW1,2\n")
    with pytest.raises(ValueError, match=r"organisation 'x' answers item 'AW1' twice, differently: 5 \(.*dup.csv "
                                         r"line 2\) and 2 \(.*dup.csv line 4\)"):
        score_answers(read_answers(path), q)
    # a blank repeat is no answer, so no conflict
    blank = pd.DataFrame({"org_id": ["x", "x"], "item_id": ["AW1", "AW1"], "answer": [5, None]})
    assert score_answers(blank, q).attrs["duplicate_answers"]["count"] == 0
