"""The demo (``make demo``) runs end to end on a small synthetic ecosystem, so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


def test_demo_runs_on_a_synthetic_ecosystem(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DEMO), "--data", str(tmp_path / "no-data"), "--smes", "300",
         "--quick", "--out", "results", "--seed", "3"],  # fmt: skip
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = tmp_path / "results"
    stats = json.loads((results / "registry_stats.json").read_text())
    assert stats["by_kind"]["sme"] == 300
    assert stats["by_source"] == {"synthetic": stats["organisations"]}
    for name in ("sme_diagnosis.xlsx", "sme_radar.png", "network.png", "recommendations.json",
                 "simulation_comparison.json", "registry_template.xlsx", "questionnaire_form.xlsx",
                 "instrument_menu.json", "instrument_menu/menu.png"):  # fmt: skip
        assert (results / name).stat().st_size > 0, name
    menu = json.loads((results / "instrument_menu.json").read_text())["menu"]
    assert sorted(r["instrument"] for r in menu) == ["awareness_campaign", "innovation_voucher"]
    assert json.loads((results / "recommendations.json").read_text())
    plan = json.loads((results / "assignment.json").read_text())["stats"]
    assert plan["max_load"] <= 5 and plan["assigned_pairs"] > 0
    assert len((results / "assignment.csv").read_text().splitlines()) == plan["assigned_pairs"] + 1
    assert "Results are in" in done.stderr
