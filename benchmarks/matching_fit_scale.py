"""The learned ranker's fit on a large registry: time and peak memory, blocked against every pair.

The recommender learns its ranking model inside the training period (fit slice, then
validation slice). Its fit computes the pair features of a block of queries at a time (256,
or fewer so that a block holds at most ``BLOCK_PAIRS`` pairs) and fits the shortlist's linear
weights on at most ``LINEAR_FIT_PAIRS`` pairs (every positive and a weighted sample of the
negatives). With ``--topk N`` the top-10 lists of the first N SMEs follow (``top_k``: blocks
of at most 512 queries and ``BLOCK_PAIRS`` pairs). The baseline, run beside it in the same
invocation, is the former way: every pair's features at once (one block), every pair in the
linear fit, and blocks of 512 queries whatever the candidates in ``top_k``. Each
configuration runs in a fresh process (so each peak memory is its own) and fits
``PartnerRecommender(modes=("alliance",))`` on a synthetic registry of ``--smes`` SMEs
(``registry.synth``, seed 1): at 100k SMEs every firm is a candidate (~101,000).

Run: ``.venv/bin/python benchmarks/matching_fit_scale.py [--smes 30000] [--topk 2048] [--no-baseline]``
(prints and saves ``benchmarks/results/matching_fit_scale_<smes>.json``; 100k SMEs: ~5 min
blocked, ~6 min and ~20 GB for the baseline — leave it out on a smaller machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from matching_common import environment, peak_rss_gb, save

CONFIGS = ("blocked", "every_pair")


def one(config: str, smes: int, seed: int, topk: int) -> dict:
    """Fit once in this process (then rank ``topk`` SMEs) and report time, peak memory and
    what was learned."""
    import innoweave.matching.evaluation as evaluation
    import innoweave.matching.features as features
    import innoweave.matching.ranker as ranker
    from innoweave.matching import PartnerRecommender
    from innoweave.registry.synth import synthesize

    if config == "every_pair":
        evaluation.QUERY_BLOCK = sys.maxsize
        features.BLOCK_PAIRS = sys.maxsize
        ranker.LINEAR_FIT_PAIRS = sys.maxsize
    frames = synthesize(n_smes=smes, seed=1)
    read_gb = peak_rss_gb()
    start = time.perf_counter()
    rec = PartnerRecommender(modes=("alliance",), seed=seed).fit(frames)
    seconds = time.perf_counter() - start
    learned = rec.rankers_["alliance"]
    fit_peak = peak_rss_gb()  # before the ranking stage, which reports its own peak
    ranking = _ranking(rec, topk) if topk else None
    return {
        "fit_s": round(seconds, 1), "peak_rss_gb": round(fit_peak, 2), "peak_rss_before_fit_gb": round(read_gb, 2),
        "candidates": int(len(rec.candidates("alliance"))), "note": rec.fit_notes_["alliance"],
        "validation": learned.validation_ if learned else None,
        "shortlist_weights": learned.scoring_weights_ if learned else None, "top10": ranking,
    }  # fmt: skip


def _ranking(rec, n: int) -> dict:
    """Time and peak memory (sampled every 20 ms) of the top-10 lists of the first ``n`` SMEs,
    and a digest of the lists (the same lists in both configurations)."""
    import hashlib
    import threading

    import numpy as np

    def rss_gb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9

    peak, done = [rss_gb()], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_gb())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    queries = np.flatnonzero(rec.history_.kinds == "sme")[:n]
    start = time.perf_counter()
    idx, scores = rec.top_k(queries, mode="alliance", k=10)
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return {"queries": len(queries), "seconds": round(seconds, 1), "peak_rss_gb": round(peak[0], 2),
            "lists_sha1": hashlib.sha1(idx.tobytes()).hexdigest()[:12]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smes", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="fit the blocked way only")
    parser.add_argument("--topk", type=int, default=0, help="then rank the first N SMEs (top-10)")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.smes, args.seed, args.topk)))
        return
    runs = {}
    for config in CONFIGS[:1] if args.no_baseline else CONFIGS:
        done = subprocess.run([sys.executable, __file__, "--one", config, "--smes", str(args.smes),
                               "--seed", str(args.seed), "--topk", str(args.topk)],
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:  # the baseline may run out of memory: say so, keep the other
            runs[config] = {"failed": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
        else:
            runs[config] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{config}: {runs[config]}", flush=True)
    result = {
        "benchmark": "matching_fit_scale", "environment": environment(),
        "command": f"PartnerRecommender(modes=('alliance',), seed={args.seed}).fit(synthesize(n_smes={args.smes}, seed=1))",
        "smes": args.smes, "runs": runs,
    }  # fmt: skip
    if "every_pair" in runs and "fit_s" in runs.get("every_pair", {}) and "fit_s" in runs["blocked"]:
        result["memory_ratio"] = round(runs["every_pair"]["peak_rss_gb"] / runs["blocked"]["peak_rss_gb"], 2)
        result["time_ratio"] = round(runs["every_pair"]["fit_s"] / runs["blocked"]["fit_s"], 2)
    save(f"matching_fit_scale_{args.smes}", result)


if __name__ == "__main__":
    main()
