"""Benchmarks of the collaboration-network clusters.

* ``cordis``: communities of the real CORDIS Germany graph (6,542 organisations): reading,
  projection, Louvain (NetworkX) and Leiden (igraph), and the full analysis
  (communities, centrality, labels). Target (issue 5): communities in under 10 s.
* ``synthetic``: a planted-partition graph of 1,000,000 organisations and 5,000,000 links,
  generated with numpy, through the same Leiden path (``detect_communities``). Target:
  under 5 minutes on 2 cores. ``--size small`` runs 100,000 / 500,000 for a quick check.

    .venv/bin/python benchmarks/clusters_network.py cordis
    .venv/bin/python benchmarks/clusters_network.py synthetic            # 1M / 5M
    .venv/bin/python benchmarks/clusters_network.py synthetic --size small

Prints the figures and saves them as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import os

# Two cores, as the target says (set before numpy/igraph load their thread pools).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from configurations import results_dir  # noqa: E402

import innoweave  # noqa: E402
from innoweave.clusters.network import (  # noqa: E402
    CollaborationCommunities,
    CollaborationGraph,
    detect_communities,
    modularity,
    project_bipartite,
)

RESULTS = results_dir()
SIZES = {
    "small": {"orgs": 100_000, "links": 500_000},
    "large": {"orgs": 1_000_000, "links": 5_000_000},
}
COMMUNITY_SIZE = 100  # planted communities of about 100 organisations
INSIDE = 0.8  # share of links inside a planted community


def _environment() -> dict:
    # The load average shows whether other work shared the cores (wall times then exceed CPU times).
    return {
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus_available": os.cpu_count(),
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "innoweave": innoweave.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"saved {path}")


def bench_cordis(folder: Path, seed: int) -> dict:
    from innoweave.registry.cordis import read_cordis

    started = time.perf_counter()
    frames = read_cordis(folder)
    read_s = time.perf_counter() - started
    parts = frames.participations
    memberships = pd.DataFrame(
        {"project": parts["project_external_id"], "org": parts["org_external_id"]}
    )
    nodes = pd.Index(frames.organisations["external_id"].astype(str))
    started = time.perf_counter()
    graph, stats = project_bipartite(memberships, nodes)
    projection_s = time.perf_counter() - started
    result = {
        "benchmark": "cordis_de communities",
        "organisations": graph.n_nodes,
        "links": len(graph.source),
        "projection": stats,
        "read_s": read_s,
        "projection_s": projection_s,
        "seed": seed,
        "target_s": 10,
    }
    for method in ("louvain", "leiden"):
        detect_communities(graph, method=method, seed=seed)  # warm-up: imports and first-call costs
        started, cpu = time.perf_counter(), time.process_time()
        membership = detect_communities(graph, method=method, seed=seed)
        elapsed = time.perf_counter() - started
        result[method] = {
            "communities_s": elapsed,
            "communities_cpu_s": time.process_time() - cpu,
            "projection_plus_communities_s": projection_s + elapsed,
            "communities": int(membership.max() + 1),
            "modularity": modularity(graph, membership),
        }
    started, cpu = time.perf_counter(), time.process_time()
    model = CollaborationCommunities(seed=seed).fit(frames)
    result["full_analysis"] = {
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "steps_s": model.timings_,
        "communities": len(model.communities_),
        "modularity": model.modularity_,
    }
    result["environment"] = _environment()
    return result


def planted_graph(n_orgs: int, n_links: int, seed: int) -> tuple[CollaborationGraph, np.ndarray]:
    """Links drawn with numpy: a random organisation, then a partner from its planted
    community (probability ``INSIDE``) or from anywhere; duplicates and self-links removed."""
    rng = np.random.default_rng(seed)
    planted = np.arange(n_orgs) // COMMUNITY_SIZE
    draw = int(n_links * 1.1)
    a = rng.integers(0, n_orgs, draw)
    inside = rng.random(draw) < INSIDE
    partner_inside = np.minimum(
        planted[a] * COMMUNITY_SIZE + rng.integers(0, COMMUNITY_SIZE, draw), n_orgs - 1
    )
    b = np.where(inside, partner_inside, rng.integers(0, n_orgs, draw))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = np.unique((lo.astype(np.int64) * n_orgs + hi)[lo != hi])
    key = rng.permutation(key)[:n_links]
    key.sort()
    source, target = key // n_orgs, key % n_orgs
    weight = 1.0 / rng.integers(1, 20, len(key))  # like 1/(n-1) from consortia of 2..20
    nodes = pd.RangeIndex(n_orgs)
    return CollaborationGraph(
        nodes, source, target, weight, np.ones(len(key), dtype=np.int64)
    ), planted


def bench_synthetic(size: str, seed: int) -> dict:
    from sklearn.metrics import normalized_mutual_info_score

    spec = SIZES[size]
    started = time.perf_counter()
    graph, planted = planted_graph(spec["orgs"], spec["links"], seed)
    generate_s = time.perf_counter() - started
    print(
        f"generated {graph.n_nodes:,} organisations, {len(graph.source):,} links in {generate_s:.1f} s"
    )
    started, cpu = time.perf_counter(), time.process_time()
    membership = detect_communities(graph, method="leiden", seed=seed)
    leiden_s, leiden_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    linked = membership >= 0
    result = {
        "benchmark": f"synthetic graph communities ({size})",
        "organisations": graph.n_nodes,
        "links": int(len(graph.source)),
        "method": "leiden (igraph community_leiden, modularity)",
        "seed": seed,
        "generate_s": generate_s,
        "communities_s": leiden_s,
        "communities_cpu_s": leiden_cpu_s,
        "total_s": generate_s + leiden_s,
        "target_s": 300,
        "communities": int(membership.max() + 1),
        "modularity": modularity(graph, membership),
        "nmi_with_planted": float(
            normalized_mutual_info_score(planted[linked], membership[linked])
        ),
        "environment": _environment(),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=["cordis", "synthetic"])
    parser.add_argument("--size", choices=list(SIZES), default="large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cordis-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.which == "cordis":
        from innoweave.config import default_data_dir

        result = bench_cordis(args.cordis_dir or default_data_dir() / "cordis_de", args.seed)
        name = "clusters_cordis"
        print(f"cordis_de: {result['organisations']:,} organisations, {result['links']:,} links")
        for method in ("louvain", "leiden"):
            r = result[method]
            print(
                f"  {method:8s} communities {r['communities_s']:.2f} s (CPU {r['communities_cpu_s']:.2f} s; with projection {r['projection_plus_communities_s']:.2f} s), "
                f"{r['communities']} communities, modularity {r['modularity']:.3f}  [target < 10 s]"
            )
        full = result["full_analysis"]
        print(
            f"  full analysis (Louvain, centrality, labels; first use of scikit-learn) "
            f"{full['seconds']:.2f} s (CPU {full['cpu_s']:.2f} s)"
        )
    else:
        result = bench_synthetic(args.size, args.seed)
        name = f"clusters_synthetic_{args.size}"
        print(
            f"synthetic {result['organisations']:,} / {result['links']:,}: Leiden {result['communities_s']:.1f} s "
            f"(CPU {result['communities_cpu_s']:.1f} s; + generation {result['generate_s']:.1f} s) = {result['total_s']:.1f} s [target < 300 s]; "
            f"{result['communities']:,} communities, modularity {result['modularity']:.3f}, "
            f"NMI with planted {result['nmi_with_planted']:.3f}"
        )
    _save(name, result)


if __name__ == "__main__":
    main()
