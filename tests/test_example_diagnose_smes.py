"""The Python-API example examples/diagnose_smes.py runs and writes what it promises."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

import innoweave

_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "diagnose_smes.py"
_spec = importlib.util.spec_from_file_location("example_diagnose_smes", _SCRIPT)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

STAGES = {"start-up", "growth", "maturity", "transformation"}
FACTORS = ["awareness", "funding", "talent", "innovation_level", "ip", "policy_service"]
INSTRUMENTS = {
    "rd_grant", "credit_guarantee", "rd_tax_credit", "talent_subsidy", "researcher_secondment",
    "innovation_voucher", "matchmaking_platform", "joint_lab", "intermediary_funding",
    "cluster_programme", "ip_support", "awareness_campaign", "collaborative_call",
}  # fmt: skip


def _split(cell) -> list[str]:
    return [] if pd.isna(cell) or cell == "" else str(cell).split("; ")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("diagnose")
    assert example.main(["--quick", "--seed", "3", "--out", str(out)]) == 0
    return out


def test_one_row_per_sme_with_valid_stages_scores_and_support(run):
    smes = pd.read_csv(run / "smes.csv")
    assert len(smes) == 150 and smes["org_id"].is_unique  # --quick: 150 SMEs
    assert smes["org_id"].str.startswith("synthetic:sme:").all()
    assert set(smes["stage"]) <= STAGES and len(set(smes["stage"])) >= 3
    for column in [
        f"{f}_{what}" for f in [*FACTORS, "overall"] for what in ("score", "percentile")
    ]:
        assert smes[column].between(0, 100).all(), column
    for weakest, recommended in zip(smes["weakest"], smes["recommended"], strict=True):
        assert 1 <= len(_split(weakest)) <= 2 and set(_split(weakest)) <= set(FACTORS)
        assert set(_split(recommended)) <= INSTRUMENTS


def test_profile_matches_its_row_and_recommends_for_its_weakest_factors(run):
    profile = json.loads((run / "profile.json").read_text())
    row = pd.read_csv(run / "smes.csv").set_index("org_id").loc[profile["org_id"]]
    assert profile["stage"]["value"] == row["stage"] in STAGES
    assert list(profile["factors"]) == FACTORS
    for f in FACTORS:
        assert profile["factors"][f]["score"] == pytest.approx(row[f"{f}_score"])
    assert "; ".join(profile["weakest"]) == row["weakest"]
    assert profile["recommendations"] or profile["weakest_without_support"]
    assert {r["factor"] for r in profile["recommendations"]} <= set(profile["weakest"])
    assert [r["instrument"] for r in profile["recommendations"]] == _split(row["recommended"])


def test_regions_ranked_by_composite_index(run):
    regions = pd.read_csv(run / "regions.csv")
    orgs = innoweave.synthesize(n_smes=150, seed=3).organisations  # the example's ecosystem
    assert set(regions["region"]) == set(orgs.loc[orgs["kind"] == "sme", "region_code"])
    assert len(regions) >= 2
    assert regions["region_index"].is_monotonic_decreasing
    assert regions["region_index"].between(0, 100).all()
    assert regions[FACTORS].max().max() == 100.0  # min-max across regions


def test_prints_the_summary(tmp_path, capsys):
    example.main(["--quick", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    for part in ("150 SMEs diagnosed", "Growth stages: start-up", "among their weakest",
                 "Profile of", "Weakest:", "Regions by"):  # fmt: skip
        assert part in text, part


def test_same_seed_same_output_and_another_seed_differs(run, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    example.main(["--quick", "--seed", "3", "--out", str(again)])
    example.main(["--quick", "--seed", "4", "--out", str(other)])
    for name in ("smes.csv", "regions.csv", "profile.json"):
        assert (again / name).read_bytes() == (run / name).read_bytes(), name
    assert (other / "smes.csv").read_bytes() != (run / "smes.csv").read_bytes()


def test_profiles_the_sme_asked_for(tmp_path):
    example.main(["--quick", "--sme", "synthetic:sme:000007", "--out", str(tmp_path)])
    assert json.loads((tmp_path / "profile.json").read_text())["org_id"] == "synthetic:sme:000007"
