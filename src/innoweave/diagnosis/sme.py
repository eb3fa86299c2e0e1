"""The SME diagnosis: each SME's profile on the six restricting factors, against its peers.

This is where the registry meets the seed paper's diagnosis. For every SME it builds
indicators of the six restricting factors — from the registry (collaboration history,
partner kinds, participation in public programmes, EU contributions), from the firm
attributes (R&D spending and staff, patents, trademarks, awareness, credit access, talent,
barriers; drawn by :class:`~innoweave.registry.attributes.AttributeModel` where the registry
lacks them, and then flagged synthetic) and from the self-assessment questionnaire
(:mod:`.questionnaire`) — and aggregates them with the composite-indicator engine
(:mod:`.composite`), one dimension per factor. It classifies the growth stage with the
registry's rule (:mod:`innoweave.registry.stages`), ranks each factor among the SME's peers
(same stage, sector and region, widened step by step until the group is large enough),
names the weakest factors and lists the instruments of :mod:`innoweave.registry.instruments`
that address them and fit the stage. The simulation can take these recommendations as
scenario inputs; the CLI prints and plots them.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from innoweave import __version__
from innoweave.arguments import real_number, whole_number
from innoweave.diagnosis.composite import CompositeIndex, Hierarchy, IndicatorData
from innoweave.diagnosis.questionnaire import (
    Questionnaire,
    load_questionnaire,
    long_answers,
    numeric_values,
    score_answers,
)
from innoweave.estimator import Estimator
from innoweave.registry.attributes import BARRIERS, SUPPORT_PROGRAMMES
from innoweave.registry.frames import RegistryFrames, UnknownOrganisation, require_frames
from innoweave.registry.instruments import FACTOR_LABELS, RestrictingFactor, instruments_for
from innoweave.registry.kinds import OrgKind, check_kinds, primary_sector
from innoweave.registry.stages import STAGE_ORDER, StageRules, classify_stage
from innoweave.registry.validation import INTEGER, ORGS
from innoweave.seeding import SeedLike, check_seed

FACTORS = [f.value for f in RestrictingFactor]
RESEARCH = {OrgKind.UNIVERSITY.value, OrgKind.RESEARCH_INSTITUTE.value}
SUPPORT_BODIES = {OrgKind.INTERMEDIARY.value, OrgKind.GOVERNMENT.value}
RECENT_YEARS = 5
#: How the batch table joins the weakest factors and recommended instruments: as the
#: tables of every command join list cells (``innoweave.cli.common.table_cell``).
LIST_SEPARATOR = "; "
#: Reference years accepted (ages count to it): after 1900, up to 2100.
REFERENCE_YEARS = (1900, 2100)
#: The inputs of the growth-stage rule and the registry fields they come from.
STAGE_INPUTS = {"age": "founding_year", "employees": "employees", "growth": "attributes.growth"}


@dataclass(frozen=True)
class Indicator:
    """One indicator of a factor: where it comes from and how it is prepared.

    ``sources`` are registry columns, ``attributes.<key>`` entries, ``participations``
    (the collaboration history) or ``questionnaire``; an indicator is synthetic for an SME
    when any of its sources is.
    """

    code: str
    factor: str
    label: str
    sources: tuple[str, ...]
    transform: str | None = None
    direction: int = 1


INDICATORS: tuple[Indicator, ...] = (
    Indicator("awareness", "awareness", "Innovation awareness (0..1)", ("attributes.awareness",)),
    Indicator("recent_projects", "awareness", f"Projects started in the last {RECENT_YEARS} years",
              ("participations",), "log1p"),
    Indicator("q_awareness", "awareness", "Self-assessment: awareness", ("questionnaire",)),
    Indicator("rd_intensity", "funding", "R&D spending / revenue", ("rd_spending", "revenue")),
    Indicator("credit_access", "funding", "Credit access (0..1)", ("attributes.credit_access",)),
    Indicator("eu_funding_per_employee", "funding", "EU contribution received per employee (EUR)",
              ("participations", "employees"), "log1p"),
    Indicator("finance_barriers", "funding", "Finance barriers reported (internal finance, credit)",
              ("attributes.barriers",), None, -1),
    Indicator("q_funding", "funding", "Self-assessment: funding", ("questionnaire",)),
    Indicator("rd_staff_share", "talent", "R&D staff / employees", ("rd_staff", "employees")),
    Indicator("talent", "talent", "Talent (0..1)", ("attributes.talent",)),
    Indicator("skills_barrier", "talent", "Lack of skilled employees reported",
              ("attributes.barriers",), None, -1),
    Indicator("q_talent", "talent", "Self-assessment: talent", ("questionnaire",)),
    Indicator("innovating", "innovation_level", "Innovating firm (0/1)", ("attributes.innovating",)),
    Indicator("projects", "innovation_level", "Collaborative projects", ("participations",), "log1p"),
    Indicator("partner_links", "innovation_level", "Partner links in projects", ("participations",), "log1p"),
    Indicator("research_partner_share", "innovation_level",
              "Share of partner links with universities and research institutes", ("participations",)),
    Indicator("q_innovation_level", "innovation_level", "Self-assessment: innovation level", ("questionnaire",)),
    Indicator("patents", "ip", "Patents", ("patents",), "log1p"),
    Indicator("trademarks", "ip", "Trademarks", ("trademarks",), "log1p"),
    Indicator("ip_awareness", "ip", "IP awareness (0..1)", ("attributes.ip_awareness",)),
    Indicator("q_ip", "ip", "Self-assessment: IP", ("questionnaire",)),
    Indicator("programmes", "policy_service", "Distinct public programmes taken part in",
              ("participations",)),
    Indicator("support_body_links", "policy_service",
              "Partner links with intermediaries and government bodies", ("participations",), "log1p"),
    Indicator("support_schemes_used", "policy_service",
              "Public support schemes used (tax credit, grants, training, procurement)",
              ("attributes.support_use",)),
    Indicator("grants_barrier", "policy_service", "Difficulty obtaining government grants reported",
              ("attributes.barriers",), None, -1),
    Indicator("q_policy_service", "policy_service", "Self-assessment: policy and service", ("questionnaire",)),
)

PEER_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("stage+sector+region", ("stage", "sector", "region")),
    ("stage+sector+nuts2", ("stage", "sector", "nuts2")),
    ("stage+sector+nuts1", ("stage", "sector", "nuts1")),
    ("stage+sector+country", ("stage", "sector", "country")),
    ("stage+sector", ("stage", "sector")),
    ("stage", ("stage",)),
    ("all", ()),
)
#: Said in place of ``+sector`` in the level of an SME whose sector is unknown: its peers are
#: the other SMEs of unknown sector (grouped together), so no sector is matched.
SECTOR_UNKNOWN = " (sector unknown)"


def peer_level_name(level: str, sector: str) -> str:
    """The reported name of a peer level: ``stage+sector+region`` for an SME of known sector,
    ``stage+region (sector unknown)`` for one whose sector is ``unknown`` (same peers)."""
    if sector != "unknown" or "sector" not in level.split("+"):
        return level
    return "+".join(k for k in level.split("+") if k != "sector") + SECTOR_UNKNOWN


def read_stage_rules(path: str | Path, *, table: str = "stages") -> StageRules:
    """Growth-stage thresholds from the ``[stages]`` table of a TOML file, checked.

    :class:`StageRules` checks the values (numbers, not true or false; ages and head counts
    not below zero; growth rates as fractions within -1..1, so 10 is not read as 1,000 %; the
    order of the two rates); here a ``stages`` key that is not a table, a file without the
    table and unknown keys are refused too. Every ``ValueError`` names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"stage rules file not found: {path}" if not path.exists()
                         else f"stage rules file {path} is a folder, not a file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"stage rules file {path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"stage rules file {path} is not valid TOML: {exc}") from None
    where = f"stage rules file {path}"
    if table in data:
        rules = data[table]
        if not isinstance(rules, dict):
            raise ValueError(f"{where}: {table!r} must be a table ([{table}] followed by key = value lines), "
                             f"got {table} = {rules!r}")
        where += f", [{table}]"
    else:
        tables = [k for k, v in data.items() if isinstance(v, dict)]
        if tables:
            raise ValueError(f"{where} has no [{table}] table (it has {', '.join(f'[{t}]' for t in tables)}); "
                             f"put the thresholds under [{table}]")
        rules = data
    try:
        return StageRules.from_dict(rules)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def sme_hierarchy() -> Hierarchy:
    """The SME profile hierarchy: one dimension per restricting factor holding its indicators, with
    the ``overall`` index and readable labels."""
    dims = {f: [i.code for i in INDICATORS if i.factor == f] for f in FACTORS}
    labels = {i.code: i.label for i in INDICATORS} | {f.value: FACTOR_LABELS[f] for f in RestrictingFactor}
    return Hierarchy(dims, index_name="overall", labels=labels)


