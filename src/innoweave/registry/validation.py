"""The file templates of the registry and the row-by-row validation of imported tables.

Each entity a user can import (organisations, projects, participations, programmes,
clusters) is described once here as a list of :class:`Column` specifications: type,
whether it is required, allowed values and range. The same specifications write the
templates and the export (:mod:`.export`), check every row of an imported file
(:mod:`.files`) and document the columns in ``docs/registry.md``. Validation never writes:
it turns raw cells (text from CSV, typed cells from XLSX, values from JSON) into the
canonical frame layout of :mod:`.frames`, or into messages that name the column and say
what was expected.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from innoweave.registry.instruments import INSTRUMENTS
from innoweave.registry.kinds import GrowthStage, OrgKind, Resource
from innoweave.registry.models import Cluster, Organisation, Participation, Programme, Project
from innoweave.registry.numbers import NumberError, parse_number

TEXT, INTEGER, NUMBER, DATE, BOOLEAN, CHOICE, LIST, OBJECT = (
    "text", "integer", "number", "date", "boolean", "choice", "list", "object",
)  # fmt: skip
MISSING = (None, "")


@dataclass(frozen=True)
class Column:
    """One column of an import template."""

    name: str
    type: str
    description: str
    required: bool = False
    example: Any = None
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    identifier: bool = False  # an id or a reference to one: surrounding blanks are trimmed
    count: bool = False  # a head count: '1.250' needs the file's decimal mark (see .numbers)

    @property
    def is_count(self) -> bool:
        """Whether the column counts (integers, head counts): an ambiguous ``1.250`` is
        refused there unless the file's decimal mark decides it (:mod:`.numbers`)."""
        return self.count or self.type == INTEGER

    @property
    def is_numeric(self) -> bool:
        """Whether the column holds numbers (integer or number)."""
        return self.type in (INTEGER, NUMBER)

    def rule(self) -> str:
        """The allowed values or range in words (the template's documentation sheet)."""
        if self.allowed:
            return "one of: " + ", ".join(self.allowed)
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        if self.max_length:
            parts.append(f"at most {self.max_length} characters")
        if self.identifier:
            parts.append("trimmed")
        if self.type == DATE:
            parts.append("YYYY-MM-DD")
        if self.type == LIST:
            parts.append("items separated by ';' (or a JSON array)")
        if self.type == OBJECT:
            parts.append("a JSON object")
        if self.type == BOOLEAN:
            parts.append("true/false")
        return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class Entity:
    """An importable table: its name, the frame it fills and its columns."""

    name: str
    frame: str
    key: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    references: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        """Names of the entity's columns, in template order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the columns every row must fill."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """The :class:`Column` called ``name`` (``StopIteration`` if the entity has none)."""
        return next(c for c in self.columns if c.name == name)

    def example(self) -> dict[str, Any]:
        """One example row for the import template: each column's example value."""
        return {c.name: c.example for c in self.columns}


def _length(model, name: str) -> int | None:
    return getattr(model.__table__.c[name].type, "length", None)


def _text(model, name, description, **kw) -> Column:
    return Column(name, TEXT, description, max_length=_length(model, name), **kw)


def _id(model, name, description, **kw) -> Column:
    """An identifier column (a key or a reference to one): text, trimmed."""
    return _text(model, name, description, identifier=True, **kw)


def _provenance(model) -> tuple[Column, ...]:
    return (
        _text(model, "source", "Where the record comes from; default: file:<file name>.",
              example="survey-2026"),
        Column("source_row", INTEGER, "Row in the original source; with no source given: the row in this file.",
               minimum=0),
        Column("synthetic_fields", LIST, "Names of the values that were drawn, not observed."),
    )  # fmt: skip


THIS_YEAR = dt.date.today().year
KINDS = tuple(k.value for k in OrgKind)
STAGES = tuple(s.value for s in GrowthStage)
RESOURCES = tuple(r.value for r in Resource)

