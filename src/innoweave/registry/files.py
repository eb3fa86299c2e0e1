"""Importing organisations, collaborations, programmes and clusters from CSV, XLSX and JSON files.

This is the registry's generic entrance for data that does not come from CORDIS: a
regional agency's firm list, a survey, a CRM export, or an earlier ``innoweave export``.
Files follow the templates of :mod:`.validation`; every row is checked before anything is
written, references between tables are resolved against the import and the registry, and
the valid rows go through :func:`~innoweave.registry.writer.write_frames` in one
transaction. A bad row yields a :class:`RowError` naming file, row and column; nothing is
written unless the caller skips invalid rows, in which case they go to reject files that
can be corrected and imported again.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.validation import ENTITIES, Entity, entity_for, validate_row

SUFFIXES = (".csv", ".xlsx", ".json")
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")


class FileFormatError(ValueError):
    """A file that cannot be read as a table at all (nothing in it can be imported)."""


@dataclass(frozen=True)
class RowError:
    """A problem with one row (``column`` None when it concerns the whole row)."""

    file: str
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


@dataclass
class RawTable:
    """The cells of one table as read, before validation."""

    entity: Entity
    label: str
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    header: list[str] = field(default_factory=list)
    row_problems: dict[int, str] = field(default_factory=dict)
    encoding: str | None = None


@dataclass
class ImportResult:
    """What an import read, accepted, rejected and wrote."""

    files: list[str]
    read: dict[str, int]
    valid: dict[str, int]
    errors: list[RowError]
    warnings: list[str]
    encodings: dict[str, str]
    dry_run: bool
    written: dict[str, int] | None = None
    rejects: list[str] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return sum(self.read.values()) - sum(self.valid.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "read": self.read,
            "valid": self.valid,
            "rejected_rows": self.rejected_rows,
            "errors": [str(e) for e in self.errors],
            "warnings": self.warnings,
            "encodings": self.encodings,
            "dry_run": self.dry_run,
            "written": self.written,
            "rejects": self.rejects,
        }


def decode(data: bytes, label: str, encoding: str | None = None) -> tuple[str, str]:
    """Text of a file and the encoding used: ``encoding`` if given, else UTF-8 (with or
    without BOM), else GB18030 (a superset of GBK, for Chinese files saved by Excel)."""
    for candidate in (encoding,) if encoding else AUTO_ENCODINGS:
        try:
            text = data.decode(candidate)
        except LookupError:
            raise FileFormatError(f"{label}: unknown encoding {candidate!r}") from None
        except UnicodeDecodeError as exc:
            if encoding:
                raise FileFormatError(
                    f"{label}: cannot be decoded as {encoding} (byte {exc.start})"
                ) from None
            continue
        if candidate == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            candidate = "utf-8"
        return text.lstrip("\ufeff"), candidate
    raise FileFormatError(
        f"{label}: neither UTF-8 nor GB18030 text; give the encoding with --encoding"
    )


def _entity_from_name(name: str) -> Entity | None:
    stem = name.lower()
    for token in [stem, *re.split(r"[^a-z]+", stem)[::-1]]:
        try:
            return entity_for(token)
        except ValueError:
            continue
    return None


def _choose_entity(path: Path, entity: str | Entity | None) -> Entity:
    if isinstance(entity, Entity):
        return entity
    if entity:
        try:
            return entity_for(entity)
        except ValueError as exc:
            raise FileFormatError(str(exc)) from None
    found = _entity_from_name(path.stem)
    if found is None:
        raise FileFormatError(
            f"{path.name}: cannot tell what the file holds; name it after the entity "
            f"({', '.join(ENTITIES)}) or give --entity"
        )
    return found


def _header(cells: Iterable[Any], label: str) -> list[str]:
    names = [("" if c is None else str(c)).strip().lstrip("\ufeff").strip().lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise FileFormatError(f"{label}: no header row")
    for i, name in enumerate(names, start=1):
        if not name:
            raise FileFormatError(f"{label}: header cell {i} is empty")
        if names.index(name) != i - 1:
            raise FileFormatError(f"{label}: column {name!r} appears twice in the header")
    return names


def _table(
    entity: Entity, label: str, header: list[str], records, *, encoding=None, exact_width=False
) -> RawTable:
    """Rows from ``(row_number, cells)`` pairs; blank rows are skipped. With ``exact_width``
    (CSV) a row with fewer values than the header is a problem too: its values have shifted."""
    table = RawTable(entity, label, [], [], header=header, encoding=encoding)
    for number, cells in records:
        cells = list(cells)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if len(cells) > len(header) and any(c not in (None, "") for c in cells[len(header) :]):
            table.row_problems[len(table.rows)] = (
                f"has {len(cells)} values but the header has {len(header)} columns"
            )
        elif len(cells) < len(header) and exact_width:
            table.row_problems[len(table.rows)] = (
                f"has {len(cells)} values but the header has {len(header)} columns"
            )
        table.rows.append(dict(zip(header, cells, strict=False)))
        table.row_numbers.append(number)
    return table


def read_csv(path: Path, *, entity: str | Entity | None = None, encoding: str | None = None) -> RawTable:
    """One CSV table; the delimiter (comma, semicolon or tab) is taken from the header line."""
    chosen = _choose_entity(path, entity)
    text, used = decode(path.read_bytes(), path.name, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = _header(next(reader, []), path.name)
        records = []
        line = reader.line_num
        for cells in reader:
            records.append((line + 1, cells))
            line = reader.line_num
    except csv.Error as exc:
        raise FileFormatError(
            f"{path.name}: malformed CSV near line {reader.line_num} ({exc})"
        ) from None
    return _table(chosen, path.name, header, records, encoding=used, exact_width=True)


def read_xlsx(path: Path, *, entity: str | Entity | None = None) -> list[RawTable]:
    """The entity sheets of a workbook (sheets named after an entity; others are ignored)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"{path.name}: cannot be read as an XLSX workbook ({exc})") from None
    try:
        wanted = _choose_entity(path, entity) if entity else None
        sheets = []
        for sheet in book.worksheets:
            try:
                found = entity_for(sheet.title)  # documentation sheets have other names
            except ValueError:
                continue
            if wanted is None or found is wanted:
                sheets.append((found, sheet))
        fallback = wanted or _entity_from_name(path.stem)
        if not sheets and fallback is not None and book.worksheets:
            sheets = [(fallback, book.worksheets[0])]  # e.g. orgs.xlsx with one "Sheet1"
        if not sheets:
            names = ", ".join(repr(ws.title) for ws in book.worksheets)
            raise FileFormatError(
                f"{path.name}: no sheet named after an entity ({', '.join(ENTITIES)}); "
                f"sheets: {names}"
            )
        tables = []
        for found, sheet in sheets:
            label = f"{path.name}[{sheet.title}]"
            rows = sheet.iter_rows(values_only=True)
            header = _header(next(rows, ()), label)
            numbered = ((i, cells) for i, cells in enumerate(rows, start=2))
            tables.append(_table(found, label, header, numbered))
        return tables
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileFormatError(f"{path.name}: damaged XLSX workbook ({exc})") from None
    finally:
        book.close()


