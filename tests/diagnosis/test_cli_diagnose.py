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
    answers = tmp_path / "answers.csv"
    pd.DataFrame({"org_id": ["syn:sme:1"], "item_id": ["AW1"], "answer": [6]}).to_csv(answers, index=False)
    bad = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "x.csv"), "--answers", str(answers),
                              "--database-url", registry_url])
    assert bad.exit_code == 2 and "outside the scale" in bad.output
    wrong = runner.invoke(app, ["diagnose", "batch", "--out", str(tmp_path / "x.txt"), "--database-url", registry_url])
    assert wrong.exit_code == 2


def test_stage_distribution(registry_url):
    result = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", registry_url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 40 and set(data["counts"]) == {"start-up", "growth", "maturity", "transformation"}


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
