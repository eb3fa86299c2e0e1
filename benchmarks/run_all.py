"""Run every benchmark (``make bench``): small sizes by default, ``--size large`` for the targets.

Each script runs in its own process (so its memory is its own) and saves its JSON in the
size's folder — ``benchmarks/results/small/`` for the quick check, ``benchmarks/results/`` for
the targets (the documented figures) — and this runner adds ``run_all.json`` there with each
script's exit status and wall time. ``--only NAME ...`` picks some. ``compare.py`` (``make
bench-compare``) then lists what moved against the results committed at HEAD.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from configurations import CONFIGURATIONS, HERE, RESULTS_ENV, RESULTS_FOLDERS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=["small", "large"], default="small")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGURATIONS), default=None)
    args = parser.parse_args(argv)
    names = args.only or list(CONFIGURATIONS)
    folder = RESULTS_FOLDERS[args.size]
    env = dict(os.environ, **{RESULTS_ENV: str(folder)})
    summary = {"size": args.size, "results": str(folder.relative_to(HERE.parent)), "runs": {}}
    for name in names:
        script, *rest = CONFIGURATIONS[name][args.size]
        cmd = [sys.executable, str(HERE / script), *rest]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env)
        summary["runs"][name] = {
            "command": " ".join(["python", f"benchmarks/{script}", *rest]),
            "returncode": done.returncode,
            "wall_s": round(time.perf_counter() - start, 2),
        }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run_all.json").write_text(json.dumps(summary, indent=2))
    failed = [n for n, r in summary["runs"].items() if r["returncode"] != 0]
    print(json.dumps(summary, indent=2))
    print("what moved against the committed results: make bench-compare", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
