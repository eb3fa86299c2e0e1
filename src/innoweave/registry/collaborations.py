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

from collections.abc import Iterable

import pandas as pd

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import collaboration_mode

MAX_CONSORTIUM = 40


def shared_projects(
    frames: RegistryFrames,
    *,
    projects: Iterable[str] | None = None,
    max_consortium: int = MAX_CONSORTIUM,
) -> pd.DataFrame:
    """Unordered pairs (``org_a < org_b``) that share a project, with ``projects`` shared.

    ``projects`` limits the count to those projects (e.g. a time window); a project with
    more than ``max_consortium`` members creates no pairs.
    """
    parts = frames.participations[["project_external_id", "org_external_id"]].dropna().drop_duplicates()
    if projects is not None:
        parts = parts[parts["project_external_id"].isin(set(projects))]
    size = parts.groupby("project_external_id")["org_external_id"].transform("size")
    parts = parts[size.between(2, max_consortium)]
    pairs = parts.merge(parts, on="project_external_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["org_external_id_a"] < pairs["org_external_id_b"]]
    counted = (
        pairs.groupby(["org_external_id_a", "org_external_id_b"]).size().rename("projects").reset_index()
    )
    counted.columns = ["org_a", "org_b", "projects"]
    return counted


def collaboration_pairs(frames: RegistryFrames, *, max_consortium: int = MAX_CONSORTIUM) -> pd.DataFrame:
    """One row per unordered pair that shares a project: ``org_a, org_b, projects, modes``.

    ``modes`` is a sorted tuple of mode names; ``projects`` the number of shared projects.
    """
    counted = shared_projects(frames, max_consortium=max_consortium)
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
