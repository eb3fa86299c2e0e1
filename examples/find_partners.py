"""Find research partners for SMEs, then spread them under capacity (Python API).

Generates a small synthetic ecosystem in memory, fits a ``PartnerRecommender`` on its
collaboration history and shows one SME's best research partners with the reasons behind
each. Asked one by one, most SMEs name the same few institutes, so the example then assigns
``--k`` partners to every SME with ``innoweave.matching.assign``, no partner serving more
than ``--capacity`` SMEs, and compares the spread of load (partners used, largest load, Gini
of load) and the expected collaborations with the unconstrained top-k. The shortlists and
the plan are written as CSV to ``--out``. Run it with
``.venv/bin/python examples/find_partners.py [--smes 400] [--k 3] [--capacity N]``
(``--quick``: a smaller ecosystem, as the tests run it).
"""

from __future__ import annotations

import argparse
import math
import textwrap
from pathlib import Path

import pandas as pd

import innoweave
from innoweave.matching import PartnerRecommender, assign, assignment_quality

MODE = "research"  # partners are universities and research institutes
SHORTLIST = 10  # candidates per SME handed to the assignment


def spread(plan, shortlist: pd.DataFrame) -> dict:
    """The figures that compare two plans: load spread and the chosen pairs' probabilities."""
    chosen = plan.pairs[["query", "partner"]].merge(shortlist, on=["query", "partner"])
    return {"pairs": plan.stats["assigned_pairs"], "partners used": plan.stats["partners_used"],
            "max load": plan.stats["max_load"], "Gini of load": round(plan.stats["gini_load"], 3),
            "mean rank": round(chosen["rank"].mean(), 2),
            "expected collaborations": round(chosen["score"].sum(), 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Recommend, assign under capacity, compare and write the tables; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/examples/find_partners"))
    parser.add_argument("--smes", type=int, default=400, help="SMEs in the synthetic ecosystem")
    parser.add_argument("--k", type=int, default=3, help="partners per SME")
    parser.add_argument("--capacity", type=int, help="most SMEs per partner (default: 1.5 × even)")
    parser.add_argument("--quick", action="store_true", help="120 SMEs (the tests)")
    args = parser.parse_args(argv)
    n_smes = 120 if args.quick else args.smes

    # More universities and institutes than the generator's default (one or two per few
    # regions), so that choosing among them matters.
    frames = innoweave.synthesize(n_smes=n_smes, seed=args.seed,
                                  n_universities=max(2, n_smes // 100),
                                  n_institutes=max(4, n_smes // 50))  # fmt: skip
    orgs = frames.organisations
    names = dict(zip(orgs["external_id"], orgs["name"], strict=True))
    smes = orgs.loc[orgs["kind"] == "sme", "external_id"].tolist()

    rec = PartnerRecommender(modes=(MODE,), seed=args.seed).fit(frames)
    n_partners = len(rec.candidates(MODE))
    print(f"{len(smes)} SMEs, {n_partners} research partners; {rec.fit_notes_[MODE]}")

    # Each SME's shortlist: partners it has not worked with yet, best first, with reasons.
    # (recommend_many scores all SMEs in one batch: the same rows as recommend() one by one)
    shortlist = rec.recommend_many(smes, mode=MODE, k=SHORTLIST)
    shortlist = shortlist.rename(columns={"query_id": "query", "partner_id": "partner"})
    # a learned ranker scores probabilities; on too little history the linear fallback scores
    learned = rec.rankers_[MODE] is not None
    print(f"\nBest research partners for {names[smes[0]]}:")
    for row in shortlist[shortlist["query"] == smes[0]].head(5).itertuples():
        print(f"{row.rank:3}. {row.name} ({row.kind}), {'probability' if learned else 'score'} {row.score:.2f}")
        print(textwrap.indent(textwrap.fill(row.explanation, width=90), " " * 5))

    # assign() maximises the sum of the scores it is given. For probabilities p, log p shifted
    # to be >= 1 gives the proportionally fair plan of docs/matching.md: an SME is moved to a
    # later choice only where that partner is still likely for it. (Without a learned ranker
    # the scores are the linear fallback, not probabilities: shifted as they are.)
    p = shortlist["score"].to_numpy()
    quality = assignment_quality(p) if learned else p - p.min() + 1
    candidates = shortlist[["query", "partner"]].assign(score=quality)
    capacity = args.capacity or math.ceil(1.5 * args.k * len(smes) / n_partners)
    # A capacity of one slot per SME never binds: each SME simply gets its own top k.
    top_k = assign(candidates, k=args.k, capacity=len(smes))
    plan = assign(candidates, k=args.k, capacity=capacity)

    rows = {f"top-{args.k}, no capacity": spread(top_k, shortlist),
            f"capacity {capacity}": spread(plan, shortlist)}  # fmt: skip
    comparison = pd.DataFrame.from_dict(rows, orient="index")
    print(f"\n{args.k} partners per SME, each partner at most {capacity} SMEs:")
    print(comparison.to_string())

    args.out.mkdir(parents=True, exist_ok=True)
    columns = ["query", "query_name", "rank", "partner", "name", "kind", "score", "distance_km",
               "explanation"]  # fmt: skip
    shortlist[columns].to_csv(args.out / "recommendations.csv", index=False)
    chosen = plan.pairs[["query", "partner"]].merge(shortlist[columns], on=["query", "partner"])
    chosen.sort_values(["query", "rank"]).to_csv(args.out / "assignment.csv", index=False)
    print(f"\nShortlists and plan written to {args.out}/recommendations.csv and assignment.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
