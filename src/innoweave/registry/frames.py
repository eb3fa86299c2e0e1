"""The registry as pandas tables: organisations, projects, participations, clusters, programmes.

Every importer produces a :class:`RegistryFrames` and every analysis reads one, so the
CORDIS reader, the generic file importer, the synthetic generator and the database all
speak one layout. Column lists here are the single definition of that layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, select

ORG_COLUMNS = [
    "external_id", "name", "short_name", "kind", "sme_flag", "country", "region_code",
    "region_level", "city", "postcode", "latitude", "longitude", "sector_codes",
    "founding_year", "employees", "revenue", "rd_spending", "rd_staff", "patents",
    "trademarks", "capabilities", "offers", "needs", "keywords", "stage", "cluster",
    "attributes", "external_ids", "source", "source_row", "synthetic_fields",
]  # fmt: skip
PROJECT_COLUMNS = [
    "external_id", "acronym", "title", "description", "programme", "funding_scheme",
    "status", "start_date", "end_date", "budget", "public_funding", "source", "source_row",
    "synthetic_fields",
]  # fmt: skip
PARTICIPATION_COLUMNS = [
    "external_id", "project_external_id", "org_external_id", "role",
    "public_contribution", "net_public_contribution", "source", "source_row",
    "synthetic_fields",
]  # fmt: skip
CLUSTER_COLUMNS = [
    "external_id", "name", "region_code", "sector", "description", "source", "source_row",
    "synthetic_fields",
]  # fmt: skip
PROGRAMME_COLUMNS = [
    "name", "instrument", "resource", "budget", "eligibility", "description", "source",
    "source_row", "synthetic_fields",
]  # fmt: skip
LIST_COLUMNS = ("sector_codes", "keywords", "synthetic_fields")
DICT_COLUMNS = ("attributes", "external_ids", "eligibility")


class UnknownOrganisation(KeyError, ValueError):
    """A reference (id, external id, PIC or name) that names no organisation of a registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown organisation"


def _conform(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    df = df.copy()
    for col in columns:
        if col not in df.columns:
            if col in LIST_COLUMNS:
                df[col] = [[] for _ in range(len(df))]
            elif col in DICT_COLUMNS:
                df[col] = [{} for _ in range(len(df))]
            else:
                df[col] = None
    return df[columns + [c for c in df.columns if c not in columns and c == "id"]]


@dataclass
class RegistryFrames:
    """Organisations, projects and participations in the canonical layout."""

    organisations: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ORG_COLUMNS))
    projects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROJECT_COLUMNS))
    participations: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=PARTICIPATION_COLUMNS)
    )

    clusters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CLUSTER_COLUMNS))
    programmes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=PROGRAMME_COLUMNS)
    )

    def __post_init__(self) -> None:
        self.clusters = _conform(self.clusters, CLUSTER_COLUMNS)
        self.programmes = _conform(self.programmes, PROGRAMME_COLUMNS)
        self.organisations = _conform(self.organisations, ORG_COLUMNS)
        self.projects = _conform(self.projects, PROJECT_COLUMNS)
        self.participations = _conform(self.participations, PARTICIPATION_COLUMNS)

    def counts(self) -> dict[str, int]:
        """Number of organisations, projects and participations."""
        return {
            "organisations": len(self.organisations),
            "projects": len(self.projects),
            "participations": len(self.participations),
        }


def require_frames(frames: object, who: str) -> None:
    """Refuse anything but :class:`RegistryFrames` (a bare organisations table, a path, None)
    with a message saying what ``who`` takes and how to get it."""
    if not isinstance(frames, RegistryFrames):
        raise TypeError(
            f"{who} takes RegistryFrames (from read_cordis(folder), load_frames(engine) or "
            f"RegistryFrames(organisations, projects, participations)), not {type(frames).__name__}"
        )


def load_frames(engine: Engine) -> RegistryFrames:
    """Read the whole registry into frames (``id`` columns kept beside ``external_id``)."""
    from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project

    def table(model) -> pd.DataFrame:
        cols = [c.name for c in model.__table__.columns]
        with engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(select(model.__table__).order_by(model.id))]
        return pd.DataFrame(rows, columns=cols)

    orgs, clusters = table(Organisation), table(Cluster)
    projects, parts, programmes = table(Project), table(Participation), table(Programme)
    cluster_names = dict(zip(clusters["id"], clusters["external_id"], strict=True))
    orgs["cluster"] = orgs["cluster_id"].map(cluster_names)
    org_ext = dict(zip(orgs["id"], orgs["external_id"], strict=True))
    proj_ext = dict(zip(projects["id"], projects["external_id"], strict=True))
    parts["org_external_id"] = parts["organisation_id"].map(org_ext)
    parts["project_external_id"] = parts["project_id"].map(proj_ext)
    frames = RegistryFrames(orgs, projects, parts, clusters, programmes)
    frames.organisations["id"] = orgs["id"].to_numpy()
    return frames