def _records(dicts: Sequence[object]) -> pd.DataFrame:
    """A table of dict entries (one row per dict; a non-dict row is all missing)."""
    rows = [d if isinstance(d, dict) else {} for d in dicts]
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def _num(values: object) -> np.ndarray:
    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(dtype=float)


def _column(table: pd.DataFrame, key: str) -> np.ndarray:
    """Numeric values of ``key`` (booleans as 0/1), NaN where absent."""
    if key not in table.columns:
        return np.full(len(table), np.nan)
    return _num(table[key].to_numpy(dtype=object))


class _DictColumn:
    """An attribute whose values are dicts of flags (``barriers``, ``support_use``), tabulated once."""

    def __init__(self, attrs: pd.DataFrame, key: str) -> None:
        dicts = attrs[key].tolist() if key in attrs.columns else [None] * len(attrs)
        self.has = np.array([isinstance(d, dict) and bool(d) for d in dicts], dtype=bool)
        self.table = _records(dicts)

    def other_names(self, known: Sequence[str]) -> dict | None:
        """Flag names outside ``known`` and how many organisations give one true (None if none)."""
        other = [c for c in self.table.columns if c not in known]
        if not other:
            return None
        true = self.table[other].astype(object).fillna(False).astype(bool).to_numpy()
        return {"names": sorted(map(str, other))[:20], "organisations": int(true.any(axis=1).sum())}

    def count_true(self, keys: Sequence[str] | None = None) -> np.ndarray:
        """How many of ``keys`` (all when None) are true per row; NaN where there is no dict."""
        cols = [k for k in (keys if keys is not None else self.table.columns) if k in self.table.columns]
        if not cols:
            return np.where(self.has, 0.0, np.nan)
        values = self.table[cols].astype(object).fillna(False).astype(bool).to_numpy(dtype=float)
        return np.where(self.has, values.sum(axis=1), np.nan)


def _lacks_attributes(orgs: pd.DataFrame, attrs: pd.DataFrame) -> bool:
    """Whether any organisation misses a value the attribute model would draw."""
    cols = ["founding_year", "employees", "revenue", "rd_spending", "rd_staff", "patents", "trademarks"]
    if orgs[cols].isna().to_numpy().any():
        return True
    needed = ["awareness", "ip_awareness", "credit_access", "talent", "innovating", "growth", "barriers"]
    return any(k not in attrs.columns for k in needed) or attrs[needed].isna().to_numpy().any()


def _isin(values: pd.Series, allowed: object) -> np.ndarray:
    """Membership through a hash table of Python objects (Arrow-backed ``isin`` is slow)."""
    return pd.Series(values.to_numpy(dtype=object)).isin(list(allowed)).to_numpy()


EXAMPLES = 5  # organisations named in a message


@dataclass(frozen=True)
class Scale:
    """The values one organisation field may take: a finite number in ``low..high`` (a whole
    number where ``whole``), or true/false (also 1/0) where ``flag``; ``meaning`` says in words
    what the number is."""

    low: float = -math.inf
    high: float = math.inf
    whole: bool = False
    flag: bool = False
    meaning: str = ""

    def words(self) -> str:
        if self.flag:
            return "true or false (or 1 / 0)"
        bounds = [f"at least {self.low:g}" if self.low > -math.inf else "",
                  f"at most {self.high:g}" if self.high < math.inf else ""]
        kind = "a whole number" if self.whole else "a finite number"
        text = " ".join([kind, " and ".join(b for b in bounds if b)]).strip()
        return f"{text} ({self.meaning})" if self.meaning else text

    def off(self, raw: pd.Series) -> np.ndarray:
        """Where a value is given but not on the scale: text that is no number (numbers written
        as text parse, as questionnaire answers do), true/false where a number is meant, an
        infinity, a value out of range, a fraction where a whole number is meant; for a flag,
        any text (a table of flags would read "0" or "no" as true)."""
        value, given = numeric_values(raw)
        if self.flag and pd.api.types.is_bool_dtype(raw):
            value = raw.to_numpy(dtype=float, na_value=np.nan)
        elif self.flag:
            cells = raw.to_numpy(dtype=object)
            value = np.array([float(v) if isinstance(v, (bool, np.bool_)) else np.nan if isinstance(v, str) else x
                              for v, x in zip(cells, value, strict=True)], dtype=float)
        with np.errstate(invalid="ignore"):
            on = np.isfinite(value) & (value >= self.low) & (value <= self.high)
            if self.whole or self.flag:
                on &= value == np.floor(value)
        return given & ~on


