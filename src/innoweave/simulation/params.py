"""Parameters of the collaborative innovation model: defaults, mechanism switches, instruments.

Every number the simulation uses lives here, with the default documented in ``docs/model.md``
(section by section, the same names). A scenario file (``scenario.py``) overrides them by
section; the engine (``engine.py``) and the Mesa reference read them unchanged, so both
implementations follow one set of rules. The size-class parameters fitted by
``calibration.py`` ship as :data:`DEFAULT_CALIBRATION`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from typing import Any

from innoweave.registry.instruments import INSTRUMENTS

#: Size classes of the NCSES Annual Business Survey (employees): micro 1-9, small 10-49,
#: medium 50-249, large 250+. Index order is used by every per-class array.
SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_CLASS_BOUNDS = (10.0, 50.0, 250.0)

#: Organisation kinds as small integer codes in the columnar state.
KIND_CODES = {
    "sme": 0,
    "large_firm": 1,
    "university": 2,
    "research_institute": 3,
    "intermediary": 4,
}
SME, LARGE_FIRM, UNIVERSITY, RESEARCH_INSTITUTE, INTERMEDIARY = range(5)

#: Growth stages as codes (order of ``innoweave.registry.kinds.GrowthStage``).
STAGES = ("start-up", "growth", "maturity", "transformation")

#: Behavioural parameters fitted by ``innoweave simulate calibrate`` (one value per size
#: class, micro..large) so that the baseline reproduces NCSES tables 2609 and 4446.
#: Fitted with `innoweave simulate calibrate --firms 100000 --replications 2 --seed 7`
#: (largest gap 0.70 points at the fit, with `demography.entry_rate` = 0.022).
DEFAULT_CALIBRATION: dict[str, tuple[float, float, float, float]] = {
    "intent_bias": (-2.2108, -2.2409, -2.0922, -2.0162),
    "research_seek": (0.0834, 0.0855, 0.0718, 0.1255),
}


@dataclass(frozen=True, kw_only=True)
class Mechanisms:
    """Switches of the model's mechanisms; everything on by default.

    Off means the phase or rule is skipped exactly as ``docs/model.md`` says under each
    switch, never that a random number is drawn and thrown away, so switching one off
    changes only what it governs.
    """

    market: bool = True
    partner_search: bool = True
    intermediaries: bool = True
    learning: bool = True
    forgetting: bool = True
    radical: bool = True
    patents: bool = True
    spillovers: bool = True
    awareness_dynamics: bool = True
    government: bool = True
    entry: bool = True
    exit: bool = True
    spinoffs: bool = True
    stage_transitions: bool = True

    @classmethod
    def none(cls) -> Mechanisms:
        """Every mechanism switched off (a starting point for switching single ones on)."""
        return cls(**{f.name: False for f in fields(cls)})


@dataclass(frozen=True, kw_only=True)
class KnowledgeParams:
    """Knowledge of the organisations (``docs/model.md`` sections 1–2): technology fields, knowledge
    units per organisation, idea size, ability and expertise scales, and the units and abilities
    each kind starts with."""

    n_fields: int = 16
    max_units: int = 8
    idea_size: int = 3
    ability_max: float = 10.0
    expertise_max: int = 10
    quality_scale: float = 12.0
    # units held at the start: uniform integer in [lo, hi] by kind
    units_sme: tuple[int, int] = (2, 4)
    units_large: tuple[int, int] = (5, 8)
    units_research: tuple[int, int] = (6, 8)
    ability_firm: tuple[float, float] = (1.0, 5.0)
    ability_research: tuple[float, float] = (4.0, 9.0)


@dataclass(frozen=True, kw_only=True)
class MarketParams:
    """Phase 1, the market: demand per employee and its growth, the quality sensitivity of demand,
    cost per employee and how employment responds to the margin."""

    demand_per_employee: float = 1.0
    demand_growth: float = 0.005
    quality_sensitivity: float = 1.5
    cost_per_employee: float = 0.9
    employment_response: float = 0.2
    success_growth: float = 0.03


@dataclass(frozen=True, kw_only=True)
class IntentParams:
    """Phase 2, innovation intent: the calibrated bias per size class, the weights of awareness and
    funding, and the project cost and credit line per employee."""

    intent_bias: tuple[float, float, float, float] = DEFAULT_CALIBRATION["intent_bias"]
    awareness_weight: float = 2.0
    funding_weight: float = 3.0
    project_cost_per_employee: float = 0.25
    credit_line_per_employee: float = 0.5
    #: how the project probability answers the share of its cost that support pays (the user
    #: cost of R&D): -price_elasticity x log(1 - share) on the logit; about 1 in the
    #: literature (Hall and Van Reenen 2000; Bloom, Griffith and Van Reenen 2002)
    price_elasticity: float = 1.0


@dataclass(frozen=True, kw_only=True)
class SearchParams:
    """Phase 3, partner search: candidates drawn and where from, the calibrated ``research_seek``
    per size class, the attractiveness weights and threshold, capacities, transaction costs,
    intermediary pools and partner memory."""

    n_candidates: int = 5
    p_previous: float = 0.25
    p_cluster: float = 0.25
    p_region: float = 0.35
    research_seek: tuple[float, float, float, float] = DEFAULT_CALIBRATION["research_seek"]
    rule: str = "progressive"
    w_knowledge: float = 1.0
    w_region: float = 0.2
    w_cluster: float = 0.2
    w_previous: float = 0.3
    w_competence: float = 0.4
    min_score: float = 1.3
    research_density_ref: float = 1 / 150
    research_seek_max: float = 0.9
    firm_capacity: int = 1
    transaction_cost_share: float = 0.1
    intermediated_cost_factor: float = 0.5
    intermediary_pool: int = 10
    memory: int = 4


@dataclass(frozen=True, kw_only=True)
class OutcomeParams:
    """Phase 4, outcome and learning: the logit weights of project success, the chance and penalty
    of radical projects, learning and transfer rates, and the patent probability."""

    success_base: float = -1.5
    w_quality: float = 2.0
    w_complementarity: float = 1.0
    w_absorptive: float = 1.0
    w_depth: float = 1.0
    radical_prob: float = 0.2
    radical_penalty: float = 1.0
    incremental_gain: float = 0.5
    learning_rate: float = 0.5
    research_transfer: float = 5.0
    research_absorptive: float = 0.5
    new_unit_share: float = 0.5
    patent_prob: float = 0.4


@dataclass(frozen=True, kw_only=True)
class SpilloverParams:
    """Phase 5: the rate of knowledge spillovers within clusters and the decay and gains of
    awareness from own, partner and cluster successes."""

    cluster_rate: float = 0.02
    awareness_decay: float = 0.02
    awareness_own: float = 0.05
    awareness_partner: float = 0.03
    awareness_cluster: float = 0.1


@dataclass(frozen=True, kw_only=True)
class DemographyParams:
    """Phase 7, demography: exit after a spell of negative capital, entry and spin-off rates, and
    the thresholds of the growth-stage rule."""

    exit_after: int = 4
    entry_rate: float = 0.022
    spinoff_firm: float = 0.01
    spinoff_research: float = 0.02
    growth_memory: float = 0.25
    startup_max_age: float = 5.0
    startup_max_employees: float = 50.0
    growth_min_rate: float = 0.10
    transformation_max_growth: float = -0.05
    transformation_min_age: float = 10.0


@dataclass(frozen=True, kw_only=True)
class RecordParams:
    """Phase 8, recording: the network window, the window in which a firm counts as innovating, and
    how often network measures are computed."""

    network_window: int = 4
    innovating_window: int = 12
    network_every: int = 1


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """All parameters of one model run (see ``docs/model.md`` for each one's role)."""

    knowledge: KnowledgeParams = field(default_factory=KnowledgeParams)
    market: MarketParams = field(default_factory=MarketParams)
    intent: IntentParams = field(default_factory=IntentParams)
    search: SearchParams = field(default_factory=SearchParams)
    outcome: OutcomeParams = field(default_factory=OutcomeParams)
    spillover: SpilloverParams = field(default_factory=SpilloverParams)
    demography: DemographyParams = field(default_factory=DemographyParams)
    record: RecordParams = field(default_factory=RecordParams)
    mechanisms: Mechanisms = field(default_factory=Mechanisms)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as nested plain mappings by section (what :meth:`from_dict` reads)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "params") -> ModelParams:
        """Defaults overridden by ``data`` (sections as in the dataclass); unknown keys, wrong
        types and values outside :data:`PARAM_RANGES` raise ValueError naming the key."""
        return check_params(_override(cls(), data, where))


