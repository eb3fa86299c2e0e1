"""The attribute model: firm attributes drawn by size class, calibrated to NCSES shares.

Real registries lack most of what the diagnosis and the simulation need — CORDIS, for
instance, has no employee counts, no finance and no IP data — and the synthetic generator
needs the same attributes for invented firms. :class:`AttributeModel` draws them from
documented distributions whose parameters depend on the firm's size class, so that a
population of firms reproduces the published NCSES shares (:mod:`.ncses`) of innovation
incidence, barriers, cooperation partners, IP use and government-programme use. Values
already in the registry are kept; every drawn value is named in the row's
``synthetic_fields`` (columns by name, ``attributes`` keys as ``attributes.<key>``).

How calibration is exact: each binary outcome *b* (a barrier, a partner type, an IP
method…) is the event ``z_b < Φ⁻¹(p)`` of a standard-normal latent ``z_b`` whose
threshold uses the NCSES share ``p`` of the firm's size class (and innovation status, for
barriers). The latents are correlated — they load on one common "resourcefulness" factor —
but every latent stays N(0, 1) whatever the class or status, so each share is reproduced in
expectation while firms short of one resource tend to be short of others. The 0..1 scores
are the same latents on a probability scale: ``score = Φ(z − Φ⁻¹(p_barrier))``, so a firm
reports the linked barrier exactly when its score is below 0.5 (credit_access ↔ lack of
credit, talent ↔ lack of skilled employees, awareness ↔ difficulty obtaining government
grants). See ``docs/synthetic.md`` for every distribution and the calibration table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

import innoweave
from innoweave.estimator import Estimator
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import FIRM_KINDS, RESEARCH_KINDS, OrgKind
from innoweave.registry.ncses import SIZE_BOUNDS, SIZE_CLASSES, NcsesShares, load_ncses_shares
from innoweave.registry.stages import StageRules, classify_stage
from innoweave.registry.validation import ORGS
from innoweave.seeding import SeedLike, make_rng

BARRIERS = ("internal_finance", "credit", "costs", "skilled_employees", "partners",
            "government_grants", "market_demand", "competition")  # fmt: skip
PARTNERS = ("affiliated", "suppliers", "private_customers", "public_customers", "competitors",
            "other_sector_firms", "consultants", "university", "public_research",
            "private_research")  # fmt: skip
RESEARCH_PARTNER_TYPES = ("university", "public_research", "private_research")
IP_METHODS = ("patent", "design_patent", "copyright", "trademark", "design_complexity", "nda",
              "branding", "trade_secret")  # fmt: skip
SUPPORT_PROGRAMMES = ("tax_credit", "grants", "training_hiring", "procurement")
FIRM_COLUMNS = ("employees", "revenue", "rd_spending", "rd_staff", "patents", "trademarks",
                "founding_year", "stage")  # fmt: skip
FIRM_ATTRIBUTES = ("size_class", "awareness", "ip_awareness", "credit_access", "talent",
                   "innovating", "cooperates_research", "growth", "barriers", "cooperation",
                   "ip_use", "support_use")  # fmt: skip
RESEARCH_ATTRIBUTES = ("capacity", "openness")
#: The founding years the registry accepts (the import's range): drawn years are clipped to it,
#: so a completed registry exports and imports again. Observed years are kept as they are.
FOUNDING_YEAR_RANGE = (int(ORGS.column("founding_year").minimum), int(ORGS.column("founding_year").maximum))
SCORE_BARRIER = {"credit_access": "credit", "talent": "skilled_employees",
                 "awareness": "government_grants"}  # fmt: skip


@dataclass(frozen=True)
class FirmParameters:
    """The distributions' parameters (documented in ``docs/synthetic.md``).

    - employees: one log-normal firm-size law (``employee_mu``, ``employee_sigma`` of
      ln employees) truncated to the class bounds; large firms capped at ``max_employees``.
    - age: log-normal with class medians ``age_median`` and spread ``age_sigma``.
    - growth (annual employee growth): normal with mean
      ``growth_base + growth_young * exp(-age / growth_decay) + growth_innovator * innovating``
      and sd ``growth_sd + growth_young_sd * exp(-age / growth_decay)``, clipped to
      ``[-0.6, 2.0]``.
    - revenue per employee: log-normal, class medians ``revenue_per_employee`` (EUR),
      spread ``revenue_sigma``.
    - R&D intensity (R&D spending / revenue): innovators log-normal with median
      ``rd_intensity_median`` and spread ``rd_intensity_sigma`` (capped at 0.5);
      non-innovators spend with probability ``rd_noninnovator_share`` at median
      ``rd_noninnovator_median``; R&D staff = employees * min(0.9, ``rd_staff_factor`` * intensity).
    - patents / trademarks: firms using the method hold ``1 + Poisson(λ_class)``.
    - ``factor_loading``: loading of every latent on the common factor (correlation
      ``factor_loading**2`` between latents).
    """

    employee_mu: float = math.log(5.0)
    employee_sigma: float = 1.6
    max_employees: int = 100_000
    age_median: tuple[float, float, float, float] = (8.0, 14.0, 20.0, 28.0)
    age_sigma: float = 0.7
    growth_base: float = 0.02
    growth_young: float = 0.20
    growth_innovator: float = 0.03
    growth_decay: float = 4.0
    growth_sd: float = 0.12
    growth_young_sd: float = 0.10
    revenue_per_employee: tuple[float, float, float, float] = (110e3, 130e3, 160e3, 220e3)
    revenue_sigma: float = 0.5
    rd_intensity_median: float = 0.03
    rd_intensity_sigma: float = 0.9
    rd_noninnovator_share: float = 0.15
    rd_noninnovator_median: float = 0.005
    rd_staff_factor: float = 2.5
    patent_lambda: tuple[float, float, float, float] = (0.5, 1.0, 3.0, 20.0)
    trademark_lambda: tuple[float, float, float, float] = (0.3, 0.8, 2.0, 10.0)
    factor_loading: float = 0.5
    university_employees_median: float = 2500.0
    institute_employees_median: float = 150.0
    research_employees_sigma: float = 0.9
    research_age_median: tuple[float, float] = (60.0, 30.0)


def size_class_of(employees) -> np.ndarray:
    """Size class of each head count (``None`` where missing or negative).

    A firm without employees (a sole proprietor, head count 0) counts as micro.
    """
    e = pd.to_numeric(pd.Series(np.asarray(employees, dtype=object)), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    out = np.full(e.shape, None, dtype=object)
    for cls, (lo, hi) in SIZE_BOUNDS.items():
        out[(e >= (0 if cls == "micro" else lo)) & (e < hi + 1)] = cls
    return out


def _column_values(orgs: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(orgs[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _attr_values(attrs: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Values of one attributes key and a mask of where it is present (not None)."""
    values = np.array([a.get(key) for a in attrs], dtype=object)
    present = np.array([v is not None for v in values], dtype=bool)
    return values, present


