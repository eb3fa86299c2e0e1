"""The generic evaluation on a large synthetic ecosystem: time, memory and recall.

``innoweave match evaluate --participations P.csv --organisations O.csv --projects PR.csv``
takes any registry's files. This script writes a synthetic ecosystem (``registry.synth``:
``--smes`` SMEs, 0.2 projects per SME in 2014-2023) as those files into a temporary folder
and evaluates alliance recommendations on it (SMEs -> SMEs and large firms, new partners
from 2021 on): at 100k SMEs about 17,000 candidates, so the learned model re-ranks a linear
shortlist. It prints the recommender's Recall@10 beside every baseline's, the wall time and
the peak memory of the process (read and fit included).

Run: ``.venv/bin/python benchmarks/matching_generic_scale.py [--smes 20000]`` (prints and
saves ``benchmarks/results/matching_generic_scale_<smes>.json``; 100k SMEs: ~4 min).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from matching_common import environment, peak_rss_gb, save

from innoweave.matching.protocols import evaluate_files
from innoweave.registry.synth import synthesize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smes", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frames = synthesize(n_smes=args.smes, seed=1, projects_per_sme=0.2)
    o, pr, p = frames.organisations, frames.projects, frames.participations
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"{name}.csv" for name in ("P", "O", "PR")}
        pd.DataFrame({"org_id": o["external_id"], "kind": o["kind"], "name": o["name"], "region": o["region_code"],
                      "lat": o["latitude"], "lon": o["longitude"]}).to_csv(paths["O"], index=False)  # fmt: skip
        pd.DataFrame({"project_id": pr["external_id"], "start_date": pr["start_date"],
                      "title": pr["title"]}).to_csv(paths["PR"], index=False)  # fmt: skip
        pd.DataFrame({"project_id": p["project_external_id"], "org_id": p["org_external_id"]}).to_csv(
            paths["P"], index=False)
        start = time.perf_counter()
        out = evaluate_files(paths["P"], paths["O"], paths["PR"], train_end="2021-01-01", query_kinds=("sme",),
                             target_kinds=("sme", "large_firm"), new_only=True, seed=args.seed)  # fmt: skip
        seconds = time.perf_counter() - start
    baselines = {b: m["recall@10"] for b, m in out["baselines"].items()}
    best = max(baselines, key=baselines.get)
    validation = out["model"]["validation"] or {}
    result = {
        "benchmark": "matching_generic_scale", "environment": environment(),
        "command": (f"synthetic ecosystem of {args.smes} SMEs (seed 1) as P.csv/O.csv/PR.csv; --train-end "
                    "2021-01-01 --query-kinds sme --target-kinds sme,large_firm --new-only --k 10"),
        "organisations": len(o), "projects": len(pr), "participations": len(p),
        "queries": out["queries"], "candidates": out["candidates"],
        "recall@10": out["metrics"]["recall@10"], "metrics": out["metrics"],
        "baselines_recall@10": baselines, "best_baseline": best,
        "model": out["model"]["fit"], "selection": validation.get("selection"),
        "evaluate_s": round(seconds, 1), "peak_rss_gb": round(peak_rss_gb(), 2), "seed": args.seed,
    }  # fmt: skip
    print(f"{args.smes} SMEs: {out['queries']} queries x {out['candidates']} candidates; recommender "
          f"{result['recall@10']:.3f}, best baseline {best} {baselines[best]:.3f}; {seconds:.0f} s, "
          f"{result['peak_rss_gb']} GB peak", flush=True)  # fmt: skip
    save(f"matching_generic_scale_{args.smes}", result)


if __name__ == "__main__":
    main()