SCORE = Scale(0.0, 1.0, meaning="a score")
#: The ``attributes`` the diagnosis reads and their documented scales (the attribute model's,
#: :mod:`innoweave.registry.attributes` and docs/synthetic.md). A value off its scale was read
#: as missing (text) or shifted every SME's min–max score (5.0 where scores run 0..1).
ATTRIBUTE_SCALES: dict[str, Scale] = {
    "awareness": SCORE, "ip_awareness": SCORE, "credit_access": SCORE, "talent": SCORE,
    "innovating": Scale(0.0, 1.0, flag=True),
    "growth": Scale(-1.0, meaning="an annual rate as a fraction: 0.12 is +12 %, -1 is the floor"),
}
#: ``attributes`` that are tables of true/false flags (a barrier reported, a scheme used).
FLAG_ATTRIBUTES = ("barriers", "support_use")
#: Organisation columns the diagnosis reads, on the registry's own column rules
#: (:data:`innoweave.registry.validation.ORGS`: figures not below zero, whole numbers where the
#: registry stores integers, founding years in its range). The import refuses values off
#: them; frames built by hand reach the diagnosis unchecked.
FIRM_FIGURES = ("employees", "revenue", "rd_spending", "rd_staff", "patents", "trademarks", "founding_year")
COLUMN_SCALES: dict[str, Scale] = {
    name: Scale(-math.inf if col.minimum is None else col.minimum, math.inf if col.maximum is None else col.maximum,
                whole=col.type == INTEGER)
    for name in FIRM_FIGURES
    for col in [ORGS.column(name)]
}


def _refuse_off_scale(field: str, raw: pd.Series, scale: Scale, ids: pd.Index) -> None:
    bad = scale.off(raw)
    if bad.any():
        shown = ", ".join(f"{i!r} ({v!r})" for i, v in zip(ids[bad][:EXAMPLES], raw[bad][:EXAMPLES], strict=True))
        shown += ", …" if bad.sum() > EXAMPLES else ""
        raise ValueError(f"{field} must be {scale.words()}; {int(bad.sum())} organisation(s) give other values, "
                         f"e.g. {shown}")


def _check_unique_ids(orgs: pd.DataFrame) -> None:
    """Refuse an organisation listed twice, naming it: the registry holds each organisation
    once, and which of two rows to diagnose would be a guess."""
    ids = orgs["external_id"].astype(str)
    twice = ids[ids.duplicated()].unique()
    if len(twice):
        raise ValueError(f"{len(twice)} organisation id(s) are listed more than once, e.g. "
                         f"{', '.join(map(repr, twice[:EXAMPLES]))}: each organisation must appear once")


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _plain_flags(tables: Sequence[dict]) -> bool:
    """Whether every value of these flag tables is true, false or None (the common case, told
    from the distinct values alone: tabulating 100,000 tables to check them costs a second)."""
    try:
        distinct = set(chain.from_iterable(map(dict.values, tables)))
    except TypeError:  # an unhashable value (a list): not a flag
        return False
    return all(v is None or isinstance(v, (bool, np.bool_)) for v in distinct)


def _refuse_non_mappings(field: str, values: np.ndarray, ids: pd.Index, mapping: str) -> None:
    bad = np.array([not (isinstance(v, dict) or _missing(v)) for v in values], dtype=bool)
    if bad.any():
        shown = ", ".join(f"{i!r} ({v!r:.40})" for i, v in zip(ids[bad][:EXAMPLES], values[bad][:EXAMPLES],
                                                               strict=True))
        raise ValueError(f"{field} must be a mapping of {mapping} (a JSON object); {int(bad.sum())} organisation(s) "
                         f"give other values, e.g. {shown}")


def _check_scales(orgs: pd.DataFrame, attrs: pd.DataFrame) -> None:
    """Refuse, naming the field, the organisations diagnosed and the scale, a value the
    diagnosis would misread: a firm figure off the registry's rules (text that is no number,
    negative, infinite, a fractional patent count), an ``attributes`` entry that is not a
    mapping (all of it was read as missing), a score off 0..1 or given as text ("high"), a
    flag that is not true/false, a table of flags that is not one."""
    ids = orgs.index
    for column in FIRM_FIGURES:
        _refuse_off_scale(f"column {column!r}", orgs[column], COLUMN_SCALES[column], ids)
    _refuse_non_mappings("attributes", orgs["attributes"].to_numpy(dtype=object), ids, "names to values")
    for key, scale in ATTRIBUTE_SCALES.items():
        if key in attrs.columns:
            _refuse_off_scale(f"attributes.{key}", attrs[key], scale, ids)
    for key in FLAG_ATTRIBUTES:
        if key not in attrs.columns:
            continue
        values = attrs[key].to_numpy(dtype=object)
        _refuse_non_mappings(f"attributes.{key}", values, ids, "names to true or false")
        if _plain_flags([v for v in values if isinstance(v, dict)]):
            continue
        flags = _records(values)
        flags.index = ids
        for name in flags.columns:
            _refuse_off_scale(f"attributes.{key}.{name}", flags[name], Scale(0.0, 1.0, flag=True), ids)


