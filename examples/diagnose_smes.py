"""Diagnose SMEs on the six restricting factors and recommend support (Python API).

Generates a small synthetic ecosystem in memory with ``innoweave.synthesize``, fits an
``SMEDiagnoser`` and prints what an analyst looks at first: how the SMEs spread over the four
growth stages, which factors hold them back most often (by stage), which instruments their
weaknesses call for, and one SME's profile: its six factor scores against its peers, its
weakest factors and the support recommended at its stage. A ``CompositeIndex`` then ranks the
regions on their SMEs' mean factor scores. One row per SME goes to ``OUT/smes.csv``, the
region ranking to ``OUT/regions.csv`` and the SME's full profile to ``OUT/profile.json``.
Run it with ``.venv/bin/python examples/diagnose_smes.py [--smes 600] [--sme ID] [--seed 0]``
(``--quick``: a smaller ecosystem, as the tests run it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

import innoweave
from innoweave.diagnosis import CompositeIndex, Hierarchy, IndicatorData
from innoweave.registry import RestrictingFactor

FACTORS = [f.value for f in RestrictingFactor]  # the diagnoser's six factor columns
STAGES = [s.value for s in innoweave.GrowthStage]


def main(argv: list[str] | None = None) -> int:
    """Diagnose the SMEs, print the summary and one profile, write the tables; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/examples/diagnose_smes"))
    parser.add_argument("--smes", type=int, default=600, help="SMEs in the synthetic ecosystem")
    parser.add_argument("--sme", help="external id of the SME to profile (default: the first)")
    parser.add_argument("--quick", action="store_true", help="150 SMEs (the tests)")
    args = parser.parse_args(argv)
    n_smes = 150 if args.quick else args.smes

    # synthesize() already draws every firm attribute (size, R&D, barriers, ...) with the
    # attribute model, so the diagnoser has nothing left to complete; on a CORDIS registry it
    # would draw them itself, seeded by `seed`, and flag them synthetic.
    frames = innoweave.synthesize(n_smes=n_smes, seed=args.seed)
    model = innoweave.SMEDiagnoser(seed=args.seed).fit(frames)
    table = model.transform()  # one row per SME
    print(f"{len(table)} SMEs diagnosed (no questionnaire answers: the factors rest on the "
          f"registry alone)")  # fmt: skip

    shares = model.stage_distribution()["shares"]
    print("\nGrowth stages: " + ", ".join(f"{s} {shares[s]:.0%}" for s in STAGES))

    # An SME names up to two weakest factors (the lowest peer percentiles below 50). Counting
    # them by stage shows which support each stage needs most.
    weak = model.weakest_.explode().rename("factor").to_frame().join(model.stages_.rename("stage"))
    by_stage = pd.crosstab(weak["factor"], weak["stage"]).reindex(columns=STAGES, fill_value=0)
    by_stage.insert(0, "all SMEs", by_stage.sum(axis=1))
    print("\nSMEs naming each factor among their weakest:")
    print(by_stage.sort_values("all SMEs", ascending=False).to_string())

    demand = table["recommended"].str.split("; ").explode().value_counts()
    print("\nInstruments recommended most often: "
          + ", ".join(f"{key} ({n})" for key, n in demand.head(5).items()))  # fmt: skip

    # One SME's profile. diagnose() returns a JSON-ready dict; its full text (reasons for
    # each instrument, indicator values) goes to profile.json.
    profile = model.diagnose(args.sme or table["org_id"].iloc[0])
    stage = profile["stage"]
    print(f"\nProfile of {profile['name']} ({profile['org_id']}), region {profile['region']}, "
          f"sector {profile['sector']}")  # fmt: skip
    print(f"Stage: {stage['value']} (from {stage['basis']} values: {stage['age']:.0f} years old, "
          f"{stage['employees']:.0f} employees, growth {stage['growth']:+.0%} a year)")  # fmt: skip
    peers = profile["peers"]
    print(f"Peers: {peers['size']} SMEs of the same {peers['level']}")
    print(f"{'factor':28}{'score':>7}{'peer median':>13}{'percentile':>12}")
    for f in profile["factors"].values():
        print(
            f"{f['label']:28}{f['score']:7.1f}{f['peer_median']:13.1f}{f['peer_percentile']:12.0f}"
        )
    labels = {code: f["label"] for code, f in profile["factors"].items()}
    print("Weakest: " + ", ".join(labels[f] for f in profile["weakest"]))
    for rec in profile["recommendations"]:
        print(f"  - {rec['name']} ({rec['resource']}), for {labels[rec['factor']].lower()}")
    for gap in profile["weakest_without_support"]:  # a weak factor no instrument serves here
        print(f"  ! {gap['reason']}")

    # Regions compared: the mean SME score of each region on each factor (not the median:
    # most SMEs have no project, so the median innovation level is 0 almost everywhere),
    # min-max scaled across regions (0 = the weakest region, 100 = the strongest), averaged.
    means = table.groupby("region")[[f"{f}_score" for f in FACTORS]].mean()
    means.columns = FACTORS
    hierarchy = Hierarchy({f: [f] for f in FACTORS}, index_name="region_index")
    index = CompositeIndex(hierarchy, scale=(0.0, 100.0), index_from="dimensions")
    index.fit(IndicatorData.from_wide(means))
    regions = index.scores(relative=False).drop(columns="year").rename(columns={"unit": "region"})
    regions = regions.sort_values("region_index", ascending=False, kind="stable")
    print("\nRegions by their SMEs' mean factor scores (0-100 across regions):")
    print(regions.round(1).to_string(index=False))

    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "smes.csv", index=False)
    regions.to_csv(args.out / "regions.csv", index=False)
    (args.out / "profile.json").write_text(
        json.dumps(profile, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    print(f"\nWritten to {args.out}: smes.csv, regions.csv, profile.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
