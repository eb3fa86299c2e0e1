"""A small synthetic registry with a learnable structure, for fast matchmaking tests.

Organisations belong to topics and regions; projects gather organisations of one topic,
mostly from one region, preferring active research partners — so text, graph, geography
and popularity all carry signal, and the learned ranker has something to learn. Two SMEs
are cold starts (no projects, no text), one project is a 45-member clique.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from innoweave.registry.frames import RegistryFrames

TOPICS = {
    "laser": "laser photonics optics welding beam cutting",
    "battery": "battery cell electrolyte storage anode cathode",
    "robot": "robot automation gripper control motion vision",
    "bio": "protein enzyme fermentation microbial bioprocess yeast",
    "wind": "wind turbine blade rotor offshore grid",
}
REGIONS = {"DE11": (48.8, 9.2), "DE21": (48.1, 11.6), "DE30": (52.5, 13.4), "DEA1": (51.2, 6.8)}


def make_registry(seed: int = 7, *, n_sme: int = 90, n_projects: int = 420, coordinates: bool = True) -> RegistryFrames:
    rng = np.random.default_rng(seed)
    topics, regions = list(TOPICS), list(REGIONS)
    spec = [("university", 16), ("research_institute", 12), ("intermediary", 4), ("large_firm", 14), ("sme", n_sme)]
    rows = []
    for kind, n in spec:
        for i in range(n):
            topic, region = topics[rng.integers(len(topics))], regions[rng.integers(len(regions))]
            lat, lon = REGIONS[region]
            rows.append({
                "external_id": f"t:{kind}:{i}", "name": f"{kind.replace('_', ' ').title()} {i}", "kind": kind,
                "region_code": region + "1", "latitude": lat + rng.normal(0, 0.2) if coordinates else None,
                "longitude": lon + rng.normal(0, 0.2) if coordinates else None,
                "keywords": TOPICS[topic].split()[:3] if kind != "sme" or i % 3 else [],
                "cluster": f"cluster:{topic}" if kind in ("sme", "large_firm") and i % 2 == 0 else None,
                "_topic": topic, "_region": region, "_weight": rng.pareto(1.5) + 1,
            })  # fmt: skip
    cold = [{"external_id": f"t:sme:cold{i}", "name": f"Cold SME {i}", "kind": "sme", "region_code": "DE301",
             "latitude": None, "longitude": None, "keywords": [], "cluster": None, "_topic": None,
             "_region": "DE30", "_weight": 1.0} for i in range(2)]  # fmt: skip
    orgs = pd.DataFrame(rows + cold)
    active = orgs[orgs["_topic"].notna()]
    dates = pd.to_datetime("2014-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 11 * 365, n_projects)), unit="D")
    projects, parts = [], []
    for p, date in enumerate(dates):
        topic = topics[rng.integers(len(topics))]
        region = regions[rng.integers(len(regions))]
        pool = active[active["_topic"] == topic]
        w = pool["_weight"].to_numpy() * np.where(pool["_region"] == region, 3.0, 1.0)
        members = []
        for kind, lo, hi in (("university", 0, 2), ("research_institute", 0, 2), ("sme", 1, 3),
                             ("large_firm", 0, 2), ("intermediary", 0, 1)):  # fmt: skip
            mask = (pool["kind"] == kind).to_numpy()
            n = min(int(rng.integers(lo, hi + 1)), int(mask.sum()))
            if n:
                members += list(rng.choice(pool["external_id"].to_numpy()[mask], n, replace=False,
                                           p=w[mask] / w[mask].sum()))  # fmt: skip
        pid = f"t:project:{p}"
        projects.append({"external_id": pid, "title": " ".join(rng.choice(TOPICS[topic].split(), 3)) + " project",
                         "start_date": date.date(), "programme": "early" if date.year < 2021 else "late"})  # fmt: skip
        parts += [{"project_external_id": pid, "org_external_id": m, "role": "participant"} for m in members]
    big = "t:project:big"
    projects.append({"external_id": big, "title": "large network", "start_date": pd.Timestamp("2016-05-01").date(),
                     "programme": "early"})  # fmt: skip
    parts += [{"project_external_id": big, "org_external_id": o, "role": "participant"}
              for o in active["external_id"].iloc[:45]]  # fmt: skip
    clusters = pd.DataFrame({"external_id": [f"cluster:{t}" for t in topics],
                             "name": [f"{t.title()} cluster" for t in topics], "region_code": regions + ["DE11"]})  # fmt: skip
    parts = pd.DataFrame(parts)
    parts["external_id"] = parts["project_external_id"] + ":" + parts["org_external_id"]
    return RegistryFrames(
        organisations=orgs.drop(columns=["_topic", "_region", "_weight"]).assign(source="test"),
        projects=pd.DataFrame(projects).assign(source="test"),
        participations=parts.assign(source="test"),
        clusters=clusters.assign(source="test"),
    )


@pytest.fixture(scope="session")
def registry() -> RegistryFrames:
    return make_registry()


@pytest.fixture(scope="session")
def fitted(registry):
    from innoweave.matching import PartnerRecommender

    return PartnerRecommender(modes=("research", "alliance", "intermediary", "cluster")).fit(
        registry, train_end="2021-01-01"
    )


@pytest.fixture(scope="session")
def registry_factory():
    """The generator itself, for tests that need a variant (no coordinates, other seed)."""
    return make_registry
