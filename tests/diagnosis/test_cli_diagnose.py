"""`innoweave diagnose` end to end: JSON shapes, files written, exit codes on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from innoweave.cli import app

runner = CliRunner()


@pytest.fixture
def registry_url(tmp_path, make_registry):
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.writer import write_frames

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(url)
    upgrade(engine)
    write_frames(engine, make_registry(40))
    engine.dispose()
    return url


def test_eis_json_shape(eis_csv):
    result = runner.invoke(app, ["diagnose", "eis", "--json", "--data-dir", str(eis_csv.parent.parent)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"sii", "dimensions", "groups"}
    assert data["sii"] == data["sii"] | {"compared": 216, "within_0.001": 216}
    assert set(data["sii"]) == {"compared", "within_0.001", "max_abs_error"}
    assert data["groups"]["compared"] == 38 and data["groups"]["matched"] == 38
    assert data["dimensions"]["n_dimensions"] == 11


def test_eis_missing_data_is_bad_input(tmp_path):
    result = runner.invoke(app, ["diagnose", "eis", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "EIS 2023 data not found" in result.output


def test_eis_uncertainty_writes_png_and_html(eis_csv, tmp_path):
    out = tmp_path / "ranking.png"
    result = runner.invoke(app, ["diagnose", "eis-uncertainty", "--draws", "10", "--sobol", "0", "--json",
                                 "--plot", str(out), "--data-dir", str(eis_csv.parent.parent)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["ranks"]) == 38 and data["meta"]["n_draws"] == 10
    assert out.stat().st_size > 1000 and "data:image/png;base64" in out.with_suffix(".html").read_text()
    page = out.with_suffix(".html").read_text()
    assert "{&#x27;" not in page and "2 normalisations × 2 aggregations × 3 weightings × 33 exclusions" in page
    assert "left out in turn" in page
    assert "<td>1</td>" in page and "<td>1.00</td>" not in page  # whole ranks without decimals


def test_sme_profile_plot_and_unknown_id(registry_url, tmp_path):
    result = runner.invoke(app, ["diagnose", "sme", "syn:sme:4", "--json", "--database-url", registry_url,
                                 "--min-peers", "3", "--plot", str(tmp_path / "radar.png")])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    assert profile["org_id"] == "syn:sme:4" and profile["weakest"] and "recommendations" in profile
    assert (tmp_path / "radar.png").exists() and (tmp_path / "radar.html").exists()
    missing = runner.invoke(app, ["diagnose", "sme", "syn:sme:999", "--database-url", registry_url])
    assert missing.exit_code == 2 and "no SME 'syn:sme:999'" in missing.output


def test_batch_csv_xlsx_and_bad_answers(registry_url, tmp_path):
    for name in ("all.csv", "all.xlsx"):
        result = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / name), "--json",
                                     "--database-url", registry_url])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["smes"] == 40
    table = pd.read_csv(tmp_path / "all.csv")
    assert len(table) == 40 and "recommended" in table.columns
    assert len(pd.read_excel(tmp_path / "all.xlsx")) == 40
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "all.xlsx").active
    assert sheet.title == "all" and sheet.freeze_panes == "A2"
    # list cells joined with "; " as the other list columns and the docs have them
    several = [c for c in (*table["weakest"].dropna(), *table["recommended"].dropna()) if ";" in c]
    assert several and all(len(c.split(";")) == len(c.split("; ")) for c in several), several
    answers = tmp_path / "answers.csv"
    pd.DataFrame({"org_id": ["syn:sme:1"], "item_id": ["AW1"], "answer": [6]}).to_csv(answers, index=False)
    bad = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "x.csv"), "--answers", str(answers),
                              "--database-url", registry_url])
    assert bad.exit_code == 2 and "outside the scale" in bad.output
    wrong = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "x.txt"), "--database-url", registry_url])
    assert wrong.exit_code == 2


def test_stage_distribution(registry_url, make_registry):
    from innoweave.registry.stages import classify_stage

    result = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 40 and set(data["counts"]) == {"start-up", "growth", "maturity", "transformation"}
    # the same SMEs staged here by the registry rule at the default reference year, 2024
    smes = make_registry(40).organisations.query("kind == 'sme'")
    stages = classify_stage(2024 - smes["founding_year"], smes["employees"], smes["attributes"].map(lambda a: a["growth"]))
    expected = {s: int((stages == s).sum()) for s in data["counts"]}
    assert data["counts"] == expected and sum(n > 0 for n in expected.values()) >= 3
    assert data["shares"] == pytest.approx({s: n / 40 for s, n in expected.items()})
    again = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url, "--reference-year", "2034"])
    later = classify_stage(2034 - smes["founding_year"], smes["employees"], smes["attributes"].map(lambda a: a["growth"]))
    assert json.loads(again.stdout)["counts"] == {s: int((later == s).sum()) for s in data["counts"]} != expected


def test_stage_rules_file_changes_the_distribution(registry_url, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[stages]\nstartup_max_age = 1000.0\nstartup_max_employees = 100000.0\n")
    result = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url,
                                 "--stage-rules", str(rules)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["start-up"] == 40
    rules.write_text("[stages]\nstartup_age = 3\n")
    bad = runner.invoke(app, ["diagnose", "stages", "--database-url", registry_url, "--stage-rules", str(rules)])
    assert bad.exit_code == 2 and "unknown stage rule keys" in bad.output


def test_stage_rules_echo_one_number_type_whatever_the_file_wrote(registry_url, tmp_path):
    echoes, counts = [], []
    for text in ("startup_max_age = 3\nstartup_max_employees = 40\ntransformation_min_age = 12\n",
                 "startup_max_age = 3.0\nstartup_max_employees = 40.0\ntransformation_min_age = 12.0\n"):
        rules = tmp_path / "rules.toml"
        rules.write_text("[stages]\n" + text)
        result = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url,
                                     "--stage-rules", str(rules)])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        echoes.append(result.stdout[result.stdout.index('"stage_rules"'):])
        counts.append(data["counts"])
    assert echoes[0] == echoes[1] and counts[0] == counts[1]
    assert '"startup_max_employees": 40.0' in echoes[0] and '"growth_min_rate": 0.1' in echoes[0]


# -- QA defects: bad input is one line, exit 2, before any work --------------------------------


def _one_error_line(result) -> str:
    """The error line of a failed run; no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return " ".join(result.output.split())  # Rich wraps long lines in the test terminal


