"""Scenario files: shipped examples run briefly; bad files fail before any run, naming the field."""

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.simulation.runner import compare_scenarios, mean_ci, run_scenario
from innoweave.simulation.scenario import (
    ScenarioError,
    example_scenarios,
    load_scenario,
    parse_scenario,
)

runner = CliRunner()
SMALL = {"horizon": 3, "replications": 2, "seed": 1,
         "population": {"source": "synthetic", "n_firms": 300}}


def brief(scenario):
    scenario.population = type(scenario.population)(source="synthetic", n_firms=300)
    scenario.horizon, scenario.replications = 3, 2
    return scenario


def test_examples_are_shipped_and_valid():
    found = example_scenarios()
    assert {"baseline", "capital", "technology", "policy_mix"} <= set(found)
    for path in found.values():
        sc = load_scenario(path)
        assert sc.horizon >= 1 and sc.replications >= 1


@pytest.mark.parametrize("name", ["baseline", "capital", "technology", "policy_mix"])
def test_examples_run_briefly(name):
    result = run_scenario(brief(load_scenario(example_scenarios()[name])))
    assert set(result.steps["replication"]) == {0, 1}
    assert len(result.steps) == 6
    summary = result.summary()
    assert summary["seed"] == 2026 and summary["version"]
    if name != "baseline":
        assert summary["outputs"]["spend_total"]["mean"] > 0


@pytest.mark.parametrize("change, field", [
    ({"instruments": {"rd_grnt": {"budget": 1}}}, "unknown instrument"),
    ({"params": {"search": {"candidates": 4}}}, r"params\.search\.candidates"),
    ({"mechanisms": {"spillover": False}}, r"mechanisms\.spillover"),
    ({"instruments": {"rd_grant": {"budget": -1}}}, r"instruments\.rd_grant\.budget"),
    ({"horizon": 0}, "horizon: must be >= 1"),
    ({"replications": 0}, "replications"),
    ({"population": {"source": "synthetic", "n_firms": 0}}, r"population\.n_firms: empty"),
    ({"population": {"source": "moon"}}, r"population\.source"),
    ({"population": {"source": "registry"}}, r"population\.url"),
    ({"colour": "red"}, "colour: unknown scenario key"),
    ({"calibration": {"intent": [1, 1, 1, 1]}}, r"calibration\.intent"),
    ({"params": {"search": {"rule": "greedy"}}}, r"params\.search\.rule"),
])
def test_invalid_scenarios_name_the_field(change, field):
    with pytest.raises(ScenarioError, match=field):
        parse_scenario({**SMALL, **change})


def test_missing_horizon_is_an_error():
    with pytest.raises(ScenarioError, match="horizon: missing"):
        parse_scenario({"population": {"n_firms": 10}})


def test_eligibility_excluding_everyone_fails_before_running():
    # large firms in the start-up stage: none in a fresh synthetic population of this size
    sc = parse_scenario({**SMALL, "instruments": {"joint_lab": {
        "budget": 1, "kinds": ["large_firm"], "size_classes": ["micro"]}}})
    with pytest.raises(ScenarioError, match=r"instruments\.joint_lab: eligibility excludes"):
        run_scenario(sc)


def test_synth_source_runs_on_the_registry_generator():
    sc = parse_scenario({**SMALL, "population": {"source": "synth", "n_firms": 150}})
    result = run_scenario(sc, replications=1)
    assert result.steps["n_smes"].iloc[0] > 100
    with pytest.raises(ScenarioError, match=r"population\.cluster_share"):
        parse_scenario({**SMALL, "population": {"source": "synth", "cluster_share": 0.2}})


def test_calibration_table_overrides_the_default():
    sc = parse_scenario({**SMALL, "calibration": {"intent_bias": [-1, -1, -1, -1]}})
    assert sc.params.intent.intent_bias == (-1.0, -1.0, -1.0, -1.0)


def test_compare_uses_common_random_numbers():
    base = parse_scenario({**SMALL, "name": "base"})
    same = parse_scenario({**SMALL, "name": "same", "seed": 99,
                           "instruments": {"rd_grant": {"budget": 0}}})
    comp = compare_scenarios(base, [same])
    diffs = comp.differences()["same"]
    # identical rules and zero budget: every replication matches exactly
    assert diffs["innovations"]["diff"] == 0 and diffs["capability_mean"]["diff"] == 0
    assert diffs["additional_innovations"]["diff"] == 0


