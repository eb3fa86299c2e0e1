"""Stylised facts of the model (docs/model.md, validation 2): pass/fail with the numbers.

Runs :class:`innoweave.simulation.stylised.StylisedFacts` on the engine, prints each fact's
criterion, numbers and verdict, saves the report as JSON and the evidence as PNG plots
under ``benchmarks/results/``.

    python benchmarks/stylised_facts.py                 # 2000 firms, 40 steps, 8 replications
    python benchmarks/stylised_facts.py --firms 500 --steps 20 --replications 3   # quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from configurations import results_dir

from innoweave.simulation.stylised import StylisedFacts

RESULTS = results_dir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    facts = StylisedFacts(n_firms=args.firms, steps=args.steps,
                          replications=args.replications, seed=args.seed).fit()
    report = facts.report()
    report["seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    report["plots"] = [p.name for p in facts.plot(args.out)]  # beside the JSON
    path = args.out / "stylised_facts.json"
    path.write_text(json.dumps(report, indent=2, default=float))

    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        for name, fact in report["facts"].items():
            print(f"[{'PASS' if fact['passed'] else 'FAIL'}] {name}")
            print(f"    criterion: {fact['criterion']}")
            for key, value in fact.items():
                if key not in ("passed", "criterion"):
                    print(f"    {key}: {value}")
        print(f"all facts passed: {report['passed']}  ({report['seconds']:.0f} s; "
              f"{args.firms} firms, {args.steps} steps, {args.replications} replications)")
        print(f"wrote {path} and {len(report['plots'])} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
