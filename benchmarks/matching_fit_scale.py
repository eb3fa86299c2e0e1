"""The learned ranker's fit on a large registry: time and peak memory, blocked against every pair.

The recommender learns its ranking model inside the training period (fit slice, then
validation slice). Its fit computes the pair features of :data:`QUERY_BLOCK` queries at a
time and fits the shortlist's linear weights on at most :data:`LINEAR_FIT_PAIRS` pairs (every
positive and a weighted sample of the negatives). The baseline, run beside it in the same
invocation, is the former way: every pair's features at once (one block) and every pair in the
linear fit. Each configuration runs in a fresh process (so each peak memory is its own) and
fits ``PartnerRecommender(modes=("alliance",))`` on a synthetic registry of ``--smes`` SMEs
(``registry.synth``, seed 1): at 100k SMEs every firm is a candidate (~101,000).

Run: ``.venv/bin/python benchmarks/matching_fit_scale.py [--smes 30000] [--no-baseline]``
(prints and saves ``benchmarks/results/matching_fit_scale_<smes>.json``; 100k SMEs: ~5 min
blocked, ~6 min and ~20 GB for the baseline — leave it out on a smaller machine).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from matching_common import environment, peak_rss_gb, save

CONFIGS = ("blocked", "every_pair")


def one(config: str, smes: int, seed: int) -> dict:
    """Fit once in this process and report time, peak memory and what was learned."""
    import innoweave.matching.evaluation as evaluation
    import innoweave.matching.ranker as ranker
    from innoweave.matching import PartnerRecommender
    from innoweave.registry.synth import synthesize

    if config == "every_pair":
        evaluation.QUERY_BLOCK = sys.maxsize
        ranker.LINEAR_FIT_PAIRS = sys.maxsize
    frames = synthesize(n_smes=smes, seed=1)
    read_gb = peak_rss_gb()
    start = time.perf_counter()
    rec = PartnerRecommender(modes=("alliance",), seed=seed).fit(frames)
    seconds = time.perf_counter() - start
    learned = rec.rankers_["alliance"]
    return {
        "fit_s": round(seconds, 1), "peak_rss_gb": round(peak_rss_gb(), 2), "peak_rss_before_fit_gb": round(read_gb, 2),
        "candidates": int(len(rec.candidates("alliance"))), "note": rec.fit_notes_["alliance"],
        "validation": learned.validation_ if learned else None,
        "shortlist_weights": learned.scoring_weights_ if learned else None,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smes", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true", help="fit the blocked way only")
    parser.add_argument("--one", choices=CONFIGS, help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.smes, args.seed)))
        return
    runs = {}
    for config in CONFIGS[:1] if args.no_baseline else CONFIGS:
        done = subprocess.run([sys.executable, __file__, "--one", config, "--smes", str(args.smes),
                               "--seed", str(args.seed)], capture_output=True, text=True)  # fmt: skip
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