def collaboration_indicators(frames: RegistryFrames, org_ids: pd.Index, *, reference_year: int) -> pd.DataFrame:
    """Indicators from the collaboration history, one row per organisation in ``org_ids``.

    Partner links count, over the organisation's projects, the other participants (a
    partner met in two projects counts twice); their kinds come from the registry.
    """
    cols = ["projects", "recent_projects", "partner_links", "research_links", "support_body_links",
            "eu_funding", "programmes", "synthetic_history"]
    parts = frames.participations
    out = pd.DataFrame(0.0, index=org_ids, columns=cols)
    if parts.empty:
        out["research_partner_share"] = np.nan
        return out
    orgs = frames.organisations
    all_orgs = pd.Index(orgs["external_id"].to_numpy(dtype=object))
    kind = orgs["kind"].astype(str).to_numpy(dtype=object)
    is_research = np.append(np.isin(kind, list(RESEARCH)), False).astype(float)  # last: unknown org
    is_support = np.append(np.isin(kind, list(SUPPORT_BODIES)), False).astype(float)
    org_pos = all_orgs.get_indexer(parts["org_external_id"].to_numpy(dtype=object))
    org_pos = np.where(org_pos < 0, len(all_orgs), org_pos)
    proj, proj_ids = pd.factorize(parts["project_external_id"].to_numpy(dtype=object))
    research, support = is_research[org_pos], is_support[org_pos]
    size = np.bincount(proj)[proj]
    research_links = np.bincount(proj, weights=research)[proj] - research
    support_links = np.bincount(proj, weights=support)[proj] - support
    projects = frames.projects.drop_duplicates("external_id").set_index("external_id")
    info = projects.reindex(pd.Index(proj_ids))
    programme, _ = pd.factorize(info["programme"].astype(object).to_numpy())
    start = pd.to_datetime(info["start_date"], errors="coerce").dt.year.to_numpy(dtype=float)
    # the last RECENT_YEARS years up to the reference year: a project signed but starting
    # later (CORDIS lists starts years ahead) has not started by then
    recent = ((start > reference_year - RECENT_YEARS) & (start <= reference_year)).astype(float)[proj]
    money = (
        pd.to_numeric(parts["net_public_contribution"], errors="coerce")
        .fillna(pd.to_numeric(parts["public_contribution"], errors="coerce"))
        .fillna(0.0)
        .to_numpy(dtype=float)
    )
    synthetic = (parts["source"].astype(str).to_numpy(dtype=object) == "synthetic").astype(float)
    target = pd.Index(org_ids).get_indexer(parts["org_external_id"].to_numpy(dtype=object))
    mine = target >= 0
    t, n = target[mine], len(org_ids)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(t, weights=weights[mine], minlength=n)

    def distinct(codes: np.ndarray) -> np.ndarray:
        pairs = np.unique(np.column_stack([t, codes[mine]]), axis=0)
        pairs = pairs[pairs[:, 1] >= 0]
        return np.bincount(pairs[:, 0], minlength=n).astype(float)

    out["projects"] = distinct(proj)
    out["recent_projects"] = total(recent)
    out["partner_links"] = total(size - 1.0)
    out["research_links"] = total(research_links)
    out["support_body_links"] = total(support_links)
    out["eu_funding"] = total(money)
    out["programmes"] = distinct(programme[proj])
    out["synthetic_history"] = (total(synthetic) > 0).astype(float)
    with np.errstate(all="ignore"):
        out["research_partner_share"] = np.where(
            out["partner_links"] > 0, out["research_links"] / out["partner_links"], np.nan
        )
    return out


def _field_synthetic(orgs: pd.DataFrame, fields: set[str]) -> dict[str, np.ndarray]:
    """Per registry field, which rows name it in ``synthetic_fields`` (all rows of synthetic origin)."""
    whole = orgs["source"].astype(str).to_numpy(dtype=object) == "synthetic"
    out = {f: whole.copy() for f in fields}
    named = pd.Series(orgs["synthetic_fields"].to_numpy(dtype=object))[~whole].explode()
    named = named[_isin(named.astype(object), fields)]
    for f in fields:
        out[f][named.index[named.to_numpy(dtype=object) == f].to_numpy()] = True
    return out


