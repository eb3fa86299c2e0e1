"""Benchmark of the synthetic ecosystem: ``synthesize`` at 10,000 and 100,000 SMEs.

For each size it times the whole generation (regions, clusters, organisations, the
attribute model, the collaboration history) as wall-clock and process CPU seconds, the
attribute model alone on the same number of firms, and records the calibration: the
largest gap between an NCSES share and the share the synthetic SMEs reach, by size class
(only classes with at least 2,000 firms in the denominator, where sampling noise is below
about one point). It also draws 20,000 firms per size class and saves the full calibration
table (target vs achieved, every measure and class) to ``benchmarks/results/synth_calibration.csv``
— the table in ``docs/synthetic.md``. Prints the figures and saves them to
``benchmarks/results/synth.json``.

    .venv/bin/python benchmarks/synth.py                 # 10k and 100k
    .venv/bin/python benchmarks/synth.py --sizes 10000   # one size

Target (issue 2): 100k SMEs in well under a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import pandas as pd
from configurations import results_dir

import innoweave
from innoweave.registry.attributes import AttributeModel, calibration_table
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.ncses import SIZE_CLASSES, load_ncses_shares
from innoweave.registry.stages import stage_distribution
from innoweave.registry.synth import synthesize

RESULTS = results_dir()


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def run(n_smes: int, seed: int) -> dict:
    shares = load_ncses_shares()
    frames, wall, cpu = _timed(lambda: synthesize(n_smes=n_smes, seed=seed, shares=shares))
    firms = RegistryFrames(pd.DataFrame({"external_id": [f"b:{i}" for i in range(n_smes)],
                                         "name": "firm", "kind": "sme"}))  # fmt: skip
    model = AttributeModel(shares=shares).fit()
    _, model_wall, model_cpu = _timed(lambda: model.complete(firms, seed=seed))
    table = calibration_table(frames, shares)
    table = table[table["n"] >= 2000]
    worst = table.loc[table["diff"].abs().idxmax()] if len(table) else None
    return {
        "n_smes": n_smes,
        "seed": seed,
        "counts": {**frames.counts(), "clusters": len(frames.clusters)},
        "by_kind": frames.organisations["kind"].value_counts().to_dict(),
        "synthesize_wall_s": wall,
        "synthesize_cpu_s": cpu,
        "attribute_model_wall_s": model_wall,
        "attribute_model_cpu_s": model_cpu,
        "stage_distribution": {k: round(v, 4) for k, v in stage_distribution(frames).items()},
        "calibration_max_abs_diff": None if worst is None else round(float(abs(worst["diff"])), 4),
        "calibration_worst": None if worst is None else
        f"{worst['measure']} ({worst['size_class']}, n={int(worst['n'])})",
        "calibration_measures_checked": int(len(table)),
    }


def calibration(seed: int, per_class: int = 20_000) -> pd.DataFrame:
    """Target vs achieved shares for ``per_class`` firms of each size class."""
    shares = load_ncses_shares()
    n = per_class * len(SIZE_CLASSES)
    firms = RegistryFrames(pd.DataFrame({"external_id": [f"c:{i}" for i in range(n)],
                                         "name": "firm", "kind": "company"}))  # fmt: skip
    model = AttributeModel(shares=shares, size_mix=dict.fromkeys(SIZE_CLASSES, 1.0))
    return calibration_table(model.complete(firms, seed=seed), shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibration-seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=RESULTS / "synth.json")
    args = parser.parse_args()
    results = []
    for n in args.sizes:
        r = run(n, args.seed)
        results.append(r)
        print(f"{n:>7,} SMEs: synthesize {r['synthesize_wall_s']:6.2f} s wall "
              f"({r['synthesize_cpu_s']:.2f} s CPU); attribute model {r['attribute_model_wall_s']:.2f} s; "
              f"{r['counts']['organisations']:,} orgs, {r['counts']['projects']:,} projects, "
              f"{r['counts']['participations']:,} participations; calibration max |diff| "
              f"{r['calibration_max_abs_diff']} ({r['calibration_worst']})")  # fmt: skip
    table = calibration(args.calibration_seed)
    table_path = args.out.with_name(args.out.stem + "_calibration.csv")
    table_path.parent.mkdir(parents=True, exist_ok=True)
    table.round(4).to_csv(table_path, index=False)
    worst = table.loc[table["diff"].abs().idxmax()]
    print(f"calibration, 20,000 firms per size class: {len(table)} measures, max |diff| "
          f"{abs(worst['diff']):.4f} ({worst['measure']}, {worst['size_class']}); saved {table_path}")
    payload = {
        "benchmark": "synth",
        "version": innoweave.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},  # fmt: skip
        "target": "100,000 SMEs in well under a minute",
        "results": results,
        "calibration": {"firms_per_class": 20_000, "seed": args.calibration_seed,
                        "measures": int(len(table)),
                        "max_abs_diff": round(float(abs(worst["diff"])), 4),
                        "worst": f"{worst['measure']} ({worst['size_class']})",
                        "table": table_path.name},  # fmt: skip
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
