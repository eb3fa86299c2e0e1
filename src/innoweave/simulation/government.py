"""Phase 6 of the model: government instruments, their eligibility, targeting and costs.

Each instrument of a scenario (keys of ``innoweave.registry.instruments.INSTRUMENTS``) has a
budget per step, an eligibility rule (stage, kind, size class, region) and a targeting
order; :class:`Government` admits eligible firms in that order while the cumulative cost
fits the budget, applies the instrument's effect (now, or as a flag read by the next step's
phases) and books what is paid. The rules are the table of ``docs/model.md`` section 4.
"""

from __future__ import annotations

import math

import numpy as np

from innoweave.registry.instruments import INSTRUMENTS
from innoweave.simulation.arrays import to_host
from innoweave.simulation.params import (
    NEED_ATTRIBUTE,
    SIZE_CLASSES,
    STAGES,
    InstrumentConfig,
    InstrumentEffects,
)

try:  # the partner recommender's scoring, when the matchmaking package is installed
    from innoweave.matching.scoring import score_pairs
except ImportError:  # pragma: no cover - depends on the installed packages
    score_pairs = None

INSTRUMENT_KEYS = tuple(INSTRUMENTS)


class Government(InstrumentEffects):
    """The scenario's instruments acting on an :class:`~innoweave.simulation.engine.Engine`."""

    def __init__(self, instruments: dict[str, InstrumentConfig], engine):
        self.instruments = instruments
        self.engine = engine
        self.spending_: dict[str, float] = dict.fromkeys(INSTRUMENT_KEYS, 0.0)
        self.reach_: dict[str, int] = dict.fromkeys(INSTRUMENT_KEYS, 0)
        self.read_effects(instruments, enabled=engine.params_.mechanisms.government)

    # --- bookkeeping ---------------------------------------------------------------------

    def begin_step(self) -> None:
        """Reset this step's spending and reach of every instrument to zero."""
        self.spending_ = dict.fromkeys(INSTRUMENT_KEYS, 0.0)
        self.reach_ = dict.fromkeys(INSTRUMENT_KEYS, 0)

    def spend(self, key: str, amount, firms) -> None:
        """Add ``amount`` to this step's spending on instrument ``key`` and ``firms`` to the
        firms it paid for or served this step (its reach)."""
        self.spending_[key] += float(amount)
        self.reach_[key] += int(firms)

    def extra_intro(self):
        """Extra introductions per region that intermediary funding buys this step (phase 3 reads
        them)."""
        return self.engine.state_.extra_intro

    # --- eligibility and selection -------------------------------------------------------

    def eligible(self, cfg: InstrumentConfig, dv):
        """Alive firms matching the instrument's kinds, stages, size classes and regions."""
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        kinds = [0 if k == "sme" else 1 for k in cfg.kinds]
        ok = s.alive & xp.isin(s.kind, xp.asarray(kinds, dtype=s.kind.dtype))
        ok &= xp.isin(s.stage, xp.asarray([STAGES.index(st) for st in cfg.stages], dtype=xp.int8))
        if cfg.size_classes is not None:
            classes = [SIZE_CLASSES.index(c) for c in cfg.size_classes]
            ok &= xp.isin(dv.size_class, xp.asarray(classes, dtype=dv.size_class.dtype))
        if cfg.regions is not None:
            ok &= xp.isin(s.region, xp.asarray(cfg.regions, dtype=s.region.dtype))
        return ok

    def need(self, key: str, dv):
        """The need of every row for instrument ``key`` (its ``NEED_ATTRIBUTE``: capital per
        employee, idea quality for capability, or a state column); lowest comes first under
        ``targeting = "need"``."""
        s = self.engine.state_
        name = NEED_ATTRIBUTE[key]
        if name == "capital_per_employee":
            return s.capital / s.employees
        if name == "capability":
            return dv.quality
        return getattr(s, name)

    def admit(self, key: str, cfg: InstrumentConfig, mask, cost, budget: float, dv):
        """Rows admitted in targeting order while the cumulative cost stays within budget.

        Draws the instrument's ordering keys (one block of N values; one per candidate row).
        """
        eng = self.engine
        xp = eng.xp_
        rows = xp.nonzero(mask)[0]
        n = int(rows.shape[0])
        k = eng.rng_.random(n, reserve=eng.state_.max_rows)
        if n == 0 or budget <= 0:
            return rows[:0]
        c = cost if getattr(cost, "ndim", 0) else xp.full(mask.shape[0], float(cost))
        if cfg.targeting == "random":
            # only the firms that can fit need ordering: a partial sort is enough
            mean_cost = float(c[rows].mean())
            kk = n if mean_cost <= 0 else min(n, 2 * math.ceil(budget / mean_cost) + 64)
            if kk < n:
                part = xp.argpartition(k, kk - 1)[:kk]
                order = part[xp.argsort(k[part])]
                cum = xp.cumsum(c[rows[order]])
                if float(cum[-1]) <= budget:  # the stop lies beyond: sort everything
                    order = xp.argsort(k)
                    cum = xp.cumsum(c[rows[order]])
                return rows[order][cum <= budget + 1e-9]
        order = self._order(key, cfg, rows, k, dv)
        cum = xp.cumsum(c[rows[order]])
        return rows[order][cum <= budget + 1e-9]

    def ranked(self, key: str, cfg: InstrumentConfig, mask, dv):
        """Every row of ``mask`` in targeting order (drawing the same keys as :meth:`admit`)."""
        eng = self.engine
        rows = eng.xp_.nonzero(mask)[0]
        k = eng.rng_.random(int(rows.shape[0]), reserve=eng.state_.max_rows)
        return rows[self._order(key, cfg, rows, k, dv)]

    def _order(self, key: str, cfg: InstrumentConfig, rows, k, dv):
        """Positions of ``rows`` in targeting order: by the random keys ``k``, or by ascending
        need with ``k`` breaking ties."""
        xp = self.engine.xp_
        if cfg.targeting == "random":
            return xp.argsort(k)
        need = self.need(key, dv)[rows]
        return xp.lexsort(xp.stack([k, need.astype(k.dtype)]))

    def fund_grants(self, applicants, cost, dv):
        """Phase 2: the R&D grant call funds ``applicants`` (a row mask) that still meet its
        eligibility (a stage changed at phase 7 counts) in their ranking order (set at the
        previous step's phase 6) while its grants, ``share × cost``, fit the step's budget; an
        application larger than the money left is passed over and the next one considered.
        Returns the mask of funded rows."""
        xp, s = self.engine.xp_, self.engine.state_
        funded = xp.zeros_like(applicants)
        rows = xp.nonzero(applicants & self.eligible(self.instruments["rd_grant"], dv))[0]
        rows = rows[xp.argsort(s.grant_rank[rows])]
        grant = (self.grant_share * cost[rows]).astype(xp.float64)
        left = self.grant_budget + 1e-9
        while rows.shape[0]:  # each round funds a prefix, then passes one over
            cum = xp.cumsum(grant)
            n = int(xp.searchsorted(cum, left, side="right"))
            funded[rows[:n]] = True
            left -= float(cum[n - 1]) if n else 0.0
            rows, grant = rows[n + 1:], grant[n + 1:]
            fits = grant <= left
            rows, grant = rows[fits], grant[fits]
        return funded

    # --- phase 3 help: the matchmaking platform ------------------------------------------

    def platform_candidates(self, dv, pools, seekers):
        """The platform's recommended candidates for seekers that are users (``(k, P)``)."""
        cfg = self.instruments.get("matchmaking_platform")
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        if cfg is None or not eng.params_.mechanisms.government:
            eng.rng_.skip(s.max_rows)
            return None
        k = int(cfg.setting("candidates"))
        size = int(cfg.setting("pool"))
        out = xp.full((k, seekers.shape[0]), -1, dtype=xp.int64)
        users = xp.nonzero(s.platform_user[seekers])[0]
        listed = (s.platform_user & s.alive) | s.is_research()
        listed_rows = xp.nonzero(listed)[0]
        u = eng.rng_.random(listed_rows.shape[0], reserve=s.max_rows)
        if users.shape[0] == 0 or listed_rows.shape[0] < 2:
            return out
        if listed_rows.shape[0] > size:
            part = xp.argpartition(u, size - 1)[:size]
            pool = listed_rows[part]
        else:
            pool = listed_rows
        q = seekers[users]
        qv, cv = xp.take(dv.vec, q, axis=0), xp.take(dv.vec, pool, axis=0)
        same_region = (s.region[q][:, None] == s.region[pool][None, :]).astype(xp.float32)
        research = s.is_research()[pool].astype(xp.float32)
        if score_pairs is not None:
            dist = xp.sqrt((s.x[q][:, None] - s.x[pool][None, :]) ** 2
                           + (s.y[q][:, None] - s.y[pool][None, :]) ** 2)
            scores = score_pairs(qv, cv, distance_km=dist, same_region=same_region,
                                 kind_complementary=research, xp=xp)
        else:
            scores = self._complementarity(dv, q, pool) + 0.3 * same_region + 0.5 * research
        scores = xp.where(pool[None, :] == q[:, None], -xp.inf, scores)
        kk = min(k, pool.shape[0] - 1)
        top = xp.argsort(-scores, axis=1)[:, :kk]
        out[:kk, users] = pool[top].T
        return out

    def _complementarity(self, dv, q, pool):
        """K(o) of every query-candidate pair: the documented fallback score."""
        xp = self.engine.xp_
        dot = xp.take(dv.vec, q, axis=0) @ xp.take(dv.vec, pool, axis=0).T
        den = dv.norm[q][:, None] * dv.norm[pool][None, :]
        o = xp.minimum(xp.maximum(xp.where(den > 0, dot / xp.where(den > 0, den, 1.0), 0.0), 0.0), 1.0)
        return o if self.engine.params_.search.rule == "conservative" else 4 * o * (1 - o)

    # --- phase 6 -------------------------------------------------------------------------

    def _instrument_block(self) -> int:
        """Values of the random stream reserved per instrument (sized by max_rows)."""
        s = self.engine.state_
        return (3 * self.engine.params_.search.n_candidates + 6) * s.max_rows + s.n_fields

    def block_size(self) -> int:
        """Values of the random stream that phase 6 reserves."""
        return len(INSTRUMENT_KEYS) * self._instrument_block()

    def act(self, dv, collab) -> None:
        """Phase 6: pay and count down ongoing guarantees, secondments and links, then let each
        configured instrument admit eligible firms within its budget and set next step's flags (one
        random block per instrument, skipped for those not configured)."""
        eng = self.engine
        s, rng = eng.state_, eng.rng_
        per_instrument = self._instrument_block()
        # next-step flags are re-allocated every step
        s.grant_offer[:] = False
        s.tax_eligible[:] = False
        s.platform_user[:] = False
        s.ip_supported[:] = False
        s.cluster_boost[:] = False
        s.extra_intro[:] = 0
        # ongoing commitments are paid and counted down even when their budget line ends
        self._ongoing_guarantees()
        self._ongoing_secondments()
        self._ongoing_links()
        unused = 0  # blocks of instruments not configured, skipped whole (in one advance)
        for key in INSTRUMENT_KEYS:
            cfg = self.instruments.get(key)
            if cfg is None:
                unused += per_instrument
                continue
            rng.skip(unused)
            unused = 0
            with rng.block(per_instrument):
                getattr(self, "_" + key)(cfg, self.eligible(cfg, dv), dv, collab=collab)
        rng.skip(unused)

    def _ongoing_guarantees(self):
        s = self.engine.state_
        cfg = self.instruments.get("credit_guarantee")
        active = (s.guarantee_left > 0) & s.alive
        if cfg is not None:
            self.spend("credit_guarantee", s.guarantee_cost[active].sum(), active.sum())
        s.guarantee_left = self.engine.xp_.where(active, s.guarantee_left - 1, 0).astype(
            s.guarantee_left.dtype)

    def _ongoing_secondments(self):
        s = self.engine.state_
        cfg = self.instruments.get("researcher_secondment")
        active = (s.second_left > 0) & s.alive
        if cfg is not None:
            self.spend("researcher_secondment", cfg.setting("cost") * active.sum(),
                       active.sum())
            s.talent = self.engine.xp_.where(
                active, self.engine.xp_.minimum(1.0, s.talent + cfg.setting("talent_gain")),
                s.talent).astype(s.talent.dtype)
        s.second_left = self.engine.xp_.where(active, s.second_left - 1, 0).astype(
            s.second_left.dtype)

    def _ongoing_links(self):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        active = (s.link_left > 0) & s.alive
        lab = active & (s.link_type == 1)
        consortium = active & (s.link_type == 2)
        if "joint_lab" in self.instruments:
            self.spend("joint_lab", self.instruments["joint_lab"].setting("cost") * lab.sum(),
                       lab.sum())
        call = self.instruments.get("collaborative_call")
        if call is not None:
            grant = call.setting("grant")
            s.capital = xp.where(consortium, s.capital + grant, s.capital).astype(s.capital.dtype)
            self.spend("collaborative_call", grant * consortium.sum(), consortium.sum())
        s.link_left = xp.where(active, s.link_left - 1, 0).astype(s.link_left.dtype)

    # --- the instruments (catalogue order) -----------------------------------------------

    def _rd_grant(self, cfg, elig, dv, **_):
        eng = self.engine
        s = eng.state_
        rows = self.ranked("rd_grant", cfg, elig, dv)  # the call is open to them next step
        if cfg.budget <= 0:
            return
        s.grant_offer[rows] = True
        s.grant_rank[rows] = eng.xp_.arange(rows.shape[0], dtype=s.grant_rank.dtype)

    def _credit_guarantee(self, cfg, elig, dv, **_):
        s = self.engine.state_
        per_step = cfg.setting("cost_per_employee") * s.employees
        committed = float(s.guarantee_cost[s.guarantee_left > 0].sum())
        rows = self.admit("credit_guarantee", cfg, elig & (s.guarantee_left == 0), per_step,
                          cfg.budget - committed, dv)
        s.guarantee_left[rows] = int(cfg.setting("duration"))
        s.guarantee_cost[rows] = per_step[rows]  # the fee is fixed when the guarantee is given

    def _rd_tax_credit(self, cfg, elig, dv, **_):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        s.tax_eligible[:] = elig & (cfg.budget > 0)
        claims = xp.where(elig, cfg.setting("share") * eng.rd_spend_, 0.0)
        total = float(claims[elig].sum())  # over the eligible rows: independent of N
        if total <= 0 or cfg.budget <= 0:
            self.tax_scale = 1.0
            return
        scale = self.tax_scale = min(1.0, cfg.budget / total)
        s.capital = (s.capital + claims * scale).astype(s.capital.dtype)
        self.spend("rd_tax_credit", total * scale, xp.count_nonzero(claims[elig] > 0))

    def _talent_subsidy(self, cfg, elig, dv, **_):
        xp, s = self.engine.xp_, self.engine.state_
        rows = self.admit("talent_subsidy", cfg, elig & (s.talent < 1.0), cfg.setting("cost"),
                          cfg.budget, dv)
        s.talent[rows] = xp.minimum(1.0, s.talent[rows] + cfg.setting("boost"))
        self.spend("talent_subsidy", cfg.setting("cost") * rows.shape[0], rows.shape[0])

    def _researcher_secondment(self, cfg, elig, dv, **_):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        committed = cfg.setting("cost") * float((s.second_left > 0).sum())
        free = elig & (s.second_left == 0) & (s.link_left == 0)
        rows = self.admit("researcher_secondment", cfg, free, cfg.setting("cost"),
                          cfg.budget - committed, dv)
        if rows.shape[0] == 0:
            return
        u_host = eng.rng_.random(rows.shape[0], reserve=s.max_rows)
        pools = eng.pools()
        hosts = eng.research_candidate(pools, rows, u_host)
        # a host takes secondees, in admission order, within its free capacity (capacity less
        # the links and secondments it hosts): a secondee is one of its collaborations
        ok = xp.nonzero(hosts >= 0)[0]
        by_host = ok[xp.argsort(hosts[ok], kind="stable")]
        h = hosts[by_host]
        pos = xp.arange(h.shape[0]) - xp.searchsorted(h, h, side="left")
        taken = by_host[pos < eng.remaining_capacity()[h]]
        s.second_host[rows[taken]] = hosts[taken].astype(xp.int32)
        s.second_left[rows[taken]] = int(cfg.setting("duration"))

    def _innovation_voucher(self, cfg, elig, dv, **_):
        xp, s = self.engine.xp_, self.engine.state_
        mem = s.memory
        research_mem = ((mem >= 0) & s.is_research()[xp.maximum(mem, 0)]).any(axis=0)
        # a voucher stays valid for `valid` steps; outstanding ones count against the allowance
        s.voucher_left = xp.maximum(s.voucher_left - 1, 0).astype(s.voucher_left.dtype)
        valid = int(cfg.setting("valid"))
        outstanding = float((s.voucher_left > 0).sum()) * cfg.setting("value")
        allowance = self.voucher_allowance(cfg.budget, valid, bool(cfg.setting("learn_use")))
        free = elig & ~research_mem & (s.voucher_left == 0)
        rows = self.admit("innovation_voucher", cfg, free, cfg.setting("value"),
                          allowance - outstanding, dv)
        s.voucher_left[rows] = valid

    def _matchmaking_platform(self, cfg, elig, dv, **_):
        s = self.engine.state_
        rows = self.admit("matchmaking_platform", cfg, elig, cfg.setting("cost"), cfg.budget,
                          dv)
        s.platform_user[rows] = True
        self.spend("matchmaking_platform", cfg.setting("cost") * rows.shape[0], rows.shape[0])

    def _joint_lab(self, cfg, elig, dv, *, collab, **_):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        uir_partner = xp.full(s.N, -1, dtype=xp.int64)
        research_b = s.is_research()[collab.b]
        uir_partner[collab.a[research_b]] = collab.b[research_b]
        committed = cfg.setting("cost") * float(((s.link_left > 0) & (s.link_type == 1)).sum())
        free = elig & (uir_partner >= 0) & (s.link_left == 0)
        rows = self.admit("joint_lab", cfg, free, cfg.setting("cost"), cfg.budget - committed,
                          dv)
        s.link_partner[rows] = uir_partner[rows].astype(xp.int32)
        s.link_type[rows] = 1
        s.link_left[rows] = int(cfg.setting("duration"))

    def _intermediary_funding(self, cfg, elig, dv, **_):
        xp, s = self.engine.xp_, self.engine.state_
        cost = cfg.setting("cost_per_introduction")
        total = int(cfg.budget // cost) if cost > 0 else 0
        R = s.n_regions
        counts = to_host(xp.bincount(s.region[elig], minlength=R)[:R]).astype(float)
        if total <= 0 or counts.sum() == 0:
            return
        share = counts / counts.sum() * total
        base = np.floor(share).astype(np.int64)
        rest = total - int(base.sum())
        order = np.lexsort((np.arange(R), -(share - base)))  # largest remainder, lower region
        base[order[:rest]] += 1
        s.extra_intro[:] = xp.asarray(base)

    def _cluster_programme(self, cfg, elig, dv, **_):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        C = s.n_clusters
        member = s.alive & s.is_firm() & (s.cluster >= 0)
        cl = xp.maximum(s.cluster, 0)
        members = xp.bincount(cl[member], minlength=C)[:C]
        has_eligible = xp.bincount(cl[member & elig], minlength=C)[:C] > 0
        cost = cfg.setting("cost_per_member") * members
        keys = eng.rng_.random(C, reserve=max(C, s.max_rows))
        if cfg.targeting == "need":
            q = xp.bincount(cl[member], weights=dv.quality[member], minlength=C)[:C]
            need = q / xp.maximum(members, 1)
            order = xp.lexsort(xp.stack([keys[:C], need]))
        else:
            order = xp.argsort(keys[:C])
        order = order[has_eligible[order]]
        cum = xp.cumsum(cost[order])
        chosen = order[cum <= cfg.budget + 1e-9]
        s.cluster_boost[chosen] = True
        self.spend("cluster_programme", cost[chosen].sum(), members[chosen].sum())

    def _ip_support(self, cfg, elig, dv, **_):
        xp, s = self.engine.xp_, self.engine.state_
        rows = self.admit("ip_support", cfg, elig, cfg.setting("cost"), cfg.budget, dv)
        s.ip_awareness[rows] = xp.minimum(1.0, s.ip_awareness[rows] + cfg.setting("boost"))
        s.ip_supported[rows] = True
        self.spend("ip_support", cfg.setting("cost") * rows.shape[0], rows.shape[0])

    def _awareness_campaign(self, cfg, elig, dv, **_):
        xp, s = self.engine.xp_, self.engine.state_
        rows = self.admit("awareness_campaign", cfg, elig, cfg.setting("cost"), cfg.budget,
                          dv)
        s.awareness[rows] = xp.minimum(1.0, s.awareness[rows] + cfg.setting("boost"))
        self.spend("awareness_campaign", cfg.setting("cost") * rows.shape[0], rows.shape[0])

    def _collaborative_call(self, cfg, elig, dv, **_):
        eng = self.engine
        xp, s = eng.xp_, eng.state_
        every = int(cfg.setting("every"))
        if eng.t_ % every != every - 1:
            return
        rng, N = eng.rng_, s.max_rows
        C = eng.params_.search.n_candidates
        u_fields = rng.random(s.n_fields)
        u_apply = rng.random(s.N, reserve=N)
        n_fields = max(1, min(int(cfg.setting("n_fields")), s.n_fields))
        fields = xp.argsort(u_fields)[:n_fields]
        in_call = xp.isin(s.field, fields.astype(s.field.dtype)) & s.mask  # (M, N)
        holds = in_call.any(axis=0)
        applicants = xp.nonzero(elig & (s.link_left == 0) & holds & (u_apply < s.awareness))[0]
        P0 = applicants.shape[0]
        slot_draws = tuple(rng.random((C, P0), reserve=C * N) for _ in range(3))
        noise = rng.normal(P0, reserve=N)
        if P0 == 0:
            return
        pools = eng.pools()
        cands = eng.slot_candidates(pools, applicants, dv.size_class, *slot_draws)
        cc = xp.maximum(cands, 0)
        cands = xp.where((cands >= 0) & holds[cc], cands, -1)
        K, P = cands.shape
        sc = eng.attractiveness(dv, applicants, cands)
        best = xp.argmax(sc, axis=0)
        partner = cands[best, xp.arange(P)]
        ok = partner >= 0
        a, b, noise = applicants[ok], partner[ok], noise[ok]
        if a.shape[0] == 0:
            return
        call_ability = xp.where(in_call, s.ability, 0.0).max(axis=0)
        competence = xp.maximum(call_ability[a], call_ability[b]) / eng.params_.knowledge.ability_max
        score = competence + eng.match(dv, a, b) + cfg.setting("noise") * noise
        order = xp.argsort(-score)
        per = cfg.setting("grant") * cfg.setting("duration")
        n_funded = int(min(a.shape[0], (cfg.budget * every) // per)) if per > 0 else 0
        funded = order[:n_funded]
        s.link_partner[a[funded]] = b[funded].astype(xp.int32)
        s.link_type[a[funded]] = 2
        s.link_left[a[funded]] = int(cfg.setting("duration"))
