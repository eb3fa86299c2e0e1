"""Calibration to the NCSES shares: targets, report, and the fitting routine on a small run."""

import json

import pytest
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.simulation.calibration import Calibration, targets
from innoweave.simulation.params import SIZE_CLASSES, ModelParams


def test_targets_are_the_published_shares():
    t = targets()
    assert t["innovating"]["micro"] == pytest.approx(0.405, abs=0.002)
    assert t["innovating"]["large"] == pytest.approx(0.607, abs=0.002)
    assert all(0.05 < t["coop_research"][c] < 0.4 for c in SIZE_CLASSES)


def test_check_reports_every_target_and_the_largest_gap():
    report = Calibration(n_firms=1500, replications=1, steps=13, seed=1).check()
    assert len(report["targets"]) == 8
    gaps = [abs(r["gap_points"]) for r in report["targets"]]
    assert report["max_gap_points"] == max(gaps)
    assert {r["target"] for r in report["targets"]} == {"innovating", "coop_research"}
    assert report["calibrated"]["intent_bias"] == list(ModelParams().intent.intent_bias)


def test_fit_moves_a_bad_start_towards_the_targets():
    from dataclasses import replace

    p = ModelParams()
    bad = replace(p, intent=replace(p.intent, intent_bias=(-4.5, -4.5, -4.5, -4.5)))
    cal = Calibration(n_firms=1500, replications=1, steps=13, iterations=3, seed=1, params=bad)
    cal.fit()
    first, best = cal.history_[0], cal.report_
    assert best["max_gap_points"] < first["max_gap_points"]
    assert all(b > -4.5 for b in cal.intent_bias_)
    assert "intent_bias = [" in cal.to_toml()


def test_cli_check_json_prints_targets():
    res = CliRunner().invoke(app, ["simulate", "calibrate", "--check", "--firms", "800",
                                   "--replications", "1", "--tolerance", "100", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data["targets"]) == 8 and "max_gap_points" in data