def test_text_answers_are_named_or_treated_as_missing(registry_url, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("org_id,item_id,answer\nsyn:sme:1,AW1,3\nsyn:sme:1,AW2,agree\n")
    bad = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", "--answers", str(answers), "--database-url", registry_url])
    text = _one_error_line(bad)
    assert "answers.csv line 3: answer 'agree' of organisation 'syn:sme:1' to item 'AW2' is not a number" in text
    assert "--invalid-answers missing" in text
    ok = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", "--answers", str(answers), "--invalid-answers", "missing",
                             "--json", "--database-url", registry_url, "--min-peers", "3"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["questionnaire"]["answered"] is True
    assert "1 answer not a whole number on the scale treated as unanswered" in " ".join(ok.stderr.split())
    header = tmp_path / "header.csv"
    header.write_text("org_id,item_id,answer\n")
    empty = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "o.csv"), "--answers", str(header),
                                "--database-url", registry_url])
    assert "header.csv has no answers" in _one_error_line(empty)
    assert not (tmp_path / "o.csv").exists()


def test_every_invalid_answer_and_an_unclosed_quote_are_named(registry_url, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("org_id,item_id,answer\nsyn:sme:1,AW1,7\nsyn:sme:1,AW2,3\nsyn:sme:1,AW3,agree\n"
                       "syn:sme:2,AW1,0\n")
    result = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", "--answers", str(answers),
                                 "--database-url", registry_url])
    text = _one_error_line(result)
    assert "3 invalid answers in" in text
    for line, org, item, value in [(2, 1, "AW1", "7"), (4, 1, "AW3", "agree"), (5, 2, "AW1", "0")]:
        assert f"answers.csv line {line}: answer {value!r} of organisation 'syn:sme:{org}' to item {item!r}" in text
    assert "--invalid-answers missing" in text
    quoted = tmp_path / "bad.csv"
    quoted.write_text('org_id,item_id,answer\nsyn:sme:1,"AW1,3\n' + "syn:sme:1,AW2,3\n" * 50)
    result = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "o.csv"), "--answers", str(quoted),
                                 "--database-url", registry_url])
    assert "bad.csv line 2: a quoted field starts there and is never closed" in _one_error_line(result)