def _floats(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if present.any():
        out[present] = pd.to_numeric(pd.Series(values[present]), errors="coerce").to_numpy(float)
    return out


class AttributeModel(Estimator):
    """Fills missing firm and research-organisation attributes (flagged synthetic).

    Parameters (keyword-only): ``shares`` — the :class:`NcsesShares` to calibrate to
    (default: :func:`load_ncses_shares`); ``stage_rules`` — the growth-stage rule;
    ``params`` — :class:`FirmParameters`; ``size_mix`` — the probability of each size class
    for firms whose size is unknown (default: the NCSES company counts, restricted to
    micro–medium for SMEs); ``reference_year`` — the year ages are counted to.

    ``fit()`` resolves the shares and stores ``shares_``, ``stage_rules_``; ``complete()``
    fits on first use. Each call of ``complete`` records ``seed_`` and ``settings_``.
    """

    def __init__(
        self,
        *,
        shares: NcsesShares | None = None,
        stage_rules: StageRules | None = None,
        params: FirmParameters | None = None,
        size_mix: dict[str, float] | None = None,
        reference_year: int = 2024,
    ) -> None:
        self.shares = shares
        self.stage_rules = stage_rules
        self.params = params
        self.size_mix = size_mix
        self.reference_year = reference_year

    def fit(self) -> AttributeModel:
        """Resolve the NCSES shares, stage rules and firm parameters and normalise the size-class
        mix (overall and for SMEs) that :meth:`complete` draws from. Returns ``self``."""
        self.shares_ = self.shares if self.shares is not None else load_ncses_shares()
        self.stage_rules_ = self.stage_rules or StageRules()
        self.params_ = self.params or FirmParameters()
        mix = self.size_mix or self.shares_.size_mix()
        unknown = set(mix) - set(SIZE_CLASSES)
        if unknown:
            raise ValueError(f"size_mix: unknown size classes {sorted(unknown)}; allowed: {SIZE_CLASSES}")
        weights = np.array([float(mix.get(c, 0.0)) for c in SIZE_CLASSES])
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"size_mix: weights must be >= 0 and not all zero, got {mix}")
        self.size_mix_ = weights / weights.sum()
        sme = weights[:3]
        self.sme_size_mix_ = sme / sme.sum() if sme.sum() > 0 else np.array([1.0, 0.0, 0.0])
        return self

    # -- public ------------------------------------------------------------------------
    def complete(self, frames: RegistryFrames, *, seed: SeedLike = None) -> RegistryFrames:
        """A copy of ``frames`` whose firms and research organisations have every attribute.

        Missing values are drawn; present values are kept and used (an observed employee
        count fixes the size class, an observed founding year the age). The result's
        organisations name each drawn value in ``synthetic_fields``. The growth ``stage`` is
        drawn for SMEs (kind ``sme``) only: large firms and companies of unknown size keep it
        empty, and a stage an earlier version drew for them (flagged synthetic) is removed.
        """
        if not hasattr(self, "shares_"):
            self.fit()
        rng = make_rng(seed)
        self.seed_ = seed if not isinstance(seed, np.random.Generator) else "generator"
        self.settings_ = {
            "reference_year": self.reference_year,
            "stage_rules": self.stage_rules_.to_dict(),
            "shares_source": self.shares_.provenance,
            "version": innoweave.__version__,
        }
        orgs = frames.organisations.reset_index(drop=True).copy()
        kinds = orgs["kind"].astype(str).to_numpy()
        firm_rows = np.flatnonzero(np.isin(kinds, [k.value for k in FIRM_KINDS]))
        research_rows = np.flatnonzero(np.isin(kinds, [k.value for k in RESEARCH_KINDS]))
        if len(firm_rows):
            evidence = project_evidence(orgs, frames.participations)
            self._complete_firms(orgs, firm_rows, rng, {k: v[firm_rows] for k, v in evidence.items()})
        if len(research_rows):
            self._complete_research(orgs, research_rows, rng)
        for col in ("employees", "revenue", "rd_spending", "rd_staff"):
            orgs[col] = pd.to_numeric(orgs[col], errors="coerce").astype(float)
        for col in ("founding_year", "patents", "trademarks"):
            orgs[col] = pd.to_numeric(orgs[col], errors="coerce").astype("Int64")
        return RegistryFrames(orgs, frames.projects, frames.participations, frames.clusters)

    def _founding(self, age: np.ndarray) -> np.ndarray:
        """Founding years of drawn ages, clipped to :data:`FOUNDING_YEAR_RANGE` (a log-normal
        age has a long tail: a university drawn 650 years old is founded in 1800)."""
        return np.clip(self.reference_year - np.floor(age), *FOUNDING_YEAR_RANGE)

    # -- firms ---------------------------------------------------------------------------
    def _draw_size_class(self, sub: pd.DataFrame, attrs: list[dict], rng) -> tuple[np.ndarray, np.ndarray]:
        n = len(sub)
        employees = _column_values(sub, "employees")
        if (employees < 0).any():
            row = sub.index[np.flatnonzero(employees < 0)[0]]
            raise ValueError(f"organisation {sub.at[row, 'external_id']!r}: employees "
                             f"{float(sub.at[row, 'employees'])} is negative")  # fmt: skip
        observed = size_class_of(employees)
        given, given_mask = _attr_values(attrs, "size_class")
        bad = given_mask & ~np.isin(given, SIZE_CLASSES)
        if bad.any():
            row = sub.index[np.flatnonzero(bad)[0]]
            raise ValueError(
                f"organisation {sub.at[row, 'external_id']!r}: attributes.size_class "
                f"{given[bad][0]!r} is not one of {SIZE_CLASSES}"
            )
        sme_bound = (sub["kind"].to_numpy() == OrgKind.SME.value) | (
            sub["sme_flag"].map(lambda v: v is True or v == 1).to_numpy(dtype=bool)
        )
        large = sub["kind"].to_numpy() == OrgKind.LARGE_FIRM.value
        u = rng.random(n)
        drawn_any = np.searchsorted(np.cumsum(self.size_mix_), u, side="right")
        drawn_sme = np.searchsorted(np.cumsum(self.sme_size_mix_), u, side="right")
        idx = np.where(sme_bound, drawn_sme, drawn_any).clip(0, 3)
        idx[large] = 3
        drawn = np.array(SIZE_CLASSES, dtype=object)[idx]
        cls = np.where(given_mask, given, drawn)
        has_obs = observed != None  # noqa: E711 - elementwise on an object array
        cls = np.where(has_obs, observed, cls)
        return cls, ~(has_obs | given_mask)

    def _complete_firms(self, orgs: pd.DataFrame, rows: np.ndarray, rng, evidence: dict) -> None:
        p, sh = self.params_, self.shares_
        sub = orgs.iloc[rows]
        n = len(rows)
        attrs = [dict(a) if isinstance(a, dict) else {} for a in sub["attributes"]]
        drawn: dict[str, np.ndarray] = {}

        cls, drawn["attributes.size_class"] = self._draw_size_class(sub, attrs, rng)
        ci = pd.Series(cls).map({c: i for i, c in enumerate(SIZE_CLASSES)}).to_numpy(dtype=int)

        # employees: a log-normal law truncated to the class bounds (inverse-CDF draw).
        employees = _column_values(sub, "employees")
        lo = np.array([SIZE_BOUNDS[c][0] for c in SIZE_CLASSES], dtype=float)[ci]
        hi = np.minimum(np.array([SIZE_BOUNDS[c][1] for c in SIZE_CLASSES], dtype=float)[ci] + 1,
                        p.max_employees)  # fmt: skip
        a = ndtr((np.log(lo) - p.employee_mu) / p.employee_sigma)
        b = ndtr((np.log(hi) - p.employee_mu) / p.employee_sigma)
        x = np.exp(p.employee_mu + p.employee_sigma * ndtri(a + (b - a) * rng.random(n)))
        new_emp = np.clip(np.floor(x), lo, hi - 1)
        drawn["employees"] = np.isnan(employees)
        employees = np.where(drawn["employees"], new_emp, employees)

        # age and founding year
        founding = _column_values(sub, "founding_year")
        age_draw = np.exp(np.log(np.array(p.age_median)[ci]) + p.age_sigma * rng.standard_normal(n))
        drawn["founding_year"] = np.isnan(founding)
        founding = np.where(drawn["founding_year"], self._founding(age_draw), founding)
        age = np.clip(self.reference_year - founding, 0, None)

        # innovation incidence (table 2609), an observed flag wins
        given, mask = _attr_values(attrs, "innovating")
        draw_innov = rng.random(n) < np.array([sh[c].innovating for c in SIZE_CLASSES])[ci]
        innovating = np.where(mask, given, np.where(evidence["projects"], True, draw_innov)).astype(bool)
        drawn["attributes.innovating"] = ~mask & ~evidence["projects"]
        status = innovating.astype(int)  # 0 = non-innovating, 1 = innovating

        # growth and stage
        young = np.exp(-age / p.growth_decay)
        g_draw = (p.growth_base + p.growth_young * young + p.growth_innovator * innovating
                  + (p.growth_sd + p.growth_young_sd * young) * rng.standard_normal(n))  # fmt: skip
        given, mask = _attr_values(attrs, "growth")
        # the stage is decided on the growth as stored (4 decimals), so that re-deriving it
        # from the record (``diagnose stages``) gives the same stage
        growth = np.round(np.where(mask, _floats(given, mask), np.clip(g_draw, -0.6, 2.0)), 4)
        drawn["attributes.growth"] = ~mask
        # Growth stages are for SMEs only: other firms keep their stage column empty (a stage
        # they record is kept; one drawn by an earlier version of this model is removed).
        is_sme = sub["kind"].astype(str).to_numpy() == OrgKind.SME.value
        stage = sub["stage"].to_numpy(dtype=object)
        stage_missing = pd.isna(pd.Series(stage)).to_numpy()
        drawn["stage"] = stage_missing & is_sme
        stage = np.where(
            drawn["stage"], classify_stage(age, employees, growth, rules=self.stage_rules_), stage
        )
        stale_stage = (
            ~is_sme
            & ~stage_missing
            & np.array([_names(fields, "stage") for fields in sub["synthetic_fields"]], dtype=bool)
        )
        stage[stale_stage] = None

        # correlated standard-normal latents: one common factor plus idiosyncratic noise
        lam = p.factor_loading
        common = rng.standard_normal(n)
        names = (*BARRIERS, "coop", "ip", "support")
        z = {k: lam * common + math.sqrt(1 - lam * lam) * rng.standard_normal(n) for k in names}

        def barrier_share(key: str) -> np.ndarray:
            table = np.array([[sh[c].barriers_non_innovating[key] for c in SIZE_CLASSES],
                              [sh[c].barriers[key] for c in SIZE_CLASSES]])  # fmt: skip
            return table[status, ci]

        scores: dict[str, np.ndarray] = {}
        for score, barrier in SCORE_BARRIER.items():
            given, mask = _attr_values(attrs, score)
            drawn_score = np.round(ndtr(z[barrier] - ndtri(barrier_share(barrier))), 4)
            scores[score] = np.where(mask, _floats(given, mask), drawn_score)
            drawn[f"attributes.{score}"] = ~mask
        barriers = {}
        for key in BARRIERS:
            linked = next((s for s, b in SCORE_BARRIER.items() if b == key), None)
            if linked:
                barriers[key] = scores[linked] < 0.5
            else:
                barriers[key] = z[key] < ndtri(barrier_share(key))

        # IP methods (table 11259) share one latent with IP awareness
        ip_p = {m: np.array([sh[c].ip[m] for c in SIZE_CLASSES])[ci] for m in IP_METHODS}
        ip_use = {m: 0.7 * z["ip"] + math.sqrt(1 - 0.49) * rng.standard_normal(n) > -ndtri(ip_p[m])
                  for m in IP_METHODS}  # fmt: skip
        top_ip = np.max(np.stack([ip_p[m] for m in IP_METHODS]), axis=0)
        given, mask = _attr_values(attrs, "ip_awareness")
        scores["ip_awareness"] = np.where(mask, _floats(given, mask), ndtr(z["ip"] + ndtri(top_ip)))
        drawn["attributes.ip_awareness"] = ~mask

        # cooperation partners (table 4446): innovators only, partner types given "any"
        any_p = np.array([sh[c].cooperation["any"] for c in SIZE_CLASSES])[ci]
        cooperates = innovating & (z["coop"] > -ndtri(any_p))
        partners = {}
        for key in PARTNERS:
            cond = np.array([sh[c].cooperation[key] / max(sh[c].cooperation["any"], 1e-9)
                             for c in SIZE_CLASSES])[ci]  # fmt: skip
            partners[key] = cooperates & (rng.random(n) < cond)
        # a cooperating firm has at least one partner: give partnerless ones a type drawn in
        # proportion to the published shares (moves each share by well under 0.1 point)
        _add_one(partners, cooperates & ~np.logical_or.reduce([partners[k] for k in PARTNERS]),
                 np.array([[sh[c].cooperation[k] for k in PARTNERS] for c in SIZE_CLASSES]), ci, rng)
        research = np.logical_or.reduce([partners[k] for k in RESEARCH_PARTNER_TYPES])
        given, mask = _attr_values(attrs, "cooperates_research")
        known = mask | evidence["projects"]
        coop_research = np.where(mask, given, np.where(evidence["projects"], evidence["research"], research))
        coop_research = coop_research.astype(bool)
        drawn["attributes.cooperates_research"] = ~known
        # keep the partner types consistent with an observed research cooperation
        for k in RESEARCH_PARTNER_TYPES:
            partners[k] &= coop_research
        research_partners = {k: partners[k] for k in RESEARCH_PARTNER_TYPES}
        _add_one(research_partners, coop_research & ~np.logical_or.reduce(list(research_partners.values())),
                 np.array([[sh[c].cooperation[k] for k in RESEARCH_PARTNER_TYPES] for c in SIZE_CLASSES]),
                 ci, rng)  # fmt: skip
        partners.update(research_partners)

        # government programme use (table 7459), correlated with awareness's latent
        support = {}
        for key in SUPPORT_PROGRAMMES:
            pk = np.array([sh[c].government_support[key] for c in SIZE_CLASSES])[ci]
            lat = 0.6 * z["government_grants"] + 0.8 * rng.standard_normal(n)
            support[key] = lat > -ndtri(pk)

        # money, R&D and IP counts
        revenue = _column_values(sub, "revenue")
        rpe = np.array(p.revenue_per_employee)[ci] * np.exp(p.revenue_sigma * rng.standard_normal(n))
        drawn["revenue"] = np.isnan(revenue)
        revenue = np.where(drawn["revenue"], np.round(employees * rpe, -2), revenue)
        intensity = np.where(
            innovating,
            np.minimum(p.rd_intensity_median * np.exp(p.rd_intensity_sigma * rng.standard_normal(n)), 0.5),
            np.where(rng.random(n) < p.rd_noninnovator_share,
                     p.rd_noninnovator_median * np.exp(0.7 * rng.standard_normal(n)), 0.0),
        )  # fmt: skip
        rd = _column_values(sub, "rd_spending")
        drawn["rd_spending"] = np.isnan(rd)
        rd = np.where(drawn["rd_spending"], np.round(revenue * intensity, -2), rd)
        rd_staff = _column_values(sub, "rd_staff")
        drawn["rd_staff"] = np.isnan(rd_staff)
        staff_share = np.minimum(0.9, p.rd_staff_factor * np.where(revenue > 0, rd / np.maximum(revenue, 1), 0))
        rd_staff = np.where(drawn["rd_staff"], np.round(employees * staff_share), rd_staff)
        patents = _column_values(sub, "patents")
        drawn["patents"] = np.isnan(patents)
        n_pat = np.where(ip_use["patent"], 1 + rng.poisson(np.array(p.patent_lambda)[ci]), 0)
        patents = np.where(drawn["patents"], n_pat, patents)
        trademarks = _column_values(sub, "trademarks")
        drawn["trademarks"] = np.isnan(trademarks)
        n_tm = np.where(ip_use["trademark"], 1 + rng.poisson(np.array(p.trademark_lambda)[ci]), 0)
        trademarks = np.where(drawn["trademarks"], n_tm, trademarks)

        # write back columns (kept values are unchanged by construction)
        idx = orgs.index[rows]
        for col, values in (("employees", employees), ("revenue", revenue), ("rd_spending", rd),
                            ("rd_staff", rd_staff)):  # fmt: skip
            orgs.loc[idx, col] = values
        for col, values in (("patents", patents), ("trademarks", trademarks),
                            ("founding_year", founding)):  # fmt: skip
            orgs[col] = orgs[col].astype(object)
            orgs.loc[idx, col] = pd.array(values, dtype="Int64").astype(object)
        orgs.loc[idx, "stage"] = stage

        # attributes dicts: drawn keys first, observed keys override them
        dict_flags = {
            "barriers": (BARRIERS, barriers),
            "cooperation": (PARTNERS, partners),
            "ip_use": (IP_METHODS, ip_use),
            "support_use": (SUPPORT_PROGRAMMES, support),
        }
        nested = {}
        for key, (keys, flags) in dict_flags.items():
            mask = np.array([key in a for a in attrs], dtype=bool)
            drawn[f"attributes.{key}"] = ~mask
            nested[key] = _flag_dicts(keys, flags)
        flat = {
            "size_class": cls.tolist(),
            "awareness": scores["awareness"].tolist(),
            "ip_awareness": np.round(scores["ip_awareness"], 4).tolist(),
            "credit_access": scores["credit_access"].tolist(),
            "talent": scores["talent"].tolist(),
            "innovating": innovating.tolist(),
            "cooperates_research": coop_research.tolist(),
            "growth": np.round(growth, 4).tolist(),
        }
        keys = list(flat) + list(nested)
        columns = [flat[k] for k in flat] + [nested[k] for k in nested]
        new_attrs = [dict(zip(keys, values)) for values in zip(*columns)]  # noqa: B905 - equal lengths
        for merged, old in zip(new_attrs, attrs, strict=True):
            if old:
                merged.update(old)
        orgs["attributes"] = orgs["attributes"].astype(object)
        orgs.loc[idx, "attributes"] = pd.Series(new_attrs, index=idx, dtype=object)
        mark_synthetic(orgs, idx, drawn)
        if stale_stage.any():
            unmark_synthetic(orgs, idx[stale_stage], "stage")

    # -- research organisations ----------------------------------------------------------
    def _complete_research(self, orgs: pd.DataFrame, rows: np.ndarray, rng) -> None:
        p = self.params_
        sub = orgs.iloc[rows]
        n = len(rows)
        is_uni = sub["kind"].to_numpy() == OrgKind.UNIVERSITY.value
        median = np.where(is_uni, p.university_employees_median, p.institute_employees_median)
        drawn: dict[str, np.ndarray] = {}
        employees = _column_values(sub, "employees")
        drawn["employees"] = np.isnan(employees)
        draw = np.maximum(5, np.round(median * np.exp(p.research_employees_sigma * rng.standard_normal(n))))
        employees = np.where(drawn["employees"], draw, employees)
        founding = _column_values(sub, "founding_year")
        drawn["founding_year"] = np.isnan(founding)
        age = np.where(is_uni, p.research_age_median[0], p.research_age_median[1]) * np.exp(
            0.6 * rng.standard_normal(n)
        )
        founding = np.where(drawn["founding_year"], self._founding(age), founding)
        rd_staff = _column_values(sub, "rd_staff")
        drawn["rd_staff"] = np.isnan(rd_staff)
        rd_staff = np.where(drawn["rd_staff"], np.round(0.6 * employees), rd_staff)
        # capacity: the organisation's size rank within its kind, blurred; openness to industry
        z_size = (np.log(np.maximum(employees, 1)) - np.log(median)) / p.research_employees_sigma
        capacity = ndtr(0.8 * z_size + 0.6 * rng.standard_normal(n))
        openness = rng.beta(4.0, 2.0, n)
        idx = orgs.index[rows]
        orgs.loc[idx, "employees"] = employees
        orgs.loc[idx, "rd_staff"] = rd_staff
        orgs["founding_year"] = orgs["founding_year"].astype(object)
        orgs.loc[idx, "founding_year"] = pd.array(founding, dtype="Int64").astype(object)
        attrs = [dict(a) if isinstance(a, dict) else {} for a in sub["attributes"]]
        new_attrs = []
        drawn["attributes.capacity"] = np.array(["capacity" not in a for a in attrs])
        drawn["attributes.openness"] = np.array(["openness" not in a for a in attrs])
        for old, cap, op in zip(attrs, np.round(capacity, 4).tolist(), np.round(openness, 4).tolist(),
                                strict=True):  # fmt: skip
            merged = {"capacity": cap, "openness": op}
            merged.update(old)
            new_attrs.append(merged)
        orgs["attributes"] = orgs["attributes"].astype(object)
        orgs.loc[idx, "attributes"] = pd.Series(new_attrs, index=idx, dtype=object)
        mark_synthetic(orgs, idx, drawn)