def test_mean_ci():
    # by hand: mean 2, sample SD 1, t-table 97.5 % point with 2 degrees of freedom 4.30265
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729749462 / math.sqrt(3)
    assert m == 2.0 and (lo, hi) == pytest.approx((2.0 - half, 2.0 + half), rel=1e-9)
    # 90 %: mean 4, SD sqrt(50 / 3), t 95 % point with 3 degrees of freedom 2.35336
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 10.0], 0.9)
    half = 2.3533634348018233 * math.sqrt(50 / 3) / 2
    assert m == 4.0 and (lo, hi) == pytest.approx((4.0 - half, 4.0 + half), rel=1e-9)
    # a missing replication is left out: n = 2, not 3
    m, lo, hi = mean_ci([1.0, float("nan"), 3.0])
    half = 12.706204736174694  # t 97.5 % point with 1 degree of freedom x SD sqrt(2) / sqrt(2)
    assert m == 2.0 and (lo, hi) == pytest.approx((2.0 - half, 2.0 + half), rel=1e-9)
    assert mean_ci([1.0])[0] == 1.0 and pd.isna(mean_ci([1.0])[1]) and pd.isna(mean_ci([1.0])[2])


def test_cli_run_writes_parquet_and_summary(tmp_path):
    scen = tmp_path / "s.toml"
    scen.write_text('horizon = 2\nreplications = 1\nseed = 3\n[population]\nn_firms = 200\n'
                    '[instruments.awareness_campaign]\nbudget = 2.0\n')
    res = runner.invoke(app, ["simulate", "run", str(scen), "--out", str(tmp_path / "o"),
                              "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["seed"] == 3 and summary["settings"]["instruments"]["awareness_campaign"]
    steps = pd.read_parquet(tmp_path / "o" / "steps.parquet")
    assert len(steps) == 2 and "spend_awareness_campaign" in steps
    assert (tmp_path / "o" / "summary.json").exists()
    # the same figures in a workbook
    book = pd.read_excel(tmp_path / "o" / "summary.xlsx", sheet_name=None)
    assert set(book) == {"outputs", "mean_per_step", "run"}
    outputs = book["outputs"].set_index("output")
    assert outputs.loc["innovations", "mean"] == pytest.approx(summary["outputs"]["innovations"]["mean"])
    assert book["mean_per_step"]["innovations"].tolist() == pytest.approx(steps["innovations"].tolist())
    assert dict(zip(book["run"]["setting"], book["run"]["value"].astype(str), strict=True))["seed"] == "3"


def test_cli_compare_writes_plots(tmp_path):
    base = tmp_path / "base.toml"
    alt = tmp_path / "alt.toml"
    base.write_text('name = "base"\nhorizon = 3\nreplications = 2\n[population]\nn_firms = 200\n')
    alt.write_text('name = "alt"\nhorizon = 3\nreplications = 2\n[population]\nn_firms = 200\n'
                   '[instruments.innovation_voucher]\nbudget = 5.0\n')
    res = runner.invoke(app, ["simulate", "compare", str(base), str(alt), "--out",
                              str(tmp_path / "c"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["common_random_numbers"] and "alt" in data["differences"]
    row = data["differences"]["alt"]["innovations"]
    assert len(row["ci95"]) == 2
    for name in ("compare.png", "compare.html", "compare.json", "steps.parquet", "compare.xlsx"):
        assert (tmp_path / "c" / name).stat().st_size > 0
    assert "data:image/png;base64" in (tmp_path / "c" / "compare.html").read_text()
    # the workbook holds the same differences and the per-step means over replications
    book = pd.read_excel(tmp_path / "c" / "compare.xlsx", sheet_name=None)
    assert set(book) == {"differences", "mean_per_step", "run"}
    diff = book["differences"].set_index(["alternative", "output"])
    assert diff.loc[("alt", "innovations"), "difference"] == pytest.approx(row["diff"])
    assert diff.loc[("alt", "innovations"), "ci95_low"] == pytest.approx(row["ci95"][0])
    steps = pd.read_parquet(tmp_path / "c" / "steps.parquet")
    means = book["mean_per_step"].set_index(["scenario", "step"])
    expected = steps[steps["scenario"] == "alt"].groupby("step")["innovations"].mean()
    assert means.loc["alt", "innovations"].to_numpy() == pytest.approx(expected.to_numpy())


def test_cli_bad_scenario_exits_2_naming_the_field(tmp_path):
    scen = tmp_path / "bad.toml"
    scen.write_text('horizon = 0\n[population]\nn_firms = 10\n')
    res = runner.invoke(app, ["simulate", "run", str(scen)])
    assert res.exit_code == 2
    assert "horizon" in res.output
    res = runner.invoke(app, ["simulate", "run", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2