def test_blank_org_id_names_file_and_line(registry_url, tmp_path):
    answers = tmp_path / "wide.csv"
    answers.write_text("org_id,AW1,AW2\nsyn:sme:1,3,4\n,2,5\n")
    result = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "o.csv"), "--answers", str(answers),
                                 "--database-url", registry_url])
    assert "wide.csv line 3: org_id is empty" in _one_error_line(result)


def test_unmatched_respondents_are_reported_in_sme_and_batch(registry_url, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("org_id,item_id,answer\n syn:sme:1 ,AW1,3\nnobody,AW1,4\nsyn:university:0,AW1,4\n")
    for command in (["sme", "syn:sme:1"], ["batch", "--out", str(tmp_path / "o.csv")]):
        result = runner.invoke(app, ["diagnose", *command, "--answers", str(answers), "--json",
                                     "--database-url", registry_url, "--min-peers", "3"])
        assert result.exit_code == 0, result.output
        warning = " ".join(result.stderr.split())
        assert "warning:" in warning and "answers of 2 organisations match no diagnosed SME and were ignored" in warning
        assert "'nobody'" in warning and "'syn:university:0' (a university)" in warning
    profile = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", "--answers", str(answers), "--json",
                                  "--database-url", registry_url, "--min-peers", "3"])
    assert json.loads(profile.stdout)["questionnaire"]["answered"] is True  # " syn:sme:1 " matched


def test_conflicting_and_repeated_answers(registry_url, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("org_id,item_id,answer\nsyn:sme:1,AW1,3\nsyn:sme:1,AW1,3\n")
    repeated = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "o.csv"), "--answers", str(answers),
                                   "--database-url", registry_url])
    assert repeated.exit_code == 0, repeated.output
    assert "1 repeated answer (same organisation, item and value) counted once" in " ".join(repeated.stderr.split())
    answers.write_text("org_id,item_id,answer\nsyn:sme:1,AW1,3\nsyn:sme:1,AW1,4\n")
    clash = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "o2.csv"), "--answers", str(answers),
                                "--database-url", registry_url])
    text = _one_error_line(clash)
    assert "'syn:sme:1' answers item 'AW1' twice, differently: 3" in text and "line 2" in text and "line 3" in text
    assert not (tmp_path / "o2.csv").exists()


def test_output_paths_are_checked_before_any_work(registry_url, tmp_path, monkeypatch):
    from innoweave.diagnosis.sme import SMEDiagnoser

    def no_work(self, frames):
        raise AssertionError("the diagnosis ran before the output path was checked")

    monkeypatch.setattr(SMEDiagnoser, "fit", no_work)
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        (["batch", "--out", str(folder)], "is a folder, not a file"),
        (["batch", "--out", str(blocker / "o.csv")], "--out"),
        (["sme", "syn:sme:1", "--plot", str(blocker / "r.png")], "--plot"),
        (["sme", "syn:sme:1", "--plot", str(tmp_path / "r.svg")], "--plot must end in .png"),
        (["sme", "syn:sme:1", "--plot", str(folder.with_suffix(".png"))], None),
    ]
    folder.with_suffix(".html").mkdir()  # r.png is fine, its .html beside it is a folder
    for args, message in cases:
        result = runner.invoke(app, ["diagnose", *args, "--database-url", registry_url])
        text = _one_error_line(result)
        assert message is None or message in text, text
    result = runner.invoke(app, ["diagnose", "eis-uncertainty", "--plot", str(tmp_path / "r.svg"),
                                 "--data-dir", str(tmp_path)])
    assert "--plot must end in .png" in _one_error_line(result)