def _add_one(flags: dict[str, np.ndarray], rows: np.ndarray, weights: np.ndarray, ci: np.ndarray,
             rng: np.random.Generator) -> None:
    """Set one flag of ``flags`` on ``rows``, chosen with the size class's ``weights``."""
    u = rng.random(len(rows))
    if not rows.any():
        return
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)[ci]
    choice = (u[:, None] > cum).sum(axis=1).clip(0, len(flags) - 1)
    for j, key in enumerate(flags):
        flags[key] = flags[key] | (rows & (choice == j))


def project_evidence(orgs: pd.DataFrame, participations: pd.DataFrame) -> dict[str, np.ndarray]:
    """What the collaboration history says about each organisation.

    ``projects``: the organisation takes part in at least one project (for a firm: it
    innovates — funded R&D projects are innovation activity); ``research``: one of its
    projects includes a university or research institute (it cooperates with research).
    """
    n = len(orgs)
    if participations is None or participations.empty:
        return {"projects": np.zeros(n, bool), "research": np.zeros(n, bool)}
    kinds = dict(zip(orgs["external_id"], orgs["kind"], strict=True))
    parts = participations[["project_external_id", "org_external_id"]].dropna()
    is_research = parts["org_external_id"].map(kinds).isin([k.value for k in RESEARCH_KINDS])
    research_projects = set(parts.loc[is_research.to_numpy(), "project_external_id"])
    with_research = parts[parts["project_external_id"].isin(research_projects)]
    ids = orgs["external_id"]
    return {
        "projects": ids.isin(set(parts["org_external_id"])).to_numpy(),
        "research": ids.isin(set(with_research["org_external_id"])).to_numpy(),
    }


