"""Fixtures for the cluster tests: the U.S. Cluster Mapping folder and a small planted registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from innoweave.config import default_data_dir
from innoweave.registry.frames import RegistryFrames

USCMP_DIR = default_data_dir() / "us_cluster_mapping_2016"


@pytest.fixture(scope="session")
def uscmp_dir() -> Path:
    """The U.S. Cluster Mapping folder; tests using it skip where ../shared/data is absent."""
    if not (USCMP_DIR / "state_cluster_2016.csv").exists():
        pytest.skip(
            f"real data absent: {USCMP_DIR} (tests on real data run where shared/ is present)"
        )
    return USCMP_DIR


def planted_frames() -> RegistryFrames:
    """Two groups of organisations that work among themselves, joined by one broker.

    Group A (Berlin, batteries): a0..a5; group B (Munich, vaccines): b0..b5; ``broker`` is
    in one project of each group. ``lonely`` (an SME) only has a single-member project,
    ``ghost`` (an SME) has none, ``fringe`` (an SME) works with a3 only, ``island1`` and
    ``island2`` (SMEs) only with each other, and one giant project joins everybody but has
    more members than the linking limit used in the tests (8). One participation names an
    organisation missing from the registry.
    """
    orgs, projects, parts = [], [], []

    def org(eid, kind, lat, lon, region, keywords=()):
        orgs.append(
            {
                "external_id": eid,
                "name": eid.upper(),
                "kind": kind,
                "latitude": lat,
                "longitude": lon,
                "region_code": region,
                "keywords": list(keywords),
            }
        )

    def project(pid, title, members):
        projects.append({"external_id": pid, "title": title})
        parts.extend(
            {"external_id": f"{pid}:{m}", "project_external_id": pid, "org_external_id": m}
            for m in members
        )

    kinds = ["sme", "sme", "university", "sme", "large_firm", "government"]
    for i, kind in enumerate(kinds):
        org(f"a{i}", kind, 52.52 + 0.01 * i, 13.40 + 0.01 * i, "DE300", ["battery"])
        org(f"b{i}", kind, 48.14 + 0.01 * i, 11.58 + 0.01 * i, "DE212", ["vaccine"])
    org("broker", "intermediary", 50.11, 8.68, "DE712")
    org("lonely", "sme", 53.55, 9.99, "DE600")
    org("ghost", "sme", None, None, "DE600")
    org("fringe", "sme", 52.60, 13.50, "DE300")
    org("island1", "sme", 47.99, 7.84, "DE131")
    org("island2", "sme", 47.98, 7.85, "DE131")
    for g, topic in (
        ("a", "battery cell chemistry storage"),
        ("b", "vaccine immune antigen trial"),
    ):
        members = [f"{g}{i}" for i in range(6)]
        for k in range(6):  # ring of triangles: dense inside the group
            project(
                f"p{g}{k}", f"{topic} {k}", [members[k], members[(k + 1) % 6], members[(k + 2) % 6]]
            )
    project("pab1", "battery storage bridge", ["a0", "broker"])
    project("pab2", "vaccine bridge", ["b0", "broker"])
    project("psolo", "solo study", ["lonely"])
    project("pfringe", "battery recycling", ["fringe", "a3"])
    project("pisland", "solar island", ["island1", "island2", "nobody"])
    project(
        "pgiant",
        "giant consortium",
        [o["external_id"] for o in orgs if o["external_id"] != "ghost"],
    )
    return RegistryFrames(
        organisations=pd.DataFrame(orgs),
        projects=pd.DataFrame(projects),
        participations=pd.DataFrame(parts),
    )


@pytest.fixture
def planted() -> RegistryFrames:
    return planted_frames()


def _employment_table(
    rng: np.random.Generator, n_regions: int, n_traded: int = 6, n_local: int = 2
) -> pd.DataFrame:
    rows = []
    for r in range(n_regions):
        for c in range(n_traded + n_local):
            emp = 0 if rng.random() < 0.05 else int(rng.integers(10, 5000))
            rows.append(
                {
                    "region": f"R{r:03d}",
                    "cluster": f"C{c}",
                    "type": "traded" if c < n_traded else "local",
                    "employment": emp,
                    "establishments": 0 if emp == 0 else int(rng.integers(1, max(emp // 10, 2))),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def employment_table():
    """``employment_table(rng, n_regions)``: random region × cluster employment in the generic
    layout (6 traded and 2 local clusters), about 5 % zero cells."""
    return _employment_table


def _reference_flags(table: pd.DataFrame) -> pd.DataFrame:
    """The U.S. Cluster Mapping rules written out plainly (columns cluster, employment,
    establishments, lq), percentiles over each cluster's regions with employment."""
    parts = []
    for _, rows in table.groupby("cluster"):
        peers = rows[rows["employment"] > 0]
        lq, emp, est = rows["lq"], rows["employment"], rows["establishments"]
        p = {
            (col, q): np.percentile(peers[col], q)
            for col in ("lq", "employment", "establishments")
            for q in (25, 50, 75, 90)
        }
        big = (emp > p["employment", 25]) & (est > p["establishments", 25])
        parts.append(
            pd.DataFrame(
                {
                    "strong": (lq >= p["lq", 75]) & (lq >= 1) & big,
                    "strong10": (lq >= p["lq", 90]) & (lq >= 1) & big,
                    "significant": (lq > p["lq", 50]) & big,
                    "qualifying": (lq > p["lq", 25]) & big,
                }
            )
        )
    return pd.concat(parts).reindex(table.index)


@pytest.fixture
def reference_flags():
    return _reference_flags
