"""Collaborations as pairs of organisations, each with its derived mode(s).

Two organisations collaborate when they take part in the same project. The mode of a pair
follows from the two kinds (and clusters) by :func:`~innoweave.registry.kinds.collaboration_mode`:
firm–firm is an inter-enterprise alliance, firm–university or research institute is
industry–university–research cooperation, a pair with an intermediary is intermediated, and
two members of one cluster also count as cluster cooperation. Projects with more than
``max_consortium`` members create no pairs (everyone-meets-everyone cliques); they still
count as activity elsewhere.
"""

from __future__ import annotations

import pandas as pd

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import collaboration_mode

MAX_CONSORTIUM = 40


def collaboration_pairs(frames: RegistryFrames, *, max_consortium: int = MAX_CONSORTIUM) -> pd.DataFrame:
    """One row per unordered pair that shares a project: ``org_a, org_b, projects, modes``.

    ``modes`` is a sorted tuple of mode names; ``projects`` the number of shared projects.
    """
    parts = frames.participations[["project_external_id", "org_external_id"]].drop_duplicates()
    size = parts.groupby("project_external_id")["org_external_id"].transform("size")
    parts = parts[size.between(2, max_consortium)]
    pairs = parts.merge(parts, on="project_external_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["org_external_id_a"] < pairs["org_external_id_b"]]
    counted = (
        pairs.groupby(["org_external_id_a", "org_external_id_b"]).size().rename("projects").reset_index()
    )
    counted.columns = ["org_a", "org_b", "projects"]
    orgs = frames.organisations.set_index("external_id")
    kind, cluster = orgs["kind"], orgs["cluster"].where(orgs["cluster"].notna(), None)
    keys = pd.MultiIndex.from_arrays(
        [counted["org_a"].map(kind), counted["org_b"].map(kind),
         counted["org_a"].map(cluster), counted["org_b"].map(cluster)]  # fmt: skip
    )
    memo: dict[tuple, tuple[str, ...]] = {}
    modes = []
    for key in keys:
        if key not in memo:
            memo[key] = tuple(sorted(m.value for m in collaboration_mode(
                key[0], key[1], cluster_a=key[2], cluster_b=key[3])))  # fmt: skip
        modes.append(memo[key])
    counted["modes"] = modes
    return counted


def mode_counts(pairs: pd.DataFrame) -> dict[str, int]:
    """Number of collaborating pairs in each mode (a pair may count in several)."""
    exploded = pairs["modes"].explode()
    return {str(k): int(v) for k, v in exploded.value_counts().sort_index().items()}
