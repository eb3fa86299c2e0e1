"""Capacity-aware assignment of 100k SMEs over their top-50 candidate partners.

Target (issue 3): under 60 s. Candidates are drawn with a heavy-tailed popularity (a few
partners are in everybody's list, as Fraunhofer is in CORDIS); k = 3 per SME, flat capacity
10. The greedy baseline runs beside it on the same table.
Run: ``.venv/bin/python benchmarks/matching_assign.py [small|large]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from matching_common import SIZES, environment, peak_rss_gb, save

from innoweave.matching.assignment import assign, greedy_assign
from innoweave.seeding import make_rng


def main(size: str = "large") -> None:
    cfg = SIZES["assign"][size]
    env = environment()
    rng = make_rng(7)
    nq, npart, top = cfg["n_sme"], cfg["n_cand"], 50
    weight = rng.pareto(1.2, npart) + 1
    weight /= weight.sum()
    cand = rng.choice(npart, size=(nq, top), p=weight)
    score = rng.random((nq, top)) * (0.5 + weight[cand] / weight.max())
    table = pd.DataFrame({"query": np.repeat(np.arange(nq), top), "partner": cand.ravel(), "score": score.ravel()})
    t0 = time.perf_counter()
    flow = assign(table, k=3, capacity=10)
    t_flow = time.perf_counter() - t0
    t1 = time.perf_counter()
    greedy = greedy_assign(table, k=3, capacity=10)
    t_greedy = time.perf_counter() - t1
    save(f"matching_assign_{size}", {
        "benchmark": "matching_assign", "size": size, "environment": env, "smes": nq, "partners": npart,
        "candidates_per_sme": top, "pairs": len(table), "k": 3, "capacity": 10,
        "flow": {"seconds": round(t_flow, 2), **flow.stats},
        "greedy": {"seconds": round(t_greedy, 2), **greedy.stats},
        "peak_rss_gb": round(peak_rss_gb(), 2), "target_s": 60,
    })  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "large")
