"""Writing registry tables to CSV, XLSX and JSON: the import templates and the full export.

Templates and exports share one layout, the columns of :mod:`.validation`, so an export is
itself a valid import (the round trip is tested) and a filled-in template is read by the
same code. CSV goes to one file per entity (a folder for several), XLSX to one workbook
with a sheet per entity plus a sheet documenting each entity's columns, JSON to one
object with a list of records per entity.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from innoweave.registry.frames import RegistryFrames, load_frames
from innoweave.registry.validation import (
    BOOLEAN,
    DATE,
    ENTITIES,
    INTEGER,
    LIST,
    NUMBER,
    OBJECT,
    Column,
    Entity,
)
from innoweave.writing import write_all

FORMATS = ("csv", "xlsx", "json")
XLSX_CELL_LIMIT = 32_767  # characters a spreadsheet cell holds
DOC_HEADER = ["column", "type", "required", "allowed values / rule", "description", "example"]


def _plain(value: Any) -> Any:
    """Python value of a frame cell; every kind of missing becomes None."""
    if isinstance(value, (list, dict, str)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if value is None or pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def entity_records(frames: RegistryFrames, entity: Entity) -> list[dict[str, Any]]:
    """The rows of ``entity`` in template column order, sorted by key for stable output."""
    df = getattr(frames, entity.frame)
    cols = entity.column_names
    present = [c for c in cols if c in df.columns]
    records = [
        {c: _plain(v) for c, v in zip(present, row, strict=True)}
        for row in df[present].itertuples(index=False, name=None)
    ]
    for record in records:
        for c in cols:
            record.setdefault(c, None)
    return sorted(records, key=lambda r: str(r[entity.key]))


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _list_text(items: list) -> str:
    """``a;b`` where that splits back to the same list, else a JSON array."""
    if all(isinstance(i, str) and i and i == i.strip() and ";" not in i for i in items) and not (
        items and items[0].startswith("[")
    ):
        return ";".join(items)
    return json.dumps(items, ensure_ascii=False)


def cell_text(column: Column, value: Any) -> str:
    """A value as a CSV cell that :func:`~innoweave.registry.validation.parse_cell` reads back."""
    if value is None:
        return ""
    if column.type == LIST:
        return _list_text(list(value))
    if column.type == OBJECT:
        return json.dumps(value, ensure_ascii=False) if value else ""
    if column.type == BOOLEAN:
        return "true" if value else "false"
    if column.type == DATE:
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if column.type == INTEGER:
        return str(int(value))
    if column.type == NUMBER:
        return _number_text(float(value))
    return str(value)


def _xlsx_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.type in (LIST, OBJECT):
        return escape_ooxml(cell_text(column, value)) or None
    if column.type == INTEGER:
        return int(value)
    if column.type == NUMBER:
        return float(value)
    if column.type in (BOOLEAN, DATE):
        return value
    return escape_ooxml(str(value))


_OOXML_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\r\x0e-\x1f]")


def escape_ooxml(text: str) -> str:
    """``text`` as a spreadsheet cell keeps it: carriage returns and other control characters
    as ``_xHHHH_`` (XML readers would turn CR LF into LF; openpyxl refuses the others), and a
    literal ``_xHHHH_`` with its underscore escaped, as Excel does. The import unescapes."""
    return _OOXML_ESCAPED.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _number_cell(cell, value: float) -> None:
    """Write every digit of ``value``: openpyxl formats numbers with 16 significant digits,
    which loses the last digit of some doubles (51.027902850000004 -> 51.02790285); the
    shortest repr that reads back exactly is written instead (still a number cell)."""
    if isinstance(value, float) and math.isfinite(value) and float(f"{value:.16g}") != value:
        cell._value = repr(value)  # openpyxl writes str values of numeric cells as they are


def _json_value(column: Column, value: Any) -> Any:
    if value is None:
        return [] if column.type == LIST else {} if column.type == OBJECT else None
    if column.type == DATE:
        return value.isoformat()
    if column.type == INTEGER:
        return int(value)
    if column.type == NUMBER:
        number = float(value)
        return None if math.isnan(number) else number
    return value


def write_csv(entity: Entity, records: Iterable[dict], path: Path) -> Path:
    """Write ``records`` of ``entity`` to the CSV file ``path`` (UTF-8, header row of the template
    columns, cells as the import reads them); returns ``path``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(entity.column_names)
        for r in records:
            writer.writerow([cell_text(c, r.get(c.name)) for c in entity.columns])
    return path


def documentation_rows(entity: Entity) -> list[list[str]]:
    """One row per column: type, required, allowed values or range, description, example."""
    return [
        [c.name, c.type, "yes" if c.required else "no", c.rule(), c.description,
         cell_text(c, c.example)]  # fmt: skip
        for c in entity.columns
    ]


