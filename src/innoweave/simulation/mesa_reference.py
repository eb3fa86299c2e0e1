"""The Mesa reference: the collaborative innovation model written object by object.

This is the second, independent implementation of ``docs/model.md`` that the fast engine
(``engine.py``) is docked against (``docking.py``) and timed against
(``benchmarks/simulation.py --vs-mesa``). Every organisation is a Mesa 3 agent holding its
own attributes and knowledge units in plain Python lists; each phase of a step is a loop
over agents (``AgentSet.do``) with scalar arithmetic, and the collective rules (acceptance
of competing proposals, instrument budgets) are resolved by the model object exactly as
the model page states them. It starts from the same :class:`Population` arrays and the same
:class:`ModelParams` as the engine, so both begin from identical states; it draws from the
same distributions but not from the same random stream (one ``random.Random`` and one
``numpy.random.Generator`` seeded from the run's seed), which is why docking compares
distributions over many seeds. Mesa is an optional extra (``pip install 'innoweave[mesa]'``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import pandas as pd

try:
    import mesa
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "innoweave.simulation.mesa_reference needs Mesa, an optional extra: "
        "pip install 'innoweave[mesa]' (mesa==3.3.*)"
    ) from exc

from innoweave import __version__
from innoweave.arguments import whole_number
from innoweave.matching.scoring import DEFAULT_WEIGHTS as SCORE_WEIGHTS
from innoweave.matching.scoring import DISTANCE_SCALE_KM
from innoweave.registry.instruments import INSTRUMENTS
from innoweave.seeding import SeedLike, make_rng
from innoweave.simulation.params import (
    INTERMEDIARY,
    LARGE_FIRM,
    NEED_ATTRIBUTE,
    RESEARCH_INSTITUTE,
    SIZE_CLASS_BOUNDS,
    SIZE_CLASSES,
    SME,
    STAGES,
    UNIVERSITY,
    InstrumentConfig,
    InstrumentEffects,
    ModelParams,
    row_capacity,
)
from innoweave.simulation.population import Population, check_run_inputs

LINK_NONE, LINK_LAB, LINK_CONSORTIUM = 0, 1, 2
NEVER = -(10**6)
NETWORK_COLUMNS = ("net_nodes", "net_edges", "net_density", "net_largest_component",
                   "net_clustering", "net_mean_degree", "net_max_degree")


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def size_class(employees: float) -> int:
    """0 micro .. 3 large (the bounds of ``params.SIZE_CLASS_BOUNDS``)."""
    return sum(1 for bound in SIZE_CLASS_BOUNDS if employees >= bound)


class Organisation(mesa.Agent):
    """One row of the population: attributes, knowledge units in slots, memory of partners."""

    def __init__(self, model: ReferenceModel, row: int, values: dict[str, Any]):
        super().__init__(model)
        self.row = row
        self.kind = int(values["kind"])
        self.region = int(values["region"])
        self.cluster = int(values["cluster"])
        self.x = float(values["x"])
        self.y = float(values["y"])
        self.age = float(values["age"])
        self.employees = float(values["employees"])
        self.capital = float(values["capital"])
        self.growth = float(values["growth"])
        self.awareness = float(values["awareness"])
        self.ip_awareness = float(values["ip_awareness"])
        self.talent = float(values["talent"])
        self.credit_access = float(values["credit_access"])
        self.capacity = int(values["capacity"])
        self.openness = float(values["openness"])
        self.match_quality = float(values["match_quality"])
        self.patents = int(values["patents"])
        # knowledge: M slots, each (field, ability, expertise, held)
        self.field = [int(f) for f in values["field"]]
        self.ability = [float(a) for a in values["ability"]]
        self.expertise = [int(e) for e in values["expertise"]]
        self.held = [bool(m) for m in values["mask"]]
        self.memory = [int(m) for m in values["memory"] if m >= 0]
        self.alive = True
        self.stage = 0
        self.neg_spell = 0
        self.initial_firm = False
        # lasting link, secondment, instrument flags
        self.link_partner = -1
        self.link_type = LINK_NONE
        self.link_left = 0
        self.second_host = -1
        self.second_left = 0
        self.guarantee_left = 0
        self.guarantee_cost = 0.0
        self.grant_offer = False
        self.grant_rank = 0
        self.tax_eligible = False
        self.voucher_left = 0
        self.platform_user = False
        self.ip_supported = False
        self.last_success = NEVER
        self.last_uir = NEVER
        # phase-0 quantities: a row that enters during a step counts as empty until the next
        # step derives it (as the engine's rows do)
        self.idea: list[int] = []
        self.quality = 0.0
        self.niche = 0
        self.vec: dict[int, float] = {}
        self.norm = 0.0
        self.depth = 0.0
        self.competence = 0.0
        self.size_class = 0
        self.absorptive = 0.0
        # per-step scratch
        self.rd_spend = 0.0
        self.radical = False
        self.project = False
        self.cost = 0.0
        self.partner = -1
        self.partner_lab = False
        self.success = False
        self.partner_success = False

    @property
    def is_firm(self) -> bool:
        """Whether the organisation is a firm (an SME or a large firm)."""
        return self.kind in (SME, LARGE_FIRM)

    @property
    def is_research(self) -> bool:
        """Whether the organisation is a university or research institute."""
        return self.kind in (UNIVERSITY, RESEARCH_INSTITUTE)

    # --- phase 0: derived quantities ----------------------------------------------------

    def derive(self) -> None:
        """Idea, quality, niche, knowledge vector, depth and size class (model page §1)."""
        kp = self.model.params.knowledge
        strength = [
            a * (1.0 + e / kp.expertise_max) if h else -1.0
            for a, e, h in zip(self.ability, self.expertise, self.held, strict=True)
        ]
        self.strength = strength
        held_slots = [u for u, h in enumerate(self.held) if h]
        ranked = sorted(held_slots, key=lambda u: (-strength[u], u))
        self.idea = ranked[: kp.idea_size]
        total = sum(strength[u] for u in self.idea)
        self.quality = 1.0 - math.exp(-total / kp.quality_scale)
        best_slot = 0
        for u in range(1, len(strength)):
            if strength[u] > strength[best_slot]:
                best_slot = u
        self.niche = self.field[best_slot]
        self.vec = {self.field[u]: self.ability[u] for u in held_slots}
        self.norm = math.sqrt(sum(a * a for a in self.vec.values()))
        self.competence = (sum(self.ability[u] for u in held_slots) / len(held_slots)
                           / kp.ability_max) if held_slots else 0.0
        self.depth = self.competence if self.is_research else 0.0
        self.size_class = size_class(self.employees)
        if self.idea:
            idea_exp = sum(self.expertise[u] for u in self.idea) / len(self.idea)
        else:
            idea_exp = 0.0
        self.absorptive = self.talent * (0.5 + 0.5 * idea_exp / kp.expertise_max)

    def slot_of(self, field: int) -> int:
        """The slot of the held unit in ``field``, or -1 if the organisation holds none there."""
        for u, (f, h) in enumerate(zip(self.field, self.held, strict=True)):
            if h and f == field:
                return u
        return -1


class Firm(Organisation):
    """An SME or a large firm: market, innovation projects, partner search."""

    def market(self, per_weight: list[float]) -> None:
        """Phase 1: logit share of the niche demand, costs, employment and growth."""
        mp = self.model.params.market
        gm = self.model.params.demography.growth_memory
        w = self.employees * math.exp(mp.quality_sensitivity * self.quality)
        revenue = w * per_weight[self.niche]
        profit = revenue - mp.cost_per_employee * self.employees
        self.capital += profit
        margin = min(0.5, max(-0.5, profit / max(revenue, 1e-6)))
        new_emp = max(1.0, self.employees * (1.0 + mp.employment_response * margin))
        change = new_emp / self.employees - 1.0
        self.growth = (1 - gm) * self.growth + gm * 4.0 * change
        self.employees = new_emp

    def intent(self) -> None:
        """Phase 2: the logistic probability of a project in awareness and funding, without and
        (if open to the R&D grant call) with the grant, and this step's draw against it."""
        ip = self.model.params.intent
        gov = self.model.government
        cost = ip.project_cost_per_employee * self.employees
        boost = gov.guarantee_boost if self.guarantee_left > 0 else 0.0
        credit = min(1.0, self.credit_access + boost)
        funds = max(self.capital, 0.0) + credit * ip.credit_line_per_employee * self.employees
        tax = gov.tax_share * gov.tax_scale if self.tax_eligible else 0.0

        def price(share: float) -> float:  # the user cost: support pays a share of the cost
            return -ip.price_elasticity * math.log(1.0 - min(share, 0.95)) if share > 0 else 0.0

        def probability(grant: float) -> float:  # the tax credit covers what the grant does not
            phi = min(1.0, (funds + grant + tax * (cost - grant)) / cost)
            return _sigmoid(ip.intent_bias[self.size_class]
                            + ip.awareness_weight * (self.awareness - 0.5)
                            + ip.funding_weight * (phi - 1.0)
                            + price(grant / cost) + price(tax))

        self.cost = cost
        self.draw = self.model.random.random()
        self.p_alone = probability(0.0)
        self.applies = self.grant_offer and self.draw < probability(gov.grant_share * cost)

    def start_project(self, funded: bool) -> None:
        """Phase 2, after the grant call: start a project if the draw lies below the probability
        (with the grant where the call funds the firm, which then always starts), paying its cost
        less the grant."""
        gov = self.model.government
        self.project = funded or self.draw < self.p_alone
        if self.project:
            grant = gov.grant_share * self.cost if funded else 0.0
            self.capital -= self.cost - grant
            gov.spend("rd_grant", grant, funded)
            self.rd_spend = self.cost - grant  # the firm's own R&D spending
        else:
            self.rd_spend = 0.0

    def visible_candidates(self) -> list[int]:
        """Phase 3: the ``n_candidates`` slots drawn from what the firm can see (-1 = void)."""
        model = self.model
        sp = model.params.search
        rnd = model.random
        seek = min(sp.research_seek_max, sp.research_seek[self.size_class]
                   * model.research_density(self.region) / sp.research_density_ref)
        cluster_firms = model.cluster_firms.get(self.cluster, []) if self.cluster >= 0 else []
        has_cluster = len(cluster_firms) > 1
        boost = 1.0 + model.government.cluster_boost_factor if (
            has_cluster and self.cluster in model.cluster_boost) else 1.0
        p_prev = sp.p_previous if self.memory else 0.0
        p_cl = sp.p_cluster * boost if has_cluster else 0.0
        p_reg = sp.p_region + (sp.p_previous - p_prev) + (0.0 if has_cluster else sp.p_cluster)
        total = p_prev + p_cl + p_reg
        scale = total if total > 1.0 else 1.0
        c1 = p_prev / scale
        c2 = c1 + p_cl / scale
        c3 = c2 + p_reg / scale
        out = []
        for _ in range(sp.n_candidates):
            if rnd.random() < seek:
                cand = model.research_candidate(self.region)
            else:
                u = rnd.random()
                if u < c1:
                    cand = rnd.choice(self.memory)
                elif u < c2:
                    cand = rnd.choice(cluster_firms)
                elif u < c3:
                    region_firms = model.region_firms.get(self.region, [])
                    cand = rnd.choice(region_firms) if region_firms else -1
                else:
                    cand = rnd.choice(model.alive_firms) if model.alive_firms else -1
            out.append(model.valid_candidate(self.row, cand))
        return out

    def seek(self) -> None:
        """Phase 3: rank the visible and introduced candidates; propose to the best."""
        model = self.model
        sp = model.params.search
        cands = self.visible_candidates()
        via = [False] * len(cands)
        cands.append(model.introduced.get(self.row, -1))
        via.append(True)
        cands.append(model.research_candidate(self.region) if self.voucher_left > 0 else -1)
        via.append(False)
        for c in model.government.platform_candidates(self):
            cands.append(c)
            via.append(True)
        best, best_score, best_via = -1, -math.inf, False
        for c, v in zip(cands, via, strict=True):
            score = model.attractiveness(self, model.orgs[c]) if c >= 0 else -math.inf
            if score > best_score:
                best, best_score, best_via = c, score, v
        if best_score >= sp.min_score:
            model.proposals.append((self.row, best, best_via))

    def learn_by_doing(self) -> None:
        """Phase 4 (a): idea units gain expertise; the others lose it and are dropped at 0."""
        mech = self.model.params.mechanisms
        kp = self.model.params.knowledge
        idea = set(self.idea)
        for u in range(len(self.held)):
            if not self.held[u]:
                continue
            if u in idea:
                if mech.learning:
                    self.expertise[u] = min(self.expertise[u] + 1, kp.expertise_max)
            elif mech.forgetting:
                self.expertise[u] -= 1
                if self.expertise[u] <= 0:
                    self.held[u] = False
                    self.ability[u] = 0.0


