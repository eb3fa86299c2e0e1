"""The main job, end to end on the embedded SQLite registry (``make demo``).

Initialises the registry, imports the real ecosystem from ``shared/data/cordis_de`` when it
is present (else generates a synthetic one), completes missing firm attributes with the
attribute model (flagged synthetic), then runs every analysis in the order of the flow:
diagnosis → clusters → matchmaking → policy simulation. Each result lands in ``--out``
and the last lines say where. ``--quick`` shrinks the costly steps (used by the tests).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def innoweave(*args: str, out: Path | None = None) -> str:
    """Run one ``innoweave`` command; with ``out`` its stdout is saved there too."""
    cmd = [sys.executable, "-m", "innoweave", *args]
    print("\n$ innoweave " + " ".join(args), file=sys.stderr, flush=True)
    done = subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE)
    if out is not None:
        out.write_text(done.stdout)
    return done.stdout


def first_sme() -> str:
    """The registry's first SME, to show one profile and one recommendation."""
    listing = json.loads(innoweave("orgs", "list", "--kind", "sme", "--limit", "1", "--json"))
    return str(listing["data"][0]["external_id"])


def main(argv: list[str] | None = None) -> int:
    """Run the whole flow (``make demo``) into ``--out``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--smes", type=int, default=3000, help="synthetic SMEs when no real data")
    parser.add_argument("--quick", action="store_true", help="smaller runs (tests)")
    parser.add_argument("--synthetic", action="store_true", help="ignore real data")
    args = parser.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    seed = str(args.seed)
    started = time.perf_counter()

    # 1. Registry
    innoweave("db", "init")
    cordis = args.data / "cordis_de"
    real = (cordis / "organisations.csv.gz").exists() and not args.synthetic
    if real:
        innoweave("import", "cordis", str(cordis))
    else:
        print(f"{cordis} absent: generating a synthetic ecosystem", file=sys.stderr)
        innoweave("synth", "--smes", str(args.smes), "--seed", seed)
    innoweave("complete", "--seed", seed, "--json", out=out / "attribute_completion.json")
    stats = json.loads(innoweave("db", "stats", "--json", out=out / "registry_stats.json"))
    innoweave("template", "all", "--format", "xlsx", "-o", str(out / "registry_template.xlsx"))
    innoweave("export", "--format", "csv", "-o", str(out / "registry_export"))
    sme = first_sme()

    # 2. Diagnosis
    if (args.data / "eis2023_database").is_dir():
        innoweave("diagnose", "eis", "--json", out=out / "eis_reproduction.json")
        draws = "100" if args.quick else "1000"
        innoweave("diagnose", "eis-uncertainty", "--draws", draws, "--sobol", "0" if args.quick else "256",
                  "--seed", seed, "--plot", str(out / "eis_ranking.png"), "--json",
                  out=out / "eis_uncertainty.json")  # fmt: skip
    innoweave("diagnose", "stages", "--json", out=out / "growth_stages.json")
    innoweave("diagnose", "questionnaire", "--out", str(out / "questionnaire_form.xlsx"))  # to send to the SMEs
    innoweave("diagnose", "batch", "--out", str(out / "sme_diagnosis.xlsx"), "--seed", seed)
    innoweave("diagnose", "sme", sme, "--plot", str(out / "sme_radar.png"), "--json",
              out=out / "sme_profile.json")  # fmt: skip

    # 3. Clusters
    uscmp = args.data / "us_cluster_mapping_2016" / "state_cluster_2016.csv"
    if uscmp.exists():
        innoweave("clusters", "reproduce-uscmp", "--data", str(uscmp), "--json",
                  out=out / "uscmp_reproduction.json")  # fmt: skip
    innoweave("clusters", "network", "--seed", seed, "--out", str(out / "network"),
              "--picture", str(out / "network.png"), "--json", out=out / "network.json")  # fmt: skip
    innoweave("clusters", "spatial", "--out", str(out / "spatial"), "--map", str(out / "spatial_map.png"),
              "--json", out=out / "spatial.json")  # fmt: skip

    # 4. Matchmaking
    innoweave("match", "recommend", sme, "--mode", "research", "--k", "10", "--seed", seed, "--json",
              out=out / "recommendations.json")  # fmt: skip
    # the fair plan: up to three research partners per SME, at most five SMEs per partner. The
    # partners' capacity binds, so not every SME gets three (on CORDIS about 1,700 of the 7,458
    # pairs asked for are assigned; the command says how many and what would assign more)
    innoweave("match", "assign", "--mode", "research", "--k", "3", "--capacity", "5", "--seed", seed,
              "--out", str(out / "assignment.csv"), "--json", out=out / "assignment.json")  # fmt: skip
    if real and not args.quick:
        innoweave("match", "evaluate", "--preset", "cordis-de", "--data-dir", str(cordis), "--seed", seed,
                  "--json", out=out / "matching_evaluation.json")  # fmt: skip

    # 5. Policy simulation (the shipped scenarios simulate their own synthetic population of
    # firms, calibrated to NCSES, not the registry above)
    paths = json.loads(innoweave("simulate", "examples", "--json"))
    reps = ["-r", "2", "--horizon", "4"] if args.quick else []
    innoweave("simulate", "compare", paths["baseline"], paths["capital"], paths["technology"],
              paths["policy_mix"], "--out", str(out / "simulation"), *reps, "--json", "-q",
              out=out / "simulation_comparison.json")  # fmt: skip
    # the menu: each instrument alone at 10 a quarter against no policy
    menu = ["-r", "2", "--horizon", "4", "--instruments", "awareness_campaign,innovation_voucher"
            ] if args.quick else []
    innoweave("simulate", "menu", paths["baseline"], "--budget", "10", "--out",
              str(out / "instrument_menu"), *menu, "--json", "-q",
              out=out / "instrument_menu.json")  # fmt: skip

    print(f"\nRegistry: {stats['organisations']:,} organisations, {stats['projects']:,} projects, "
          f"{stats['participations']:,} participations in innoweave.db "
          f"({'real CORDIS data' if real else 'synthetic ecosystem'})", file=sys.stderr)
    print(f"Done in {time.perf_counter() - started:.0f} s. Results are in {out.resolve()}/:",
          file=sys.stderr)
    for path in sorted(out.iterdir()):
        print(f"  {path.name}{'/' if path.is_dir() else ''}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