def read_json(
    path: Path, *, entity: str | Entity | None = None, encoding: str | None = None
) -> list[RawTable]:
    """A JSON list of records (one entity) or an object with a list per entity."""
    text, used = decode(path.read_bytes(), path.name, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if isinstance(data, list):
        groups = [(_choose_entity(path, entity), path.name, data)]
    elif isinstance(data, dict):
        wanted = _choose_entity(path, entity) if entity else None
        groups = []
        for key, records in data.items():
            if key.startswith("_"):
                continue
            try:
                found = entity_for(key)
            except ValueError:
                raise FileFormatError(
                    f"{path.name}: unknown key {key!r}; expected entity names ({', '.join(ENTITIES)})"
                ) from None
            if not isinstance(records, list):
                raise FileFormatError(f"{path.name}: {key!r} must hold a list of records")
            if wanted is None or found is wanted:
                groups.append((found, f"{path.name}[{key}]", records))
    else:
        raise FileFormatError(f"{path.name}: expected a list of records or an object of lists")
    tables = []
    for found, label, records in groups:
        header: list[str] = []
        for record in records:
            for key in record if isinstance(record, dict) else ():
                if key not in header:
                    header.append(key)
        table = RawTable(found, label, [], [], header=header, encoding=used)
        for i, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                table.row_problems[len(table.rows)] = "expected an object of column: value"
                record = {}
            table.rows.append({str(k).strip().lower(): v for k, v in record.items()})
            table.row_numbers.append(i)
        tables.append(table)
    return tables


def read_tables(
    path: str | Path, *, entity: str | None = None, encoding: str | None = None
) -> list[RawTable]:
    """Every table in a file, or in a folder's files named after entities (an export)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
                       and not p.name.endswith(".rejects.csv") and _entity_from_name(p.stem))  # fmt: skip
        if not files:
            raise FileFormatError(f"{path}: no .csv, .xlsx or .json files named after an entity")
        return [t for f in files for t in read_tables(f, entity=entity, encoding=encoding)]
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv(path, entity=entity, encoding=encoding)]
    if suffix == ".xlsx":
        return read_xlsx(path, entity=entity)
    if suffix == ".json":
        return read_json(path, entity=entity, encoding=encoding)
    raise FileFormatError(f"{path.name}: unknown file type; expected {', '.join(SUFFIXES)}")


def registry_keys(engine: Engine | None) -> dict[str, set[str]]:
    """External ids already in the registry, per entity that others reference."""
    from innoweave.registry.db import is_initialised
    from innoweave.registry.models import Organisation, Project

    if engine is None or not is_initialised(engine):
        return {"orgs": set(), "projects": set()}
    with engine.connect() as conn:
        return {
            "orgs": set(conn.scalars(select(Organisation.external_id))),
            "projects": set(conn.scalars(select(Project.external_id))),
        }


@dataclass
class _Checked:
    table: RawTable
    records: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, list[RowError]]] = field(default_factory=list)


def _check_table(table: RawTable, known: dict[str, set[str]], warnings: list[str]) -> _Checked:
    entity = table.entity
    checked = _Checked(table)
    missing = [c for c in entity.required if c not in table.header]
    if missing and table.rows:
        raise FileFormatError(
            f"{table.label}: missing required column(s) {', '.join(missing)} "
            f"(required for {entity.name}: {', '.join(entity.required)})"
        )
    unknown = [c for c in table.header if c not in entity.column_names and not c.startswith("_")]
    if unknown:
        warnings.append(f"{table.label}: ignored unknown column(s) {', '.join(unknown)}")
    source = f"file:{table.label}"[:64]
    first_row: dict[str, int] = {}
    for index, (raw, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        errors = []
        if index in table.row_problems:
            errors.append(RowError(table.label, number, None, table.row_problems[index]))
        clean, problems = validate_row(entity, raw)
        errors += [RowError(table.label, number, col, msg) for col, msg in problems]
        key = clean.get(entity.key)
        if key is not None:  # invalid rows count too: a duplicate is reported either way
            if key in first_row:
                errors.append(RowError(table.label, number, entity.key,
                                       f"duplicate {entity.key} {key!r} (first at row {first_row[key]})"))  # fmt: skip
            else:
                first_row[key] = number
        for column, target in entity.references.items():
            value = clean.get(column)
            if value is not None and value not in known[target]:
                errors.append(RowError(
                    table.label, number, column,
                    f"{value!r} is neither in the registry nor a valid row of this import's {target}",
                ))  # fmt: skip
        if errors:
            checked.rejected.append((index, errors))
            continue
        if clean["source"] is None:  # this file is the source; else keep the given provenance
            clean["source"], clean["source_row"] = source, clean["source_row"] or number
        checked.records.append(clean)
    if entity.name in known:
        known[entity.name].update(r[entity.key] for r in checked.records)
    return checked


def _frames(checked: list[_Checked]) -> RegistryFrames:
    by_frame: dict[str, list[dict]] = {}
    for c in checked:
        by_frame.setdefault(c.table.entity.frame, []).extend(c.records)
    for frame, records in by_frame.items():
        keys = [r[ENTITIES[_entity_of_frame(frame)].key] for r in records]
        if len(set(keys)) != len(keys):
            raise FileFormatError(
                f"{frame}: the same key appears in two files of this import; import them separately"
            )
    # object columns keep Python ints and dates as validated (no float coercion of gaps)
    return RegistryFrames(**{f: pd.DataFrame(r, dtype=object) for f, r in by_frame.items() if r})


def _entity_of_frame(frame: str) -> str:
    return next(e.name for e in ENTITIES.values() if e.frame == frame)


def _reject_cell(value: Any) -> Any:
    """A raw cell as CSV text that reads back the same (JSON for lists and objects)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _write_rejects(c: _Checked, folder: Path) -> Path:
    table = c.table
    file_name, _, sheet = table.label.partition("[")  # book.xlsx[orgs] -> book.orgs
    stem = Path(file_name).stem + (f".{sheet.rstrip(']')}" if sheet else "")
    path = folder / (re.sub(r"[^\w.-]+", "_", stem) + ".rejects.csv")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*table.header, "_row", "_errors"])
        for index, errors in c.rejected:
            raw = table.rows[index]
            reasons = "; ".join(f"{e.column or 'row'}: {e.message}" for e in errors)
            writer.writerow([*(_reject_cell(raw.get(h)) for h in table.header),
                             table.row_numbers[index], reasons])  # fmt: skip
    return path


