"""Derived collaboration modes of organisation pairs."""

from __future__ import annotations

import pandas as pd

from innoweave.registry.collaborations import collaboration_pairs, mode_counts
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import CollaborationMode, collaboration_mode


def _frames() -> RegistryFrames:
    orgs = pd.DataFrame(
        {
            "external_id": ["s1", "s2", "u1", "i1", "g1", "big1", "big2", "big3"],
            "name": list("ABCDEFGH"),
            "kind": ["sme", "sme", "university", "intermediary", "government",
                     "sme", "sme", "large_firm"],  # fmt: skip
            "cluster": ["c1", "c1", None, None, None, None, None, None],
        }
    )
    parts = pd.DataFrame(
        {
            "project_external_id": ["p1", "p1", "p1", "p1", "p2", "p2", "p2", "p2", "p2"],
            "org_external_id": ["s1", "s2", "u1", "i1", "big1", "big2", "big3", "s1", "g1"],
        }
    )
    projects = pd.DataFrame({"external_id": ["p1", "p2"], "title": ["a", "b"]})
    return RegistryFrames(orgs, projects, parts)


def test_pair_modes_follow_the_kinds_and_clusters():
    pairs = collaboration_pairs(_frames(), max_consortium=4).set_index(["org_a", "org_b"])
    assert pairs.loc[("s1", "s2"), "modes"] == ("cluster_cooperation", "inter_enterprise_alliance")
    assert pairs.loc[("s1", "u1"), "modes"] == ("industry_university_research",)
    assert pairs.loc[("i1", "s1"), "modes"] == ("intermediated",)
    # p2 has 5 members > max_consortium=4: it creates no pairs
    assert ("big1", "big2") not in pairs.index
    assert len(pairs) == 6


def test_mode_counts_count_a_pair_in_each_of_its_modes():
    counts = mode_counts(collaboration_pairs(_frames(), max_consortium=5))
    assert counts["cluster_cooperation"] == 1
    assert counts["inter_enterprise_alliance"] == 1 + 3 + 3  # s1-s2, p2's firm triangle + s1 with each
    assert counts["other"] == 4  # the government body g1 with each of p2's four firms
    assert counts["intermediated"] == 3  # i1 with s1, s2, u1
    assert sum(counts.values()) == len(collaboration_pairs(_frames(), max_consortium=5)) + 1


def test_unknown_kind_pair_is_other():
    assert collaboration_mode("government", "other") == {CollaborationMode.OTHER}