def _pattern_codes(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a boolean matrix (at most 64 columns) and each row's pattern number."""
    if masks.shape[1] > 64:
        raise ValueError(f"at most 64 flags per pattern, got {masks.shape[1]}")
    codes = masks.astype(np.uint64) @ (np.uint64(1) << np.arange(masks.shape[1], dtype=np.uint64))
    unique, inverse = np.unique(codes, return_inverse=True)
    bits = ((unique[:, None] >> np.arange(masks.shape[1], dtype=np.uint64)) & np.uint64(1)).astype(bool)
    return bits, inverse.ravel()


def _flag_dicts(keys: tuple[str, ...], flags: dict[str, np.ndarray]) -> list[dict[str, bool]]:
    """One ``{key: bool}`` dict per row, built once per distinct pattern and copied."""
    patterns, inverse = _pattern_codes(np.stack([flags[k] for k in keys], axis=1))
    templates = [dict(zip(keys, row.tolist(), strict=True)) for row in patterns]
    return [templates[k].copy() for k in inverse.tolist()]


def mark_synthetic(frame: pd.DataFrame, idx: pd.Index, drawn: dict[str, np.ndarray]) -> None:
    """Append to ``synthetic_fields`` of rows ``idx`` the names whose mask in ``drawn`` is true.

    Existing names are kept and not repeated. Rows share few distinct patterns, so the
    name lists are built once per pattern.
    """
    names = list(drawn)
    patterns, inverse = _pattern_codes(
        np.stack([np.asarray(drawn[k], dtype=bool) for k in names], axis=1)
    )
    lists = [[names[j] for j in np.flatnonzero(row)] for row in patterns]
    merged: dict[tuple, list[str]] = {}
    new = []
    for prev, k in zip(frame.loc[idx, "synthetic_fields"].tolist(), inverse.tolist(), strict=True):
        prev = tuple(prev) if isinstance(prev, (list, tuple, np.ndarray)) else ()
        key = (prev, k)
        if key not in merged:
            merged[key] = list(prev) + [f for f in lists[k] if f not in prev]
        new.append(list(merged[key]))
    frame["synthetic_fields"] = frame["synthetic_fields"].astype(object)
    frame.loc[idx, "synthetic_fields"] = pd.Series(new, index=idx, dtype=object)


def _names(fields, name: str) -> bool:
    """Whether a ``synthetic_fields`` value (a list, or missing) names ``name``."""
    return isinstance(fields, (list, tuple, np.ndarray)) and name in list(fields)


def unmark_synthetic(frame: pd.DataFrame, idx: pd.Index, name: str) -> None:
    """Remove ``name`` from ``synthetic_fields`` of rows ``idx`` (a value no longer drawn)."""
    frame["synthetic_fields"] = frame["synthetic_fields"].astype(object)
    frame.loc[idx, "synthetic_fields"] = pd.Series(
        [
            [f for f in fields if f != name] if isinstance(fields, (list, tuple, np.ndarray)) else fields
            for fields in frame.loc[idx, "synthetic_fields"].tolist()
        ],
        index=idx,
        dtype=object,
    )


def calibration_table(frames: RegistryFrames | pd.DataFrame, shares: NcsesShares | None = None) -> pd.DataFrame:
    """Target NCSES share vs the share achieved by the firms of ``frames``, by size class.

    Rows: ``measure`` (e.g. ``barriers.internal_finance``), ``size_class``, ``target``,
    ``achieved``, ``n`` (firms in the denominator), ``diff``. Denominators follow
    :class:`NcsesShares`: all firms for innovation, IP and programme use; innovating firms
    for barriers and cooperation; non-innovating firms for ``barriers_non_innovating``.
    """
    shares = shares if shares is not None else load_ncses_shares()
    orgs = frames.organisations if hasattr(frames, "organisations") else frames
    firms = orgs[orgs["kind"].isin([k.value for k in FIRM_KINDS])]
    attrs = pd.DataFrame(list(firms["attributes"]))
    if attrs.empty or "size_class" not in attrs:
        raise ValueError("calibration_table: firms have no attributes.size_class; run AttributeModel.complete first")
    rows = []

    def flag_frame(key: str, subkeys) -> pd.DataFrame:
        dicts = [d if isinstance(d, dict) else {} for d in attrs[key]]
        return pd.DataFrame.from_records(dicts, columns=list(subkeys)).fillna(False).astype(bool)

    barriers = flag_frame("barriers", BARRIERS)
    coop = flag_frame("cooperation", PARTNERS)
    coop["university_research"] = attrs["cooperates_research"].astype(bool)
    coop["any"] = coop[list(PARTNERS)].any(axis=1)
    ip = flag_frame("ip_use", IP_METHODS)
    support = flag_frame("support_use", SUPPORT_PROGRAMMES)
    innovating = attrs["innovating"].astype(bool)
    for cls in SIZE_CLASSES:
        in_cls = (attrs["size_class"] == cls).to_numpy()
        s = shares[cls]
        groups = [
            ("innovating", {"": s.innovating}, pd.DataFrame({"": innovating}), in_cls),
            ("barriers", s.barriers, barriers, in_cls & innovating.to_numpy()),
            ("barriers_non_innovating", s.barriers_non_innovating, barriers, in_cls & ~innovating.to_numpy()),
            ("cooperation", {k: s.cooperation[k] for k in (*PARTNERS, "any", "university_research")},
             coop, in_cls & innovating.to_numpy()),
            ("ip", {k: s.ip[k] for k in IP_METHODS}, ip, in_cls),
            ("government_support", {k: s.government_support[k] for k in SUPPORT_PROGRAMMES}, support, in_cls),
        ]  # fmt: skip
        for group, targets, flags, sel in groups:
            n = int(sel.sum())
            for key, target in targets.items():
                achieved = float(flags.loc[sel, key].mean()) if n else math.nan
                measure = f"{group}.{key}" if key else group
                rows.append((measure, cls, float(target), achieved, n))
    out = pd.DataFrame(rows, columns=["measure", "size_class", "target", "achieved", "n"])
    out["diff"] = out["achieved"] - out["target"]
    return out
