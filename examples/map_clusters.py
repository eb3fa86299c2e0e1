"""Map clusters: collaboration communities, spatial clusters and specialisation (Python API).

Generates a small synthetic ecosystem in memory with ``innoweave.synthesize`` and maps its
clusters three ways: ``CollaborationCommunities`` finds the communities of the network of
joint projects (who is inside, who brokers) and the SMEs left out of it (isolated or on the
fringe: the targets of matchmaking policy); ``SpatialClusters`` finds SMEs working on similar
things close together; ``LocationQuotients`` on region × sector employment shows where each
region is specialised, and whether the registered clusters of the registry stand out. The
tables are written as CSV to ``--out``, the spatial clusters also as GeoJSON. Run it with
``.venv/bin/python examples/map_clusters.py [--smes 1000] [--seed 0] [--out DIR]``
(``--quick``: a smaller ecosystem, as the tests run it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

import innoweave
from innoweave.clusters import REGISTRY_COLUMNS, LocationQuotients, registry_employment

MIN_FIRMS = 10  # a specialisation needs this many firms, so one big firm alone is no cluster


def flat(table: pd.DataFrame) -> pd.DataFrame:
    """Lists and mappings in cells as short text, for CSV readers such as Excel."""

    def text(cell):
        if isinstance(cell, dict):
            return "; ".join(f"{k}: {v}" for k, v in cell.items())
        return "; ".join(map(str, cell)) if isinstance(cell, list) else cell

    return table.apply(lambda column: column.map(text))


def main(argv: list[str] | None = None) -> int:
    """Find communities, spatial clusters and specialisations, print and write them; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/examples/map_clusters"))
    parser.add_argument("--smes", type=int, default=1000, help="SMEs in the synthetic ecosystem")
    parser.add_argument(
        "--min-similarity",
        type=float,
        default=0.05,
        help="least topic similarity of spatial neighbours (0..1)",
    )
    parser.add_argument("--quick", action="store_true", help="200 SMEs (the tests)")
    args = parser.parse_args(argv)
    n_smes = 200 if args.quick else args.smes

    frames = innoweave.synthesize(n_smes=n_smes, seed=args.seed)
    orgs = frames.organisations
    print(f"{len(orgs)} organisations ({n_smes} SMEs), {len(frames.projects)} projects")

    # 1. Collaboration communities. Regions are compared at NUTS-2 (the first four characters
    # of the code); each synthetic region is a NUTS-2 region of its own.
    network = innoweave.CollaborationCommunities(seed=args.seed).fit(frames)
    communities = network.communities_.sort_values("internal_weight", ascending=False)
    sizes = ", ".join(map(str, sorted(communities["size"], reverse=True)))
    print(f"\n{len(communities)} collaboration communities (modularity "
          f"{network.modularity_:.2f}), sizes {sizes}")  # fmt: skip
    print("Strongest (by the weight of links inside):")
    for c in communities.head(3).itertuples():
        print(f"  {c.community}: {c.size} members ({c.smes} SMEs), {c.dominant_region_share:.0%} "
              f"in {c.dominant_region}; hubs {', '.join(c.hubs[:2])}; {' '.join(c.topics[:4])}")  # fmt: skip
    targets = network.policy_targets_
    print(f"SMEs outside the network: {(targets['status'] == 'isolated').sum()} isolated, "
          f"{(targets['status'] == 'peripheral').sum()} peripheral, by region:")  # fmt: skip
    print(pd.crosstab(targets["region"], targets["status"]).to_string())

    # 2. Spatial clusters of SMEs: chains of SMEs within 15 km of each other whose topic
    # profiles are at least --min-similarity alike. The generator puts a region's firms close
    # together, so with the default 0.05 a dense region is one cluster; a higher value (0.5
    # on 1,000 SMEs) splits it by industry.
    spatial = innoweave.SpatialClusters(min_similarity=args.min_similarity).fit(frames)
    placed = spatial.points_
    print(f"\n{len(spatial.clusters_)} spatial clusters hold {(placed['cluster'] >= 0).sum()} of "
          f"{len(placed)} SMEs placed:")  # fmt: skip
    for c in spatial.clusters_.itertuples():
        print(f"  {c.cluster}: {c.size} SMEs within {c.radius_km:.0f} km, mostly {c.dominant_region}"
              f"; {' '.join(c.topics[:4])}")  # fmt: skip

    # 3. Specialisation: employment of firms by region and sector (the division of their
    # first NACE code). There are no cluster types here, so each LQ is benchmarked against
    # all employment. (`innoweave clusters lq --registry` does the same from the database.)
    rows, _ = registry_employment(frames)
    lq = LocationQuotients(columns=REGISTRY_COLUMNS).fit(rows).table_
    strong = lq[(lq["lq"] >= 1.25) & (lq["establishments"] >= MIN_FIRMS)]
    print(f"\nSpecialisations (LQ >= 1.25, at least {MIN_FIRMS} firms): "
          + ", ".join(f"{r.region} {r.cluster} (LQ {r.lq:.1f}, {r.establishments:.0f} firms)"
                      for r in strong.sort_values("lq", ascending=False).itertuples()))  # fmt: skip
    # The registry's own cluster initiatives should show up as specialisations.
    registered = frames.clusters[["name", "region_code", "sector"]].merge(
        lq, left_on=["region_code", "sector"], right_on=["region", "cluster"], how="left"
    )
    print(
        "Registered clusters: "
        + ", ".join(
            f"{r.name} (LQ {r.lq:.1f}, {r.establishments:.0f} firms)"
            for r in registered.itertuples()
        )
    )

    args.out.mkdir(parents=True, exist_ok=True)
    flat(communities).to_csv(args.out / "communities.csv", index=False)
    targets.to_csv(args.out / "policy_targets.csv")
    network.centrality_.to_csv(args.out / "centrality.csv")
    flat(spatial.clusters_).to_csv(args.out / "spatial_clusters.csv", index=False)
    placed.to_csv(args.out / "spatial_points.csv", index=False)
    (args.out / "spatial_clusters.geojson").write_text(json.dumps(spatial.to_geojson()))
    lq.to_csv(args.out / "specialisation.csv", index=False)
    print(
        f"\nWritten to {args.out}: communities, policy_targets, centrality, spatial_clusters, "
        "spatial_points, specialisation (.csv) and spatial_clusters.geojson"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
