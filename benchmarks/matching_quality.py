"""Accuracy of the recommender on the CORDIS protocols P1, P2 and P4 beside every baseline.

Targets (issue 3): P1 Recall@10 ≥ 0.40, P2 Recall@10 ≥ 0.50, P4 (flat capacity 5)
Recall@3 ≥ 0.10 at a Gini of load ≤ 0.70. The ranker chooses its model by validation inside
the training period (Horizon 2020); Horizon Europe is only read for the final figures.
Run: ``.venv/bin/python benchmarks/matching_quality.py`` (same as
``innoweave match evaluate --preset cordis-de --json``).
"""

from __future__ import annotations

import time

from matching_common import environment, save

from innoweave.config import default_data_dir
from innoweave.matching.protocols import evaluate_preset
from innoweave.registry.cordis import read_cordis


def main() -> None:
    env = environment()
    t0 = time.perf_counter()
    result = evaluate_preset(read_cordis(default_data_dir() / "cordis_de"), seed=0)
    result.update(benchmark="matching_quality", environment=env, seconds=round(time.perf_counter() - t0, 1))
    save("matching_quality", result)


if __name__ == "__main__":
    main()
