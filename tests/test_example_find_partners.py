"""The partner-finding example (``examples/find_partners.py``) runs and its tables hold what it
claims, so the example cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "find_partners.py"
_spec = importlib.util.spec_from_file_location("example_find_partners", _SCRIPT)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)

K, CAPACITY = 3, 70


def run(out: Path, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    assert example.main(["--quick", "--seed", str(seed), "--k", str(K), "--capacity", str(CAPACITY),
                         "--out", str(out)]) == 0  # fmt: skip
    return pd.read_csv(out / "recommendations.csv"), pd.read_csv(out / "assignment.csv")


def test_plan_respects_capacity_and_demand_and_explains_every_pair(tmp_path, capsys):
    shortlist, plan = run(tmp_path / "a")
    printed = capsys.readouterr().out
    assert "Best research partners for" in printed and "Gini of load" in printed

    # shortlists: research partners only, ranked 1.. per SME, each with an explanation
    assert shortlist["query"].nunique() == 120
    assert set(shortlist["kind"]) <= {"university", "research_institute"}
    assert shortlist["explanation"].str.len().gt(0).all()
    assert (shortlist.groupby("query")["rank"].agg(lambda r: list(r) == list(range(1, len(r) + 1)))).all()

    # asked alone, the SMEs' top k overload a partner: the capacity binds
    assert shortlist[shortlist["rank"] <= K]["partner"].value_counts().max() > CAPACITY
    # the plan: no partner above its capacity, no SME above k, distinct pairs from the shortlists
    assert plan["partner"].value_counts().max() <= CAPACITY
    per_sme = plan.groupby("query").size()
    assert per_sme.max() <= K
    assert not plan.duplicated(["query", "partner"]).any()
    assert len(plan.merge(shortlist, on=["query", "partner"])) == len(plan)
    assert plan["explanation"].str.len().gt(0).all()
    # an SME gets k partners wherever its shortlist has k (the capacities leave room for all)
    offered = shortlist.groupby("query").size().clip(upper=K)
    assert (per_sme.reindex(offered.index, fill_value=0) == offered).all()


def test_same_seed_gives_the_same_tables(tmp_path):
    run(tmp_path / "a", seed=1)
    run(tmp_path / "b", seed=1)
    for name in ("recommendations.csv", "assignment.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
