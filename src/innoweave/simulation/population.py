"""The initial state of a simulation as columnar arrays, from the registry or synthetic.

The engine and the Mesa reference both start from a :class:`Population`: one row per
organisation (SMEs, large firms, universities, research institutes, intermediaries), one
NumPy array per attribute, and knowledge as fixed-width ``(n, M)`` arrays of field, ability
and expertise with a mask of the units held. It is built either from registry frames (the
real organisations: kinds, regions, coordinates, clusters, collaboration history, with
technology fields derived from the titles of their projects and missing attributes
completed by the registry's attribute model) or directly by :func:`synthetic_population`,
a fast columnar generator whose firm-size mix is the NCSES Annual Business Survey's. The
distributions used for attributes the registry lacks are stated in ``docs/model.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from innoweave.arguments import real_number, whole_number
from innoweave.seeding import SeedLike, make_rng
from innoweave.simulation.params import (
    INSTRUMENT_DEFAULTS,
    INTERMEDIARY,
    KIND_CODES,
    LARGE_FIRM,
    RESEARCH_INSTITUTE,
    SIZE_CLASS_BOUNDS,
    SIZE_CLASSES,
    SME,
    UNIVERSITY,
    InstrumentConfig,
    ModelParams,
    check_params,
)

#: Share of companies by size class (micro, small, medium, large) in NCSES table 2609
#: (2015-17): 3,500,973 / 915,959 / 156,990 / 29,684 of 4,603,606 companies.
NCSES_SIZE_MIX = (0.76049, 0.19897, 0.03410, 0.00645)
#: Employee ranges drawn log-uniformly within each size class.
SIZE_CLASS_RANGES = ((1.0, 9.0), (10.0, 49.0), (50.0, 249.0), (250.0, 5000.0))

FIRM_KINDS = (SME, LARGE_FIRM)
RESEARCH_KINDS = (UNIVERSITY, RESEARCH_INSTITUTE)

RESEARCH_CAPACITY = {UNIVERSITY: 8, RESEARCH_INSTITUTE: 5}
INTERMEDIARY_CAPACITY = 5


@dataclass
class Population:
    """Initial state, one array per attribute, rows = organisations.

    Knowledge is ``field`` (int16), ``ability`` (float32), ``expertise`` (int8) and ``mask``
    (bool), each ``(n, M)``; ``memory`` ``(n, K)`` holds the previous partners' row indices
    (-1 empty), most recent first. ``cluster`` is -1 outside clusters.
    """

    kind: np.ndarray
    region: np.ndarray
    cluster: np.ndarray
    x: np.ndarray
    y: np.ndarray
    age: np.ndarray
    employees: np.ndarray
    capital: np.ndarray
    growth: np.ndarray
    awareness: np.ndarray
    ip_awareness: np.ndarray
    talent: np.ndarray
    credit_access: np.ndarray
    capacity: np.ndarray
    openness: np.ndarray
    match_quality: np.ndarray
    patents: np.ndarray
    field: np.ndarray
    ability: np.ndarray
    expertise: np.ndarray
    mask: np.ndarray
    memory: np.ndarray
    n_regions: int
    n_clusters: int
    n_fields: int
    external_id: np.ndarray | None = None
    field_labels: list[str] | None = None
    #: region codes by region index, where the source has them (registry: NUTS codes)
    region_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    @property
    def n_firms(self) -> int:
        """Number of firms (SMEs and large firms) in the population."""
        return int(np.isin(self.kind, FIRM_KINDS).sum())

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-row arrays by name (knowledge and memory included)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and f.name != "external_id":
                out[f.name] = value
        return out

    def nbytes(self) -> int:
        """Memory held by the population's arrays, in bytes."""
        return sum(a.nbytes for a in self.arrays().values())

    def summary(self) -> dict[str, int]:
        """Counts of organisations by kind and of regions, clusters and technology fields."""
        return {
            "organisations": len(self),
            "smes": int((self.kind == SME).sum()),
            "large_firms": int((self.kind == LARGE_FIRM).sum()),
            "universities": int((self.kind == UNIVERSITY).sum()),
            "research_institutes": int((self.kind == RESEARCH_INSTITUTE).sum()),
            "intermediaries": int((self.kind == INTERMEDIARY).sum()),
            "regions": self.n_regions,
            "clusters": self.n_clusters,
            "fields": self.n_fields,
        }