#: Steps the rows of a run are provisioned for at the least (100 years of quarters). The row
#: capacity sizes the random blocks (docs/model.md §7), so it must not follow the horizon:
#: a run of 8 quarters and one of 9 then draw the same numbers for their first 8.
LAYOUT_STEPS = 400


def row_capacity(params: ModelParams, n_rows: int, n_firms: int, steps: int) -> int:
    """The most rows (organisations, alive or not) a run of ``steps`` steps may use: the
    population's ``n_rows`` plus 1.5 times the expected entrants and spin-offs over
    ``max(steps, LAYOUT_STEPS)`` steps, plus 16. The same for every horizon up to
    :data:`LAYOUT_STEPS`, so extending a run keeps the steps already simulated."""
    d, mech = params.demography, params.mechanisms
    span = max(int(steps), LAYOUT_STEPS)
    per_step = (d.entry_rate if mech.entry else 0) + (d.spinoff_firm if mech.spinoffs else 0)
    extra = math.ceil(n_firms * per_step * span * 1.5) + 16
    if mech.spinoffs:
        extra += math.ceil((n_rows - n_firms) * d.spinoff_research * span * 1.5)
    return n_rows + extra


def _override(obj: Any, data: dict[str, Any], where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a table, got {type(data).__name__}")
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ValueError(f"{where}.{key}: unknown parameter; allowed: {sorted(known)}")
        current = getattr(obj, key)
        if is_dataclass(current):
            changes[key] = _override(current, value, f"{where}.{key}")
        else:
            changes[key] = _coerce(current, value, f"{where}.{key}")
    return replace(obj, **changes)


def _coerce(current: Any, value: Any, where: str) -> Any:
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true/false, got {value!r}")
        return value
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(current):
            raise ValueError(f"{where}: expected a list of {len(current)} numbers, got {value!r}")
        return tuple(_coerce(c, v, where) for c, v in zip(current, value, strict=True))
    if isinstance(current, int) and not isinstance(value, bool) and isinstance(value, int):
        return value
    if isinstance(current, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, str) and isinstance(value, str):
        return value
    raise ValueError(f"{where}: expected {type(current).__name__}, got {value!r}")


# --- accepted values ---------------------------------------------------------------------

#: Largest budget per step accepted (money in quarter-revenues per employee): far beyond
#: any economy the model can hold, small enough that every budget arithmetic stays exact.
MAX_BUDGET = 1e12


@dataclass(frozen=True)
class Range:
    """The values a number may take: ``low``/``high`` bounds (None: unbounded; ``open``:
    the low bound itself excluded) and whether it must be an integer. NaN and ±inf are
    never accepted."""

    low: float | None = None
    high: float | None = None
    open: bool = False
    integer: bool = False
    #: a switch: 0 or 1, and ``false`` / ``true`` accepted for them
    flag: bool = False

    def text(self) -> str:
        """The range in words for error messages, e.g. "a number in [0, 1]"."""
        if self.flag:
            return "0 or 1 (or false / true)"
        kind = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} in {'(' if self.open else '['}{_num(self.low)}, {_num(self.high)}]"
        if self.low is not None:
            return f"{kind} {'>' if self.open else '>='} {_num(self.low)}"
        if self.high is not None:
            return f"{kind} <= {_num(self.high)}"
        return "any finite number"

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is out of range (None when it is fine)."""
        if self.flag and isinstance(value, bool):
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected {self.text()}, got {value!r}"
        if not math.isfinite(value):
            return f"must be {self.text()}, got {value!r} (NaN and infinity are not allowed)"
        if self.integer and value != int(value):
            return f"must be {self.text()}, got {value!r}"
        low_bad = self.low is not None and (value <= self.low if self.open else value < self.low)
        if low_bad or (self.high is not None and value > self.high):
            return f"must be {self.text()}, got {value!r}"
        return None


def _num(x: float) -> str:
    if abs(x) >= 1e6:
        return f"{x:g}"
    return str(int(x)) if float(x).is_integer() else str(x)


ANY = Range()
PROB = Range(0.0, 1.0)                      # a probability or a share
NONNEG = Range(0.0)                         # a rate, weight, cost or amount
POSITIVE = Range(0.0, open=True)            # divides something
COUNT = Range(1, integer=True)              # a count, period or duration (>= 1)
COUNT0 = Range(0, integer=True)             # a count that may be 0
#: How long an instrument's commitment lasts, in steps (a guarantee, secondment, lab, call
#: consortium or voucher): the state holds the steps left as int16, so at most 32767.
DURATION = Range(1, 32767, integer=True)
FLAG = Range(0, 1, integer=True, flag=True)  # a switch: 0/1 or false/true

#: The accepted values of every model parameter (``params.<section>.<name>``; a pair or a
#: per-size-class list: every element). ``docs/model.md`` section 9 lists the same table.
#: Cross-field rules are in :func:`_check_params`.
PARAM_RANGES: dict[str, Range] = {
    "knowledge.n_fields": Range(1, 32767, integer=True),
    "knowledge.max_units": COUNT,
    "knowledge.idea_size": COUNT,
    "knowledge.ability_max": POSITIVE,
    "knowledge.expertise_max": Range(2, 127, integer=True),
    "knowledge.quality_scale": POSITIVE,
    "knowledge.units_sme": COUNT,
    "knowledge.units_large": COUNT,
    "knowledge.units_research": COUNT,
    "knowledge.ability_firm": NONNEG,
    "knowledge.ability_research": NONNEG,
    "market.demand_per_employee": POSITIVE,
    "market.demand_growth": Range(-1.0, open=True),
    "market.quality_sensitivity": NONNEG,
    "market.cost_per_employee": NONNEG,
    "market.employment_response": NONNEG,
    "market.success_growth": NONNEG,
    "intent.intent_bias": ANY,
    "intent.awareness_weight": NONNEG,
    "intent.funding_weight": NONNEG,
    "intent.project_cost_per_employee": POSITIVE,
    "intent.credit_line_per_employee": NONNEG,
    "intent.price_elasticity": NONNEG,
    "search.n_candidates": COUNT,
    "search.p_previous": PROB,
    "search.p_cluster": PROB,
    "search.p_region": PROB,
    "search.research_seek": PROB,
    "search.w_knowledge": NONNEG,
    "search.w_region": NONNEG,
    "search.w_cluster": NONNEG,
    "search.w_previous": NONNEG,
    "search.w_competence": NONNEG,
    "search.min_score": ANY,
    "search.research_density_ref": POSITIVE,
    "search.research_seek_max": PROB,
    "search.firm_capacity": COUNT0,
    "search.transaction_cost_share": NONNEG,
    "search.intermediated_cost_factor": NONNEG,
    "search.intermediary_pool": COUNT,
    "search.memory": COUNT,
    "outcome.success_base": ANY,
    "outcome.w_quality": NONNEG,
    "outcome.w_complementarity": NONNEG,
    "outcome.w_absorptive": NONNEG,
    "outcome.w_depth": NONNEG,
    "outcome.radical_prob": PROB,
    "outcome.radical_penalty": NONNEG,
    "outcome.incremental_gain": PROB,
    "outcome.learning_rate": NONNEG,
    "outcome.research_transfer": NONNEG,
    "outcome.research_absorptive": PROB,
    "outcome.new_unit_share": PROB,
    "outcome.patent_prob": PROB,
    "spillover.cluster_rate": PROB,
    "spillover.awareness_decay": PROB,
    "spillover.awareness_own": PROB,
    "spillover.awareness_partner": PROB,
    "spillover.awareness_cluster": PROB,
    "demography.exit_after": COUNT,
    "demography.entry_rate": NONNEG,
    "demography.spinoff_firm": PROB,
    "demography.spinoff_research": PROB,
    "demography.growth_memory": PROB,
    "demography.startup_max_age": NONNEG,
    "demography.startup_max_employees": NONNEG,
    "demography.growth_min_rate": ANY,
    "demography.transformation_max_growth": ANY,
    "demography.transformation_min_age": NONNEG,
    "record.network_window": COUNT,
    "record.innovating_window": COUNT,
    "record.network_every": COUNT,
}

#: The accepted values of every instrument setting (``instruments.<key>.<name>``; defaults
#: in ``params.INSTRUMENT_DEFAULTS``). A setting whose 0 would switch the instrument off
#: silently (no introductions bought, no consortium funded) must be > 0.
INSTRUMENT_RANGES: dict[str, dict[str, Range]] = {
    "rd_grant": {"share": PROB},
    "credit_guarantee": {"boost": PROB, "duration": DURATION, "cost_per_employee": NONNEG},
    "rd_tax_credit": {"share": PROB},
    "talent_subsidy": {"boost": PROB, "cost": NONNEG},
    "researcher_secondment": {"duration": DURATION, "cost": NONNEG, "talent_gain": PROB},
    "innovation_voucher": {"value": POSITIVE, "valid": DURATION, "learn_use": FLAG},
    "matchmaking_platform": {"cost": NONNEG, "candidates": COUNT,
                             "pool": Range(2, integer=True)},
    "joint_lab": {"duration": DURATION, "cost": NONNEG},
    "intermediary_funding": {"cost_per_introduction": POSITIVE},
    "cluster_programme": {"boost": NONNEG, "cost_per_member": NONNEG},
    "ip_support": {"boost": PROB, "patent_factor": NONNEG, "cost": NONNEG},
    "awareness_campaign": {"boost": PROB, "cost": NONNEG},
    "collaborative_call": {"every": COUNT, "duration": DURATION, "grant": POSITIVE,
                           "n_fields": COUNT, "noise": NONNEG},
}
BUDGET_RANGE = Range(0.0, MAX_BUDGET)


def check_params(params: Any) -> ModelParams:
    """``params`` if it is a :class:`ModelParams` whose every value lies within
    :data:`PARAM_RANGES` and the rules that tie several; else ValueError naming the
    parameter (``params.search.n_candidates: ...``). Scenario files, the engine, the Mesa
    reference and the synthetic generator call it once, before any work, so a
    hand-built ``ModelParams(search=SearchParams(n_candidates=0))`` is refused as a file
    would be."""
    if not isinstance(params, ModelParams):
        raise ValueError(f"params must be a ModelParams (or None for the defaults), got "
                         f"{type(params).__name__}")
    for section in fields(params):
        values = getattr(params, section.name)
        default = section.default_factory()
        if not isinstance(values, type(default)):
            raise ValueError(f"params.{section.name}: expected a {type(default).__name__}, got "
                             f"{type(values).__name__}")
        for f in fields(values):
            value, standard = getattr(values, f.name), getattr(default, f.name)
            where = f"params.{section.name}.{f.name}"
            if isinstance(standard, (bool, str)):
                if type(value) is not type(standard):
                    raise ValueError(f"{where}: expected {type(standard).__name__}, got {value!r}")
                continue
            if isinstance(standard, tuple) and (not isinstance(value, tuple)
                                                or len(value) != len(standard)):
                raise ValueError(f"{where}: expected a tuple of {len(standard)} numbers, "
                                 f"got {value!r}")
            rng = PARAM_RANGES[f"{section.name}.{f.name}"]
            whole = isinstance(standard[0] if isinstance(standard, tuple) else standard, int)
            for v in value if isinstance(value, tuple) else (value,):
                # an integer parameter takes an integer (a float count would reach the
                # kernels as a float), not only a float with an integer value
                problem = rng.problem(v) or (
                    f"expected {rng.text()}, got {v!r}" if whole and (
                        isinstance(v, bool) or not isinstance(v, numbers.Integral)) else None)
                if problem:
                    each = "every value " if isinstance(value, tuple) else ""
                    raise ValueError(f"{where}: {each}{problem}")
    if params.search.rule not in ("conservative", "progressive"):
        raise ValueError(f"params.search.rule: {params.search.rule!r}; allowed: "
                         "conservative, progressive")
    k = params.knowledge
    if k.max_units > k.n_fields:
        raise ValueError(f"params.knowledge.max_units: must be <= n_fields ({k.n_fields}): "
                         f"an organisation holds at most one unit per field, got {k.max_units}")
    if k.idea_size > k.max_units:
        raise ValueError(f"params.knowledge.idea_size: must be <= max_units ({k.max_units}), "
                         f"got {k.idea_size}")
    for name in ("units_sme", "units_large", "units_research"):
        lo, hi = getattr(k, name)
        if lo > hi:
            raise ValueError(f"params.knowledge.{name}: [low, high] with low <= high, "
                             f"got {[lo, hi]}")
    for name in ("ability_firm", "ability_research"):
        lo, hi = getattr(k, name)
        if lo > hi or hi > k.ability_max:
            raise ValueError(f"params.knowledge.{name}: [low, high] with low <= high <= "
                             f"ability_max ({_num(k.ability_max)}), got {[lo, hi]}")
    return params


# --- instruments -------------------------------------------------------------------------

#: Instrument-specific settings and their defaults (cost model and effect size). The unit of
#: money is one quarter's revenue per employee at the start (``demand_per_employee``).
INSTRUMENT_DEFAULTS: dict[str, dict[str, float]] = {
    "rd_grant": {"share": 0.5},
    "credit_guarantee": {"boost": 0.3, "duration": 4, "cost_per_employee": 0.02},
    "rd_tax_credit": {"share": 0.2},
    "talent_subsidy": {"boost": 0.1, "cost": 1.0},
    "researcher_secondment": {"duration": 4, "cost": 1.0, "talent_gain": 0.02},
    "innovation_voucher": {"value": 1.0, "valid": 4, "learn_use": 1},
    "matchmaking_platform": {"cost": 0.05, "candidates": 2, "pool": 256},
    "joint_lab": {"duration": 8, "cost": 2.0},
    "intermediary_funding": {"cost_per_introduction": 0.2},
    "cluster_programme": {"boost": 1.0, "cost_per_member": 0.05},
    "ip_support": {"boost": 0.1, "patent_factor": 1.5, "cost": 0.5},
    "awareness_campaign": {"boost": 0.1, "cost": 0.1},
    "collaborative_call": {"every": 4, "duration": 8, "grant": 1.0, "n_fields": 2, "noise": 0.1},
}

#: The attribute whose lowest values come first under ``targeting = "need"``.
NEED_ATTRIBUTE: dict[str, str] = {
    "rd_grant": "capital_per_employee",
    "credit_guarantee": "credit_access",
    "rd_tax_credit": "capital_per_employee",
    "talent_subsidy": "talent",
    "researcher_secondment": "capability",
    "innovation_voucher": "capability",
    "matchmaking_platform": "awareness",
    "joint_lab": "capability",
    "intermediary_funding": "awareness",
    "cluster_programme": "capability",
    "ip_support": "ip_awareness",
    "awareness_campaign": "awareness",
    "collaborative_call": "capability",
}

TARGETING = ("random", "need")


def check_instrument_table(key: str, data: Any, where: str) -> None:
    """Raise ValueError, naming the field, unless ``data`` is a table for a known instrument
    ``key`` with a budget and only the instrument's own parameters."""
    if key not in INSTRUMENTS:
        raise ValueError(f"{where}: unknown instrument {key!r}; known: {sorted(INSTRUMENTS)}")
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a table")
    allowed = {"budget", "stages", "kinds", "size_classes", "regions", "targeting",
               *INSTRUMENT_DEFAULTS[key]}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown parameter; allowed: {sorted(allowed)}")
    if "budget" not in data:
        raise ValueError(f"{where}.budget: missing (budget per step, >= 0)")