class SMEDiagnoser(Estimator):
    """Profile SMEs on the six restricting factors, benchmark them, recommend support.

    Parameters (keyword-only): ``kinds`` diagnosed (default SMEs); ``questionnaire`` a
    :class:`Questionnaire` or shipped version; ``answers`` a table of answers (long
    ``org_id, item_id, answer`` or wide; an ``org_id`` is an external id or a bare CORDIS
    PIC, answers of other organisations are left out and named in ``report_``) and
    ``answers_synthetic`` whether they were simulated; ``on_invalid_answer`` ``"raise"`` or ``"missing"``; ``complete_attributes``
    draws what the registry lacks with the attribute model (flagged synthetic; ``seed`` is
    its seed); ``stage_rules`` the growth-stage rule; ``reference_year`` the year ages and
    recent projects count to; ``min_peers`` the smallest peer group (the SME included)
    before widening; ``n_weakest`` how many weakest factors to name at most: the lowest
    peer percentiles, keeping those below ``weak_percentile`` (the lowest one is always
    named); ``max_per_factor`` instruments recommended per weak factor; ``composite``
    overrides of the engine's settings (default min–max over all SMEs onto 0..100, equal
    weights, arithmetic means, log1p for counts).

    After :meth:`fit`: ``indicators_`` (raw), ``synthetic_`` (bool, same shape),
    ``stages_``, ``stage_basis_`` (``observed``, ``synthetic``, ``partly synthetic`` or
    ``no data``: whether the stage rests on values the attribute model drew),
    ``stage_synthetic_`` (bool per stage input: age, employees, growth, stage), ``peer_keys_``
    (per SME the keys its peers are grouped by: stage, sector, region, nuts2, nuts1, country),
    ``peer_level_`` (e.g. ``stage+sector+region``; ``stage+region (sector unknown)`` where
    the SME's sector is unknown), ``peer_size_``, ``scores_`` (six factors and ``overall``,
    0..100), ``percentiles_`` (within peers, 0..100), ``peer_medians_``, ``weakest_``,
    ``composite_`` (the fitted engine), ``report_`` and ``meta_``.
    """

    def __init__(
        self, *, kinds: Sequence[str] = ("sme",), questionnaire: Questionnaire | str = "v1",
        answers: pd.DataFrame | None = None, answers_synthetic: bool = False,
        on_invalid_answer: str = "raise", complete_attributes: bool = True,
        stage_rules: StageRules | None = None, reference_year: int = 2024, min_peers: int = 10,
        n_weakest: int = 2, weak_percentile: float = 50.0, max_per_factor: int = 3,
        composite: Mapping[str, object] | None = None, seed: SeedLike = 0,
    ) -> None:
        self.kinds = kinds
        self.questionnaire = questionnaire
        self.answers = answers
        self.answers_synthetic = answers_synthetic
        self.on_invalid_answer = on_invalid_answer
        self.complete_attributes = complete_attributes
        self.stage_rules = stage_rules
        self.reference_year = reference_year
        self.min_peers = min_peers
        self.n_weakest = n_weakest
        self.weak_percentile = weak_percentile
        self.max_per_factor = max_per_factor
        self.composite = composite
        self.seed = seed

    # -- fitting --------------------------------------------------------------------------
    def fit(self, frames: RegistryFrames) -> SMEDiagnoser:
        """Diagnose the SMEs in ``frames``: build their indicators (completing missing attributes
        and scoring questionnaire answers), place them in growth stages and peer groups, score the
        six factors and name the weakest. Returns ``self``."""
        self._check_settings()
        require_frames(frames, "SMEDiagnoser.fit")
        _check_unique_ids(frames.organisations)
        lo, hi = REFERENCE_YEARS
        if isinstance(self.reference_year, bool) or not isinstance(self.reference_year, (int, np.integer)) \
                or not lo < self.reference_year <= hi:
            raise ValueError(f"reference_year must be a year after {lo} and at most {hi}, got {self.reference_year!r}")
        report: dict[str, object] = {}
        orgs, attrs = self._select(frames)
        _check_scales(orgs, attrs)
        others = frames.organisations
        others = others[~_isin(others["kind"].astype(str), self.kinds_)].drop_duplicates("external_id")
        self._others = pd.DataFrame({"kind": others["kind"].astype(str).to_numpy(dtype=object),
                                     "name": others["name"].astype(str).to_numpy(dtype=object)},
                                    index=pd.Index(others["external_id"].astype(str).to_numpy(dtype=object)))
        self.attributes_completed_ = False
        if self.complete_attributes and _lacks_attributes(orgs, attrs):
            from innoweave.registry.attributes import AttributeModel

            frames = AttributeModel(reference_year=self.reference_year, stage_rules=self.stage_rules).complete(
                frames, seed=self.seed
            )
            self.attributes_completed_ = True
            orgs, attrs = self._select(frames)
        self._attrs = attrs
        ids = orgs.index
        q = self.questionnaire if isinstance(self.questionnaire, Questionnaire) else load_questionnaire(self.questionnaire)
        self.questionnaire_ = q

        ind, sources = self._indicators(frames, orgs, q, report)
        self.indicators_ = ind
        self.synthetic_ = self._synthetic(orgs, sources)
        self.stages_, self.stage_inputs_ = self._stages(orgs)
        founded_later = int(self._founded_later.sum())
        if founded_later:
            report["founded_after_reference_year"] = founded_later
        self.names_ = orgs["name"].astype(str)
        self.kind_ = orgs["kind"].astype(str)

        settings: dict[str, object] = dict(
            normalisation="minmax", scale=(0.0, 100.0), weights="equal", aggregation="arithmetic",
            index_from="dimensions",
            transform={i.code: i.transform for i in INDICATORS if i.transform},
            directions={i.code: i.direction for i in INDICATORS if i.direction < 0},
            # self-assessments lie on the questionnaire's fixed 0..1 scale: scaled by it, not by
            # the answers received, so one SME's answers (or answers that all agree) count
            bounds={f"q_{f}": (0.0, 1.0) for f in FACTORS},
        )
        settings.update(self.composite or {})
        model = CompositeIndex(sme_hierarchy(), **settings).fit(IndicatorData.from_wide(ind))
        self.composite_ = model
        scores = pd.DataFrame(model.dimension_scores_[:, 0, :], index=ids, columns=FACTORS)
        scores["overall"] = model.index_[:, 0]
        self.scores_ = scores
        report["unused_indicators"] = model.report_["constant_indicators"]
        report["smes_without_data"] = model.report_["empty_units"]

        self._peers(orgs)
        self._weakest()
        self.report_ = report
        self.meta_ = {
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "version": __version__,
            "questionnaire_version": q.version,
            "reference_year": self.reference_year,
            "min_peers": self.min_peers,
            "n_weakest": self.n_weakest,
            "weak_percentile": self.weak_percentile,
            "max_per_factor": self.max_per_factor,
            "stage_rules": (self.stage_rules or StageRules()).to_dict(),
            "attributes_completed": self.attributes_completed_,
        }
        return self

    def _check_settings(self) -> None:
        """Refuse settings that would run on with a meaningless result (``True`` peers, 2.5
        weakest factors) or fail deep inside pandas (a string of kinds, a dict of rules)."""
        for name in ("min_peers", "n_weakest", "max_per_factor"):
            whole_number(name, getattr(self, name), least=1)
        real_number("weak_percentile (a percentile)", self.weak_percentile, low=0, high=100)
        if self.kinds is None:
            raise ValueError("kinds must name the kinds diagnosed, such as ('sme',), not None")
        self.kinds_ = list(check_kinds(self.kinds))
        if self.stage_rules is not None and not isinstance(self.stage_rules, StageRules):
            raise ValueError(f"stage_rules must be a StageRules (StageRules.from_dict(...) for a mapping), "
                             f"got {type(self.stage_rules).__name__}")
        if self.on_invalid_answer not in ("raise", "missing"):
            raise ValueError(f"on_invalid_answer must be 'raise' or 'missing', got {self.on_invalid_answer!r}")
        if self.answers is not None and not isinstance(self.answers, pd.DataFrame):
            raise ValueError(f"answers must be a DataFrame (read_answers(path) reads a file), "
                             f"got {type(self.answers).__name__}")
        check_seed(self.seed)  # refused before any work, not only when attributes are drawn
        for name in ("complete_attributes", "answers_synthetic"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.composite is not None:
            known = set(CompositeIndex(sme_hierarchy()).get_params(deep=False)) - {"hierarchy"}
            unknown = sorted(set(self.composite) - known)
            if unknown:
                raise ValueError(f"composite has unknown setting(s) {unknown}; allowed: {sorted(known)}")

    def _select(self, frames: RegistryFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The organisations diagnosed (indexed by external id) and their attributes as a table."""
        orgs = frames.organisations
        orgs = orgs[_isin(orgs["kind"].astype(str), self.kinds_)].drop_duplicates("external_id")
        if orgs.empty:
            raise ValueError(f"the registry holds no organisations of kinds {self.kinds_}")
        orgs = orgs.set_index(orgs["external_id"].astype(str))
        attrs = _records(orgs["attributes"].tolist())
        attrs.index = orgs.index
        return orgs, attrs

    def _indicators(self, frames, orgs, q, report) -> tuple[pd.DataFrame, dict[str, list[str]]]:
        ids = orgs.index
        attrs = self._attrs
        collab = collaboration_indicators(frames, ids, reference_year=self.reference_year)
        employees = _num(orgs["employees"])
        revenue = _num(orgs["revenue"])
        barriers = _DictColumn(attrs, "barriers")
        support_use = _DictColumn(attrs, "support_use")
        # the diagnosis reads the named barriers; every scheme flagged true counts as used
        for key, column, known in (("barriers_not_read", barriers, BARRIERS),
                                   ("support_schemes_not_drawn", support_use, SUPPORT_PROGRAMMES)):  # fmt: skip
            other = column.other_names(known)
            if other:
                report[key] = other
        with np.errstate(all="ignore"):
            ind = pd.DataFrame({
                "awareness": _column(attrs, "awareness"),
                "recent_projects": collab["recent_projects"].to_numpy(),
                "rd_intensity": np.where(revenue > 0, _num(orgs["rd_spending"]) / revenue, np.nan),
                "credit_access": _column(attrs, "credit_access"),
                "eu_funding_per_employee": np.where(
                    employees > 0, collab["eu_funding"].to_numpy() / employees, np.nan
                ),
                "finance_barriers": barriers.count_true(("internal_finance", "credit")),
                "rd_staff_share": np.where(employees > 0, _num(orgs["rd_staff"]) / employees, np.nan),
                "talent": _column(attrs, "talent"),
                "skills_barrier": barriers.count_true(("skilled_employees",)),
                "innovating": _column(attrs, "innovating"),
                "projects": collab["projects"].to_numpy(),
                "partner_links": collab["partner_links"].to_numpy(),
                "research_partner_share": collab["research_partner_share"].to_numpy(),
                "patents": _num(orgs["patents"]),
                "trademarks": _num(orgs["trademarks"]),
                "ip_awareness": _column(attrs, "ip_awareness"),
                "programmes": collab["programmes"].to_numpy(),
                "support_body_links": collab["support_body_links"].to_numpy(),
                "support_schemes_used": support_use.count_true(),
                "grants_barrier": barriers.count_true(("government_grants",)),
            }, index=ids)
        infinite = np.isinf(ind.to_numpy(dtype=float))
        if infinite.any():
            col = int(np.flatnonzero(infinite.any(axis=0))[0])
            rows = ids[infinite[:, col]]
            raise ValueError(f"indicator {ind.columns[col]!r} is infinite for {len(rows)} SME(s), e.g. "
                             f"{', '.join(map(repr, rows[:EXAMPLES]))}: check their attributes")
        for f in FACTORS:
            ind[f"q_{f}"] = np.nan
        self.answered_ = pd.Series(False, index=ids)
        if self.answers is not None:
            answers = self._match_answer_ids(long_answers(self.answers), ids)
            scored = score_answers(answers, q, on_invalid=self.on_invalid_answer)
            stray = sorted(set(scored.index) - set(ids))
            if stray:
                report["answers_for_unknown_orgs"] = stray[:20]
                report["answers_for_unknown_orgs_count"] = len(stray)
                # an organisation of another kind, named by external id or by bare CORDIS PIC
                kinds = self._others["kind"]
                known = {o: kinds.get(o, kinds.get(f"cordis:{o}")) for o in stray[:20]}
                known = {o: k for o, k in known.items() if isinstance(k, str)}
                if known:
                    report["answers_for_other_kinds"] = known
            if scored.attrs.get("invalid_answers"):
                report["invalid_answers_ignored"] = scored.attrs["invalid_answers"]
            if scored.attrs.get("duplicate_answers", {}).get("count"):
                report["duplicate_answers_ignored"] = scored.attrs["duplicate_answers"]
            scored = scored.reindex(ids)
            for f in FACTORS:
                ind[f"q_{f}"] = scored[f].to_numpy(dtype=float)
            self.answered_ = scored.notna().any(axis=1)
        self.history_synthetic_ = collab["synthetic_history"].to_numpy(dtype=bool)
        ind = ind[[i.code for i in INDICATORS]]
        return ind, {i.code: list(i.sources) for i in INDICATORS}

    def _match_answer_ids(self, answers: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
        """Answers with their organisation ids in the form the diagnosis uses: an id is taken as
        given when an SME has it, else as a CORDIS PIC (``cordis:<id>``) when that names one."""
        given = pd.Index(pd.unique(answers["org_id"].to_numpy(dtype=object)))
        missing = given[ids.get_indexer(given) < 0]
        as_pic = pd.Index([f"cordis:{g}" for g in missing], dtype=object)
        found = ids.get_indexer(as_pic) >= 0
        if not found.any():
            return answers
        mapping = dict(zip(missing[found], as_pic[found], strict=True))
        out = answers.copy()
        org = out["org_id"].to_numpy(dtype=object)
        out["org_id"] = pd.Series(org).map(lambda o: mapping.get(o, o)).to_numpy(dtype=object)
        return out

    def _synthetic(self, orgs: pd.DataFrame, sources: dict[str, list[str]]) -> pd.DataFrame:
        fields = {s for srcs in sources.values() for s in srcs} - {"participations", "questionnaire"}
        flags = _field_synthetic(orgs, fields)
        n = len(orgs)
        flags["participations"] = self.history_synthetic_ | (orgs["source"].astype(str) == "synthetic").to_numpy()
        flags["questionnaire"] = np.full(n, bool(self.answers_synthetic)) & self.answered_.to_numpy()
        out = pd.DataFrame(index=orgs.index)
        for code, srcs in sources.items():
            col = np.zeros(n, dtype=bool)
            for s in srcs:
                col |= flags[s]
            out[code] = col & self.indicators_[code].notna().to_numpy()
        return out

    def _stages(self, orgs: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        founded = _num(orgs["founding_year"])
        inputs = pd.DataFrame({
            "age": self.reference_year - founded,
            "employees": _num(orgs["employees"]),
            "growth": _column(self._attrs, "growth"),
        }, index=orgs.index)
        self._founded_later = (inputs["age"] < 0).to_numpy()
        inputs.loc[inputs["age"] < 0, "age"] = np.nan
        stages = classify_stage(inputs["age"], inputs["employees"], inputs["growth"], rules=self.stage_rules)
        known = inputs.notna().any(axis=1).to_numpy()
        registry_stage = orgs["stage"].astype(object).to_numpy()
        # A stage recorded in the registry stands in where none of age, size, growth is known.
        use_registry = ~known & pd.notna(registry_stage)
        stages = np.where(use_registry, registry_stage, stages)
        # What the stage rests on: which of its inputs were drawn by the attribute model (or
        # come from a synthetic registry), so that no one reads a drawn stage as a fact.
        flags = _field_synthetic(orgs, set(STAGE_INPUTS.values()) | {"stage"})
        drawn = pd.DataFrame({k: flags[f] for k, f in STAGE_INPUTS.items()}, index=orgs.index) & inputs.notna()
        drawn["stage"] = flags["stage"] & use_registry
        self.stage_synthetic_ = drawn
        n_drawn = drawn.sum(axis=1).to_numpy()
        basis = np.where(n_drawn == 0, "observed", "partly synthetic").astype(object)
        basis[(n_drawn > 0) & (n_drawn == inputs.notna().sum(axis=1).to_numpy())] = "synthetic"
        basis[use_registry] = np.where(drawn["stage"].to_numpy()[use_registry], "synthetic", "observed")
        basis[~known & ~use_registry] = "no data"
        self.stage_basis_ = pd.Series(basis, index=orgs.index, dtype=object)
        self._synthetic_origin = pd.Series(orgs["source"].astype(str).to_numpy(dtype=object) == "synthetic",
                                           index=orgs.index)
        return pd.Series(stages, index=orgs.index, dtype=object), inputs

    def _stage_synthetic_names(self) -> pd.Series:
        """Per SME, the stage inputs that are synthetic, as text ("age; employees; growth")."""
        drawn = self.stage_synthetic_
        text = pd.Series("", index=drawn.index, dtype=object)
        for col in drawn.columns:
            text = text + np.where(drawn[col].to_numpy(), f"{col}; ", "")
        return text.str.removesuffix("; ")

    def _peers(self, orgs: pd.DataFrame) -> None:
        region = orgs["region_code"].astype(object).where(orgs["region_code"].notna(), "unknown").astype(str)
        country = orgs["country"].astype(object).where(orgs["country"].notna(), region.str[:2]).astype(str)
        sector = [primary_sector(codes) for codes in orgs["sector_codes"]]
        keys = pd.DataFrame({
            "stage": self.stages_.astype(str).to_numpy(), "sector": sector, "region": region.to_numpy(),
            "nuts2": region.str[:4].to_numpy(), "nuts1": region.str[:3].to_numpy(), "country": country.to_numpy(),
        }, index=orgs.index)
        self.peer_keys_ = keys
        # An SME without a region has no regional peers: the SMEs of unknown region, grouped
        # under "unknown", may sit anywhere, so it skips the region, NUTS-2 and NUTS-1 levels,
        # and the country level too unless its country is recorded.
        known = {"region": orgs["region_code"].notna().to_numpy()}
        known["country"] = known["region"] | orgs["country"].notna().to_numpy()
        # An SME's peers are every SME sharing its key at the narrowest level with at least
        # ``min_peers`` members (itself included), whatever level those peers got themselves.
        n = len(orgs)
        cols = FACTORS + ["overall"]
        scores = self.scores_[cols].reset_index(drop=True)
        chosen = np.zeros(n, dtype=bool)
        level = np.full(n, None, dtype=object)
        size_out = np.zeros(n, dtype=np.int64)
        pct = np.full((n, len(cols)), np.nan)
        med = np.full((n, len(cols)), np.nan)
        for name, key_cols in PEER_LEVELS:
            ids = keys[list(key_cols)].reset_index(drop=True).groupby(list(key_cols), sort=False).ngroup().to_numpy() \
                if key_cols else np.zeros(n, dtype=np.int64)
            size = np.bincount(ids)[ids]
            take = ~chosen & ((size >= self.min_peers) | (name == "all"))
            if {"region", "nuts2", "nuts1"} & set(key_cols):
                take &= known["region"]
            elif "country" in key_cols:
                take &= known["country"]
            if not take.any():
                continue
            g = scores.groupby(ids)
            ranks, counts = g.rank(method="average").to_numpy(), g.transform("count").to_numpy()
            with np.errstate(all="ignore"):
                pct[take] = (100 * (ranks - 0.5) / counts)[take]
            med[take] = g.transform("median").to_numpy()[take]
            level[take], size_out[take] = name, size[take]
            chosen |= take
        level = np.array([peer_level_name(lv, sc) for lv, sc in zip(level, sector, strict=True)], dtype=object)
        self.peer_level_ = pd.Series(level, index=orgs.index)
        self.peer_size_ = pd.Series(size_out, index=orgs.index)
        self.percentiles_ = pd.DataFrame(pct, index=orgs.index, columns=cols)
        self.peer_medians_ = pd.DataFrame(med, index=orgs.index, columns=cols)

    def _weakest(self) -> None:
        pct = self.percentiles_[FACTORS].to_numpy(dtype=float)
        score = self.scores_[FACTORS].to_numpy(dtype=float)
        # Weak means behind the peers: below their median. An SME tied with most of its peers
        # (no project, so innovation level 0 like half of them) has a mid-rank percentile
        # near 25 but is typical, not weak: factors below the median come first, and only
        # they are named beyond the first.
        below = score < self.peer_medians_[FACTORS].to_numpy(dtype=float)
        key = np.where(np.isnan(pct), np.inf, pct + 1000.0 * ~below) + 1e-6 * np.nan_to_num(score, nan=100.0)
        order = np.argsort(key, axis=1, kind="stable")[:, : self.n_weakest]
        names = np.array(FACTORS, dtype=object)[order]
        ranked_pct = np.take_along_axis(np.where(np.isnan(pct), np.inf, pct), order, axis=1)
        ranked_below = np.take_along_axis(below, order, axis=1)
        valid = np.isfinite(ranked_pct) & (ranked_pct < self.weak_percentile) & ranked_below
        valid[:, 0] = np.isfinite(ranked_pct[:, 0])
        self._weak_table = np.where(valid, names, None)
        self.weakest_ = pd.Series(
            [[n for n in row if n is not None] for row in self._weak_table.tolist()], index=self.scores_.index
        )

    # -- results --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "scores_"):
            raise RuntimeError("call fit() first")

    def resolve(self, ref: str) -> str:
        """The external id of the SME ``ref`` names: an external id, a CORDIS PIC or a unique name."""
        self._check_fitted()
        ref = str(ref).strip()
        ids = self.scores_.index
        for candidate in (ref, f"cordis:{ref}"):
            if candidate in ids:
                return candidate
        by_name = self.names_[self.names_.str.lower() == ref.lower()]
        if len(by_name) == 1:
            return str(by_name.index[0])
        if len(by_name) > 1:
            raise UnknownOrganisation(f"{len(by_name)} SMEs are named {ref!r}; give the external id")
        what = "an SME" if self.kinds_ == ["sme"] else f"of the kinds diagnosed {self.kinds_}"
        others = self._others
        matches = [c for c in (ref, f"cordis:{ref}") if c in others.index]
        if not matches:
            matches = list(others.index[others["name"].str.lower().to_numpy() == ref.lower()][:1])
        if matches:
            kind, name = others.loc[matches[0], ["kind", "name"]]
            article = "an" if kind[:1] in "aeio" else "a"
            raise UnknownOrganisation(
                f"organisation {matches[0]!r} ({name}) exists but is {article} {kind}, not {what}"
                + ("; only SMEs are diagnosed" if what == "an SME" else "")
            )
        example = f"such as {ids[0]!r}, " if len(ids) else ""
        raise UnknownOrganisation(
            f"no SME {ref!r} among the {len(ids):,} diagnosed (kinds {self.kinds_}); "
            f"give an external id {example}a CORDIS PIC or an exact name"
        )

    def recommend(self, org_id: str) -> list[dict[str, str]]:
        """Instruments addressing the SME's weakest factors and eligible for its stage, with reasons."""
        org_id = self.resolve(org_id)
        stage = self.stages_[org_id]
        out, seen = [], set()
        for factor in self.weakest_[org_id]:
            pct = self.percentiles_.at[org_id, factor]
            fresh = [i for i in instruments_for(factor, stage) if i.key not in seen]
            for inst in fresh[: self.max_per_factor]:
                seen.add(inst.key)
                out.append({
                    "instrument": inst.key,
                    "name": inst.name,
                    "resource": inst.resource.value,
                    "factor": factor,
                    "reason": (
                        f"{FACTOR_LABELS[RestrictingFactor(factor)]} is among the weakest factors "
                        f"(peer percentile {pct:.0f}); {inst.name}: {inst.effect}; "
                        f"eligible at the {stage} stage: {inst.stage_reason}"
                    ),
                })
        return out

    def uncovered(self, org_id: str) -> list[dict[str, str]]:
        """The SME's weakest factors that no instrument of the catalogue addresses at its
        stage, each with the reason and the stages where instruments for it exist."""
        org_id = self.resolve(org_id)
        stage = self.stages_[org_id]
        out = []
        for factor in self.weakest_[org_id]:
            if instruments_for(factor, stage):
                continue
            elsewhere = instruments_for(factor)
            stages = sorted({s.value for i in elsewhere for s in i.stages},
                            key=STAGE_ORDER.index)
            label = FACTOR_LABELS[RestrictingFactor(factor)]
            out.append({
                "factor": factor,
                "reason": (f"no instrument of the catalogue addresses {label} at the {stage} "
                           "stage" + (f"; instruments for it ({', '.join(i.key for i in elsewhere)}) "
                                      f"serve the {', '.join(stages)} stage(s)" if elsewhere else "")),
            })
        return out

    def diagnose(self, org_id: str) -> dict[str, object]:
        """The full profile of one SME as a JSON-ready dict."""
        org_id = self.resolve(org_id)
        factors = {}
        for f in FACTORS:
            codes = [i.code for i in INDICATORS if i.factor == f]
            factors[f] = {
                "label": FACTOR_LABELS[RestrictingFactor(f)],
                "score": _clean(self.scores_.at[org_id, f]),
                "peer_percentile": _clean(self.percentiles_.at[org_id, f]),
                "peer_median": _clean(self.peer_medians_.at[org_id, f]),
                "indicators": {
                    c: {"value": _clean(self.indicators_.at[org_id, c]), "synthetic": bool(self.synthetic_.at[org_id, c])}
                    for c in codes
                },
            }
        synthetic = [c for c in self.indicators_.columns if self.synthetic_.at[org_id, c]]
        inputs = self.stage_inputs_.loc[org_id]
        keys = self.peer_keys_.loc[org_id]
        return {
            "org_id": org_id,
            "name": self.names_[org_id],
            "kind": self.kind_[org_id],
            "region": keys["region"],
            "sector": keys["sector"],
            "stage": self._stage_profile(org_id, inputs),
            "overall": {
                "score": _clean(self.scores_.at[org_id, "overall"]),
                "peer_percentile": _clean(self.percentiles_.at[org_id, "overall"]),
            },
            "factors": factors,
            "peers": {"level": self.peer_level_[org_id], "size": int(self.peer_size_[org_id])},
            "weakest": list(self.weakest_[org_id]),
            "recommendations": self.recommend(org_id),
            "weakest_without_support": self.uncovered(org_id),
            "questionnaire": {
                "version": self.questionnaire_.version,
                "answered": bool(self.answered_[org_id]),
                "synthetic": bool(self.answers_synthetic and self.answered_[org_id]),
            },
            "synthetic_indicators": synthetic,
            "meta": self.meta_,
        }

    def _stage_profile(self, org_id: str, inputs: pd.Series) -> dict[str, object]:
        drawn = [k for k, v in self.stage_synthetic_.loc[org_id].items() if v]
        basis = self.stage_basis_[org_id]
        out: dict[str, object] = {
            "value": self.stages_[org_id],
            "age": _clean(inputs["age"]),
            "employees": _clean(inputs["employees"]),
            "growth": _clean(inputs["growth"]),
            "basis": basis,
            "synthetic_attributes": drawn,
        }
        if drawn:
            why = ("a synthetic registry" if self._synthetic_origin[org_id] else
                   "the registry lacks them: CORDIS has no firm age, size or growth")
            out["note"] = (
                f"the stage rests on synthetic (drawn) {', '.join(drawn)}, not recorded values ({why}): "
                "the stage and the support offered for it are illustrative"
            )
        elif basis == "no data":
            out["note"] = "no age, size or growth known: the stage is the default of the stage rules"
        return out

    def transform(self) -> pd.DataFrame:
        """One row per SME: region and sector (as its peers are grouped: the region code, the
        first NACE code's division; ``unknown`` where absent), stage, peer group, factor
        scores and percentiles, weakest, support."""
        self._check_fitted()
        stage = self.stages_
        # SMEs share few (weakest factors, stage) combinations: recommend once per combination
        weak = pd.DataFrame(self._weak_table).fillna("").astype(str)
        combo = weak.apply(lambda c: c + "|").sum(axis=1) + stage.astype(str).to_numpy()
        codes, uniques = pd.factorize(combo)
        recs_by_combo = []
        for key in uniques:
            *factors, st = key.split("|")
            keys: list[str] = []
            for f in filter(None, factors):
                keys += [i.key for i in instruments_for(f, st) if i.key not in keys][: self.max_per_factor]
            recs_by_combo.append(LIST_SEPARATOR.join(keys))
        recs = np.asarray(recs_by_combo, dtype=object)[codes]
        weakest = pd.Series([LIST_SEPARATOR.join(filter(None, row)) for row in weak.itertuples(index=False)],
                            dtype=object)
        keys = self.peer_keys_.loc[self.scores_.index]
        out = pd.DataFrame({"org_id": self.scores_.index, "name": self.names_.to_numpy(),
                            "region": keys["region"].to_numpy(), "sector": keys["sector"].to_numpy(),
                            "stage": stage.to_numpy(),
                            "stage_basis": self.stage_basis_.to_numpy(),
                            "stage_synthetic_attributes": self._stage_synthetic_names().to_numpy(),
                            "peer_level": self.peer_level_.to_numpy(), "peer_size": self.peer_size_.to_numpy()})
        for f in FACTORS + ["overall"]:
            out[f"{f}_score"] = self.scores_[f].to_numpy()
            out[f"{f}_percentile"] = self.percentiles_[f].to_numpy()
        out["weakest"] = weakest.to_numpy()
        out["recommended"] = recs
        out["synthetic_indicators"] = self.synthetic_.sum(axis=1).to_numpy()
        out["questionnaire_answered"] = self.answered_.to_numpy()
        return out

    def stage_distribution(self) -> dict[str, dict[str, float]]:
        """Counts and shares of the growth stages among the diagnosed SMEs."""
        self._check_fitted()
        counts = self.stages_.value_counts()
        total = int(counts.sum())
        return {
            "counts": {s: int(counts.get(s, 0)) for s in STAGE_ORDER},
            "shares": {s: (float(counts.get(s, 0)) / total if total else 0.0) for s in STAGE_ORDER},
            "total": total,
        }


def _clean(value: object) -> object:
    """JSON-friendly scalar: NaN becomes None, numpy numbers plain floats."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return value
    return None if np.isnan(f) else round(f, 6)


__all__ = ["INDICATORS", "SMEDiagnoser", "UnknownOrganisation", "read_stage_rules", "sme_hierarchy"]
