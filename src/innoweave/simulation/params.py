"""Parameters of the collaborative innovation model: defaults, mechanism switches, instruments.

Every number the simulation uses lives here, with the default documented in ``docs/model.md``
(section by section, the same names). A scenario file (``scenario.py``) overrides them by
section; the engine (``engine.py``) and the Mesa reference read them unchanged, so both
implementations follow one set of rules. The size-class parameters fitted by
``calibration.py`` ship as :data:`DEFAULT_CALIBRATION`.
"""

from __future__ import annotations

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
#: (largest gap 0.55 points at the fit).
DEFAULT_CALIBRATION: dict[str, tuple[float, float, float, float]] = {
    "intent_bias": (-2.3960, -2.2389, -2.1128, -1.9901),
    "research_seek": (0.0708, 0.0723, 0.0653, 0.0870),
}


@dataclass(frozen=True)
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
        return cls(**{f.name: False for f in fields(cls)})


@dataclass(frozen=True)
class KnowledgeParams:
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


@dataclass(frozen=True)
class MarketParams:
    demand_per_employee: float = 1.0
    demand_growth: float = 0.005
    quality_sensitivity: float = 1.5
    cost_per_employee: float = 0.9
    employment_response: float = 0.2
    success_growth: float = 0.03


@dataclass(frozen=True)
class IntentParams:
    intent_bias: tuple[float, float, float, float] = DEFAULT_CALIBRATION["intent_bias"]
    awareness_weight: float = 2.0
    funding_weight: float = 3.0
    project_cost_per_employee: float = 0.25
    credit_line_per_employee: float = 0.5


@dataclass(frozen=True)
class SearchParams:
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


@dataclass(frozen=True)
class OutcomeParams:
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


@dataclass(frozen=True)
class SpilloverParams:
    cluster_rate: float = 0.02
    awareness_decay: float = 0.02
    awareness_own: float = 0.05
    awareness_partner: float = 0.03
    awareness_cluster: float = 0.1


@dataclass(frozen=True)
class DemographyParams:
    exit_after: int = 4
    entry_rate: float = 0.006
    spinoff_firm: float = 0.01
    spinoff_research: float = 0.02
    growth_memory: float = 0.25
    startup_max_age: float = 5.0
    startup_max_employees: float = 50.0
    growth_min_rate: float = 0.10
    transformation_max_growth: float = -0.05
    transformation_min_age: float = 10.0


@dataclass(frozen=True)
class RecordParams:
    network_window: int = 4
    innovating_window: int = 12
    network_every: int = 1


@dataclass(frozen=True)
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
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "params") -> ModelParams:
        """Defaults overridden by ``data`` (sections as in the dataclass); unknown keys raise."""
        return _override(cls(), data, where)


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


# --- instruments -------------------------------------------------------------------------

#: Instrument-specific settings and their defaults (cost model and effect size). The unit of
#: money is one quarter's revenue per employee at the start (``demand_per_employee``).
INSTRUMENT_DEFAULTS: dict[str, dict[str, float]] = {
    "rd_grant": {"share": 0.5},
    "credit_guarantee": {"boost": 0.3, "duration": 4, "cost_per_employee": 0.02},
    "rd_tax_credit": {"share": 0.2},
    "talent_subsidy": {"boost": 0.1, "cost": 1.0},
    "researcher_secondment": {"duration": 4, "cost": 1.0, "talent_gain": 0.02},
    "innovation_voucher": {"value": 1.0, "valid": 4},
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
        # built by hand (not from a scenario file): the key must be known, the budget a
        # finite number >= 0, and no stages means the catalogue's, as documented above
        if self.key not in INSTRUMENTS:
            raise ValueError(f"InstrumentConfig: unknown instrument {self.key!r}; known: {sorted(INSTRUMENTS)}")
        if (isinstance(self.budget, bool) or not isinstance(self.budget, (int, float))
                or not 0 <= self.budget < float("inf")):
            raise ValueError(f"InstrumentConfig({self.key!r}).budget must be a finite number >= 0, "
                             f"got {self.budget!r}")
        if not self.stages:
            object.__setattr__(self, "stages", tuple(s.value for s in INSTRUMENTS[self.key].stages))

    def setting(self, name: str) -> float:
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
                if (isinstance(value, bool) or not isinstance(value, (int, float))
                        or not 0 <= value < float("inf")):
                    raise ValueError(f"{where}.{name}: expected a number >= 0, got {value!r}")
                settings[name] = type(default)(value) if isinstance(default, int) else float(value)
        if not stages or not kinds or (size_classes is not None and not size_classes) or (
            regions is not None and not regions
        ):
            raise ValueError(f"{where}: eligibility excludes everyone (an empty stages/kinds/"
                             "size_classes/regions list)")
        return cls(key=key, budget=float(budget), stages=stages, kinds=kinds,
                   size_classes=size_classes, regions=regions, targeting=targeting,
                   settings=settings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class InstrumentEffects:
    """The constant effect sizes of a scenario's instruments, read once per run.

    Shared by the engine's and the Mesa reference's government so both read a scenario the
    same way: an absent instrument, or government switched off, has no effect (0, and a
    patent factor of 1).
    """

    def read_effects(self, instruments: dict[str, InstrumentConfig], *, enabled: bool) -> None:
        def setting(key: str, name: str, off: float = 0.0) -> float:
            cfg = instruments.get(key)
            return cfg.setting(name) if (cfg is not None and enabled) else off

        self.grant_share = setting("rd_grant", "share")
        self.tax_share = setting("rd_tax_credit", "share")
        self.guarantee_boost = setting("credit_guarantee", "boost")
        self.voucher_value = setting("innovation_voucher", "value")
        self.cost_per_introduction = setting("intermediary_funding", "cost_per_introduction")
        self.cluster_boost_factor = setting("cluster_programme", "boost")
        self.patent_factor = setting("ip_support", "patent_factor", off=1.0)