def import_files(
    paths: Iterable[str | Path],
    *,
    engine: Engine | None,
    entity: str | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    rejects_dir: str | Path = ".",
) -> ImportResult:
    """Validate the tables in ``paths`` and, unless told otherwise, write them in one transaction.

    Nothing is written when a row is invalid, unless ``skip_invalid``: then the invalid rows
    go to ``<file>[.<sheet>].rejects.csv`` files in ``rejects_dir`` (original cells plus ``_row`` and
    ``_errors``) and the rest is written. ``dry_run`` validates and writes nothing at all.
    Unreadable files raise :class:`FileFormatError`.
    """
    tables = [t for p in paths for t in read_tables(p, entity=entity, encoding=encoding)]
    order = list(ENTITIES)
    tables.sort(key=lambda t: order.index(t.entity.name))
    known = registry_keys(engine)
    warnings: list[str] = []
    checked = [_check_table(t, known, warnings) for t in tables]
    errors = [e for c in checked for _, errs in c.rejected for e in errs]
    result = ImportResult(
        files=[t.label for t in tables],
        read=_count(tables, lambda t: len(t.rows)),
        valid=_count(checked, lambda c: len(c.records), key=lambda c: c.table),
        errors=errors,
        warnings=warnings,
        encodings={t.label: t.encoding for t in tables if t.encoding},
        dry_run=dry_run,
    )
    if (errors and not skip_invalid) or dry_run:
        return result
    frames = _frames(checked)
    if skip_invalid:
        folder = Path(rejects_dir)
        folder.mkdir(parents=True, exist_ok=True)
        result.rejects = [str(_write_rejects(c, folder)) for c in checked if c.rejected]
    from innoweave.registry.db import upgrade
    from innoweave.registry.writer import write_frames

    if engine is None:
        raise ValueError("an engine is needed to write (or pass dry_run=True)")
    upgrade(engine)
    written = write_frames(engine, frames)
    result.written = {k: v for k, v in written.items() if v}
    return result


def _count(items, size, key=lambda t: t) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name = key(item).entity.name
        out[name] = out.get(name, 0) + size(item)
    return out
