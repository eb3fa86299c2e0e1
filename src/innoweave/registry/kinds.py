"""The vocabulary of the registry: kinds of organisation, collaboration modes, resources.

These enumerations are the shared language of every later analysis: the diagnosis reads
``OrgKind`` to find SMEs, matchmaking and the simulation derive a pair's
:class:`CollaborationMode` with :func:`collaboration_mode`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class OrgKind(StrEnum):
    """The kind of an organisation in the registry: firm (SME, large firm, or company of unknown
    size), research organisation, government, intermediary or other."""

    SME = "sme"
    LARGE_FIRM = "large_firm"
    COMPANY = "company"
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    GOVERNMENT = "government"
    INTERMEDIARY = "intermediary"
    OTHER = "other"


FIRM_KINDS = frozenset({OrgKind.SME, OrgKind.LARGE_FIRM, OrgKind.COMPANY})
RESEARCH_KINDS = frozenset({OrgKind.UNIVERSITY, OrgKind.RESEARCH_INSTITUTE})


class CollaborationMode(StrEnum):
    """The modes of collaboration the seed paper distinguishes: inter-enterprise alliance,
    industry–university–research, intermediated and cluster cooperation."""

    ALLIANCE = "inter_enterprise_alliance"
    INDUSTRY_UNIVERSITY_RESEARCH = "industry_university_research"
    INTERMEDIATED = "intermediated"
    CLUSTER = "cluster_cooperation"
    OTHER = "other"


class Resource(StrEnum):
    """What government gives to support an SME: capital, talent, technology or policy."""

    CAPITAL = "capital"
    TALENT = "talent"
    TECHNOLOGY = "technology"
    POLICY = "policy"


class GrowthStage(StrEnum):
    """The growth stage of an SME, which decides the support instruments it is eligible for."""

    START_UP = "start-up"
    GROWTH = "growth"
    MATURITY = "maturity"
    TRANSFORMATION = "transformation"


def primary_sector(codes) -> str:
    """The division of an organisation's first sector code (``["C25.6", "C28.4"]`` → ``C25``),
    or ``unknown`` where it has none: the sector that diagnosis peers and the registry's
    specialisation table group firms by."""
    if isinstance(codes, (list, tuple)) or (hasattr(codes, "__len__") and hasattr(codes, "dtype")):
        if len(codes) and str(codes[0]).strip():
            return str(codes[0]).strip().split(".")[0]
    return "unknown"


def parse_kind(value: str) -> OrgKind:
    """Parse a kind name, raising ``ValueError`` that lists the allowed names."""
    try:
        return OrgKind(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in OrgKind)
        raise ValueError(f"unknown kind {value!r}; allowed: {allowed}") from None


def collaboration_mode(
    kind_a: str, kind_b: str, *, cluster_a: object = None, cluster_b: object = None
) -> set[CollaborationMode]:
    """Modes of the collaboration between two organisations.

    A pair can be several things at once: two firms in the same cluster are both an
    inter-enterprise alliance and cluster cooperation. An empty result never occurs: a
    pair that fits no rule is ``OTHER``.
    """
    a, b = OrgKind(kind_a), OrgKind(kind_b)
    modes: set[CollaborationMode] = set()
    if a in FIRM_KINDS and b in FIRM_KINDS:
        modes.add(CollaborationMode.ALLIANCE)
    if (a in FIRM_KINDS and b in RESEARCH_KINDS) or (b in FIRM_KINDS and a in RESEARCH_KINDS):
        modes.add(CollaborationMode.INDUSTRY_UNIVERSITY_RESEARCH)
    if OrgKind.INTERMEDIARY in (a, b):
        modes.add(CollaborationMode.INTERMEDIATED)
    if cluster_a is not None and cluster_a == cluster_b:
        modes.add(CollaborationMode.CLUSTER)
    return modes or {CollaborationMode.OTHER}


def check_kinds(kinds) -> tuple[str, ...] | None:
    """``kinds`` as registry kind names (trimmed, lower case; ``None`` stays None for all).

    Raises ``ValueError`` naming an unknown kind and listing the valid ones, or when no kind
    is given, so that a misspelt kind cannot leave the analysis silently empty."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = (kinds,)
    if not isinstance(kinds, Iterable):
        raise ValueError(f"kinds must be a kind or a list of kinds, got {kinds!r}")
    names, unknown = [], []
    for kind in kinds:
        try:
            names.append(parse_kind(kind).value)
        except ValueError:
            unknown.append(str(kind).strip().lower())
    valid = [k.value for k in OrgKind]
    if unknown:
        raise ValueError(
            f"unknown kind(s) {', '.join(map(repr, unknown))}; valid kinds: {', '.join(valid)}"
        )
    if not names:
        raise ValueError(f"no kind given; valid kinds: {', '.join(valid)}")
    return tuple(dict.fromkeys(names))
