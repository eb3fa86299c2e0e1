"""The main job, end to end on the embedded SQLite registry (``make demo``).

Initialises the registry, imports the real ecosystem from ``shared/data/cordis_de`` when it
is present (else generates a synthetic one), runs every analysis that exists, and says
where the results are.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path


def innoweave(*args: str, capture: bool = False) -> str:
    cmd = [sys.executable, "-m", "innoweave", *args]
    print("$ innoweave " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    innoweave("db", "init")
    cordis = args.data / "cordis_de"
    if (cordis / "organisations.csv.gz").exists():
        innoweave("import", "cordis", str(cordis))
    else:
        print(f"{cordis} absent: generating a synthetic ecosystem", file=sys.stderr)
        innoweave("synth", "--smes", "2000", "--seed", str(args.seed))
    stats = json.loads(innoweave("db", "stats", "--json", capture=True))
    (args.out / "registry_stats.json").write_text(json.dumps(stats, indent=2))

    print(f"\nRegistry: {stats['organisations']:,} organisations, {stats['projects']:,} projects, "
          f"{stats['participations']:,} participations (innoweave.db)", file=sys.stderr)
    print(f"Results are in {args.out.resolve()}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