ORGS = Entity(
    name="orgs",
    frame="organisations",
    key="external_id",
    aliases=("organisations", "organizations", "orgs", "organisation", "organization"),
    columns=(
        _id(Organisation, "external_id", "Stable id, namespaced (e.g. cordis:999984059, crm:42).",
              required=True, example="crm:acme-gmbh"),
        _text(Organisation, "name", "Legal or usual name.", required=True, example="Acme Präzisionsteile GmbH"),
        Column("kind", CHOICE, "Kind of organisation.", required=True, allowed=KINDS, example="sme"),
        _text(Organisation, "short_name", "Short name or acronym.", example="ACME"),
        Column("sme_flag", BOOLEAN, "Self-declared SME flag as published (kept for non-firms too).",
               example=True),
        _text(Organisation, "country", "ISO 3166 alpha-2 country code.", example="DE"),
        _text(Organisation, "region_code", "Region code (NUTS-3, Chinese administrative code …).",
              example="DE212"),
        _text(Organisation, "region_level", "Level of region_code (NUTS-3, prefecture …).",
              example="NUTS-3"),
        _text(Organisation, "city", "City.", example="München"),
        _text(Organisation, "postcode", "Postcode (text: leading zeros kept).", example="80331"),
        Column("latitude", NUMBER, "Latitude in decimal degrees (WGS 84).", minimum=-90, maximum=90,
               example=48.137),
        Column("longitude", NUMBER, "Longitude in decimal degrees (WGS 84).", minimum=-180,
               maximum=180, example=11.575),
        Column("sector_codes", LIST, "Sector codes (NACE, NAICS or GB/T 4754).", example=["C25.6", "C28.4"]),
        Column("founding_year", INTEGER, "Year founded.", minimum=1800, maximum=THIS_YEAR + 1,
               example=1998),
        Column("employees", NUMBER, "Head count or FTE.", minimum=0, example=42, count=True),
        Column("revenue", NUMBER, "Annual revenue, EUR.", minimum=0, example=6_500_000),
        Column("rd_spending", NUMBER, "Annual R&D spending, EUR.", minimum=0, example=250_000),
        Column("rd_staff", NUMBER, "R&D staff (FTE).", minimum=0, example=4, count=True),
        Column("patents", INTEGER, "Patents held.", minimum=0, example=3),
        Column("trademarks", INTEGER, "Trademarks held.", minimum=0, example=1),
        Column("capabilities", TEXT, "What the organisation can do (free text).",
               example="precision turning; laser welding"),
        Column("offers", TEXT, "What it offers partners (free text).", example="contract machining"),
        Column("needs", TEXT, "What it seeks (free text).", example="sensor integration know-how"),
        Column("keywords", LIST, "Keywords.", example=["machining", "automotive"]),
        Column("stage", CHOICE, "SME growth stage.", allowed=STAGES, example="maturity"),
        Column("cluster", TEXT, "external_id of its cluster (created when unknown).",
               example="cluster:munich-mechatronics", max_length=_length(Cluster, "external_id"),
               identifier=True),
        Column("attributes", OBJECT, "Further attributes as a JSON object.",
               example={"activity_type": "PRC"}),
        Column("external_ids", OBJECT, "Other ids as a JSON object.", example={"vat": "DE123456789"}),
        *_provenance(Organisation),
    ),
)  # fmt: skip

PROJECTS = Entity(
    name="projects",
    frame="projects",
    key="external_id",
    aliases=("projects", "project", "collaborations", "collaboration"),
    columns=(
        _id(Project, "external_id", "Stable id, namespaced (e.g. cordis:project:101070000).",
              required=True, example="crm:project:7"),
        Column("title", TEXT, "Title.", required=True, example="Laser-welded sensor housings"),
        _text(Project, "acronym", "Acronym.", example="LASH"),
        Column("description", TEXT, "Description or objective.", example="Joint development …"),
        _text(Project, "programme", "Funding programme.", example="Horizon Europe"),
        _text(Project, "funding_scheme", "Funding scheme or instrument.", example="HORIZON-RIA"),
        _text(Project, "status", "Status (SIGNED, CLOSED …).", example="SIGNED"),
        Column("start_date", DATE, "Start date.", example=dt.date(2024, 1, 1)),
        Column("end_date", DATE, "End date (not before start_date).", example=dt.date(2026, 12, 31)),
        Column("budget", NUMBER, "Total budget, EUR.", minimum=0, example=1_200_000),
        Column("public_funding", NUMBER, "Public funding, EUR.", minimum=0, example=900_000),
        *_provenance(Project),
    ),
)  # fmt: skip