def instrument_problem(key: str, budget: float, setting) -> tuple[str, str] | None:
    """``(field, why)`` where an instrument's budget and settings, each within its range,
    cannot work together (None when they can); ``setting(name)`` gives a setting's value.

    An innovation voucher programme whose positive budget is below one voucher's value never
    pays a voucher (a step's payments stay within its budget and unspent budget is lost),
    while the vouchers it keeps out still send holders to research organisations. A
    matchmaking platform user gets the best of the pool, itself excluded: at most
    ``pool - 1`` candidates."""
    if key == "innovation_voucher" and 0 < budget < setting("value"):
        return "budget", (
            f"{_num(budget)} a quarter cannot pay one voucher of value "
            f"{_num(setting('value'))} (each quarter's payments stay within its budget; "
            "unspent budget is lost), so no voucher would ever be paid; give a budget of at "
            "least the value, a smaller value, or budget = 0")
    if key == "matchmaking_platform" and setting("candidates") >= setting("pool"):
        return "candidates", (
            f"must be below pool ({_num(setting('pool'))}): a user gets the best of the pool, "
            f"itself excluded, got {_num(setting('candidates'))}")
    return None


@dataclass(frozen=True)
class InstrumentConfig:
    """One instrument of a scenario: budget per step, eligibility, targeting, settings.

    ``stages`` defaults to the catalogue's eligible stages
    (:data:`innoweave.registry.instruments.INSTRUMENTS`); ``kinds`` to SMEs;
    ``size_classes`` and ``regions`` to all (``None``).
    """

    key: str
    budget: float
    stages: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ("sme",)
    size_classes: tuple[str, ...] | None = None
    regions: tuple[int | str, ...] | None = None
    targeting: str = "random"
    settings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # built by hand (not from a scenario file, whose reader names the file's fields
        # first): every field is checked here, once, so a bad stage, kind, targeting or
        # setting is refused when made rather than ignored by the run (an unknown stage or
        # kind made an instrument reach no one; a setting of 0 for ``every`` divided by 0)
        where = f"InstrumentConfig({self.key!r})"
        if self.key not in INSTRUMENTS:
            raise ValueError(f"InstrumentConfig: unknown instrument {self.key!r}; known: {sorted(INSTRUMENTS)}")
        problem = BUDGET_RANGE.problem(self.budget)
        if problem:
            raise ValueError(f"{where}.budget: {problem}")
        if not self.stages:
            object.__setattr__(self, "stages", tuple(s.value for s in INSTRUMENTS[self.key].stages))
        for name, allowed in (("stages", STAGES), ("kinds", ("sme", "large_firm")),
                              ("size_classes", SIZE_CLASSES)):
            value = getattr(self, name)
            if value is None and name == "size_classes":
                continue
            if not isinstance(value, tuple) or not value or any(v not in allowed for v in value):
                raise ValueError(f"{where}.{name}: expected a non-empty tuple of {list(allowed)}, "
                                 f"got {value!r}")
        if self.regions is not None and (
                not isinstance(self.regions, tuple) or not self.regions or not all(
                    (isinstance(r, str) and r) or (isinstance(r, numbers.Integral)
                                                   and not isinstance(r, bool) and r >= 0)
                    for r in self.regions)):
            raise ValueError(f"{where}.regions: expected None or a non-empty tuple of region "
                             f"numbers (>= 0) or codes, got {self.regions!r}")
        if self.targeting not in TARGETING:
            raise ValueError(f"{where}.targeting: {self.targeting!r}; allowed: {list(TARGETING)}")
        if not isinstance(self.settings, dict):
            raise ValueError(f"{where}.settings: expected a dict, got {self.settings!r}")
        for name, value in self.settings.items():
            ranges = INSTRUMENT_RANGES[self.key]
            if name not in ranges:
                raise ValueError(f"{where}.settings: unknown setting {name!r}; allowed: "
                                 f"{sorted(ranges)}")
            problem = ranges[name].problem(value)
            if problem:
                raise ValueError(f"{where}.{name}: {problem}")
        problem = instrument_problem(self.key, self.budget, self.setting)
        if problem:
            raise ValueError(f"{where}.{problem[0]}: {problem[1]}")

    def setting(self, name: str) -> float:
        """The instrument's setting ``name``: the scenario's value, else the default of
        ``INSTRUMENT_DEFAULTS``."""
        return self.settings.get(name, INSTRUMENT_DEFAULTS[self.key][name])

    @classmethod
    def from_dict(cls, key: str, data: dict[str, Any], *, where: str | None = None) -> InstrumentConfig:
        """Validate one ``[instruments.<key>]`` table; every error names the field."""
        where = where or f"instruments.{key}"
        check_instrument_table(key, data, where)
        budget = data["budget"]
        if isinstance(budget, bool) or not isinstance(budget, (int, float)):
            raise ValueError(f"{where}.budget: expected a number, got {budget!r}")
        if not budget >= 0 or budget == float("inf"):  # NaN fails the comparison
            raise ValueError(f"{where}.budget: must be >= 0 and finite, got {budget}")
        stages = tuple(data.get("stages", [s.value for s in INSTRUMENTS[key].stages]))
        for s in stages:
            if s not in STAGES:
                raise ValueError(f"{where}.stages: unknown stage {s!r}; allowed: {list(STAGES)}")
        kinds = tuple(data.get("kinds", ["sme"]))
        for k in kinds:
            if k not in ("sme", "large_firm"):
                raise ValueError(f"{where}.kinds: {k!r} cannot receive support; allowed: sme, large_firm")
        size_classes = data.get("size_classes")
        if size_classes is not None:
            size_classes = tuple(size_classes)
            for s in size_classes:
                if s not in SIZE_CLASSES:
                    raise ValueError(f"{where}.size_classes: unknown {s!r}; allowed: {list(SIZE_CLASSES)}")
        regions = data.get("regions")
        if regions is not None:
            # region numbers, or region codes resolved against the population
            # (``Scenario.instruments_for``)
            if not isinstance(regions, (list, tuple)) or not all(
                    isinstance(r, str) or (isinstance(r, int) and not isinstance(r, bool))
                    for r in regions):
                raise ValueError(f"{where}.regions: expected a list of region numbers or "
                                 f"codes, got {regions!r}")
            regions = tuple(regions)
        targeting = data.get("targeting", "random")
        if targeting not in TARGETING:
            raise ValueError(f"{where}.targeting: {targeting!r}; allowed: {list(TARGETING)}")
        settings: dict[str, float] = {}
        for name, default in INSTRUMENT_DEFAULTS[key].items():
            if name in data:
                value = data[name]
                rng = INSTRUMENT_RANGES[key][name]
                if rng.flag and isinstance(value, bool):
                    value = int(value)
                if (isinstance(value, bool) or not isinstance(value, (int, float))
                        or not 0 <= value < float("inf")):
                    raise ValueError(f"{where}.{name}: expected a number >= 0, got {value!r}")
                settings[name] = type(default)(value) if isinstance(default, int) else float(value)
        problem = instrument_problem(
            key, float(budget), lambda name: settings.get(name, INSTRUMENT_DEFAULTS[key][name]))
        if problem:
            raise ValueError(f"{where}.{problem[0]}: {problem[1]}")
        if not stages or not kinds or (size_classes is not None and not size_classes) or (
            regions is not None and not regions
        ):
            empty = [name for name, v in (("stages", stages), ("kinds", kinds),
                                          ("size_classes", size_classes), ("regions", regions))
                     if v is not None and not v]
            raise ValueError(f"{where}: eligibility excludes everyone (an empty "
                             f"{'/'.join(empty)} list)")
        return cls(key=key, budget=float(budget), stages=stages, kinds=kinds,
                   size_classes=size_classes, regions=regions, targeting=targeting,
                   settings=settings)

    def to_dict(self) -> dict[str, Any]:
        """The instrument as a plain mapping of its fields; ``settings`` holds every setting's
        value in use (the scenario's, else the default), so a record shows what was run."""
        return asdict(self) | {"settings": {name: self.setting(name)
                                            for name in INSTRUMENT_DEFAULTS[self.key]}}


