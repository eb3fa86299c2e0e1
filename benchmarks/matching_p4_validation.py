"""Choice of the P4 assignment objective by validation inside the training period.

P4 (issue 3) assigns k = 3 partners per SME under a capacity. Which quality the assignment
maximises — the ranker's probabilities (expected hits) or their logarithms (proportional
fairness) — is chosen here without reading the test period: the ranker's model is learned
on the fit slice of Horizon 2020 (history before the first cut, new partners up to the
second), scores the validation slice (history before the second cut, new partners after
it, still Horizon 2020), and both objectives are compared by Recall@3 and Gini of load per
capacity. Run: ``.venv/bin/python benchmarks/matching_p4_validation.py``.
"""

from __future__ import annotations

import time

from matching_common import environment, save

from innoweave.config import default_data_dir
from innoweave.matching.evaluation import RESEARCH_KINDS
from innoweave.matching.features import SIGNAL_FAMILIES
from innoweave.matching.protocols import P4_OBJECTIVES, cordis_programme_split, p4_capacity
from innoweave.matching.ranker import LearnedRanker, _make_model, ranker_feature_names
from innoweave.registry.cordis import read_cordis
from innoweave.seeding import make_rng


def main(seed: int = 0) -> None:
    env = environment()
    t0 = time.perf_counter()
    frames = read_cordis(default_data_dir() / "cordis_de")
    train, _ = cordis_programme_split(frames)
    ranker = LearnedRanker(model="logistic", seed=seed)
    ranker.feature_names_ = ranker_feature_names(SIGNAL_FAMILIES)
    (cut1, cut2), (fit, val) = ranker.slices(frames, train, query_kinds=("sme",), target_kinds=RESEARCH_KINDS,
                                             new_only=True)  # fmt: skip
    X, y = ranker._rows(fit, make_rng(seed))
    scores = ranker._predict(_make_model("logistic", seed).fit(X, y), val)
    result = {
        "seed": seed, "cuts": [str(cut1.date()), str(cut2.date())], "validation_queries": val.split.n_queries,
        "objectives": {o: p4_capacity(val.split, scores, objective=o) for o in P4_OBJECTIVES},
    }  # fmt: skip
    for o, caps in result["objectives"].items():
        print(o, {c: round(v["flow"]["recall@3"], 3) for c, v in caps.items()})
    result.update(benchmark="matching_p4_validation", environment=env, seconds=round(time.perf_counter() - t0, 1))
    save("matching_p4_validation", result)


if __name__ == "__main__":
    main()