def _xlsx_rows(tables: dict[Entity, list[dict]]) -> dict[Entity, list[list[Any]]]:
    """Cell values of every row, checked before a workbook is started: a text longer than a
    cell holds raises ValueError (openpyxl would silently cut it)."""
    prepared = {}
    for entity, records in tables.items():
        rows = []
        for n, r in enumerate(records, start=2):
            values = [_xlsx_value(c, r.get(c.name)) for c in entity.columns]
            for c, value in zip(entity.columns, values, strict=True):
                if isinstance(value, str) and len(value) > XLSX_CELL_LIMIT:
                    raise ValueError(
                        f"{entity.name}, row {n}, column {c.name}: a text of {len(value):,} "
                        f"characters does not fit in a spreadsheet cell ({XLSX_CELL_LIMIT:,} at "
                        "most); export as csv or json"
                    )
            rows.append(values)
        prepared[entity] = rows
    return prepared


def write_xlsx(tables: dict[Entity, list[dict]], path: Path) -> Path:
    """Write each entity's records to a sheet of the XLSX workbook ``path``, with a bold frozen
    header and a "(columns)" sheet documenting each column; returns ``path``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def header_row(sheet, names):
        row = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            row.append(cell)
        return row

    for entity, rows in _xlsx_rows(tables).items():
        sheet = book.create_sheet(entity.name)
        sheet.freeze_panes = "A2"
        sheet.append(header_row(sheet, entity.column_names))
        for n, values in enumerate(rows, start=2):
            row = []
            for c, value in zip(entity.columns, values, strict=True):
                try:
                    cell = WriteOnlyCell(sheet, value=value)
                except ValueError as exc:  # openpyxl refuses what it cannot store
                    raise ValueError(f"{entity.name}, row {n}, column {c.name}: {exc}") from None
                if isinstance(value, str):
                    cell.data_type = "s"  # a text starting with '=' stays text, not a formula
                elif c.type == DATE:
                    cell.number_format = "yyyy-mm-dd"
                elif c.type == NUMBER:
                    _number_cell(cell, value)
                row.append(cell)
            sheet.append(row)
    for entity in tables:
        docs = book.create_sheet(f"{entity.name} (columns)")
        docs.append(header_row(docs, DOC_HEADER))
        for row in documentation_rows(entity):
            docs.append(row)
    book.save(path)
    return path


def write_json(tables: dict[Entity, list[dict]], path: Path, *, documented: bool = False) -> Path:
    """Write the tables to one JSON file ``path``, an array of records per entity (with
    ``documented``, a ``_columns`` entry describing each column too); returns ``path``."""
    data: dict[str, Any] = {}
    if documented:
        data["_columns"] = {
            e.name: {row[0]: dict(zip(DOC_HEADER[1:], row[1:], strict=True))
                     for row in documentation_rows(e)}  # fmt: skip
            for e in tables
        }
    for entity, records in tables.items():
        data[entity.name] = [
            {c.name: _json_value(c, r.get(c.name)) for c in entity.columns} for r in records
        ]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def write_tables(
    tables: dict[Entity, list[dict]], path: str | Path, *, format: str, documented: bool = False
) -> list[Path]:
    """Write ``tables`` as ``format``; CSV with several tables writes a folder of files.

    Each file is written under a temporary name and renamed when every file is complete, so
    a failure leaves no half-written file (and an earlier file of the same name intact)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    path = Path(path)
    if format == "xlsx":
        jobs = [(path, lambda p: write_xlsx(tables, p))]
    elif format == "json":
        jobs = [(path, lambda p: write_json(tables, p, documented=documented))]
    elif len(tables) == 1 and path.suffix.lower() == ".csv":
        ((entity, records),) = tables.items()
        jobs = [(path, lambda p: write_csv(entity, records, p))]
    else:
        path.mkdir(parents=True, exist_ok=True)
        jobs = [(path / f"{e.name}.csv", lambda p, e=e, r=r: write_csv(e, r, p)) for e, r in tables.items()]
    return write_all(jobs)


def write_template(entities: Iterable[str], path: str | Path, *, format: str) -> list[Path]:
    """An import template: the header and one example row per entity (XLSX and JSON also
    document every column: type, required, allowed values)."""
    tables = {ENTITIES[name]: [ENTITIES[name].example()] for name in entities}
    return write_tables(tables, path, format=format, documented=True)


def export_frames(frames: RegistryFrames, path: str | Path, *, format: str) -> dict[str, int]:
    """Write every entity of ``frames``; returns the rows written per entity."""
    tables = {e: entity_records(frames, e) for e in ENTITIES.values()}
    write_tables(tables, path, format=format)
    return {e.name: len(rows) for e, rows in tables.items()}


def export_registry(engine: Engine, path: str | Path, *, format: str) -> dict[str, int]:
    """Export the whole registry in the template layout (an import of it restores it)."""
    return export_frames(load_frames(engine), path, format=format)