def _eis_dir(tmp_path, text: str):
    folder = tmp_path / "eis" / "eis2023_database"
    folder.mkdir(parents=True)
    (folder / "eis2023_scores_long.csv").write_text(text)
    return folder.parent


def test_malformed_eis_data_names_file_and_column(tmp_path):
    header = "indicator_code,indicator,indicator_variant,performance_group,year,zone,country,country_name"
    no_value = _eis_dir(tmp_path / "a", header + "\n0,Summary Innovation Index,,Strong,2016,EU,DE,Germany\n")
    for command in ("eis", "eis-uncertainty"):
        result = runner.invoke(app, ["diagnose", command, "--data-dir", str(no_value)])
        text = _one_error_line(result)
        assert "eis2023_scores_long.csv lacks the column value" in text
    empty = _eis_dir(tmp_path / "b", "")
    assert "eis2023_scores_long.csv is empty" in _one_error_line(
        runner.invoke(app, ["diagnose", "eis", "--data-dir", str(empty)]))
    junk = _eis_dir(tmp_path / "c", header + ",value\n0,SII,,Strong,2016,EU,DE,Germany,lots\n")
    assert "line 2: value 'lots' is not a number" in _one_error_line(
        runner.invoke(app, ["diagnose", "eis", "--data-dir", str(junk)]))
    # a row given twice: pandas' "cannot handle a non-unique multi-index!" once came through
    row = "0,SII,,Strong,2016,EU,DE,Germany,101.5"
    twice = _eis_dir(tmp_path / "d", header + ",value\n" + row + "\n1.1.1,Doctorates,,Strong,2016,EU,DE,Germany,0.4\n"
                     + row + "\n")  # fmt: skip
    text = _one_error_line(runner.invoke(app, ["diagnose", "eis", "--data-dir", str(twice)]))
    assert "eis2023_scores_long.csv lines 2, 4: country 'DE', year 2016, indicator '0' appears 2 times" in text


def test_answer_file_problems_are_one_line(registry_url, tmp_path):
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("org_id,item_id,answer,note\nsyn:sme:1,AW1,5,非常同意\n".encode("gbk"))
    semi = tmp_path / "semi.csv"
    semi.write_text("org_id;item_id;answer\nsyn:sme:1;AW1;5\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{oops")
    no_answer = tmp_path / "long.csv"
    no_answer.write_text("org_id,item_id\nsyn:sme:1,AW1\n")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("org_id,item_id,answer,note\nsyn:sme:1,AW1,5,Müller\n".encode("cp1252"))
    for path, message in ((latin, "not UTF-8 text (line 2)"), (bad_json, "is not valid JSON"),
                          (no_answer, "has no 'answer' column")):
        result = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", "--answers", str(path),
                                     "--database-url", registry_url])
        assert message in _one_error_line(result)
    for extra in (["--answers", str(semi)], ["--answers", str(gbk), "--answers-encoding", "gbk"], ["--answers", str(gbk)],
                  ["--answers", str(latin), "--answers-encoding", "cp1252"]):
        result = runner.invoke(app, ["diagnose", "sme", "syn:sme:1", *extra, "--json", "--min-peers", "3",
                                     "--database-url", registry_url])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["questionnaire"]["answered"] is True


def test_not_an_sme_and_the_stage_basis(registry_url):
    result = runner.invoke(app, ["diagnose", "sme", "syn:research_institute:1", "--database-url", registry_url])
    assert "organisation 'syn:research_institute:1' (research_institute 1) exists but is a research_institute, " \
           "not an SME" in _one_error_line(result)
    profile = runner.invoke(app, ["diagnose", "sme", "syn:sme:4", "--database-url", registry_url, "--min-peers", "3"])
    assert profile.exit_code == 0, profile.output
    text = " ".join(profile.stderr.split())
    assert "(from synthetic values)" in text and "note: the stage rests on synthetic (drawn) age, employees, growth" in text
    stages = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url])
    assert json.loads(stages.stdout)["stage_basis"] == {"synthetic": 40}
    readable = runner.invoke(app, ["diagnose", "stages", "--database-url", registry_url])
    assert "growth stage of 40 of 40 SMEs rests on synthetic (drawn)" in " ".join(readable.stderr.split())


