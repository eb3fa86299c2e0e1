"""Does the recommender generalise beyond P1? Eight other temporal splits of the CORDIS files.

``shared/eval/matching.md`` says that other real splits, held out from us, check whether a
recommender generalises. This script makes eight splits of its own from the CORDIS files and
runs each through the generic evaluation, exactly as ``innoweave match evaluate
--participations P.csv --organisations O.csv --projects PR.csv ...`` does (the files are
written from the registry frames into a temporary folder): other cut dates (2019, 2025),
other query and target kinds (large firms, universities looking for SMEs, firms looking for
intermediaries or public bodies), repeat partners counted, and organisations and projects
files reduced to their required columns (no names, regions, coordinates or titles). For each
it prints the recommender's Recall@10 beside every baseline's, the model the ranker chose and
its validation record.

The test periods of these splits were read to write this report, not to choose methods:
the ranker's choice is made inside each training period (``ranker.choose_model``).
``--ranker hgb`` or ``--ranker logistic`` forces one model, to show what the choice is worth.

Run: ``.venv/bin/python benchmarks/matching_splits.py [--ranker auto|hgb|logistic]
[--splits NAME ...]`` (prints and saves ``benchmarks/results/matching_splits.json``, or
``matching_splits_<ranker>.json`` for a forced model; ~2 min, needs ``shared/data/cordis_de``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from matching_common import environment, save

from innoweave.config import default_data_dir
from innoweave.matching.protocols import evaluate_files
from innoweave.registry.cordis import read_cordis

RESEARCH = ("university", "research_institute")
#: name: (reduced files?, --train-end, --query-kinds, --target-kinds, --new-only)
SPLITS = {
    "research_2021": (False, "2021-01-01", ("sme",), RESEARCH, True),
    "research_2019": (False, "2019-01-01", ("sme",), RESEARCH, True),
    "research_2025": (False, "2025-01-01", ("sme",), RESEARCH, True),
    "research_2021_repeat": (False, "2021-01-01", ("sme",), RESEARCH, False),
    "research_2021_required_columns": (True, "2021-01-01", ("sme",), RESEARCH, True),
    "large_firms_research_2021": (False, "2021-01-01", ("large_firm",), RESEARCH, True),
    "universities_find_smes_2021": (False, "2021-01-01", ("university",), ("sme",), True),
    "firms_intermediaries_2021": (False, "2021-01-01", ("sme", "large_firm"), ("intermediary", "government"), True),
}


def write_files(folder: Path) -> dict[str, Path]:
    """The CORDIS registry frames as the generic files, full and reduced to required columns."""
    frames = read_cordis(default_data_dir() / "cordis_de")
    o, pr, p = frames.organisations, frames.projects, frames.participations
    orgs = pd.DataFrame({"org_id": o["external_id"], "kind": o["kind"], "name": o["name"],
                         "region": o["region_code"], "lat": o["latitude"], "lon": o["longitude"]})  # fmt: skip
    projects = pd.DataFrame({"project_id": pr["external_id"], "start_date": pr["start_date"], "title": pr["title"]})
    parts = pd.DataFrame({"project_id": p["project_external_id"], "org_id": p["org_external_id"], "role": p["role"]})
    paths = {name: folder / f"{name}.csv" for name in ("P", "O", "PR", "O_required", "PR_required")}
    parts.to_csv(paths["P"], index=False)
    orgs.to_csv(paths["O"], index=False)
    orgs[["org_id", "kind"]].to_csv(paths["O_required"], index=False)
    projects.to_csv(paths["PR"], index=False)
    projects[["project_id", "start_date"]].to_csv(paths["PR_required"], index=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranker", choices=("auto", "hgb", "logistic"), default="auto")
    parser.add_argument("--splits", nargs="+", choices=list(SPLITS), default=list(SPLITS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = {"benchmark": "matching_splits", "environment": environment(), "ranker": args.ranker,
              "seed": args.seed, "splits": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_files(Path(tmp))
        for name in args.splits:
            reduced, train_end, query_kinds, target_kinds, new_only = SPLITS[name]
            start = time.perf_counter()
            out = evaluate_files(
                paths["P"], paths["O_required" if reduced else "O"], paths["PR_required" if reduced else "PR"],
                train_end=train_end, query_kinds=query_kinds, target_kinds=target_kinds, new_only=new_only,
                seed=args.seed, ranker=args.ranker,
            )  # fmt: skip
            baselines = {b: m["recall@10"] for b, m in out["baselines"].items()}
            best = max(baselines, key=baselines.get)
            validation = out["model"]["validation"] or {}
            row = {
                "command": (f"--train-end {train_end} --query-kinds {','.join(query_kinds)} --target-kinds "
                            f"{','.join(target_kinds)}{' --new-only' if new_only else ''}"
                            f"{' (required columns only)' if reduced else ''}"),
                "queries": out["queries"], "candidates": out["candidates"],
                "recall@10": out["metrics"]["recall@10"], "baselines_recall@10": baselines,
                "best_baseline": best, "lead_over_best_baseline": out["metrics"]["recall@10"] - baselines[best],
                "model": out["model"]["fit"],
                "validation_recall@10": {m: v["recall@10"] for m, v in validation.get("models", {}).items()},
                "selection": validation.get("selection"), "seconds": round(time.perf_counter() - start, 2),
            }  # fmt: skip
            result["splits"][name] = row
            print(f"{name:32s} {row['queries']:4d} queries  recommender {row['recall@10']:.3f}  best baseline "
                  f"{best} {baselines[best]:.3f}  ({row['model']}; {row['seconds']} s)", flush=True)  # fmt: skip
    rows = result["splits"].values()
    result["summary"] = {
        "splits": len(rows),
        "at_or_above_best_baseline": sum(r["lead_over_best_baseline"] >= 0 for r in rows),
        "mean_lead_over_best_baseline": sum(r["lead_over_best_baseline"] for r in rows) / max(len(rows), 1),
    }
    save("matching_splits" if args.ranker == "auto" else f"matching_splits_{args.ranker}", result)


if __name__ == "__main__":
    main()
