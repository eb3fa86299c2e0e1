"""The speed benchmark's interleaved harness (``benchmarks/simulation.py --vs-mesa``): what it
times and reports, with and without the warm-up. Figures are not asserted (benchmarks, not
timed tests); the array kernels keep it quick (no Numba compilation)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mesa")

_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "simulation.py"
sys.path.insert(0, str(_SCRIPT.parent))  # as when the script runs: its folder's modules import
_spec = importlib.util.spec_from_file_location("benchmark_simulation", _SCRIPT)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

ARGS = ["--firms", "200", "--steps", "3", "--vs-mesa", "--no-save", "--kernels", "array"]


def test_busy_wait_keeps_the_core_busy_for_the_time_asked(monkeypatch):
    # Spinning, not sleeping: a sleep would let the core idle, which is what the warm-up is
    # there to avoid. (Checked by refusing sleeps rather than by the process's CPU time, which
    # on a loaded machine — CI beside other jobs — can be a small share of the wall time even
    # while spinning: 0.014 s of 0.05 s was seen.)
    def no_sleep(seconds):
        raise AssertionError(f"busy_wait slept {seconds} s")

    monkeypatch.setattr(time, "sleep", no_sleep)
    wall, cpu = time.perf_counter(), time.process_time()
    bench.busy_wait(0.05)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert wall >= 0.05
    assert cpu > 0  # it ran on the core for some of that time


def test_vs_mesa_warms_each_section_and_reports_the_cold_runs_apart(capsys):
    result = bench.main(ARGS + ["--warm-up", "0.02"])
    assert result["warm_up_seconds"] == 0.02
    rounds = result["mesa"]["steps_run"]
    assert rounds == 3
    # one warmed run and one cold run per round, counted apart, each 3 steps of 200+ firms
    assert result["engine"]["repeat"] == rounds and result["engine_cold"]["repeat"] == rounds
    assert result["engine"]["agent_steps"] == result["engine_cold"]["agent_steps"] > 3 * 150
    assert len(result["pair_ratios"]) == rounds
    assert result["ratio"] == pytest.approx(
        result["engine"]["agent_steps_per_s"] / result["mesa"]["agent_steps_per_s"])
    assert result["ratio_cold"] == pytest.approx(
        result["engine_cold"]["agent_steps_per_s"] / result["mesa"]["agent_steps_per_s"])
    assert "busy waiting" in result["mesa"]["timing"]
    assert "no warm-up" in capsys.readouterr().out


def test_vs_mesa_without_warm_up_times_as_before():
    result = bench.main(ARGS + ["--warm-up", "0", "--json"])
    assert result["warm_up_seconds"] == 0
    assert "engine_cold" not in result and "ratio_cold" not in result
    assert result["engine"]["repeat"] == result["mesa"]["steps_run"] == 3
    assert "busy waiting" not in result["mesa"]["timing"]