PARTICIPATIONS = Entity(
    name="participations",
    frame="participations",
    key="external_id",
    aliases=("participations", "participation", "participants"),
    references={"project_external_id": "projects", "org_external_id": "orgs"},
    columns=(
        _id(Participation, "external_id",
              "Stable id; default: <project_external_id>|<org_external_id>|<role>.",
              example="crm:part:7:acme"),
        Column("project_external_id", TEXT,
               "external_id of the project (in this import or the registry).", required=True,
               example="crm:project:7", max_length=_length(Project, "external_id"), identifier=True),
        Column("org_external_id", TEXT,
               "external_id of the organisation (in this import or the registry).", required=True,
               example="crm:acme-gmbh", max_length=_length(Organisation, "external_id"),
               identifier=True),
        _text(Participation, "role", "Role (coordinator, participant, partner …).",
              example="coordinator"),
        Column("public_contribution", NUMBER, "Public contribution to this participant, EUR.",
               minimum=0, example=450_000),
        Column("net_public_contribution", NUMBER, "Net public contribution, EUR.", minimum=0,
               example=430_000),
        *_provenance(Participation),
    ),
)  # fmt: skip

PROGRAMMES = Entity(
    name="programmes",
    frame="programmes",
    key="name",
    aliases=("programmes", "programme", "programs", "program", "instruments"),
    columns=(
        _id(Programme, "name", "Unique name of the programme.", required=True,
              example="Innovation voucher Bavaria"),
        Column("resource", CHOICE, "Resource it provides.", required=True, allowed=RESOURCES,
               example="capital"),
        Column("instrument", CHOICE, "Instrument type from the catalogue (registry.instruments).",
               allowed=tuple(INSTRUMENTS), example="innovation_voucher"),
        Column("budget", NUMBER, "Budget, EUR.", minimum=0, example=5_000_000),
        Column("eligibility", OBJECT, "Eligibility rules as a JSON object.",
               example={"kinds": ["sme"], "max_employees": 249}),
        Column("description", TEXT, "Description.", example="Up to 15,000 EUR for R&D services."),
        *_provenance(Programme),
    ),
)  # fmt: skip

CLUSTERS = Entity(
    name="clusters",
    frame="clusters",
    key="external_id",
    aliases=("clusters", "cluster"),
    columns=(
        _id(Cluster, "external_id", "Stable id (organisations name it in their cluster column).",
              required=True, example="cluster:munich-mechatronics"),
        _text(Cluster, "name", "Name.", required=True, example="Munich mechatronics"),
        _text(Cluster, "region_code", "Region code.", example="DE212"),
        _text(Cluster, "sector", "Sector.", example="C28"),
        Column("description", TEXT, "Description.", example="Machine builders around Munich."),
        *_provenance(Cluster),
    ),
)  # fmt: skip

ENTITIES: dict[str, Entity] = {e.name: e for e in (CLUSTERS, ORGS, PROJECTS, PROGRAMMES, PARTICIPATIONS)}
"""In dependency order: a table may reference only tables before it."""


def entity_for(name: str) -> Entity:
    """The entity called ``name`` or one of its aliases (case-insensitive)."""
    key = name.strip().lower()
    for entity in ENTITIES.values():
        if key == entity.name or key in entity.aliases:
            return entity
    raise ValueError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}")


class CellError(ValueError):
    """A cell that does not fit its column (the message says what was expected)."""


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= 60 else text[:57] + "...'"


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a postcode typed as a number in a spreadsheet
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise CellError(f"expected text, got {type(value).__name__} {_show(value)}")


def _as_number(value: Any, mark: str | None = None, count: bool = False) -> float:
    try:
        return parse_number(value, mark=mark, count=count)
    except NumberError as exc:
        raise CellError(str(exc)) from None


def _as_integer(value: Any, mark: str | None = None) -> int:
    try:
        number = _as_number(value, mark, count=True)
    except CellError as exc:
        raise CellError(str(exc).replace("expected a number", "expected a whole number")) from None
    if not number.is_integer():
        raise CellError(f"expected a whole number, got {_show(value)}")
    return int(number)


