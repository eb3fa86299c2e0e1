"""The catalogue of government support instruments: capital, talent, technology, policy.

The seed paper asks government to support SMEs with capital, talent, technology and policy,
chosen by the SME's stage of growth ("the principle of the stage"). This module is the one
list of those instruments (the table of ``design/model.md``) with, for each, a stable key,
the resources it gives, the growth stages it is meant for and the restricting factors it
addresses. The diagnosis recommends from it (the weakest factors of an SME, filtered by its
stage) and the simulation uses the same keys in its scenario files, so a recommendation can
be simulated as it stands.

The six restricting factors are the paper's section 2: weak innovation awareness, a single
and thin funding channel, too little high-level talent, a low overall innovation level, weak
intellectual-property work, and an imperfect policy and service system.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from innoweave.registry.kinds import GrowthStage, Resource


class RestrictingFactor(StrEnum):
    """The six factors that hold manufacturing SMEs back (seed paper, section 2)."""

    AWARENESS = "awareness"
    FUNDING = "funding"
    TALENT = "talent"
    INNOVATION_LEVEL = "innovation_level"
    IP = "ip"
    POLICY_SERVICE = "policy_service"


FACTOR_LABELS: dict[RestrictingFactor, str] = {
    RestrictingFactor.AWARENESS: "Innovation awareness",
    RestrictingFactor.FUNDING: "Funding channels",
    RestrictingFactor.TALENT: "High-level talent",
    RestrictingFactor.INNOVATION_LEVEL: "Innovation level",
    RestrictingFactor.IP: "Intellectual property",
    RestrictingFactor.POLICY_SERVICE: "Policy and service system",
}

_ALL_STAGES = tuple(GrowthStage)
_S, _G, _M, _T = (
    GrowthStage.START_UP,
    GrowthStage.GROWTH,
    GrowthStage.MATURITY,
    GrowthStage.TRANSFORMATION,
)
_F = RestrictingFactor


@dataclass(frozen=True)
class Instrument:
    """One support instrument.

    ``resources`` lists what government gives (the first is the main one, ``resource``);
    ``stages`` the growth stages eligible; ``addresses`` the restricting factors it acts on;
    ``stage_reason`` why those stages and not others, shown with every recommendation.
    """

    key: str
    name: str
    resources: tuple[Resource, ...]
    stages: tuple[GrowthStage, ...]
    addresses: tuple[RestrictingFactor, ...]
    effect: str
    stage_reason: str

    @property
    def resource(self) -> Resource:
        """The main resource the instrument gives (the first of ``resources``)."""
        return self.resources[0]

    def eligible(self, stage: str) -> bool:
        """Whether an SME in growth ``stage`` (a :class:`GrowthStage` value) is eligible."""
        return stage in {s.value for s in self.stages}


_CATALOGUE = (
    Instrument(
        "rd_grant", "R&D grant", (Resource.CAPITAL,), (_S, _G, _T),
        (_F.FUNDING, _F.INNOVATION_LEVEL),
        "pays a share of an innovation project's cost",
        "firms without steady cash flow (start-ups, growing and transforming firms) "
        "cannot fund a project alone; mature firms can",
    ),
    Instrument(
        "credit_guarantee", "Credit guarantee", (Resource.CAPITAL,), (_S, _G),
        (_F.FUNDING,),
        "raises credit access",
        "young and growing firms lack the collateral and credit history banks ask for",
    ),
    Instrument(
        "rd_tax_credit", "R&D tax credit", (Resource.CAPITAL,), (_G, _M, _T),
        (_F.FUNDING, _F.INNOVATION_LEVEL),
        "refunds a share of R&D spending after the fact",
        "a refund after the fact only helps firms that already spend on R&D and pay tax",
    ),
    Instrument(
        "talent_subsidy", "Talent subsidy", (Resource.TALENT,), (_S, _G, _T),
        (_F.TALENT,),
        "raises R&D staff (talent)",
        "hiring the first researchers is hardest while the firm is small or changing course",
    ),
    Instrument(
        "researcher_secondment", "Researcher secondment", (Resource.TALENT, Resource.TECHNOLOGY),
        (_G, _M, _T),
        (_F.TALENT, _F.INNOVATION_LEVEL),
        "a research organisation's staff works in the SME for a while: knowledge transfer",
        "a seconded researcher needs an R&D function to work in, which start-ups rarely have",
    ),
    Instrument(
        "innovation_voucher", "Innovation voucher", (Resource.TECHNOLOGY,), (_S, _G),
        (_F.AWARENESS, _F.POLICY_SERVICE, _F.INNOVATION_LEVEL),
        "pays an SME's first collaboration with a research organisation (new partners only)",
        "a first collaboration is what young firms lack; established firms have partners",
    ),
    Instrument(
        "matchmaking_platform", "Matchmaking platform", (Resource.TECHNOLOGY,), _ALL_STAGES,
        (_F.POLICY_SERVICE, _F.INNOVATION_LEVEL),
        "adds complementary, recommended candidates to what firms can see",
        "finding partners under limited information is a problem at every stage",
    ),
    Instrument(
        "joint_lab", "Joint lab / technology centre", (Resource.TECHNOLOGY,), (_M, _T),
        (_F.TALENT, _F.INNOVATION_LEVEL),
        "a lasting firm-research link with higher transfer",
        "a lasting lab needs a firm large and stable enough to co-fund it",
    ),
    Instrument(
        "intermediary_funding", "Intermediary funding", (Resource.POLICY,), _ALL_STAGES,
        (_F.POLICY_SERVICE, _F.AWARENESS),
        "more intermediary capacity and coverage",
        "brokers and service agencies serve firms at every stage",
    ),
    Instrument(
        "cluster_programme", "Cluster programme", (Resource.POLICY,), (_G, _M, _T),
        (_F.POLICY_SERVICE, _F.AWARENESS),
        "stronger spillovers and visibility inside clusters",
        "cluster learning pays once a firm has products and peers to learn from",
    ),
    Instrument(
        "ip_support", "IP support", (Resource.POLICY,), (_S, _G, _M),
        (_F.IP,),
        "cheaper patenting, higher IP awareness",
        "protecting results matters from the first invention until the portfolio is mature",
    ),
    Instrument(
        "awareness_campaign", "Awareness campaign", (Resource.POLICY,), _ALL_STAGES,
        (_F.AWARENESS,),
        "raises awareness",
        "awareness is cheap to raise and lacking at every stage",
    ),
    Instrument(
        "collaborative_call", "Collaborative funding call", (Resource.CAPITAL, Resource.TECHNOLOGY),
        (_G, _M, _T),
        (_F.FUNDING, _F.INNOVATION_LEVEL, _F.TALENT),
        "competitive calls for consortia: proposals ranked by competence and match, the best "
        "funded for a fixed duration",
        "competitive consortium calls reward firms with competences to offer partners",
    ),
)

INSTRUMENTS: dict[str, Instrument] = {inst.key: inst for inst in _CATALOGUE}


def instruments_for(factor: str, stage: str | None = None) -> list[Instrument]:
    """Instruments addressing ``factor``, restricted to those eligible for ``stage`` if given.

    Ordered by how directly they act: an instrument listing the factor first comes first.
    """
    factor = RestrictingFactor(factor)
    found = [i for i in _CATALOGUE if factor in i.addresses and (stage is None or i.eligible(stage))]
    return sorted(found, key=lambda i: i.addresses.index(factor))
