"""Fit the recommender on the CORDIS registry and rank partners for every SME, in each mode.

Target (issue 3): fit, then top-10 for all ~2,500 SMEs of ``cordis_de``, under 20 s on 2 cores.
Run: ``.venv/bin/python benchmarks/matching_cordis.py`` (writes benchmarks/results/matching_cordis.json).

The machine is shared, so each step records its CPU seconds beside its wall seconds (the
re-ranking kernel runs on two threads, so its CPU time may exceed its wall time). Where the
learned model re-ranks a shortlist (alliance mode: more than ``5 × rerank`` candidates), the
same top-10 is also computed by the reference path — the ranker's own ``predict`` on the
whole block — side by side in this run, and the lists are checked to be identical.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from matching_common import environment, peak_rss_gb, save

from innoweave.config import default_data_dir
from innoweave.matching import PartnerRecommender
from innoweave.matching.features import feature_matrix
from innoweave.matching.ranker import normalised_features
from innoweave.registry.cordis import read_cordis


def timed(fn):
    """``(result, wall seconds, CPU seconds)`` of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def _reference_predict(ranker, features, *, pairs):
    X = feature_matrix(normalised_features(features, ranker.scale_), ranker.feature_names_)
    out = np.full(pairs.shape, -np.inf)
    out[pairs] = ranker.model_.predict_proba(X)[:, 1].reshape(pairs.shape)[pairs]
    return out


def main() -> None:
    env = environment()
    frames, t_read, _ = timed(lambda: read_cordis(default_data_dir() / "cordis_de"))
    result = {"benchmark": "matching_cordis", "environment": env, "read_s": t_read, "modes": {}}
    for mode in ("research", "alliance", "intermediary"):
        rec, t_fit, c_fit = timed(lambda m=mode: PartnerRecommender(modes=(m,), seed=0).fit(frames))
        smes = np.flatnonzero(rec.history_.kinds == "sme")
        (idx, scores), t_top, c_top = timed(lambda r=rec, m=mode, q=smes: r.top_k(q, mode=m, k=10))
        n_cands = len(rec.candidates(mode))
        row = {"smes": len(smes), "candidates": n_cands, "fit_s": t_fit, "top10_all_smes_s": t_top,
               "fit_plus_top10_s": round(t_fit + t_top, 2), "fit_cpu_s": c_fit, "top10_cpu_s": c_top,
               "model": rec.fit_notes_[mode], "two_stage": rec._reranks_shortlist(n_cands), "target_s": 20}  # fmt: skip
        if row["two_stage"] and rec.rankers_[mode] is not None:
            # reference second stage: scikit-learn predicts from the full block's feature matrix
            rec.rankers_[mode].predict = partial(_reference_predict, rec.rankers_[mode])
            (ref_idx, ref_scores), t_ref, c_ref = timed(lambda r=rec, m=mode, q=smes: r.top_k(q, mode=m, k=10))
            row["reference_top10_s"], row["reference_top10_cpu_s"] = t_ref, c_ref
            row["identical_to_reference"] = bool(np.array_equal(idx, ref_idx) and np.array_equal(scores, ref_scores))
        result["modes"][mode] = row
        print(mode, row, flush=True)
    result["peak_rss_gb"] = round(peak_rss_gb(), 2)
    save("matching_cordis", result)


if __name__ == "__main__":
    main()