#: What every row of a population may hold (``docs/model.md`` section 1): the dtype kind
#: ("i" integer, "f" real, "b" bool) and the accepted values, for the checks run once before
#: a run (:func:`check_population`). ``None`` bounds are open; knowledge and memory bounds
#: depend on the parameters and the population and are checked there.
ROW_RULES: dict[str, tuple[str, float | None, float | None]] = {
    "kind": ("i", 0, 4), "region": ("i", 0, None), "cluster": ("i", -1, None),
    "x": ("f", None, None), "y": ("f", None, None), "age": ("f", 0.0, None),
    "employees": ("f", 1.0, None), "capital": ("f", None, None), "growth": ("f", None, None),
    "awareness": ("f", 0.0, 1.0), "ip_awareness": ("f", 0.0, 1.0), "talent": ("f", 0.0, 1.0),
    "credit_access": ("f", 0.0, 1.0), "capacity": ("i", 0, None), "openness": ("f", 0.0, 1.0),
    "match_quality": ("f", 0.0, 1.0), "patents": ("i", 0, None),
}  # fmt: skip
#: The dtype of each array as the generators build it (every other array is float32): a
#: population built by hand is converted to them by :func:`check_population`, so that it runs
#: exactly as the same values generated would (float64 columns moved results by ~1e-8).
DTYPES = {"kind": np.int8, "region": np.int32, "cluster": np.int32, "capacity": np.int16,
          "patents": np.int32, "field": np.int16, "expertise": np.int8, "mask": np.bool_,
          "memory": np.int32}  # fmt: skip


def _first_flagged(value: np.ndarray, flagged: np.ndarray) -> tuple[int, object]:
    """The first row with a flagged cell and that cell's value (the first in the row of a
    2-D array), for messages."""
    row = int(np.argwhere(flagged)[0][0])
    return row, (value[row] if value.ndim == 1 else value[row][flagged[row]][0]).item()


def _canonical_dtypes(pop: Population, arrays: dict[str, np.ndarray]) -> Population:
    """``pop`` with every array in its :data:`DTYPES` dtype (itself where all are); a value the
    dtype cannot hold (a capacity of 40,000 in int16, 1e39 in float32) is refused by row."""
    cast = {}
    for name, value in arrays.items():
        dtype = np.dtype(DTYPES.get(name, np.float32))
        if value.dtype == dtype:
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below
            converted = value.astype(dtype)
        lost = converted != value if dtype.kind in "iub" else ~np.isfinite(converted)
        if lost.any():
            row, shown = _first_flagged(value, lost)
            raise ValueError(f"population.{name}: row {row} has {shown!r}, beyond what {dtype} holds")
        cast[name] = converted
    return replace(pop, **cast) if cast else pop


def check_population(pop: object, params: ModelParams) -> Population:
    """``pop`` if a run can start from it with ``params`` (its arrays converted to
    :data:`DTYPES` where built with others); else ValueError naming the column, the first bad
    row and its value.

    A population built by hand (or edited) with a NaN, an infinite or negative attribute, a
    region, cluster, field or partner index out of range, or columns of different lengths
    would otherwise run on with nonsense (NaN awareness makes every share NaN silently) or,
    in the compiled kernels, read and write outside the arrays (a crash or corrupted
    memory). The knowledge width ``M``, the fields ``F`` and the memory ``K`` must be those
    of ``params`` (the population is built with the parameters it is run with). The engine
    and the Mesa reference call this once, before the first step.
    """
    if not isinstance(pop, Population):
        raise ValueError(f"population must be a Population (synthetic_population, "
                         f"population_from_frames), got {type(pop).__name__}")
    for name in ("n_regions", "n_clusters", "n_fields"):
        value = getattr(pop, name)
        whole_number(f"population.{name}", value, least=0 if name == "n_clusters" else 1)
    arrays = {f.name: getattr(pop, f.name) for f in fields(Population)
              if f.name in ROW_RULES or f.name in ("field", "ability", "expertise", "mask", "memory")}
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise ValueError(f"population.{name}: expected a NumPy array, got {type(value).__name__}")
    n = len(pop)
    if n == 0:
        raise ValueError("population: empty, nothing to simulate")
    kp = params.knowledge
    shapes = {name: (n,) for name in ROW_RULES}
    shapes.update(dict.fromkeys(("field", "ability", "expertise", "mask"), (n, kp.max_units)))
    shapes["memory"] = (n, params.search.memory)
    for name, shape in shapes.items():
        if arrays[name].shape != shape:
            raise ValueError(f"population.{name}: shape {arrays[name].shape}, expected {shape} "
                             f"({n} rows as population.kind; knowledge.max_units = "
                             f"{kp.max_units}, search.memory = {params.search.memory}: build the "
                             f"population with the parameters it is run with)")
    if pop.n_fields != kp.n_fields:
        raise ValueError(f"population.n_fields: {pop.n_fields}, but params.knowledge.n_fields is "
                         f"{kp.n_fields}: build the population with the parameters it is run with")
    bounds = dict(ROW_RULES)
    bounds["region"] = ("i", 0, pop.n_regions - 1)
    bounds["cluster"] = ("i", -1, pop.n_clusters - 1)
    bounds["field"] = ("i", 0, kp.n_fields - 1)
    bounds["ability"] = ("f", 0.0, kp.ability_max)
    bounds["expertise"] = ("i", 0, kp.expertise_max)
    bounds["memory"] = ("i", -1, n - 1)
    for name, (kind, low, high) in bounds.items():
        value = arrays[name]
        if value.dtype.kind not in (kind + "u" if kind == "i" else kind):
            wanted = {"i": "integers", "f": "real numbers"}[kind]
            raise ValueError(f"population.{name}: expected {wanted}, got dtype {value.dtype}")
        bad = ~np.isfinite(value) if kind == "f" else np.zeros(value.shape, bool)
        if low is not None:
            bad |= value < low
        if high is not None:
            bad |= value > high
        if bad.any():
            row, shown = _first_flagged(value, bad)
            rule = (f"in [{low}, {high}]" if low is not None and high is not None else
                    f">= {low}" if low is not None else "finite")
            raise ValueError(f"population.{name}: every value must be finite and {rule}; "
                             f"row {row} has {shown!r} ({int(bad.sum())} value(s) out of range)")
    if arrays["mask"].dtype != bool:
        raise ValueError(f"population.mask: expected bools, got dtype {arrays['mask'].dtype}")
    held = np.where(pop.mask, pop.field.astype(np.int64), -1 - np.arange(kp.max_units))
    held.sort(axis=1)
    twice = (held[:, 1:] == held[:, :-1]).any(axis=1)
    if twice.any():
        row = int(np.argmax(twice))
        raise ValueError(f"population.field: row {row} holds two units in one field (at most "
                         f"one unit per field)")
    if pop.n_firms == 0:
        raise ValueError("population: no firms (SMEs or large firms) to simulate")
    return _canonical_dtypes(pop, arrays)


