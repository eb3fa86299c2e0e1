"""A small, hand-made registry for the diagnosis tests (no shared data needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from innoweave.registry.frames import RegistryFrames


def make_frames(n_smes: int = 60, *, seed: int = 3) -> RegistryFrames:
    """SMEs in two regions with full attributes, plus research organisations,
    intermediaries and a collaboration history; every row flagged synthetic."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_smes):
        level = (i % 10) / 9  # a ladder of capability, so orderings are known
        rows.append({
            "external_id": f"syn:sme:{i}", "name": f"SME {i}", "kind": "sme",
            "country": "DE", "region_code": "DE300" if i % 2 == 0 else "DE212",
            "sector_codes": ["C28"] if i % 3 else ["C25"],
            "founding_year": 2024 - int(rng.integers(1, 40)),
            "employees": float(rng.integers(5, 240)),
            "revenue": 1e6 * (1 + level), "rd_spending": 1e5 * level, "rd_staff": 10 * level,
            "patents": int(5 * level), "trademarks": int(3 * level),
            "attributes": {
                "awareness": level, "ip_awareness": level, "credit_access": level, "talent": level,
                "innovating": level > 0.4, "cooperates_research": level > 0.6,
                "growth": float(rng.normal(0.05, 0.15)),
                "barriers": {"internal_finance": level < 0.3, "credit": level < 0.5,
                             "skilled_employees": level < 0.4, "government_grants": level < 0.2},
                "support_use": {"tax_credit": level > 0.5, "grants": level > 0.7},
            },
            "source": "synthetic", "synthetic_fields": [],
        })
    for j, kind in enumerate(["university", "research_institute", "intermediary", "large_firm"]):
        rows.append({"external_id": f"syn:{kind}:{j}", "name": f"{kind} {j}", "kind": kind,
                     "country": "DE", "region_code": "DE300", "attributes": {}, "source": "synthetic"})
    orgs = pd.DataFrame(rows)
    projects, parts = [], []
    for p in range(40):
        members = rng.choice(n_smes, size=3, replace=False)
        partner = ["syn:university:0", "syn:research_institute:1", "syn:intermediary:2", "syn:large_firm:3"][p % 4]
        pid = f"syn:project:{p}"
        projects.append({"external_id": pid, "title": f"project {p}",
                         "programme": ["Horizon 2020", "Horizon Europe"][p % 2],
                         "start_date": dt.date(2015 + p % 9, 1, 1), "source": "synthetic"})
        for k, org in enumerate([*(f"syn:sme:{m}" for m in members), partner]):
            parts.append({"external_id": f"{pid}:{k}", "project_external_id": pid, "org_external_id": org,
                          "role": "coordinator" if k == 0 else "participant",
                          "public_contribution": 1e5, "net_public_contribution": 1e5, "source": "synthetic"})
    return RegistryFrames(orgs, pd.DataFrame(projects), pd.DataFrame(parts))


@pytest.fixture
def frames() -> RegistryFrames:
    return make_frames()


@pytest.fixture
def make_registry():
    """The builder itself, for tests that need another size or to edit the frames first."""
    return make_frames


@pytest.fixture(scope="session")
def eis_csv(data_dir):
    path = data_dir / "eis2023_database" / "eis2023_scores_long.csv"
    if not path.exists():
        pytest.skip(f"EIS data absent: {path}")
    return path
