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
    gbk = tmp_path / "gbk.csv"  # plainly Chinese: read as GB18030, as `import file` reads it
    gbk.write_bytes("org_id,item_id,answer,note\nx,AW1,5,非常同意\n".encode("gbk"))
    assert read_answers(gbk)["answer"].tolist() == ["5"]
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


# -- QA: every invalid answer listed; unclosed quotes and UTF-16 in answers files ----------------


def test_every_invalid_answer_in_a_csv_is_listed_with_file_and_line(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("org_id,item_id,answer\nx,AW1,3\nx,AW2,7\nx,AW3,4\ny,AW1,0\ny,AW2,agree\ny,AW3,2.5\n")
    with pytest.raises(InvalidAnswer) as caught:
        score_answers(read_answers(path), load_questionnaire())
    error = caught.value
    lines = str(error).splitlines()
    assert lines[0] == f"4 invalid answers in {path}:"
    assert lines[1:5] == [f"  {path} {rest}" for rest in (
        "line 3: answer '7' of organisation 'x' to item 'AW2' is outside the scale 1..5",
        "line 5: answer '0' of organisation 'y' to item 'AW1' is outside the scale 1..5",
        "line 6: answer 'agree' of organisation 'y' to item 'AW2' is not a number on the scale 1..5",
        "line 7: answer '2.5' of organisation 'y' to item 'AW3' is not a whole number on the scale 1..5",
    )]  # fmt: skip
    assert lines[-1] == "each answer listed must be a whole number on the scale 1..5, or empty"
    assert error.count == 4 and len(error.problems) == 4 and error.problems[0] == lines[1].strip()


def test_every_invalid_answer_in_a_workbook_is_listed_with_its_row(tmp_path):
    wide = pd.DataFrame({"org_id": ["x", "y", "z"], "AW1": [9, 3, "n/a"], "AW2": [4, 0, 5]})
    wide.to_excel(tmp_path / "wide.xlsx", index=False)
    with pytest.raises(InvalidAnswer) as caught:
        score_answers(read_answers(tmp_path / "wide.xlsx"), load_questionnaire())
    text = str(caught.value)
    assert text.startswith("3 invalid answers in ")
    for where, org, item, value in [("row 2", "x", "AW1", "9"), ("row 3", "y", "AW2", "0"),
                                    ("row 4", "z", "AW1", "n/a")]:
        assert f"wide.xlsx {where}: answer {value!r} of organisation {org!r} to item {item!r}" in text
    assert caught.value.count == 3
    # empty cells are unanswered; text that pandas would take for "not available" is named
    blank = pd.DataFrame({"org_id": ["x", "y"], "AW1": [None, 3], "AW2": ["NA", 4]})
    blank.to_excel(tmp_path / "blank.xlsx", index=False)
    with pytest.raises(InvalidAnswer, match=r"blank.xlsx row 2: answer 'NA' of organisation 'x' to item 'AW2'"):
        score_answers(read_answers(tmp_path / "blank.xlsx"), load_questionnaire())


def test_a_long_list_of_invalid_answers_is_capped_and_counted(tmp_path):
    q = load_questionnaire()
    path = tmp_path / "many.csv"
    rows = [f"o{n},{item},9" for n in range(3) for item in q.item_ids]
    path.write_text("org_id,item_id,answer\n" + "\n".join(rows) + "\n")
    with pytest.raises(InvalidAnswer) as caught:
        score_answers(read_answers(path), q)
    lines = str(caught.value).splitlines()
    n = len(rows)
    assert lines[0] == f"{n} invalid answers in {path}:"
    assert len([line for line in lines if line.startswith("  ") and "many.csv line" in line]) == 20
    assert lines[21] == f"  … and {n - 20} more (the first 20 are listed)"
    assert caught.value.count == n and len(caught.value.problems) == 20
    # on_invalid="missing" still treats them all as unanswered
    assert score_answers(read_answers(path), q, on_invalid="missing").attrs["invalid_answers"] == n


def test_one_invalid_answer_keeps_its_one_line_message(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("org_id,item_id,answer\nx,AW1,3\nx,AW2,6\n")
    with pytest.raises(InvalidAnswer) as caught:
        score_answers(read_answers(path), load_questionnaire())
    assert str(caught.value) == f"{path} line 3: answer '6' of organisation 'x' to item 'AW2' is outside the scale 1..5"


def test_an_unclosed_quote_in_answers_names_file_and_line(tmp_path):
    q = load_questionnaire()
    lines = ["org_id,item_id,answer", 'x,"AW1,3'] + [f"x{n},AW1,3" for n in range(98)]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError) as caught:
        read_answers(path)
    message = str(caught.value)
    assert message.startswith(f"answers file {path} line 2: a quoted field starts there and is never closed")
    assert "EOF inside string" not in message
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text('org_id;item_id;answer\nx;AW1;3\nx;"AW2;4\n')
    with pytest.raises(ValueError, match=r"semi.csv line 3: a quoted field starts there"):
        read_answers(semicolons)
    closed = tmp_path / "ok.csv"  # quoted fields that are closed read as before
    closed.write_text('org_id,item_id,answer\nx,"AW1",3\n"x","AW2","4"\n')
    assert score_answers(read_answers(closed), q).loc["x", "awareness"] == pytest.approx(0.625)


def test_answers_from_german_excel_read_as_the_registry_import_reads_them(tmp_path):
    """A cp1252 file is refused suggesting cp1252 (not gbk); with it, semicolons and decimal
    commas (3,0) read as in `import file`."""
    path = tmp_path / "antworten.csv"
    path.write_bytes("org_id;item_id;answer\nFirma Müller;AW1;3,0\nFirma Müller;AW2;4\n".encode("cp1252"))
    with pytest.raises(ValueError) as caught:
        read_answers(path)
    message = str(caught.value)
    assert message.startswith(f"answers file {path}: not UTF-8 text (line 2): 'Müller' if read as Western European")
    assert "give --answers-encoding cp1252" in message and "gbk" not in message
    answers = read_answers(path, encoding="cp1252")
    assert answers["answer"].tolist() == ["3,0", "4"]
    scores = score_answers(answers, load_questionnaire())
    assert scores.loc["Firma Müller", "awareness"] == pytest.approx(0.625)  # (3 - 1) / 4 and (4 - 1) / 4


def test_answer_columns_missing_are_listed_with_those_found(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("org_id,item_id,Antwort\nx,AW1,3\n")
    with pytest.raises(ValueError, match=r"has no 'answer' column \(columns: org_id, item_id, Antwort\): a long"):
        read_answers(path)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_answers_without_a_byte_order_mark_are_recognised(tmp_path, encoding):
    path = tmp_path / "answers.csv"
    path.write_bytes("org_id,item_id,answer\r\nFirma Müller,AW1,5\r\nFirma Müller,AW2,4\r\n".encode(encoding))
    answers = read_answers(path)
    assert answers["org_id"].tolist() == ["Firma Müller"] * 2 and answers["_line"].tolist() == [2, 3]