def check_run_inputs(params: object, population: object, instruments: object,
                     ) -> tuple[ModelParams, Population, dict[str, InstrumentConfig]]:
    """The parameters (``None``: the defaults), population and instruments of one run, each
    checked (:func:`~innoweave.simulation.params.check_params`, :func:`check_population`,
    and every instrument keyed by its own name, its regions within the population's and
    a collaborative call's fields within ``knowledge.n_fields``); else ValueError naming
    the argument. Shared by the engine and the Mesa reference, called once per run."""
    params = check_params(ModelParams() if params is None else params)
    population = check_population(population, params)
    if instruments is None:
        instruments = {}
    if not isinstance(instruments, dict):
        raise ValueError(f"instruments must be a dict of instrument name -> InstrumentConfig, "
                         f"got {type(instruments).__name__}")
    for key, cfg in instruments.items():
        if key not in INSTRUMENT_DEFAULTS or not isinstance(cfg, InstrumentConfig) or cfg.key != key:
            raise ValueError(f"instruments: {key!r} must name a known instrument "
                             f"({sorted(INSTRUMENT_DEFAULTS)}) and map to its InstrumentConfig, "
                             f"got {cfg!r}")
        if cfg.regions is not None and not all(
                not isinstance(r, str) and r < population.n_regions for r in cfg.regions):
            raise ValueError(f"instruments.{key}.regions: {list(cfg.regions)}; this population has "
                             f"regions 0..{population.n_regions - 1} (codes are resolved by "
                             f"Scenario.instruments_for)")
        if key == "collaborative_call" and cfg.setting("n_fields") > params.knowledge.n_fields:
            raise ValueError(f"instruments.collaborative_call.n_fields: must be <= "
                             f"params.knowledge.n_fields ({params.knowledge.n_fields}), got "
                             f"{cfg.setting('n_fields')}")
    return params, population, instruments


def size_class_of(employees: np.ndarray, xp=np) -> np.ndarray:
    """Size-class index (0 micro .. 3 large) of each head count."""
    return xp.searchsorted(xp.asarray(SIZE_CLASS_BOUNDS, dtype=xp.float32), employees, side="right")


def stage_codes(age, employees, growth, demography, xp=np):
    """Growth-stage index (``STAGES``: 0 start-up, 1 growth, 2 maturity, 3 transformation) of
    each firm: the rule of :mod:`innoweave.registry.stages` with the thresholds of
    ``params.demography`` (start-up wins over transformation, which wins over growth)."""
    d = demography
    startup = (age < d.startup_max_age) & (employees < d.startup_max_employees)
    transforming = (growth < d.transformation_max_growth) & (age >= d.transformation_min_age)
    stage = xp.full(age.shape[0], 2, dtype=xp.int8)
    stage = xp.where(growth >= d.growth_min_rate, 1, stage)
    stage = xp.where(transforming, 3, stage)
    stage = xp.where(startup, 0, stage)
    return stage.astype(xp.int8)


# --- knowledge ---------------------------------------------------------------------------


