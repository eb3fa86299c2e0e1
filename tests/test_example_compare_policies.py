"""The policy-comparison example (``examples/compare_policies.py``) runs and its table holds what
it claims, so the example cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from innoweave.simulation.runner import FLOW_OUTPUTS, LEVEL_OUTPUTS

_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "compare_policies.py"
_spec = importlib.util.spec_from_file_location("example_compare_policies", _SCRIPT)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

FIRMS, STEPS = 150, 6  # what --quick runs
CAPITAL_BUDGET = 30.0 + 10.0 + 20.0  # capital.toml's budgets per quarter for 2,000 firms


@pytest.fixture(autouse=True)
def array_kernels(monkeypatch):
    # The array path gives the same outputs as the Numba kernels and needs no compiling
    # (about 30 s on a fresh checkout, whose kernel cache is empty).
    monkeypatch.setenv("INNOWEAVE_KERNELS", "array")


def run(out: Path, seed: int = 0) -> pd.DataFrame:
    assert example.main(["--quick", "--seed", str(seed), "--out", str(out)]) == 0
    return pd.read_csv(out / "comparison.csv")


def test_table_has_every_output_with_its_interval(tmp_path, capsys):
    table = run(tmp_path)
    printed = capsys.readouterr().out
    assert "capital - baseline" in printed and "spending per additional innovation" in printed
    for name in example.KEY_OUTPUTS:
        assert name in printed

    assert list(table.columns) == ["output", "kind", "baseline", "capital", "difference", "ci_low", "ci_high"]
    assert set(table["output"]) == {*LEVEL_OUTPUTS, *FLOW_OUTPUTS, "additional_innovations"}
    assert not table["output"].duplicated().any()
    # every output has a difference; its interval needs two replications with a value (150 firms
    # can leave the large class empty in some of them: then no interval, not a made-up one)
    assert np.isfinite(table["difference"]).all()
    known = table.dropna(subset=["ci_low", "ci_high"])
    assert len(known) >= len(table) - 3 and "innovations" in set(known["output"])
    assert ((known["ci_low"] <= known["difference"]) & (known["difference"] <= known["ci_high"])).all()
    # under common random numbers the mean difference is the difference of the means
    rows = table.dropna(subset=["baseline"])
    assert np.allclose(rows["capital"] - rows["baseline"], rows["difference"], atol=1e-9)

    spend = table.set_index("output")
    assert spend.loc["spend_total", "baseline"] == 0
    assert spend.loc["spend_total", "capital"] > 0
    # only the capital instruments spend, and within their budgets scaled to the population
    others = [f"spend_{k}" for k in ("talent_subsidy", "innovation_voucher", "joint_lab", "collaborative_call")]
    assert (spend.loc[others, "capital"] == 0).all()
    assert spend.loc["spend_total", "capital"] <= CAPITAL_BUDGET * FIRMS / 2000 * STEPS + 1e-9


def test_same_seed_gives_the_same_table(tmp_path):
    first = run(tmp_path / "a", seed=3)
    run(tmp_path / "b", seed=3)
    assert (tmp_path / "a" / "comparison.csv").read_bytes() == (tmp_path / "b" / "comparison.csv").read_bytes()
    assert not first.equals(run(tmp_path / "c", seed=4))  # the seed is used
