"""Exact top-10 partners for 200k synthetic SMEs among 50k candidates (blocked dense scoring).

Target (issue 3): under 120 s and under 8 GB on 2 cores. Profiles are 32-dimensional
knowledge-field vectors (as the simulation uses), plus coordinates, NUTS-2-like regions and a
popularity prior. The result is checked against a brute-force ranking of a sample of rows.
Run: ``.venv/bin/python benchmarks/matching_scale.py [small|large]``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from matching_common import SIZES, environment, peak_rss_gb, save

from innoweave.matching.scoring import DEFAULT_WEIGHTS
from innoweave.matching.topk import augment, blocked_top_k, region_bias
from innoweave.seeding import make_rng


def main(size: str = "large") -> None:
    cfg = SIZES["scale"][size]
    env = environment()
    rng = make_rng(42)
    nq, nc, d, n_regions = cfg["n_sme"], cfg["n_cand"], 32, 38
    topics = rng.dirichlet(np.full(d, 0.2), size=nq + nc).astype(np.float32)
    lat, lon = rng.uniform(47.3, 55.0, nq + nc), rng.uniform(6.0, 15.0, nq + nc)
    region = rng.integers(0, n_regions, nq + nc)
    lat[rng.random(nq + nc) < 0.01] = np.nan  # ~1 % unknown coordinates, as in CORDIS
    popularity = rng.pareto(1.2, nc)
    t0 = time.perf_counter()
    Q = augment(topics[:nq], lat=lat[:nq], lon=lon[:nq], side="query")
    C = augment(topics[nq:], lat=lat[nq:], lon=lon[nq:], side="candidate")
    bias = DEFAULT_WEIGHTS["popularity"] * np.log1p(popularity)
    groups = region_bias(region[nq:], n_regions)
    idx, scores = blocked_top_k(Q, C, k=10, cand_bias=bias, query_group=region[:nq], group_bias=groups)
    elapsed = time.perf_counter() - t0
    sample = rng.choice(nq, 200, replace=False)
    full = Q[sample] @ C.T + bias[None, :] + groups[region[sample]]
    exact = np.argsort(-full, axis=1, kind="stable")[:, :10]
    agree = float(np.mean(np.take_along_axis(full, exact, 1)[:, -1] <= scores[sample, -1] + 1e-5))
    save(f"matching_scale_{size}", {
        "benchmark": "matching_scale", "size": size, "environment": env, "smes": nq, "candidates": nc,
        "dims": int(Q.shape[1]), "top10_s": round(elapsed, 2), "peak_rss_gb": round(peak_rss_gb(), 2),
        "exact_on_sample": agree, "targets": {"seconds": 120, "gb": 8},
    })  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "large")
