"""How far "who will be popular" can go on P1 and P2: oracles that read the test period.

A diagnostic, not a method: each oracle scores a candidate by how many of the *test
period's* queries really took it as a partner (its true Horizon Europe popularity among the
SMEs of the protocol), overall or within the query's region, so it knows what no
recommender can know. ``leave-one-out`` versions do not count the query's own partners
(they score a query only by the other SMEs' choices); the plain global oracle counts them
too, so it knows part of each answer: about as well as one order shared by every SME can do.
Ties are broken by training degree, as in the baselines. If such oracles stay far below a
target, popularity and geography alone cannot reach it, and a recommender would have to
predict which partner each SME takes beyond who is in demand.

Run: ``.venv/bin/python benchmarks/matching_ceiling.py`` (prints and saves
``benchmarks/results/matching_ceiling.json``; ~10 s, needs ``shared/data/cordis_de``).
"""

from __future__ import annotations

import time

import numpy as np
from matching_common import environment, save

from innoweave.config import default_data_dir
from innoweave.matching.evaluation import EvalSplit, baseline_scores, make_split, ranking_metrics
from innoweave.matching.protocols import cordis_programme_split
from innoweave.registry.cordis import read_cordis


def oracle_scores(
    split: EvalSplit, key: np.ndarray | None = None, *, own: bool = False
) -> np.ndarray:
    """Per query, each candidate's count of test-period queries (with the same ``key``, e.g.
    region, where given) that took it as a partner; the query's own partners count only with
    ``own``."""
    Q, C = split.n_queries, len(split.candidates)
    key = np.zeros(Q, dtype=int) if key is None else key
    groups, group_of = np.unique(key, return_inverse=True)
    counts = np.zeros((len(groups), C))
    for g, t in zip(group_of, split.truth, strict=True):
        counts[g, t] += 1
    scores = counts[group_of]
    if not own:
        for i, t in enumerate(split.truth):
            scores[i, t] -= 1
    return scores


def hop_distances(split: EvalSplit) -> tuple[dict, np.ndarray]:
    """Where the truth lies in the training graph: how many of the queries' test partners
    are two, three, or four or more hops away (or not connected: "4+"), and how many
    candidates each query has at two hops; and the (query, candidate) matrix of two-hop
    candidates."""
    A = (split.history.adjacency > 0).astype(np.int8).tocsr()
    found = {"2": 0, "3": 0, "4+": 0}
    at_two = np.zeros((split.n_queries, len(split.candidates)), dtype=bool)
    for i, (q, truth) in enumerate(zip(split.queries, split.truth, strict=True)):
        one = A[q].toarray().ravel() > 0
        two = (A.T @ one.astype(np.int8) > 0) & ~one
        two[q] = False
        three = (A.T @ (one | two).astype(np.int8) > 0) & ~(one | two)
        three[q] = False
        at_two[i] = two[split.candidates]
        for c in split.candidates[truth]:
            found["2" if two[c] else "3" if three[c] else "4+"] += 1
    total = sum(found.values())
    stats = {
        "truth_pairs": total,
        "share_at_hops": {k: v / total for k, v in found.items()},
        "candidates_at_two_hops_median": float(np.median(at_two.sum(axis=1))),
    }
    return stats, at_two


def main() -> None:
    env = environment()
    t0 = time.perf_counter()
    frames = read_cordis(default_data_dir() / "cordis_de")
    train, test = cordis_programme_split(frames)
    out: dict = {"benchmark": "matching_ceiling", "environment": env, "protocols": {}}
    for name, new_only in (("P1", True), ("P2", False)):
        split = make_split(frames, train, test, new_only=new_only)
        base = baseline_scores(split)
        pop = base["popularity"]
        tie = 1e-6 * pop / max(float(pop.max(initial=0)), 1.0)
        region = np.asarray(split.history.region, dtype=object)[split.queries].astype(str)
        loo = oracle_scores(split)
        scorers = {
            "popularity (training degree)": pop,
            "rank fusion + distance (best baseline)": base["rank_fusion_distance"],
            "oracle: true test popularity, own partners counted": oracle_scores(split, own=True)
            + tie,
            "oracle: true test popularity, leave-one-out": loo + tie,
        }
        for width, label in ((3, "NUTS-1"), (4, "NUTS-2")):
            regional = oracle_scores(split, np.array([r[:width] for r in region]))
            for weight in (0.0, 0.3, 1.0):
                scorers[f"oracle: {label} test popularity + {weight} x global, leave-one-out"] = (
                    regional + weight * loo + tie
                )
        hops = None
        if new_only:  # P1: the truth is new partners, whose distance in the graph says much
            hops, at_two = hop_distances(split)
            scorers["oracle: true test popularity, two-hop candidates first, leave-one-out"] = (
                loo + 1e3 * at_two + tie
            )
        metrics = {label: ranking_metrics(s, split) for label, s in scorers.items()}
        out["protocols"][name] = {
            "queries": split.n_queries,
            "candidates": len(split.candidates),
            "metrics": metrics,
        } | ({"hops": hops} if hops else {})
        if hops:
            shares = ", ".join(f"{k} hops {v:.3f}" for k, v in hops["share_at_hops"].items())
            print(
                f"{name} new partners by distance in the training graph: {shares} of "
                f"{hops['truth_pairs']} pairs; median candidates at 2 hops "
                f"{hops['candidates_at_two_hops_median']:.0f}"
            )
        for label, m in metrics.items():
            print(f"{name} {label:70s} R@10 {m['recall@10']:.3f}  Hit@10 {m['hit@10']:.3f}")
    out["seconds"] = round(time.perf_counter() - t0, 1)
    save("matching_ceiling", out)


if __name__ == "__main__":
    main()