def _draw_knowledge(
    n: int,
    units: np.ndarray,
    ability_lo: np.ndarray,
    ability_hi: np.ndarray,
    field_probs: np.ndarray | None,
    field_group: np.ndarray | None,
    params: ModelParams,
    rng: np.random.Generator,
):
    """Knowledge arrays: ``units[i]`` distinct fields per row, abilities uniform per row range.

    Fields are drawn without replacement per row: uniform over all fields, or — for rows
    with ``field_group >= 0`` — from ``field_probs[field_group]`` (a cluster's focus).
    Expertise starts uniform in 1..expertise_max//2.
    """
    kp = params.knowledge
    M, F = kp.max_units, kp.n_fields
    # Gumbel top-k: distinct fields per row with the given probabilities, vectorised.
    logits = np.full((n, F), 0.0, dtype=np.float32)
    if field_probs is not None and field_group is not None:
        grouped = field_group >= 0
        logits[grouped] = np.log(field_probs[field_group[grouped]] + 1e-9)
    keys = logits + rng.gumbel(size=(n, F)).astype(np.float32)
    field = np.argsort(-keys, axis=1)[:, :M].astype(np.int16)
    mask = np.arange(M)[None, :] < units[:, None]
    u = rng.random((n, M), dtype=np.float32)
    ability = (ability_lo[:, None] + u * (ability_hi - ability_lo)[:, None]).astype(np.float32)
    expertise = rng.integers(1, kp.expertise_max // 2 + 1, size=(n, M)).astype(np.int8)
    ability[~mask] = 0.0
    expertise[~mask] = 0
    field[~mask] = 0
    return field, ability, expertise, mask


# --- synthetic ---------------------------------------------------------------------------


def synthetic_counts(n_firms: int, *, n_regions: int | None, clusters_per_region: int,
                     research_per_firm: float, intermediaries_per_region: int) -> tuple[int, int, int, int]:
    """Regions, clusters, research organisations and intermediaries of
    :func:`synthetic_population` for these settings (one region per 500 firms, 4..400,
    where ``n_regions`` is None)."""
    regions = n_regions if n_regions is not None else int(np.clip(n_firms // 500, 4, 400))
    research = max(1, int(round(n_firms * research_per_firm)))
    return regions, regions * clusters_per_region, research, regions * intermediaries_per_region


def synthetic_population(
    n_firms: int,
    *,
    seed: SeedLike = None,
    params: ModelParams | None = None,
    n_regions: int | None = None,
    clusters_per_region: int = 2,
    cluster_share: float = 0.3,
    research_per_firm: float = 1 / 150,
    university_share: float = 0.4,
    intermediaries_per_region: int = 1,
    size_mix: tuple[float, float, float, float] = NCSES_SIZE_MIX,
) -> Population:
    """A seeded synthetic population of ``n_firms`` firms plus research and intermediaries.

    Regions are centres uniform on a 1000 km square (default one region per 500 firms,
    4..400); organisations lie N(centre, 25 km). Each region has ``clusters_per_region``
    clusters with three focal fields; a share ``cluster_share`` of firms belongs to one of
    its region's clusters and draws 70 % of its field probability from the cluster's focus.
    Firm sizes follow ``size_mix`` (NCSES table 2609 by default), log-uniform within class.
    Other attributes follow the distributions of ``docs/model.md`` ("Initial state"). Every
    setting is checked first (a count a whole number, a share in [0, 1], ``params`` by
    :func:`~innoweave.simulation.params.check_params`); a bad one raises ValueError naming it.
    """
    n_firms = whole_number("n_firms", n_firms, least=1)
    n_regions = whole_number("n_regions", n_regions, least=1, none=True)
    clusters_per_region = whole_number("clusters_per_region", clusters_per_region, least=1)
    intermediaries_per_region = whole_number("intermediaries_per_region",
                                             intermediaries_per_region, least=0)
    cluster_share = real_number("cluster_share", cluster_share, low=0.0, high=1.0)
    research_per_firm = real_number("research_per_firm", research_per_firm, low=0.0)
    university_share = real_number("university_share", university_share, low=0.0, high=1.0)
    if not isinstance(size_mix, (tuple, list)) or len(size_mix) != len(SIZE_CLASSES):
        raise ValueError(f"size_mix must be {len(SIZE_CLASSES)} shares (micro, small, medium, "
                         f"large), got {size_mix!r}")
    for share in size_mix:
        real_number("size_mix", share, low=0.0)
    if sum(size_mix) <= 0:
        raise ValueError(f"size_mix: the shares must not all be 0, got {size_mix!r}")
    params = check_params(ModelParams() if params is None else params)
    rng = make_rng(seed)
    kp = params.knowledge
    F = kp.n_fields
    R, C, n_res, n_int = synthetic_counts(n_firms, n_regions=n_regions, clusters_per_region=clusters_per_region,
                                          research_per_firm=research_per_firm,
                                          intermediaries_per_region=intermediaries_per_region)  # fmt: skip
    n = n_firms + n_res + n_int

    kind = np.empty(n, dtype=np.int8)
    mix = np.asarray(size_mix, dtype=float) / np.sum(size_mix)
    size_class = rng.choice(4, size=n_firms, p=mix)
    lo = np.log(np.array([r[0] for r in SIZE_CLASS_RANGES]))[size_class]
    hi = np.log(np.array([r[1] + 1 for r in SIZE_CLASS_RANGES]))[size_class]
    firm_emp = np.floor(np.exp(lo + rng.random(n_firms) * (hi - lo)))
    kind[:n_firms] = np.where(firm_emp >= 250, LARGE_FIRM, SME)
    kind[n_firms:n_firms + n_res] = np.where(
        rng.random(n_res) < university_share, UNIVERSITY, RESEARCH_INSTITUTE
    )
    kind[n_firms + n_res:] = INTERMEDIARY

    region = rng.integers(0, R, size=n).astype(np.int32)
    region[n_firms + n_res:] = np.repeat(np.arange(R), intermediaries_per_region)
    centres = rng.random((R, 2)) * 1000.0
    x = (centres[region, 0] + rng.normal(0, 25.0, n)).astype(np.float32)
    y = (centres[region, 1] + rng.normal(0, 25.0, n)).astype(np.float32)

    cluster = np.full(n, -1, dtype=np.int32)
    in_cluster = rng.random(n_firms) < cluster_share
    cluster[:n_firms][in_cluster] = (
        region[:n_firms][in_cluster] * clusters_per_region
        + rng.integers(0, clusters_per_region, in_cluster.sum())
    )
    focus = np.full((C, F), 0.3 / F)
    focal = np.argsort(rng.random((C, F)), axis=1)[:, :3]
    np.put_along_axis(focus, focal, 0.3 / F + 0.7 / 3, axis=1)

    employees = np.zeros(n, dtype=np.float32)
    employees[:n_firms] = firm_emp
    employees[n_firms:n_firms + n_res] = 500.0
    employees[n_firms + n_res:] = 10.0

    attrs = draw_firm_attributes(employees, kind, rng)
    capacity = np.zeros(n, dtype=np.int16)
    openness = np.zeros(n, dtype=np.float32)
    match_quality = np.zeros(n, dtype=np.float32)
    res = slice(n_firms, n_firms + n_res)
    capacity[res] = np.where(kind[res] == UNIVERSITY, RESEARCH_CAPACITY[UNIVERSITY],
                             RESEARCH_CAPACITY[RESEARCH_INSTITUTE])
    openness[res] = np.where(kind[res] == UNIVERSITY, rng.beta(6, 4, n_res), rng.beta(7, 3, n_res))
    capacity[n_firms + n_res:] = INTERMEDIARY_CAPACITY
    match_quality[n_firms + n_res:] = rng.beta(5, 3, n_int)

    units, ab_lo, ab_hi = _units_and_ability(kind, params, rng)
    field, ability, expertise, mask = _draw_knowledge(
        n, units, ab_lo, ab_hi, focus, cluster, params, rng
    )
    K = params.search.memory
    return Population(
        kind=kind, region=region, cluster=cluster, x=x, y=y,
        field=field, ability=ability, expertise=expertise, mask=mask,
        memory=np.full((n, K), -1, dtype=np.int32),
        capacity=capacity, openness=openness, match_quality=match_quality,
        patents=np.zeros(n, dtype=np.int32),
        n_regions=R, n_clusters=C, n_fields=F, **attrs,
    )


def _units_and_ability(kind: np.ndarray, params: ModelParams, rng: np.random.Generator):
    kp = params.knowledge
    n = kind.shape[0]
    lo = np.select([kind == SME, kind == LARGE_FIRM], [kp.units_sme[0], kp.units_large[0]],
                   kp.units_research[0])
    hi = np.select([kind == SME, kind == LARGE_FIRM], [kp.units_sme[1], kp.units_large[1]],
                   kp.units_research[1])
    units = np.minimum(rng.integers(lo, hi + 1, size=n), kp.max_units)
    research = np.isin(kind, RESEARCH_KINDS)
    ab_lo = np.where(research, kp.ability_research[0], kp.ability_firm[0]).astype(np.float32)
    ab_hi = np.where(research, kp.ability_research[1], kp.ability_firm[1]).astype(np.float32)
    return units, ab_lo, ab_hi


def draw_firm_attributes(employees: np.ndarray, kind: np.ndarray, rng: np.random.Generator,
                         ) -> dict[str, np.ndarray]:
    """Behavioural attributes of every row by the documented distributions.

    Firms: age ~ Exponential(mean 12 y); capital ~ employees x U(0.5, 2); growth ~ N(0.03, 0.10);
    awareness ~ Beta(2, 3); ip_awareness ~ Beta(2, 4); talent ~ Beta(2, 4) + 0.05 x size class;
    credit_access ~ Beta(2 + size class, 3). Research organisations and intermediaries get the
    same columns (ages 30 y, no capital dynamics) so arrays stay aligned.
    """
    n = kind.shape[0]
    sc = size_class_of(employees.astype(np.float32))
    firm = (kind == SME) | (kind == LARGE_FIRM)  # FIRM_KINDS; np.isin costs ~25 µs a call
    age = np.where(firm, rng.exponential(12.0, n), 30.0).astype(np.float32)
    capital = (employees * rng.uniform(0.5, 2.0, n)).astype(np.float32)
    growth = np.where(firm, rng.normal(0.03, 0.10, n), 0.0).astype(np.float32)
    awareness = rng.beta(2, 3, n).astype(np.float32)
    ip_awareness = rng.beta(2, 4, n).astype(np.float32)
    talent = np.minimum(rng.beta(2, 4, n) + 0.05 * sc, 1.0).astype(np.float32)  # both terms >= 0
    credit_access = rng.beta(2 + sc, 3).astype(np.float32)
    return {
        "age": age, "employees": employees.astype(np.float32), "capital": capital,
        "growth": growth, "awareness": awareness, "ip_awareness": ip_awareness,
        "talent": talent, "credit_access": credit_access,
    }


# --- from the registry -------------------------------------------------------------------

_KIND_FROM_REGISTRY = {
    "sme": SME, "large_firm": LARGE_FIRM, "university": UNIVERSITY,
    "research_institute": RESEARCH_INSTITUTE, "intermediary": INTERMEDIARY,
}


@dataclass
class TechnologyFields:
    """Technology fields learned from texts: TF-IDF vectoriser, k-means centres, labels."""

    vectorizer: object
    centres: np.ndarray  # (k, terms), L2-normalised rows
    names: list[str]

    def similarity(self, texts) -> np.ndarray:
        """Cosine similarity of each text with each field centre, ``(len(texts), k)``."""
        X = self.vectorizer.transform(pd.Series(texts).fillna("").astype(str).to_numpy())
        return np.asarray(X @ self.centres.T)


def fit_technology_fields(texts: pd.Series, *, n_fields: int, seed: SeedLike = None,
                          ) -> tuple[np.ndarray, TechnologyFields | None]:
    """Cluster texts (project titles) into ``n_fields`` technology fields.

    TF-IDF (English stop words, 1-2-grams, min_df 2, 5000 terms) then mini-batch k-means
    (k = ``n_fields``, seeded). Returns each text's field and the fitted fields (labels =
    the three heaviest terms of each centre); ``None`` when the texts hold no terms. With
    fewer texts than fields, k shrinks to the number of texts.
    """
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = texts.fillna("").astype(str).to_numpy()
    if len(docs) == 0:
        return np.zeros(0, dtype=np.int16), None
    min_df = 2 if len(docs) >= 50 else 1
    vec = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=min_df,
                          max_features=5000, sublinear_tf=True)
    try:
        X = vec.fit_transform(docs)
    except ValueError:  # only stop words / empty texts
        return np.zeros(len(docs), dtype=np.int16), None
    k = int(min(n_fields, X.shape[0]))
    seed_int = int(make_rng(seed).integers(2**31 - 1))
    km = MiniBatchKMeans(n_clusters=k, random_state=seed_int, n_init=1, max_iter=50,
                         batch_size=4096)
    labels = km.fit_predict(X).astype(np.int16)
    terms = np.asarray(vec.get_feature_names_out())
    centres = km.cluster_centers_
    names = [", ".join(terms[np.argsort(-c)[:3]]) for c in centres]
    norms = np.linalg.norm(centres, axis=1, keepdims=True)
    return labels, TechnologyFields(vec, centres / np.where(norms > 0, norms, 1.0), names)


def technology_fields(texts: pd.Series, *, n_fields: int, seed: SeedLike = None,
                      ) -> tuple[np.ndarray, list[str]]:
    """Each text's technology field and the field labels (see :func:`fit_technology_fields`)."""
    labels, fitted = fit_technology_fields(texts, n_fields=n_fields, seed=seed)
    return labels, (fitted.names if fitted is not None else ["general"] if len(labels) else [])


def _profile_texts(orgs: pd.DataFrame) -> pd.Series:
    """An organisation's own text profile: capabilities, offers, needs and keywords."""
    parts = []
    for col in ("capabilities", "offers", "needs"):
        parts.append(orgs[col].fillna("").astype(str))
    keywords = orgs["keywords"].map(lambda k: " ".join(k) if isinstance(k, (list, tuple))
                                    else ("" if k is None or k != k else str(k)))
    parts.append(keywords)
    text = parts[0]
    for p in parts[1:]:
        text = text + " " + p
    return text.str.strip()


def _complete_attributes(frames, seed):
    """Fill missing attributes with the registry's attribute model when it is installed."""
    try:
        from innoweave.registry.attributes import AttributeModel
    except ImportError:
        return frames
    return AttributeModel().complete(frames, seed=seed)


def population_from_frames(
    frames,
    *,
    seed: SeedLike = None,
    params: ModelParams | None = None,
    complete: bool = True,
) -> Population:
    """The registry's organisations as a simulation population.

    Kept: SMEs, large firms, companies (SME below 250 employees), universities, research
    institutes, intermediaries; government bodies and others are dropped (government is the
    scenario's instruments). Technology fields: project titles clustered by
    :func:`fit_technology_fields`; an organisation with a text profile (capabilities,
    offers, needs, keywords) holds the fields closest to it (cosine to the field centres,
    as many as it draws units), and one with projects the ``M`` fields it has most projects
    in, ability ``1 + 8 (1 - exp(-projects / 3))`` (research +1, capped), expertise from the
    same count; organisations without projects draw fields as synthetic firms do. Regions
    are the NUTS codes (unknown = its own region), clusters the registry's ``cluster``
    column, previous partners the most recent co-participants. Attributes the registry
    lacks come from ``innoweave.registry.attributes.AttributeModel`` when available, else
    from :func:`draw_firm_attributes`.
    """
    params = check_params(ModelParams() if params is None else params)
    rng = make_rng(seed)
    kp = params.knowledge
    if complete:
        frames = _complete_attributes(frames, rng)
    orgs = frames.organisations.reset_index(drop=True)
    kinds = orgs["kind"].astype(str).str.lower()
    emp_raw = pd.to_numeric(orgs["employees"], errors="coerce")
    company = kinds == "company"
    kinds = kinds.where(~company, np.where(emp_raw.fillna(0) >= 250, "large_firm", "sme"))
    keep = kinds.isin(_KIND_FROM_REGISTRY).to_numpy()
    orgs = orgs.loc[keep].reset_index(drop=True)
    kinds = kinds[keep].reset_index(drop=True)
    n = len(orgs)
    if n == 0:
        raise ValueError("population: the registry has no firms, research organisations or "
                         "intermediaries to simulate")
    kind = kinds.map(_KIND_FROM_REGISTRY).to_numpy(np.int8)
    row_of = pd.Series(np.arange(n), index=orgs["external_id"].to_numpy())

    region_codes = orgs["region_code"].fillna("unknown").astype(str)
    region, region_names = pd.factorize(region_codes)
    cluster_raw = orgs["cluster"]
    cluster_vals = cluster_raw.where(cluster_raw.notna(), None)
    cluster, cluster_names = pd.factorize(cluster_vals.astype(object), use_na_sentinel=True)
    lat = pd.to_numeric(orgs["latitude"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(orgs["longitude"], errors="coerce").to_numpy(float)
    x, y = _project_km(lat, lon, region)

    employees = emp_raw[keep].reset_index(drop=True).to_numpy(float)
    default_emp = np.select([kind == SME, kind == LARGE_FIRM], [10.0, 1000.0], 500.0)
    employees = np.where(np.isnan(employees) | (employees < 1), default_emp, employees)
    employees[kind == INTERMEDIARY] = 10.0
    attrs = draw_firm_attributes(employees.astype(np.float32), kind, rng)
    _overlay_registry_attributes(attrs, orgs)

    parts = frames.participations
    parts = parts[parts["org_external_id"].isin(row_of.index)]
    proj = frames.projects.set_index("external_id")
    field, ability, expertise, mask, labels = _registry_knowledge(
        kind, orgs, parts, proj, row_of, params, rng
    )
    memory = _registry_memory(parts, proj, row_of, n, params.search.memory)
    patents = pd.to_numeric(orgs["patents"], errors="coerce").fillna(0).to_numpy(np.int32)

    capacity = np.zeros(n, dtype=np.int16)
    openness = np.zeros(n, dtype=np.float32)
    match_quality = np.zeros(n, dtype=np.float32)
    for code, cap in RESEARCH_CAPACITY.items():
        capacity[kind == code] = cap
    capacity[kind == INTERMEDIARY] = INTERMEDIARY_CAPACITY
    research = np.isin(kind, RESEARCH_KINDS)
    openness[research] = np.where(kind[research] == UNIVERSITY, rng.beta(6, 4, research.sum()),
                                  rng.beta(7, 3, research.sum()))
    openness_attr = _attribute_column(orgs, "openness")
    openness = np.where(research & ~np.isnan(openness_attr), openness_attr, openness)
    match_quality[kind == INTERMEDIARY] = rng.beta(5, 3, (kind == INTERMEDIARY).sum())
    return Population(
        kind=kind, region=region.astype(np.int32), cluster=cluster.astype(np.int32),
        x=x, y=y, field=field, ability=ability, expertise=expertise, mask=mask,
        memory=memory, capacity=capacity, openness=openness.astype(np.float32),
        match_quality=match_quality, patents=patents,
        n_regions=int(len(region_names)), n_clusters=int(len(cluster_names)),
        n_fields=kp.n_fields, external_id=orgs["external_id"].to_numpy(object),
        field_labels=labels, region_names=tuple(str(r) for r in region_names), **attrs,
    )


def _project_km(lat: np.ndarray, lon: np.ndarray, region: np.ndarray):
    """Equirectangular km around the mean position; missing points take their region's mean."""
    ok = ~(np.isnan(lat) | np.isnan(lon))
    lat0 = np.nanmean(lat) if ok.any() else 0.0
    lon0 = np.nanmean(lon) if ok.any() else 0.0
    x = (lon - lon0) * 111.32 * np.cos(np.radians(lat0))
    y = (lat - lat0) * 110.57
    for arr in (x, y):
        s = pd.Series(arr)
        fill = s.groupby(region).transform("mean").fillna(0.0)
        arr[:] = s.fillna(fill).to_numpy()
    return x.astype(np.float32), y.astype(np.float32)


def _attribute_column(orgs: pd.DataFrame, key: str) -> np.ndarray:
    values = [a.get(key) if isinstance(a, dict) else None for a in orgs["attributes"]]
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)


def _overlay_registry_attributes(attrs: dict[str, np.ndarray], orgs: pd.DataFrame) -> None:
    """Registry values (columns or ``attributes`` keys) replace the drawn ones where present."""
    year_now = pd.Timestamp.now().year
    founding = pd.to_numeric(orgs["founding_year"], errors="coerce").to_numpy(float)
    age = year_now - founding
    attrs["age"] = np.where(np.isnan(age), attrs["age"], np.maximum(age, 0)).astype(np.float32)
    for key in ("awareness", "ip_awareness", "talent", "credit_access", "growth"):
        col = _attribute_column(orgs, key)
        attrs[key] = np.where(np.isnan(col), attrs[key], col).astype(np.float32)


def _registry_knowledge(kind, orgs, parts, proj, row_of, params, rng):
    kp = params.knowledge
    n, M, F = kind.shape[0], kp.max_units, kp.n_fields
    titles = proj["title"] if "title" in proj else pd.Series(dtype=object)
    used = titles[titles.index.isin(parts["project_external_id"])]
    labels, fitted = fit_technology_fields(used, n_fields=F, seed=rng)
    names = fitted.names if fitted is not None else []
    field_of_project = pd.Series(labels, index=used.index)
    units, ab_lo, ab_hi = _units_and_ability(kind, params, rng)
    field, ability, expertise, mask = _draw_knowledge(n, units, ab_lo, ab_hi, None, None,
                                                      params, rng)
    # organisations with a text profile take the fields their profile is closest to
    profiles = _profile_texts(orgs)
    with_text = (profiles.str.len() > 0).to_numpy()
    if fitted is not None and with_text.any():
        sim = fitted.similarity(profiles[with_text])
        order = np.argsort(-sim, axis=1, kind="stable")[:, :M]
        rows = np.nonzero(with_text)[0]
        k = order.shape[1]
        field[rows, :k] = order
        close = np.take_along_axis(sim, order, axis=1) > 0
        mask[rows, :k] &= close
        mask[rows, k:] = False
        if not mask[rows].any(axis=1).all():  # no overlap at all: keep the best field
            empty = rows[~mask[rows].any(axis=1)]
            mask[empty, 0] = True
        ability[rows] = np.where(mask[rows], ability[rows], 0.0)
        expertise[rows] = np.where(mask[rows], np.maximum(expertise[rows], 1), 0)
        field[rows] = np.where(mask[rows], field[rows], 0)
    if len(field_of_project):
        pf = parts.assign(
            row=row_of.reindex(parts["org_external_id"]).to_numpy(),
            f=field_of_project.reindex(parts["project_external_id"]).to_numpy(),
        ).dropna(subset=["f"])
        counts = np.zeros((n, F), dtype=np.float32)
        np.add.at(counts, (pf["row"].to_numpy(int), pf["f"].to_numpy(int)), 1.0)
        has = counts.sum(axis=1) > 0
        order = np.argsort(-counts, axis=1, kind="stable")[:, :M]
        top = np.take_along_axis(counts, order, axis=1)
        held = top > 0
        research = np.isin(kind, RESEARCH_KINDS)[:, None]
        ab = 1.0 + 8.0 * (1.0 - np.exp(-top / 3.0)) + research * 1.0
        ab = np.minimum(ab, kp.ability_max).astype(np.float32)
        ex = np.minimum(top, kp.expertise_max).astype(np.int8)
        field[has] = np.where(held[has], order[has], 0).astype(np.int16)
        ability[has] = np.where(held[has], ab[has], 0.0)
        expertise[has] = np.where(held[has], np.maximum(ex[has], 1), 0)
        mask[has] = held[has]
    return field, ability, expertise, mask, names


def _registry_memory(parts, proj, row_of, n, K):
    """Each organisation's K most recent co-participants (by project start date)."""
    memory = np.full((n, K), -1, dtype=np.int32)
    if parts.empty:
        return memory
    p = parts[["project_external_id", "org_external_id"]].copy()
    p["row"] = row_of.reindex(p["org_external_id"]).to_numpy()
    start = pd.to_datetime(proj["start_date"], errors="coerce") if "start_date" in proj else None
    p["start"] = start.reindex(p["project_external_id"]).to_numpy() if start is not None else pd.NaT
    # Large consortia would explode the pair table; keep projects of at most 30 partners.
    size = p.groupby("project_external_id")["row"].transform("size")
    p = p[size <= 30]
    pairs = p.merge(p, on="project_external_id", suffixes=("", "_b"))
    pairs = pairs[pairs["row"] != pairs["row_b"]]
    pairs = pairs.sort_values("start", ascending=False, kind="stable")
    pairs = pairs.drop_duplicates(["row", "row_b"])
    pairs["rank"] = pairs.groupby("row").cumcount()
    pairs = pairs[pairs["rank"] < K]
    memory[pairs["row"].to_numpy(int), pairs["rank"].to_numpy(int)] = pairs["row_b"].to_numpy(int)
    return memory


__all__ = [
    "KIND_CODES", "NCSES_SIZE_MIX", "Population", "SIZE_CLASSES", "draw_firm_attributes",
    "TechnologyFields", "fit_technology_fields", "population_from_frames", "size_class_of",
    "synthetic_population", "technology_fields",
]