class ResearchOrganisation(Organisation):
    """A university or research institute: deep knowledge, capacity, openness."""


class Intermediary(Organisation):
    """A broker of a region: capacity (introductions per step) and match quality."""


_AGENT_CLASS = {
    SME: Firm, LARGE_FIRM: Firm, UNIVERSITY: ResearchOrganisation,
    RESEARCH_INSTITUTE: ResearchOrganisation, INTERMEDIARY: Intermediary,
}


class ReferenceModel(mesa.Model):
    """The collaborative innovation model, one Mesa agent per organisation.

    ``ReferenceModel(params, population, instruments=..., seed=...).run(steps)`` returns one
    row per step with the same columns as ``Engine.run`` (``docs/model.md`` section 5).
    """

    def __init__(
        self,
        params: ModelParams | None = None,
        population: Population | None = None,
        *,
        instruments: dict[str, InstrumentConfig] | None = None,
        seed: SeedLike = None,
    ):
        params, population, instruments = check_run_inputs(params, population, instruments)
        seed_int = int(make_rng(seed).integers(2**62))
        super().__init__(seed=seed_int)
        self.seed = seed
        self.params = params
        self.population = population
        self.instruments = instruments
        self.orgs: list[Organisation] = []
        arrays = {name: arr.tolist() for name, arr in population.arrays().items()}
        for row in range(len(population)):
            values = {name: arr[row] for name, arr in arrays.items()}
            agent = _AGENT_CLASS[int(values["kind"])](self, row, values)
            agent.initial_firm = agent.is_firm
            self.orgs.append(agent)
        self.n_regions = population.n_regions
        self.n_clusters = max(population.n_clusters, 1)
        self.n_fields = population.n_fields
        self.t = 0
        self.records: list[dict[str, float]] = []
        self.cluster_boost: set[int] = set()

    # --- typed views ----------------------------------------------------------------------

    @property
    def firms(self):
        """The firm agents, alive or not (an empty ``AgentSet`` before any firm exists)."""
        return self.agents_by_type.get(Firm, mesa.agent.AgentSet([], random=self.random))

    @property
    def research(self):
        """The research-organisation agents, alive or not (possibly an empty ``AgentSet``)."""
        return self.agents_by_type.get(ResearchOrganisation,
                                       mesa.agent.AgentSet([], random=self.random))

    def _setup(self, steps: int) -> None:
        p = self.params
        self.row_capacity = row_capacity(p, len(self.population), self.population.n_firms, steps)
        for org in self.orgs:
            if org.is_firm:
                org.stage = self.stage_of(org)
        self.steps = steps
        self.government = ReferenceGovernment(self.instruments, self)
        self.recorder = ReferenceRecorder(self)
        self.research_rows = [o.row for o in self.orgs if o.is_research]
        self.research_by_region: dict[int, list[int]] = {}
        for r in self.research_rows:
            self.research_by_region.setdefault(self.orgs[r].region, []).append(r)
        intermediaries = [o for o in self.orgs if o.kind == INTERMEDIARY]
        self.intro_base = [0] * self.n_regions
        mq_sum, mq_n = [0.0] * self.n_regions, [0] * self.n_regions
        for o in intermediaries:
            self.intro_base[o.region] += o.capacity
            mq_sum[o.region] += o.match_quality
            mq_n[o.region] += 1
        self.intro_mq = [mq_sum[r] / mq_n[r] if mq_n[r] else 0.5 for r in range(self.n_regions)]
        self.firms.do("derive")
        employees_by_niche = [0.0] * self.n_fields
        for f in self.firms:
            if f.alive:
                employees_by_niche[f.niche] += f.employees
        total = sum(employees_by_niche)
        self.demand0 = [
            p.market.demand_per_employee * (0.5 * e + 0.5 * total / self.n_fields)
            for e in employees_by_niche
        ]

    # --- run ------------------------------------------------------------------------------

    def run(self, steps: int) -> pd.DataFrame:
        """Run ``steps`` steps (a whole number >= 1) from the population; returns the per-step
        outputs."""
        steps = whole_number("steps", steps, least=1)
        self._setup(steps)
        for _ in range(steps):
            self.step()
        self.results_ = pd.DataFrame(self.records)
        return self.results_

    def step(self) -> None:
        """Run one step: reset the per-step flags, then phases 0 to 7 in order (derive, market,
        intent, partner search, outcome, spillovers, government, demography) and record the outputs
        (phase 8)."""
        mech = self.params.mechanisms
        gov = self.government
        gov.begin_step()
        self.rows_at_start = len(self.orgs)
        self.new_partnerships = 0
        for org in self.orgs:
            org.project = False
            org.partner = -1
            org.partner_lab = False
            org.success = False
            org.partner_success = False
            org.rd_spend = 0.0
        self.agents.select(lambda a: a.alive).do("derive")
        alive_firms = self.firms.select(lambda a: a.alive)
        if mech.market:
            self.phase_market(alive_firms)
        alive_firms.do("intent")
        funded = gov.fund_grants([f for f in alive_firms if f.applies])
        for f in alive_firms:
            f.start_project(f in funded)
        collaborations = self.phase_partner_search(alive_firms)
        self.phase_outcome(alive_firms, collaborations)
        self.phase_spillovers(alive_firms)
        if mech.government:
            gov.act(collaborations)
        entries, exits, dropped = self.phase_demography(collaborations)
        self.records.append(self.recorder.record(collaborations, entries, exits, dropped))
        self.t += 1

    # --- phase 1 --------------------------------------------------------------------------

    def phase_market(self, alive_firms) -> None:
        """Phase 1: each niche's demand (growing by ``demand_growth`` a step) is shared among the
        alive firms in proportion to their quality-weighted employment."""
        mp = self.params.market
        total_w = [0.0] * self.n_fields
        for f in alive_firms:
            total_w[f.niche] += f.employees * math.exp(mp.quality_sensitivity * f.quality)
        growth = (1.0 + mp.demand_growth) ** self.t
        per_weight = [
            self.demand0[k] * growth / total_w[k] if total_w[k] > 0 else 0.0
            for k in range(self.n_fields)
        ]
        alive_firms.do("market", per_weight)

    # --- phase 3 --------------------------------------------------------------------------

    def refresh_pools(self, alive_firms) -> None:
        """Alive firms nationally, by region and by cluster (what searchers draw from)."""
        self.alive_firms = [f.row for f in alive_firms]
        self.region_firms: dict[int, list[int]] = {}
        self.cluster_firms: dict[int, list[int]] = {}
        for f in alive_firms:
            self.region_firms.setdefault(f.region, []).append(f.row)
            if f.cluster >= 0:
                self.cluster_firms.setdefault(f.cluster, []).append(f.row)

    def research_density(self, region: int) -> float:
        """Research organisations per alive firm in the region (national where it has none)."""
        local = self.research_by_region.get(region)
        if local:
            return len(local) / max(len(self.region_firms.get(region, [])), 1)
        return len(self.research_rows) / max(len(self.alive_firms), 1)

    def research_candidate(self, region: int) -> int:
        """Rule 1: a research organisation of the region, else one uniform nationwide."""
        local = self.research_by_region.get(region)
        if local:
            return self.random.choice(local)
        return self.random.choice(self.research_rows) if self.research_rows else -1

    def valid_candidate(self, seeker: int, cand: int) -> int:
        """``cand`` if it can partner ``seeker`` (an alive organisation other than the seeker, not
        an intermediary), else -1."""
        if cand < 0 or cand == seeker:
            return -1
        org = self.orgs[cand]
        if not org.alive or org.kind == INTERMEDIARY:
            return -1
        return cand

    def match(self, a: Organisation, b: Organisation) -> float:
        """Knowledge match K(o) of two organisations' vectors (phase-0 values)."""
        if a.norm <= 0 or b.norm <= 0:
            o = 0.0
        else:
            small, large = (a.vec, b.vec) if len(a.vec) <= len(b.vec) else (b.vec, a.vec)
            dot = sum(v * large[f] for f, v in small.items() if f in large)
            o = min(1.0, max(0.0, dot / (a.norm * b.norm)))
        if self.params.search.rule == "conservative":
            return o
        return 4.0 * o * (1.0 - o)

    def attractiveness(self, i: Organisation, j: Organisation) -> float:
        """S_ij of phase 3: knowledge match, region, cluster, previous partner, competence."""
        sp = self.params.search
        score = sp.w_knowledge * self.match(i, j)
        if i.region == j.region:
            score += sp.w_region
        if i.cluster >= 0 and i.cluster == j.cluster:
            score += sp.w_cluster
        if j.row in i.memory:
            score += sp.w_previous
        return score + sp.w_competence * j.competence

    def phase_partner_search(self, alive_firms) -> list[tuple[int, int, bool, bool]]:
        """Phase 3; returns the realised collaborations as (firm, partner, lab, intermediated)."""
        sp = self.params.search
        mech = self.params.mechanisms
        gov = self.government
        links = []
        seekers = []
        for f in alive_firms:
            if not f.project:
                continue
            if f.link_left > 0 and f.link_partner >= 0:
                links.append((f.row, f.link_partner, f.link_type == LINK_LAB, False))
            else:
                seekers.append(f)
        if not mech.partner_search:
            return links
        self.refresh_pools(alive_firms)
        self.introduced = {}
        if mech.intermediaries:
            funded_used = self.introductions(seekers)
            gov.spend("intermediary_funding", funded_used * gov.cost_per_introduction,
                      funded_used)
        gov.prepare_platform(seekers)
        self.proposals: list[tuple[int, int, bool]] = []
        for f in seekers:
            f.seek()
        # acceptance, all proposals at once: acceptable ones by target, best-scored first
        acceptable: dict[int, list[tuple[float, int, bool]]] = {}
        for s_row, j_row, via in self.proposals:
            seeker, target = self.orgs[s_row], self.orgs[j_row]
            back = self.attractiveness(target, seeker)
            if target.is_research:
                ok = self.random.random() < target.openness
            else:
                ok = target.alive and back >= sp.min_score
            if ok:
                acceptable.setdefault(j_row, []).append((-back, s_row, via))
        hosted = self.hosted_counts()
        accepted = []
        for j_row, props in acceptable.items():
            target = self.orgs[j_row]
            cap = (target.capacity - hosted.get(j_row, 0) if target.is_research
                   else sp.firm_capacity)
            for _, s_row, via in sorted(props)[: max(cap, 0)]:
                accepted.append((s_row, j_row, via))
        # by target, then (kept from above) the target's descending score, then seeker: the
        # order in which costs, vouchers and memory are settled
        accepted.sort(key=lambda t: t[1])
        new_count = presented = used = 0
        payable = gov.vouchers_payable()
        outstanding = (sum(1 for f in self.firms if f.voucher_left > 0)
                       if gov.voucher_value > 0 else 0)  # no voucher programme: none to count
        for s_row, j_row, via in accepted:
            seeker, target = self.orgs[s_row], self.orgs[j_row]
            tau = sp.transaction_cost_share * seeker.cost * (
                sp.intermediated_cost_factor if via else 1.0)
            new = j_row not in seeker.memory
            new_count += new
            voucher = seeker.voucher_left > 0 and target.is_research and new
            presented += voucher
            if voucher and used < payable:  # the step's voucher money pays while it lasts
                seeker.capital += gov.voucher_value
                seeker.voucher_left = 0
                used += 1
            else:
                seeker.capital -= tau
            if not target.is_research:
                target.capital -= tau
        gov.vouchers_paid(used, presented, outstanding)
        self.new_partnerships = new_count
        self.remember(accepted)
        return links + [(s, j, False, via) for s, j, via in accepted]

    def introductions(self, seekers: list[Firm]) -> int:
        """Intermediary introductions; returns how many funded introductions were made."""
        sp = self.params.search
        extra = self.government.extra_intro()
        by_region: dict[int, list[Firm]] = {}
        for f in seekers:
            by_region.setdefault(f.region, []).append(f)
        pool = self.alive_firms + self.research_rows
        funded_used = 0
        for region, members in by_region.items():
            capacity = self.intro_base[region] + extra[region]
            chosen = self.random.sample(members, min(capacity, len(members)))
            funded_used += max(0, len(chosen) - self.intro_base[region])
            m = max(1, round(sp.intermediary_pool * self.intro_mq[region]))
            for f in chosen:
                best, best_score = -1, -math.inf
                for _ in range(m):
                    c = self.random.choice(pool)
                    if c == f.row:
                        continue
                    score = self.attractiveness(f, self.orgs[c])
                    if score > best_score:
                        best, best_score = c, score
                self.introduced[f.row] = best
        return funded_used

    def hosted_counts(self) -> dict[int, int]:
        """Active links and secondments hosted by each organisation (uses its capacity)."""
        hosted: dict[int, int] = {}
        for o in self.orgs:
            if o.link_left > 0 and o.link_partner >= 0:
                hosted[o.link_partner] = hosted.get(o.link_partner, 0) + 1
            if o.second_left > 0 and o.second_host >= 0:
                hosted[o.second_host] = hosted.get(o.second_host, 0) + 1
        return hosted

    def remember(self, accepted: list[tuple[int, int, bool]]) -> None:
        """Both sides put this step's partners first (ascending row), then the old memory."""
        K = self.params.search.memory
        new: dict[int, set[int]] = {}
        for s_row, j_row, _ in accepted:
            new.setdefault(s_row, set()).add(j_row)
            new.setdefault(j_row, set()).add(s_row)
        for owner, partners in new.items():
            org = self.orgs[owner]
            merged = sorted(partners) + [m for m in org.memory if m not in partners]
            org.memory = merged[:K]

    # --- phase 4 --------------------------------------------------------------------------

    def phase_outcome(self, alive_firms, collaborations) -> None:
        """Phase 4: draw each project's success (and radical projects without partner), incremental
        gains, new units and patents, then learning from partners, by doing and forgetting, and the
        success flags read by awareness."""
        op = self.params.outcome
        kp = self.params.knowledge
        mech = self.params.mechanisms
        gov = self.government
        rnd = self.random
        for a, b, lab, _ in collaborations:
            self.orgs[a].partner = b
            self.orgs[a].partner_lab = lab
        radical_rows = set()
        new_units: dict[int, tuple[int, float]] = {}
        patents = 0
        for f in alive_firms:
            if not f.project:
                continue
            has_partner = f.partner >= 0
            radical = mech.radical and not has_partner and rnd.random() < op.radical_prob
            if has_partner:
                p = self.orgs[f.partner]
                comp, depth = self.match(f, p), p.depth
            else:
                comp = depth = 0.0
            z = (op.success_base + op.w_quality * f.quality + op.w_complementarity * comp
                 + op.w_absorptive * f.absorptive + op.w_depth * depth
                 - op.radical_penalty * radical)
            f.success = rnd.random() < _sigmoid(z)
            f.radical = radical
            if f.success and radical:
                radical_rows.add(f.row)
        # (b) incremental gains and radical units, patents — read from the knowledge at the
        # start of the phase, applied after learning by doing and forgetting
        delta: dict[int, list[float]] = {}
        for f in alive_firms:
            if not f.success:
                continue
            if f.row in radical_rows:
                lacking = [k for k in range(self.n_fields) if f.vec.get(k, 0.0) <= 0]
                if lacking:
                    idea_mean = (sum(f.ability[u] for u in f.idea) / len(f.idea)) if f.idea else 0.0
                    new_units[f.row] = (rnd.choice(lacking), idea_mean)
            else:
                d = delta.setdefault(f.row, [0.0] * len(f.held))
                for u in f.idea:
                    d[u] += op.incremental_gain * (1.0 - f.ability[u] / kp.ability_max)
            if mech.patents:
                factor = gov.patent_factor if f.ip_supported else 1.0
                if rnd.random() < min(1.0, op.patent_prob * f.ip_awareness * factor):
                    f.patents += 1
                    patents += 1
        self.patents_step = patents
        self.radical_successes = len(radical_rows)
        # (c) learning from partners and secondments
        if mech.learning:
            self.learn_from_partners(collaborations, delta, new_units)
        # (a) learning by doing and forgetting; then the increments on units still held
        alive_firms.do("learn_by_doing")
        for row, d in delta.items():
            org = self.orgs[row]
            for u, inc in enumerate(d):
                if org.held[u]:
                    org.ability[u] = min(org.ability[u] + inc, kp.ability_max)
        for row, (field, ability) in new_units.items():
            self.insert_unit(self.orgs[row], field, ability)
        # bookkeeping: success and UIR windows, partner successes for awareness
        for f in alive_firms:
            if f.success:
                f.last_success = self.t
        for a, b, _, _ in collaborations:
            fa, fb = self.orgs[a], self.orgs[b]
            if fb.is_research:
                fa.last_uir = self.t
            if fa.success:
                fb.partner_success = True
            if fb.is_firm and fb.success:
                fa.partner_success = True

    def learn_from_partners(self, collaborations, delta, new_units) -> None:
        """Phase 4 (c): each side of a collaboration and each seconded researcher learns from the
        other's idea units in fields both hold, and may take a new unit in the strongest field it
        lacks; adds to ``delta`` and ``new_units`` (radical units first)."""
        op = self.params.outcome
        pairs = []
        for a, b, lab, _ in collaborations:
            pairs.append((a, b, lab))
            pairs.append((b, a, lab))
        for o in self.orgs:
            if o.alive and o.second_left > 0 and o.second_host >= 0:
                pairs.append((o.row, o.second_host, False))
        candidates: dict[int, tuple[float, int]] = {}
        for learner_row, teacher_row, lab in pairs:
            learner, teacher = self.orgs[learner_row], self.orgs[teacher_row]
            ac = op.research_absorptive if learner.is_research else learner.absorptive
            tau = (op.research_transfer if teacher.is_research else 1.0) * (2.0 if lab else 1.0)
            rate = op.learning_rate * tau * ac
            best_f, best_a = -1, -1.0
            for u in teacher.idea:
                f, a_j = teacher.field[u], teacher.ability[u]
                slot = learner.slot_of(f)
                if slot >= 0:
                    a_i = learner.ability[slot]
                    if a_i < a_j:
                        d = delta.setdefault(learner_row, [0.0] * len(learner.held))
                        d[slot] += rate * (a_j - a_i)
                elif a_j > best_a or (a_j == best_a and f < best_f):
                    best_f, best_a = f, a_j
            if best_f >= 0:
                cand = (op.new_unit_share * best_a, best_f)
                prev = candidates.get(learner_row)
                if prev is None or cand[0] > prev[0] or (cand[0] == prev[0] and cand[1] < prev[1]):
                    candidates[learner_row] = cand
        for row, (ability, field) in candidates.items():
            if row not in new_units:
                new_units[row] = (field, ability)

    def insert_unit(self, org: Organisation, field: int, ability: float) -> None:
        """A new unit into the first free slot, else over the weakest unit if stronger."""
        kp = self.params.knowledge
        for u, h in enumerate(org.held):
            if not h:
                slot = u
                break
        else:
            strengths = [a * (1.0 + e / kp.expertise_max)
                         for a, e in zip(org.ability, org.expertise, strict=True)]
            slot = min(range(len(strengths)), key=lambda u: (strengths[u], u))
            if not strengths[slot] < ability * (1.0 + 1.0 / kp.expertise_max):
                return
        org.field[slot] = field
        org.ability[slot] = ability
        org.expertise[slot] = 1
        org.held[slot] = True

    # --- phase 5 --------------------------------------------------------------------------

    def phase_spillovers(self, alive_firms) -> None:
        """Phase 5: cluster members' abilities move towards the best in their cluster and field
        (faster in boosted clusters), and firms' awareness decays and grows with own, partner and
        cluster successes."""
        sp = self.params.spillover
        mech = self.params.mechanisms
        members = [f for f in alive_firms if f.cluster >= 0]
        if mech.spillovers and members:
            best: dict[tuple[int, int], float] = {}
            for f in members:
                for u, h in enumerate(f.held):
                    if h:
                        key = (f.cluster, f.field[u])
                        if f.ability[u] > best.get(key, 0.0):
                            best[key] = f.ability[u]
            factor = 1.0 + self.government.cluster_boost_factor
            for f in members:
                rho = sp.cluster_rate * (factor if f.cluster in self.cluster_boost else 1.0)
                for u, h in enumerate(f.held):
                    if h:
                        f.ability[u] += rho * (best[(f.cluster, f.field[u])] - f.ability[u])
        if mech.awareness_dynamics:
            size: dict[int, int] = {}
            wins: dict[int, int] = {}
            for f in members:
                size[f.cluster] = size.get(f.cluster, 0) + 1
                wins[f.cluster] = wins.get(f.cluster, 0) + f.success
            for f in alive_firms:
                share = wins[f.cluster] / size[f.cluster] if f.cluster >= 0 else 0.0
                new = (f.awareness * (1 - sp.awareness_decay) + sp.awareness_own * f.success
                       + sp.awareness_partner * f.partner_success + sp.awareness_cluster * share)
                f.awareness = min(1.0, max(0.0, new))

    # --- phase 7 --------------------------------------------------------------------------

    def stage_of(self, org: Organisation) -> int:
        """The growth-stage rule (first match wins): start-up, transformation, growth, maturity."""
        d = self.params.demography
        if org.age < d.startup_max_age and org.employees < d.startup_max_employees:
            return 0
        if org.growth < d.transformation_max_growth and org.age >= d.transformation_min_age:
            return 3
        if org.growth >= d.growth_min_rate:
            return 1
        return 2

    def phase_demography(self, collaborations) -> tuple[int, int, int]:
        """Phase 7: ageing and stage transitions, exit after ``exit_after`` steps of negative
        capital, and start-ups and spin-offs. Returns ``(entries, exits, dropped)``."""
        d = self.params.demography
        mech = self.params.mechanisms
        rnd = self.random
        firms = [f for f in self.firms if f.alive]
        for f in firms:
            f.age += 0.25
            if mech.stage_transitions:
                f.stage = self.stage_of(f)
        exits = 0
        if mech.exit:
            for f in firms:
                f.neg_spell = f.neg_spell + 1 if f.capital < 0 else 0
            leaving = [f for f in firms if f.neg_spell >= d.exit_after]
            exits = len(leaving)
            for f in leaving:
                f.alive = False
                f.link_left = 0
                f.second_left = 0
            if leaving:
                for o in self.orgs:
                    if o.link_partner >= 0:
                        partner = self.orgs[o.link_partner]
                        if partner.is_firm and not partner.alive:
                            o.link_left = 0
        n_alive = sum(1 for f in firms if f.alive)
        n_entry = int(self.rng.poisson(d.entry_rate * n_alive)) if mech.entry else 0
        parents = []
        if mech.spinoffs:
            research_win = set()
            for a, b, _, _ in collaborations:
                if self.orgs[b].is_research and self.orgs[a].success:
                    research_win.add(b)
            firm_rows = {f.row for f in firms}
            for o in self.orgs:
                if o.row in firm_rows and o.success:
                    if rnd.random() < d.spinoff_firm:
                        parents.append(o)
                elif o.row in research_win and rnd.random() < d.spinoff_research:
                    parents.append(o)
        entries, dropped = self.add_entrants(n_entry, parents)
        return entries, exits, dropped

    def add_entrants(self, n_entry: int, parents: list[Organisation]) -> tuple[int, int]:
        """Start-ups (copying a random alive firm's place) and spin-offs, within the rows left."""
        kp = self.params.knowledge
        rnd, rng = self.random, self.rng
        free = self.row_capacity - len(self.orgs)
        wanted = n_entry + len(parents)
        n_new = min(wanted, free)
        if n_new == 0:
            return 0, wanted
        n_spin = min(len(parents), n_new)
        n_start = n_new - n_spin
        alive = [f for f in self.firms if f.alive]
        if not alive:
            n_start, n_new = 0, n_spin
        origins = [rnd.choice(alive) for _ in range(n_start)] + parents[:n_spin]
        M = kp.max_units
        for k, origin in enumerate(origins):
            spin = k >= n_start
            employees = float(rnd.randint(1, 5))
            sc = size_class(employees)
            values = {
                "kind": SME, "region": origin.region, "cluster": origin.cluster,
                "x": origin.x, "y": origin.y, "age": 0.0, "employees": employees,
                "capital": 2.0 * employees, "growth": 0.0,
                "awareness": rng.beta(2, 3), "ip_awareness": rng.beta(2, 4),
                "talent": min(1.0, rng.beta(2, 4) + 0.05 * sc),
                "credit_access": rng.beta(2 + sc, 3),
                "capacity": 0, "openness": 0.0, "match_quality": 0.0, "patents": 0,
            }
            if spin:
                held = [u for u in range(M) if origin.held[u]]
                top = sorted(held, key=lambda u: (-origin.ability[u], u))[:2]
                fields = [origin.field[u] for u in top]
                abilities = [0.8 * origin.ability[u] for u in top]
                expertise = [1] * len(top)
                memory = [origin.row]
            else:
                units = min(rnd.randint(kp.units_sme[0], kp.units_sme[1]), M)
                fields = rnd.sample(range(self.n_fields), units)
                lo, hi = kp.ability_firm
                abilities = [lo + rnd.random() * (hi - lo) for _ in range(units)]
                expertise = [rnd.randint(1, kp.expertise_max // 2) for _ in range(units)]
                memory = []
            pad = M - len(fields)
            values.update(
                field=fields + [0] * pad, ability=abilities + [0.0] * pad,
                expertise=expertise + [0] * pad, mask=[True] * len(fields) + [False] * pad,
                memory=memory,
            )
            agent = Firm(self, len(self.orgs), values)
            agent.stage = 0
            self.orgs.append(agent)
        return n_new, wanted - n_new

    def summary(self) -> dict[str, Any]:
        """Seed, settings, version and final-step outputs of the last run."""
        return {
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "implementation": f"mesa {mesa.__version__}",
            "params": self.params.to_dict(),
            "instruments": {k: v.to_dict() for k, v in self.instruments.items()},
            "version": __version__,
            "final": self.records[-1] if self.records else {},
        }


class ReferenceGovernment(InstrumentEffects):
    """Phase 6 for the reference model: the scenario's instruments, one firm at a time.

    Eligibility, targeting order (random, or ascending need with random ties), the budget
    rule (admit in order while the cumulative cost fits; stop at the first that does not),
    the ongoing commitments paid first, and each instrument's effect follow the table of
    ``docs/model.md`` section 4.
    """

    def __init__(self, instruments: dict[str, InstrumentConfig], model: ReferenceModel):
        self.instruments = instruments
        self.model = model
        self.spending = dict.fromkeys(INSTRUMENTS, 0.0)
        self.reach = dict.fromkeys(INSTRUMENTS, 0)
        self.read_effects(instruments, enabled=model.params.mechanisms.government)
        self.extra = [0] * model.n_regions
        self.platform_pool: list[int] = []

    def begin_step(self) -> None:
        """Reset this step's spending and reach of every instrument to zero."""
        self.spending = dict.fromkeys(INSTRUMENTS, 0.0)
        self.reach = dict.fromkeys(INSTRUMENTS, 0)

    def spend(self, key: str, amount: float, firms: int) -> None:
        """Add ``amount`` to this step's spending on instrument ``key`` and ``firms`` to the
        firms it paid for or served this step (its reach)."""
        self.spending[key] += float(amount)
        self.reach[key] += int(firms)

    def extra_intro(self) -> list[int]:
        """Extra introductions per region bought by intermediary funding this step."""
        return self.extra

    # --- the matchmaking platform (phase 3) -----------------------------------------------

    def prepare_platform(self, seekers) -> None:
        """Draw this step's platform pool: listed users and research organisations."""
        cfg = self.instruments.get("matchmaking_platform")
        self.platform_pool = []
        if cfg is None or not self.model.params.mechanisms.government:
            return
        listed = [o.row for o in self.model.orgs
                  if (o.platform_user and o.alive) or o.is_research]
        size = int(cfg.setting("pool"))
        self.platform_pool = listed if len(listed) <= size else self.model.random.sample(listed, size)

    def platform_candidates(self, firm: Firm) -> list[int]:
        """The ``candidates`` best pool members for a user by the recommender's score."""
        cfg = self.instruments.get("matchmaking_platform")
        pool = self.platform_pool
        if cfg is None or not firm.platform_user or len(pool) < 2:
            return []
        k = min(int(cfg.setting("candidates")), len(pool) - 1)
        scored = []
        for c in pool:
            if c == firm.row:
                continue
            scored.append((-self.platform_score(firm, self.model.orgs[c]), c))
        scored.sort()
        return [c for _, c in scored[:k]]

    def platform_score(self, i: Organisation, j: Organisation) -> float:
        """``matching.scoring.score_pairs`` for one pair, written out term by term."""
        w = SCORE_WEIGHTS
        cosine = 0.0
        if i.norm > 0 and j.norm > 0:
            cosine = sum(v * j.vec[f] for f, v in i.vec.items() if f in j.vec) / (i.norm * j.norm)
        distance = math.hypot(i.x - j.x, i.y - j.y)
        return (w["text"] * cosine + w["distance"] * math.exp(-distance / DISTANCE_SCALE_KM)
                + w["same_region"] * (i.region == j.region) + w["kind"] * j.is_research)

    # --- phase 6 ----------------------------------------------------------------------------

    def eligible(self, cfg: InstrumentConfig) -> list[Firm]:
        """Alive firms matching the instrument's kinds, stages, size classes and regions."""
        kinds = {SME if k == "sme" else LARGE_FIRM for k in cfg.kinds}
        stages = {STAGES.index(st) for st in cfg.stages}
        classes = (None if cfg.size_classes is None
                   else {SIZE_CLASSES.index(c) for c in cfg.size_classes})
        regions = None if cfg.regions is None else set(cfg.regions)
        return [f for f in self.model.firms
                if f.alive and f.kind in kinds and f.stage in stages
                and (classes is None or f.size_class in classes)
                and (regions is None or f.region in regions)]

    def need(self, key: str, firm: Firm) -> float:
        """The need of ``firm`` for instrument ``key`` (its ``NEED_ATTRIBUTE``); lowest comes first
        under ``targeting = "need"``."""
        name = NEED_ATTRIBUTE[key]
        if name == "capital_per_employee":
            return firm.capital / firm.employees
        if name == "capability":
            return firm.quality
        return getattr(firm, name)

    def ordered(self, key: str, cfg: InstrumentConfig, candidates) -> list:
        """Candidates in targeting order: shuffled, or by ascending need with random ties."""
        rnd = self.model.random
        if cfg.targeting == "need":
            return sorted(candidates, key=lambda f: (self.need(key, f), rnd.random()))
        order = list(candidates)
        rnd.shuffle(order)
        return order

    def admit(self, key: str, cfg: InstrumentConfig, candidates, cost, budget: float) -> list:
        """Candidates in targeting order admitted while the cumulative cost fits the budget."""
        if not candidates or budget <= 0:
            return []
        admitted, total = [], 0.0
        for f in self.ordered(key, cfg, candidates):
            total += cost(f) if callable(cost) else cost
            if total > budget + 1e-9:
                break
            admitted.append(f)
        return admitted

    def fund_grants(self, applicants) -> set:
        """Phase 2: the R&D grant call funds applicants that still meet its eligibility (a stage
        changed at phase 7 counts) in their ranking order while their grants fit the step's
        budget, passing over an application larger than the money left."""
        funded, left = set(), self.grant_budget + 1e-9
        if not applicants:
            return funded
        still = set(self.eligible(self.instruments["rd_grant"]))
        for f in sorted((f for f in applicants if f in still), key=lambda f: f.grant_rank):
            grant = self.grant_share * f.cost
            if grant <= left:
                funded.add(f)
                left -= grant
        return funded

    def act(self, collaborations) -> None:
        """Phase 6: clear last step's flags, pay the ongoing commitments, then apply each configured
        instrument to its eligible firms."""
        model = self.model
        for f in model.firms:
            f.grant_offer = f.tax_eligible = False
            f.platform_user = f.ip_supported = False
        model.cluster_boost = set()
        self.extra = [0] * model.n_regions
        self._ongoing(collaborations)
        for key in INSTRUMENTS:
            cfg = self.instruments.get(key)
            if cfg is not None:
                getattr(self, "_" + key)(cfg, self.eligible(cfg), collaborations)

    def _ongoing(self, collaborations) -> None:
        """Guarantees, secondments and links already running: paid and counted down."""
        cfgs = self.instruments
        for f in self.model.firms:
            if f.guarantee_left > 0 and f.alive:
                if "credit_guarantee" in cfgs:
                    self.spend("credit_guarantee", f.guarantee_cost, 1)
                f.guarantee_left -= 1
            else:
                f.guarantee_left = 0
        for f in self.model.firms:
            if f.second_left > 0 and f.alive:
                cfg = cfgs.get("researcher_secondment")
                if cfg is not None:
                    self.spend("researcher_secondment", cfg.setting("cost"), 1)
                    f.talent = min(1.0, f.talent + cfg.setting("talent_gain"))
                f.second_left -= 1
            else:
                f.second_left = 0
        for f in self.model.firms:
            if f.link_left > 0 and f.alive:
                if f.link_type == LINK_LAB and "joint_lab" in cfgs:
                    self.spend("joint_lab", cfgs["joint_lab"].setting("cost"), 1)
                if f.link_type == LINK_CONSORTIUM and "collaborative_call" in cfgs:
                    grant = cfgs["collaborative_call"].setting("grant")
                    f.capital += grant
                    self.spend("collaborative_call", grant, 1)
                f.link_left -= 1
            else:
                f.link_left = 0

    def _rd_grant(self, cfg, eligible, _collab) -> None:
        if cfg.budget <= 0:
            return
        for rank, f in enumerate(self.ordered("rd_grant", cfg, eligible)):
            f.grant_offer, f.grant_rank = True, rank  # open to next step's call, in this order

    def _credit_guarantee(self, cfg, eligible, _collab) -> None:
        per_employee = cfg.setting("cost_per_employee")
        committed = sum(f.guarantee_cost for f in self.model.firms if f.guarantee_left > 0)
        free = [f for f in eligible if f.guarantee_left == 0]
        for f in self.admit("credit_guarantee", cfg, free, lambda f: per_employee * f.employees,
                            cfg.budget - committed):
            f.guarantee_left = int(cfg.setting("duration"))
            f.guarantee_cost = per_employee * f.employees  # the fee is fixed when given

    def _rd_tax_credit(self, cfg, eligible, _collab) -> None:
        claims = []
        for f in eligible:
            f.tax_eligible = cfg.budget > 0
            claims.append((f, cfg.setting("share") * f.rd_spend))
        total = sum(c for _, c in claims)
        if total <= 0 or cfg.budget <= 0:
            self.tax_scale = 1.0
            return
        scale = self.tax_scale = min(1.0, cfg.budget / total)
        for f, claim in claims:
            f.capital += claim * scale
        self.spend("rd_tax_credit", total * scale, sum(1 for _, c in claims if c > 0))

    def _talent_subsidy(self, cfg, eligible, _collab) -> None:
        free = [f for f in eligible if f.talent < 1.0]
        admitted = self.admit("talent_subsidy", cfg, free, cfg.setting("cost"), cfg.budget)
        for f in admitted:
            f.talent = min(1.0, f.talent + cfg.setting("boost"))
        self.spend("talent_subsidy", cfg.setting("cost") * len(admitted), len(admitted))

    def _researcher_secondment(self, cfg, eligible, _collab) -> None:
        committed = cfg.setting("cost") * sum(1 for f in self.model.firms if f.second_left > 0)
        free = [f for f in eligible if f.second_left == 0 and f.link_left == 0]
        hosted = self.model.hosted_counts()
        for f in self.admit("researcher_secondment", cfg, free, cfg.setting("cost"),
                            cfg.budget - committed):
            host = self.model.research_candidate(f.region)
            # the host takes the secondee only within its free capacity
            if host >= 0 and hosted.get(host, 0) < self.model.orgs[host].capacity:
                hosted[host] = hosted.get(host, 0) + 1
                f.second_host = host
                f.second_left = int(cfg.setting("duration"))

    def _innovation_voucher(self, cfg, eligible, _collab) -> None:
        orgs = self.model.orgs
        # a voucher stays valid for `valid` steps; outstanding ones count against the allowance
        for f in self.model.firms:
            f.voucher_left = max(f.voucher_left - 1, 0)
        valid = int(cfg.setting("valid"))
        outstanding = sum(1 for f in self.model.firms if f.voucher_left > 0) * cfg.setting("value")
        allowance = self.voucher_allowance(cfg.budget, valid, bool(cfg.setting("learn_use")))
        free = [f for f in eligible if f.voucher_left == 0
                and not any(orgs[m].is_research for m in f.memory)]
        for f in self.admit("innovation_voucher", cfg, free, cfg.setting("value"),
                            allowance - outstanding):
            f.voucher_left = valid

    def _matchmaking_platform(self, cfg, eligible, _collab) -> None:
        admitted = self.admit("matchmaking_platform", cfg, eligible, cfg.setting("cost"),
                              cfg.budget)
        for f in admitted:
            f.platform_user = True
        self.spend("matchmaking_platform", cfg.setting("cost") * len(admitted), len(admitted))

    def _joint_lab(self, cfg, eligible, collaborations) -> None:
        orgs = self.model.orgs
        uir_partner = {a: b for a, b, _, _ in collaborations if orgs[b].is_research}
        committed = cfg.setting("cost") * sum(
            1 for f in self.model.firms if f.link_left > 0 and f.link_type == LINK_LAB)
        free = [f for f in eligible if f.row in uir_partner and f.link_left == 0]
        for f in self.admit("joint_lab", cfg, free, cfg.setting("cost"), cfg.budget - committed):
            f.link_partner = uir_partner[f.row]
            f.link_type = LINK_LAB
            f.link_left = int(cfg.setting("duration"))

    def _intermediary_funding(self, cfg, eligible, _collab) -> None:
        cost = cfg.setting("cost_per_introduction")
        total = int(cfg.budget // cost) if cost > 0 else 0
        R = self.model.n_regions
        counts = [0] * R
        for f in eligible:
            counts[f.region] += 1
        if total <= 0 or sum(counts) == 0:
            return
        shares = [c / sum(counts) * total for c in counts]
        base = [math.floor(x) for x in shares]
        rest = total - sum(base)
        by_remainder = sorted(range(R), key=lambda r: (-(shares[r] - base[r]), r))
        for r in by_remainder[:rest]:
            base[r] += 1
        self.extra = base

    def _cluster_programme(self, cfg, eligible, _collab) -> None:
        members: dict[int, list[Firm]] = {}
        for f in self.model.firms:
            if f.alive and f.cluster >= 0:
                members.setdefault(f.cluster, []).append(f)
        with_eligible = {f.cluster for f in eligible if f.cluster >= 0}
        clusters = [c for c in members if c in with_eligible]
        rnd = self.model.random
        if cfg.targeting == "need":
            clusters.sort(key=lambda c: (sum(f.quality for f in members[c]) / len(members[c]),
                                         rnd.random()))
        else:
            rnd.shuffle(clusters)
        total, reached = 0.0, 0
        for c in clusters:
            cost = cfg.setting("cost_per_member") * len(members[c])
            if total + cost > cfg.budget + 1e-9:
                break
            total += cost
            reached += len(members[c])
            self.model.cluster_boost.add(c)
        self.spend("cluster_programme", total, reached)

    def _ip_support(self, cfg, eligible, _collab) -> None:
        admitted = self.admit("ip_support", cfg, eligible, cfg.setting("cost"), cfg.budget)
        for f in admitted:
            f.ip_awareness = min(1.0, f.ip_awareness + cfg.setting("boost"))
            f.ip_supported = True
        self.spend("ip_support", cfg.setting("cost") * len(admitted), len(admitted))

    def _awareness_campaign(self, cfg, eligible, _collab) -> None:
        admitted = self.admit("awareness_campaign", cfg, eligible, cfg.setting("cost"), cfg.budget)
        for f in admitted:
            f.awareness = min(1.0, f.awareness + cfg.setting("boost"))
        self.spend("awareness_campaign", cfg.setting("cost") * len(admitted), len(admitted))

    def _collaborative_call(self, cfg, eligible, _collab) -> None:
        """Every ``every`` steps: a call on random fields; the best consortia become links."""
        model = self.model
        every = int(cfg.setting("every"))
        if model.t % every != every - 1:
            return
        rnd = model.random
        n_fields = max(1, min(int(cfg.setting("n_fields")), model.n_fields))
        call_fields = set(rnd.sample(range(model.n_fields), n_fields))

        def call_ability(org: Organisation) -> float:
            return max((a for f, a, h in zip(org.field, org.ability, org.held, strict=True)
                        if h and f in call_fields), default=-1.0)

        applicants = [f for f in eligible if f.link_left == 0 and call_ability(f) >= 0
                      and rnd.random() < f.awareness]
        if not applicants:
            return
        model.refresh_pools([f for f in model.firms if f.alive])
        proposals = []
        for f in applicants:
            best, best_score = -1, -math.inf
            for c in f.visible_candidates():
                if c < 0 or call_ability(model.orgs[c]) < 0:
                    continue
                score = model.attractiveness(f, model.orgs[c])
                if score > best_score:
                    best, best_score = c, score
            if best < 0:
                continue
            partner = model.orgs[best]
            competence = max(call_ability(f), call_ability(partner)) / model.params.knowledge.ability_max
            score = competence + model.match(f, partner) + cfg.setting("noise") * rnd.gauss(0.0, 1.0)
            proposals.append((-score, f.row, best))
        per = cfg.setting("grant") * cfg.setting("duration")
        n_funded = int(min(len(proposals), (cfg.budget * every) // per)) if per > 0 else 0
        for _, a, b in sorted(proposals)[:n_funded]:
            firm = model.orgs[a]
            firm.link_partner = b
            firm.link_type = LINK_CONSORTIUM
            firm.link_left = int(cfg.setting("duration"))


class ReferenceRecorder:
    """Phase 8 for the reference model: the outputs of ``docs/model.md`` section 5.

    Written independently of the engine's ``measures.py`` (plain Python and NetworkX), so
    that docking also checks how the outputs are measured.
    """

    def __init__(self, model: ReferenceModel):
        self.model = model
        self.window: deque = deque(maxlen=model.params.record.network_window)
        self.n_initial_firms = sum(1 for o in model.orgs if o.initial_firm)
        self.patents_total = sum(o.patents for o in model.orgs)
        self.last_network = dict.fromkeys(NETWORK_COLUMNS, 0.0)

    def record(self, collaborations, entries: int, exits: int, dropped: int) -> dict[str, float]:
        """Phase 8: the step's record, with the same columns and definitions as the engine's
        :class:`~innoweave.simulation.measures.Recorder`."""
        model = self.model
        t = model.t
        orgs = model.orgs
        firms = [f for f in model.firms if f.alive]
        smes = [f for f in firms if f.kind == SME]
        n_smes = len(smes)
        uir_firms = {a for a, b, _, _ in collaborations if orgs[b].is_research}
        # capability: mean ability of the phase-0 idea units / ability_max, of the firms alive
        # at the start of the step (this step's entrants have no phase-0 idea)
        ability_max = model.params.knowledge.ability_max
        qualities = [
            (sum(f.ability[u] for u in f.idea) / len(f.idea) / ability_max) if f.idea else 0.0
            for f in firms if f.row < model.rows_at_start
        ]
        # variety: kenes = (field, ability band of width 2, capped at band 4) of firms' units
        kene_counts: dict[tuple[int, int], int] = {}
        units_held = 0
        for f in firms:
            for fld, a, h in zip(f.field, f.ability, f.held, strict=True):
                if h:
                    kene = (fld, min(int(a * 0.5), 4))
                    kene_counts[kene] = kene_counts.get(kene, 0) + 1
                    units_held += 1
        n_units = units_held
        entropy = -sum(c / n_units * math.log(c / n_units) for c in kene_counts.values())
        self.patents_total += model.patents_step
        collab_uir = sum(1 for _, b, _, _ in collaborations if orgs[b].is_research)
        rec: dict[str, float] = {
            "step": t,
            "n_firms": len(firms),
            "n_smes": n_smes,
            "share_sme_project": sum(f.project for f in smes) / max(n_smes, 1),
            "share_sme_success": sum(f.success for f in smes) / max(n_smes, 1),
            "innovations": sum(f.success for f in model.firms),
            "innovations_sme": sum(f.success for f in smes),
            "radical_innovations": model.radical_successes,
            "collab_alliance": len(collaborations) - collab_uir,
            "collab_uir": collab_uir,
            "collab_cluster": sum(1 for a, b, _, _ in collaborations
                                  if orgs[a].cluster >= 0 and orgs[a].cluster == orgs[b].cluster),
            "collab_total": len(collaborations),
            "share_sme_research_partner": sum(1 for f in smes if f.row in uir_firms) / max(n_smes, 1),
            "new_partnerships": model.new_partnerships,
            "patents": model.patents_step,
            "patents_total": self.patents_total,
            "capability_mean": sum(qualities) / len(qualities) if qualities else 0.0,
            "capability_gini": _gini(qualities),
            "knowledge_variety": math.exp(entropy) if n_units else 0.0,
            "knowledge_breadth": units_held / len(firms) if firms else 0.0,
            "survival": sum(1 for f in firms if f.initial_firm) / max(self.n_initial_firms, 1),
            "entries": entries,
            "exits": exits,
            "entry_dropped": dropped,
        }
        self.window.append([(a, b) for a, b, _, _ in collaborations])
        every = model.params.record.network_every
        if every and (t % every == 0 or t == model.steps - 1):
            self.last_network = _network([e for edges in self.window for e in edges])
        rec.update(self.last_network)
        for key in INSTRUMENTS:
            rec[f"spend_{key}"] = model.government.spending[key]
        rec["spend_total"] = sum(model.government.spending.values())
        for key in INSTRUMENTS:
            rec[f"reach_{key}"] = model.government.reach[key]
        window = model.params.record.innovating_window
        for c, name in enumerate(SIZE_CLASSES):
            in_class = [f for f in firms if f.size_class == c]
            innovating = [f for f in in_class if f.last_success > t - window]
            cooperating = [f for f in innovating if f.last_uir > t - window]
            rec[f"innovating_{name}"] = len(innovating) / len(in_class) if in_class else math.nan
            rec[f"coop_research_{name}"] = (len(cooperating) / len(innovating) if innovating
                                            else math.nan)
        rec["mean_awareness"] = sum(f.awareness for f in firms) / len(firms) if firms else 0.0
        rec["mean_talent"] = sum(f.talent for f in firms) / len(firms) if firms else 0.0
        rec["links_active"] = sum(1 for f in firms if f.link_left > 0)
        rec["secondments_active"] = sum(1 for f in firms if f.second_left > 0)
        return rec


def _gini(values: list[float]) -> float:
    """Gini coefficient as the mean absolute difference over twice the mean."""
    n = len(values)
    total = sum(values)
    if n == 0 or total <= 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((2 * (k + 1) - n - 1) * v for k, v in enumerate(ordered))
    return weighted / (n * total)


def _network(edges: list[tuple[int, int]]) -> dict[str, float]:
    """Network measures of the undirected simple graph of the window's collaborations."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    n, m = graph.number_of_nodes(), graph.number_of_edges()
    if m == 0:
        return dict.fromkeys(NETWORK_COLUMNS, 0.0)
    degrees = [d for _, d in graph.degree()]
    return {
        "net_nodes": float(n),
        "net_edges": float(m),
        "net_density": nx.density(graph),
        "net_largest_component": max(len(c) for c in nx.connected_components(graph)) / n,
        "net_clustering": nx.transitivity(graph),
        "net_mean_degree": sum(degrees) / n,
        "net_max_degree": float(max(degrees)),
    }


class ReferenceTimer:
    """The reference on a synthetic population, every mechanism on, timed one step at a time.

    Building the agents is not timed; agent-steps count the firms alive at the start of
    each step (counted outside the timed step). ``benchmarks/simulation.py`` interleaves
    these steps with engine runs; :func:`benchmark` runs them back to back.
    """

    def __init__(self, firms: int, steps: int, seed: int = 0):
        from innoweave.simulation.population import synthetic_population

        params = ModelParams()
        self.model = ReferenceModel(params, synthetic_population(firms, seed=seed, params=params),
                                    seed=seed)
        self.model._setup(steps)
        self.firms, self.steps_requested = firms, steps
        self.seconds: list[float] = []
        self.agent_steps: list[int] = []

    def step(self) -> float:
        """Time one step; returns its agent-steps per second."""
        alive = sum(1 for f in self.model.firms if f.alive)
        started = time.perf_counter()
        self.model.step()
        self.seconds.append(time.perf_counter() - started)
        self.agent_steps.append(alive)
        return alive / self.seconds[-1]

    def summary(self) -> dict:
        """Agent-steps per second over the steps run, with the settings, timings, whether the rate
        is extrapolated from fewer steps than requested, and the Mesa version."""
        steps_run = len(self.seconds)
        return {"agent_steps_per_s": sum(self.agent_steps) / sum(self.seconds),
                "firms": self.firms, "steps_requested": self.steps_requested,
                "steps_run": steps_run, "extrapolated": steps_run < self.steps_requested,
                "seconds": sum(self.seconds), "agent_steps": sum(self.agent_steps),
                "all_seconds": self.seconds, "mesa": mesa.__version__}


def benchmark(firms: int, steps: int, seed: int = 0, *, max_seconds: float = 120.0) -> dict:
    """Agent-steps per second of the Mesa reference on a synthetic population, all mechanisms on.

    Runs up to ``steps`` steps but stops after the first step that ends past
    ``max_seconds``; the rate is then extrapolated per agent-step from the steps run
    (``extrapolated`` true, ``steps_run`` < ``steps_requested``). See :class:`ReferenceTimer`.
    """
    timer = ReferenceTimer(firms, steps, seed)
    for _ in range(steps):
        timer.step()
        if sum(timer.seconds) > max_seconds:
            break
    return timer.summary()


__all__ = ["Firm", "Intermediary", "Organisation", "ReferenceGovernment", "ReferenceModel",
           "ReferenceRecorder", "ReferenceTimer", "ResearchOrganisation", "benchmark", "size_class"]
