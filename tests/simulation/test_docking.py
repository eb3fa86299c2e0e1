"""Docking in small: the engine and the Mesa reference agree; a changed rule is detected."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("mesa")

from innoweave.simulation import docking  # noqa: E402
from innoweave.simulation.docking import KEY_OUTPUTS, SCENARIOS, _compare, run_docking  # noqa: E402


def test_small_docking_passes():
    report = run_docking(seeds=8, n_firms=150, steps=10, seed=3)
    assert {k: report[k] for k in ("scenarios", "outputs", "seeds")} == {
        "scenarios": 3, "outputs": len(KEY_OUTPUTS), "seeds": 8}
    assert report["passed"], [d for d in report["details"] if d["p_corrected"] <= 0.01]
    assert 0 < report["min_p"] <= 1
    assert report["tests"] == 3 * len(KEY_OUTPUTS) == len(report["details"])
    policy = [d for d in report["details"]
              if d["scenario"] == "policy_mix" and d["output"] == "spend_total"]
    assert policy[0]["engine_mean"] > 0 and policy[0]["mesa_mean"] > 0


def test_docking_detects_a_reference_with_a_different_rule(monkeypatch):
    """Negative control: a reference whose innovation success is much likelier must fail.

    Sized to detect it for any seed, not by luck: with 8 seeds of 150 firms the final-step
    innovations (about 6 against 11) overlap and the corrected p-value ranged 0.006-1.0 over
    five docking seeds; with 16 seeds of 300 firms and the logit raised by 3 it was at most
    0.002 over those five."""
    real = docking._reference_model()

    def altered(params, population, **kwargs):
        outcome = dataclasses.replace(params.outcome, success_base=params.outcome.success_base + 3)
        return real(dataclasses.replace(params, outcome=outcome), population, **kwargs)

    monkeypatch.setattr(docking, "_reference_model", lambda: altered)
    report = run_docking(seeds=16, n_firms=300, steps=8, seed=3, scenarios=("baseline",),
                         outputs=("innovations", "patents_total", "capability_mean"))
    assert not report["passed"]
    assert report["min_p"] <= 0.01


def test_compare_uses_bonferroni_and_handles_constants():
    same = _compare("s", "o", np.zeros(10), np.zeros(10), n_tests=5)
    assert same["p"] == 1.0 and same["p_corrected"] == 1.0
    apart = _compare("s", "o", np.arange(10.0), np.arange(10.0) + 100, n_tests=5)
    assert apart["p_corrected"] == pytest.approx(min(1.0, apart["p"] * 5))
    assert apart["p_corrected"] < 0.01
    nan = _compare("s", "o", np.full(5, np.nan), np.ones(5), n_tests=1)
    assert nan["p"] == 1.0


def test_bad_docking_input_names_the_field():
    with pytest.raises(ValueError, match="scenarios"):
        run_docking(seeds=3, scenarios=("nope",))
    with pytest.raises(ValueError, match="seeds"):
        run_docking(seeds=1)
    runs = []
    with pytest.raises(ValueError, match=r"outputs: unknown column\(s\) \['nope'\]; both implementations report: "
                                         r".*innovations"):  # fmt: skip
        run_docking(seeds=6, n_firms=30, steps=1, scenarios=("baseline",), outputs=("innovations", "nope"),
                    progress=lambda: runs.append(1))  # fmt: skip
    assert runs == []  # refused before the first replication, not after it


def test_too_few_seeds_to_detect_anything_are_refused():
    """With n seeds a KS test's smallest p is that of two fully separated samples (2 / C(2n,
    n)); Bonferroni over 42 tests needs it below 0.01 / 42, else docking can never fail."""
    assert docking.smallest_p(2) == pytest.approx(1 / 3)
    assert docking.smallest_p(8) == pytest.approx(2 / 12870)
    assert docking.min_seeds(3 * len(KEY_OUTPUTS)) == 8
    assert docking.min_seeds(1) == 5
    with pytest.raises(ValueError, match="seeds: 7 cannot detect a mismatch.*at least 8"):
        run_docking(seeds=7)
    with pytest.raises(ValueError, match="seeds: 2 cannot detect"):
        run_docking(seeds=2, n_firms=30, steps=1, scenarios=("baseline",),
                    outputs=("innovations",))


def test_three_named_scenarios_with_valid_instruments():
    assert len(SCENARIOS) == 3
    for scenario in SCENARIOS.values():
        configs = scenario.instrument_configs()
        assert set(configs) == set(scenario.instruments)
    assert len(SCENARIOS["policy_mix"].instruments) == 13


def test_dock_command_prints_exactly_the_agreed_json():
    import json

    from typer.testing import CliRunner

    from innoweave.cli import app

    result = CliRunner().invoke(app, ["simulate", "dock", "--seeds", "8", "--firms", "30",
                                      "--steps", "2", "--workers", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["scenarios", "outputs", "seeds", "min_p", "passed"]
    assert out["scenarios"] == 3 and out["seeds"] == 8 and out["outputs"] == len(KEY_OUTPUTS)
    assert out["passed"] is True