#: The largest share of a project's cost that support counts for in its price effect (a
#: grant of share 1 would otherwise make the log-odds infinite).
MAX_SUPPORT_SHARE = 0.95


class InstrumentEffects:
    """The effect sizes of a scenario's instruments, read once per run (and the R&D tax
    credit's last pro-rata scale, which each government updates as it refunds).

    Shared by the engine's and the Mesa reference's government so both read a scenario the
    same way: an absent instrument, or government switched off, has no effect (0, and a
    patent factor of 1).
    """

    def read_effects(self, instruments: dict[str, InstrumentConfig], *, enabled: bool) -> None:
        """Read the effect sizes of the grant, tax credit, guarantee, voucher, intermediary, cluster
        and IP instruments from ``instruments`` into attributes; an absent instrument, or
        ``enabled`` false, gives no effect."""
        def setting(key: str, name: str, off: float = 0.0) -> float:
            cfg = instruments.get(key)
            return cfg.setting(name) if (cfg is not None and enabled) else off

        self.grant_share = setting("rd_grant", "share")
        grant = instruments.get("rd_grant")
        self.grant_budget = grant.budget if (grant is not None and enabled) else 0.0
        self.tax_share = setting("rd_tax_credit", "share")
        # the pro-rata scale of the last refund: firms count on share x scale of a project's
        # cost (a credit whose claims far exceed its budget is worth little to them)
        self.tax_scale = 1.0
        self.guarantee_boost = setting("credit_guarantee", "boost")
        self.voucher_value = setting("innovation_voucher", "value")
        voucher = instruments.get("innovation_voucher")
        self.voucher_budget = voucher.budget if (voucher is not None and enabled) else 0.0
        # the programme's own record, from which it learns how fast vouchers get used:
        # vouchers presented with a new research partner (paid or, the step's money spent,
        # refused) and voucher-steps outstanding at phase 3
        self.voucher_presented = 0
        self.voucher_exposure = 0
        self.cost_per_introduction = setting("intermediary_funding", "cost_per_introduction")
        self.cluster_boost_factor = setting("cluster_programme", "boost")
        self.patent_factor = setting("ip_support", "patent_factor", off=1.0)

    def price_terms(self, elasticity: float) -> tuple[float, float]:
        """What the R&D grant and the R&D tax credit add to a firm's project logit in phase 2
        through the share of the project's cost they pay (its user cost):
        ``-elasticity x log(1 - share)``, the grant's share where the call funds the firm, the
        tax credit's ``share x scale`` where it is open to it (each share capped at
        :data:`MAX_SUPPORT_SHARE`); 0 without the instrument."""
        def term(share: float) -> float:
            return -elasticity * math.log(1.0 - min(share, MAX_SUPPORT_SHARE)) if share > 0 else 0.0

        return term(self.grant_share), term(self.tax_share * self.tax_scale)

    def voucher_rate(self) -> float:
        """The share of outstanding vouchers presented a step, as the voucher programme has
        seen it: ``(presented + 1) / (voucher-steps outstanding + 1)``, capped at 1 (1 before
        any voucher was out)."""
        return min(1.0, (self.voucher_presented + 1) / (self.voucher_exposure + 1))

    def voucher_allowance(self, budget: float, valid: int, learn: bool) -> float:
        """The value of vouchers the programme keeps outstanding: ``budget × valid`` (every
        voucher counted at its full value), or, when ``learn``, the larger of that and
        ``budget / rate`` — the vouchers that the step's budget pays at the observed rate of
        use."""
        full = budget * valid
        return max(full, budget / self.voucher_rate()) if learn else full

    def vouchers_out(self, voucher_left) -> int:
        """Vouchers outstanding (rows with steps of validity left); 0 without a voucher
        programme, so a run without one does not count them every step."""
        return int((voucher_left > 0).sum()) if self.voucher_value > 0 else 0

    def vouchers_paid(self, used: int, presented: int, outstanding: int) -> None:
        """Book phase 3's vouchers: ``used`` paid (each at its value) of ``presented`` presented
        with a new research partner, paid or not, when ``outstanding`` were out."""
        self.spend("innovation_voucher", used * self.voucher_value, used)
        self.voucher_presented += presented
        self.voucher_exposure += outstanding

    def vouchers_payable(self) -> int:
        """How many vouchers this step's voucher budget can pay (phase 3 pays presented vouchers
        in order of acceptance while the money lasts; no voucher programme: 0)."""
        if self.voucher_value <= 0:
            return 0
        return int(math.floor(self.voucher_budget / self.voucher_value + 1e-9))