def test_stage_rules_and_reference_year_are_checked(registry_url, tmp_path):
    rules = tmp_path / "rules.toml"
    for text, message in (("[stages]\nstartup_max_age = true\n", "[stages]: startup_max_age must be a number"),
                          ("[stages]\ngrowth_min_rate = 10\n", "growth_min_rate = 10 is not an annual rate"),
                          ("stages = 3\n", "'stages' must be a table ([stages]")):
        rules.write_text(text)
        result = runner.invoke(app, ["diagnose", "stages", "--database-url", registry_url, "--stage-rules", str(rules)])
        assert message in _one_error_line(result)
    for year in ("-5", "1900", "2200"):
        result = runner.invoke(app, ["diagnose", "stages", "--database-url", registry_url, "--reference-year", year])
        assert f"--reference-year must be a year after 1900 and at most 2100, got {year}" in _one_error_line(result)
    early = runner.invoke(app, ["diagnose", "stages", "--database-url", registry_url, "--reference-year", "1990"])
    assert early.exit_code == 0 and "founded after --reference-year 1990" in " ".join(early.stderr.split())
    help_text = runner.invoke(app, ["diagnose", "stages", "--help"])
    assert "[stages] table" in " ".join(help_text.output.split())


def test_documented_example_sme_is_a_cordis_sme(cordis_dir):
    """The id docs/diagnosis.md uses is an SME of the CORDIS data (999984059, Fraunhofer, is not)."""
    import re
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "diagnosis.md").read_text()
    ids = set(re.findall(r"diagnose sme (?:cordis:)?(\d+)", docs)) | set(re.findall(r'diagnose\("cordis:(\d+)"\)', docs))
    assert ids and "999984059" not in ids
    orgs = pd.read_csv(cordis_dir / "organisations.csv.gz", dtype=str).set_index("organisationID")
    for pic in ids:
        assert orgs.at[pic, "SME"].lower() == "true" and orgs.at[pic, "activityType"] == "PRC", pic
    fraunhofer = runner.invoke(app, ["diagnose", "sme", "999984059", "--cordis", str(cordis_dir)])
    assert "exists but is a research_institute, not an SME" in _one_error_line(fraunhofer)


def test_an_attribute_off_its_scale_in_the_registry_is_bad_input(tmp_path, make_registry):
    """A registry whose SME records awareness "high" (text) or 5.0 (scores run 0..1) stops
    with exit 2 naming the attribute, the organisation and the scale, writing nothing."""
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.frames import RegistryFrames
    from innoweave.registry.writer import write_frames

    for value in ("high", 5.0):
        frames = make_registry(20)
        orgs = frames.organisations.copy()
        orgs.at[3, "attributes"] = {**orgs.at[3, "attributes"], "awareness": value}
        url = f"sqlite:///{tmp_path / f'registry_{value}.db'}"
        engine = make_engine(url)
        upgrade(engine)
        write_frames(engine, RegistryFrames(orgs, frames.projects, frames.participations))
        engine.dispose()
        out = tmp_path / "smes.csv"
        result = runner.invoke(app, ["diagnose", "batch", "--out", str(out), "--database-url", url])
        assert result.exit_code == 2
        assert (f"attributes.awareness must be a finite number at least 0 and at most 1 (a score); "
                f"1 organisation(s) give other values, e.g. 'syn:sme:3' ({value!r})") in _one_error_line(result)
        assert not out.exists()