_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y/%m/%d")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-":  # the usual ISO form, without strptime's cost
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise CellError(f"expected a date YYYY-MM-DD, got {_show(value)}")


_TRUE, _FALSE = {"true", "t", "yes", "y", "1"}, {"false", "f", "no", "n", "0"}


def _as_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise CellError(f"expected true or false, got {_show(value)}")


def _as_choice(value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in allowed:
        return text
    raise CellError(f"unknown value {_show(value)}; allowed: {', '.join(allowed)}")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise CellError(f"not a JSON array ({getattr(exc, 'msg', exc)})") from None
        else:
            return [part.strip() for part in text.split(";") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CellError(f"expected a list of texts, got {_show(value)}")


def _as_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise CellError(f"not a JSON object ({getattr(exc, 'msg', exc)})") from None
    if isinstance(value, dict):
        return value
    raise CellError(f"expected a JSON object, got {_show(value)}")


def parse_cell(column: Column, value: Any, mark: str | None = None) -> Any:
    """The canonical value of one cell, or :class:`CellError`; missing cells give None.

    ``mark`` is the decimal mark of the cell's column where the file shows one (see
    :func:`innoweave.registry.numbers.decimal_marks`); it decides how a number such as
    ``1.250`` reads."""
    if _is_missing(value):
        if column.required:
            raise CellError("required value is missing")
        return [] if column.type == LIST else {} if column.type == OBJECT else None
    if column.type == TEXT:
        result = _as_text(value)
        if column.identifier:
            result = result.strip()
        if column.max_length and len(result) > column.max_length:
            raise CellError(f"longer than {column.max_length} characters ({len(result)})")
        return result
    if column.type == CHOICE:
        return _as_choice(value, column.allowed)
    if column.type == BOOLEAN:
        return _as_boolean(value)
    if column.type == DATE:
        return _as_date(value)
    if column.type == LIST:
        return _as_list(value)
    if column.type == OBJECT:
        return _as_object(value)
    if column.type == INTEGER:
        number = _as_integer(value, mark)
    else:
        number = _as_number(value, mark, column.is_count)
    if (column.minimum is not None and number < column.minimum) or (
        column.maximum is not None and number > column.maximum
    ):
        low = "" if column.minimum is None else f"{column.minimum:g}"
        high = "" if column.maximum is None else f"{column.maximum:g}"
        raise CellError(f"{number:g} is out of range {low}..{high}")
    return number


def validate_row(
    entity: Entity, raw: Mapping[str, Any], marks: Mapping[str, str | None] | None = None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Parse one row: the clean record and a list of ``(column, message)`` problems.

    ``marks`` holds the decimal mark of the file's number columns where it shows one
    (:func:`innoweave.registry.numbers.decimal_marks`); without, an ambiguous ``1.250`` is
    refused in a count column and read as a decimal elsewhere.

    Columns absent from ``raw`` count as empty. Checks that involve two cells of the row
    (an end before the start, a latitude without longitude) name the second column.
    Never raises for any cell content.
    """
    clean: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column in entity.columns:
        try:
            clean[column.name] = parse_cell(column, raw.get(column.name), (marks or {}).get(column.name))
        except CellError as exc:
            clean[column.name] = None
            problems.append((column.name, str(exc)))
    bad = {name for name, _ in problems}
    if entity is PROJECTS and not bad & {"start_date", "end_date"}:
        start, end = clean["start_date"], clean["end_date"]
        if start and end and end < start:
            problems.append(("end_date", f"end {end} is before start {start}"))
    if entity is ORGS and not bad & {"latitude", "longitude"}:
        if (clean["latitude"] is None) != (clean["longitude"] is None):
            missing = "longitude" if clean["longitude"] is None else "latitude"
            problems.append((missing, "latitude and longitude must be given together"))
    if entity is PARTICIPATIONS and clean["external_id"] is None and not problems:
        clean["external_id"] = "|".join(
            (clean["project_external_id"], clean["org_external_id"], clean["role"] or "")
        )
    return clean, problems