def test_questionnaire_form_goes_out_and_comes_back_as_answers(registry_url, tmp_path):
    """The office sends the answer form (a row per SME of the registry, a column per item),
    SMEs fill it in, and `--answers` reads it back as it is: the name column is left out and
    the questionnaire counts for the SMEs that answered."""
    import openpyxl

    form = tmp_path / "form.xlsx"
    result = runner.invoke(app, ["diagnose", "questionnaire", "--out", str(form), "--database-url",
                                 registry_url, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["items"] == 30 and summary["scale"] == [1, 5] and summary["smes"] > 0
    book = openpyxl.load_workbook(form)
    assert book.sheetnames == ["answers", "items", "scale"]
    sheet = book["answers"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["org_id", "name", "AW1"] and len(header) == 32
    assert sheet.max_row == summary["smes"] + 1 and sheet.freeze_panes == "C2"
    (rule,) = sheet.data_validations.dataValidation  # answers are whole numbers 1..5 in Excel too
    assert (rule.type, rule.formula1, rule.formula2) == ("whole", "1", "5") and "C2:AF" in str(rule.sqref)
    items = book["items"]
    assert [c.value for c in items[1]][:2] == ["item_id", "factor"] and items.max_row == 31
    ids = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    row = ids.index("syn:sme:4") + 2
    for column in range(3, 33):
        sheet.cell(row, column, 5 if column % 2 else 1)
    sheet.cell(1, 2, " Name ")  # a header retyped by hand still reads
    book.save(form)
    profile = runner.invoke(app, ["diagnose", "sme", "syn:sme:4", "--json", "--database-url", registry_url,
                                  "--answers", str(form), "--min-peers", "3"])  # fmt: skip
    assert profile.exit_code == 0, profile.output
    assert json.loads(profile.stdout)["questionnaire"]["answered"] is True
    other = runner.invoke(app, ["diagnose", "sme", ids[1 if ids[0] == "syn:sme:4" else 0], "--json",
                                "--database-url", registry_url, "--answers", str(form), "--min-peers", "3"])  # fmt: skip
    assert json.loads(other.stdout)["questionnaire"]["answered"] is False


def test_questionnaire_form_as_csv_blank_and_bad_paths(tmp_path):
    out = tmp_path / "form.csv"
    result = runner.invoke(app, ["diagnose", "questionnaire", "--out", str(out), "--blank"])
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbforg_id,name,AW1,") and raw.count(b"\n") == 1  # Excel reads the BOM as UTF-8
    out.write_text(out.read_text(encoding="utf-8-sig") + "o:1,Müller GmbH" + ",3" * 30 + "\n", encoding="utf-8-sig")
    from innoweave.diagnosis.questionnaire import read_answers

    answers = read_answers(out)
    assert len(answers) == 30 and set(answers["answer"]) == {"3"} and set(answers["org_id"]) == {"o:1"}
    bad = runner.invoke(app, ["diagnose", "questionnaire", "--out", str(tmp_path / "form.pdf"), "--blank"])
    assert bad.exit_code == 2 and "--out must end in .xlsx or .csv, got 'form.pdf'" in bad.output
    nowhere = runner.invoke(app, ["diagnose", "questionnaire", "--out", str(tmp_path / "f.csv"),
                                  "--database-url", f"sqlite:///{tmp_path / 'none.db'}"])  # fmt: skip
    assert nowhere.exit_code == 2 and not (tmp_path / "f.csv").exists()


def test_html_tables_show_whole_ranks_without_decimals():
    from innoweave.diagnosis.plots import _number

    assert [_number(v) for v in (1.0, 2.5, 0.125, 3.456, float("nan"))] == ["1", "2.5", "0.12", "3.46", ""]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--draws", "0", "--sobol", "0"], "--draws must be at least 1, got 0"),
        (["--draws", "10", "--sobol", "100"], "--sobol must be 0 (no Sobol indices) or a power of two >= 2, got 100"),
        (["--draws", "10", "--sobol", "1"], "--sobol must be 0"),
    ],
)
def test_eis_uncertainty_options_are_named_as_options(options, message):
    """They were named as the function's arguments (n_draws, n_base)."""
    result = runner.invoke(app, ["diagnose", "eis-uncertainty", *options])
    assert result.exit_code == 2 and message in " ".join(result.stderr.split())
