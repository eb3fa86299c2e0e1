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
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.numbers import (
    ambiguous_separator,
    decimal_marks,
    number_text,
    parse_number,
    resolved_by_mark,
)
from innoweave.registry.validation import ENTITIES, Entity, entity_for, validate_row

SUFFIXES = (".csv", ".xlsx", ".json")


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
    #: Why the header may have been misread (a wrong encoding), added to a header error.
    header_hint: str | None = None


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
        """Rows read but rejected as invalid, over all entities."""
        return sum(self.read.values()) - sum(self.valid.values())

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data (errors as their messages) for JSON output and the CLI."""
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


def utf16_encoding(data: bytes) -> str | None:
    """The codec for ``data`` if it is UTF-16 (or UTF-32) text, else None.

    A byte-order mark decides (``"utf-32"``, ``"utf-16"``: what Excel's "Unicode text" and
    many Windows tools write); without one, UTF-16 is recognised by its zero bytes, which
    ASCII characters (digits, separators, line ends) leave in every other byte:
    ``"utf-16-le"`` or ``"utf-16-be"``. Text in any 8-bit encoding has no zero bytes.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd >= 0.25 * half and even * 10 <= odd:
        return "utf-16-le"
    if even >= 0.25 * half and odd * 10 <= even:
        return "utf-16-be"
    return None


def _detected(data: bytes) -> str | None:
    """The encoding :func:`decode` finds without being told one, or None if it refuses."""
    try:
        return decode(data, "", None)[1]
    except FileFormatError:
        return None


def decode(
    data: bytes, label: str, encoding: str | None = None, *, option: str = "--encoding"
) -> tuple[str, str]:
    """Text of a file and the encoding used.

    ``encoding`` if given, else UTF-16 or UTF-32 where :func:`utf16_encoding` recognises it
    (reported as the codec it names), else UTF-8 (with or without BOM), else GB18030 (a
    superset of GBK, for Chinese files saved by Excel) when the text unambiguously reads as
    Chinese (:func:`reads_as_chinese`). Anything else — a Western European file saved by
    Excel (cp1252, latin-1) above all — is refused with a message that shows how the first
    non-UTF-8 word reads in each encoding. A given encoding that cannot decode the file is
    refused naming the byte and line, and the encoding detected without it, if any.
    ``option`` is how messages name the option that gives the encoding (every reader of
    text tables shares this detection: the questionnaire answers, ``clusters lq --data``).
    """
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError:
            raise FileFormatError(f"{label}: unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            found = _detected(data)
            hint = f"; without {option} it reads as {found}" if found else ""
            raise FileFormatError(
                f"{label}: cannot be decoded as {encoding} (byte {exc.start}, line {line}){hint}"
            ) from None
        return text.lstrip("\ufeff"), encoding
    wide = utf16_encoding(data)
    if wide is not None:
        try:
            text = data.decode(wide)
        except UnicodeDecodeError:
            pass  # zero bytes but not UTF-16 after all: the checks below say what it is not
        else:
            return text.lstrip("\ufeff"), wide
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = exc.start + (3 if data.startswith(codecs.BOM_UTF8) else 0)
    else:
        return text.lstrip("\ufeff"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and reads_as_chinese(text):
        return text.lstrip("\ufeff"), "gb18030"
    raise FileFormatError(_not_utf8_message(data, label, first_bad, option))


#: Characters of Chinese text: CJK radicals, punctuation, kana, ideographs (with extension A
#: and the compatibility block), vertical and full-width forms, the supplementary planes.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_IN_WORD = re.compile(f"[A-Za-z][{_CJK}]+[A-Za-z]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
#: GB18030 is taken only when at least this share of the non-ASCII characters is in GB2312,
#: the common simplified set (misread cp1252 gives rare GBK characters: 'ü' + 'l' -> '黮').
COMMON_CHINESE_SHARE = 0.8


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def reads_as_chinese(text: str) -> bool:
    """Whether ``text`` (bytes that are not UTF-8, decoded as GB18030) is plainly Chinese.

    True when half or more of its non-ASCII characters are CJK, at least
    :data:`COMMON_CHINESE_SHARE` of them are in the common GB2312 set, and no CJK character
    sits inside a Latin word (letters on both sides, as in 'M黮ler': 'Müller' in cp1252).
    """
    counts = Counter(_NON_ASCII.findall(text))
    total = sum(counts.values())
    if not total:
        return False
    cjk = sum(n for c, n in counts.items() if _CJK_RE.match(c))
    common = sum(n for c, n in counts.items() if _in_gb2312(c))
    return (2 * cjk >= total and common >= COMMON_CHINESE_SHARE * total
            and not _CJK_IN_WORD.search(text))  # fmt: skip


def _word(text: str) -> str:
    """The word around the first non-ASCII character of ``text`` (at most 30 characters)."""
    match = _NON_ASCII.search(text)
    if match is None:
        return text[:30]
    start = end = match.start()
    while start > 0 and text[start - 1] not in ' ,;\t"' and match.start() - start < 15:
        start -= 1
    while end < len(text) and text[end] not in ' ,;\t"\r' and end - match.start() < 15:
        end += 1
    return text[start:end]


def _not_utf8_message(data: bytes, label: str, first_bad: int, option: str = "--encoding") -> str:
    line_no = data.count(b"\n", 0, first_bad) + 1
    begin = data.rfind(b"\n", 0, first_bad) + 1
    stop = data.find(b"\n", first_bad)
    line = data[begin : stop if stop >= 0 else len(data)]
    western = _word(line.decode("cp1252", errors="replace"))
    chinese = _word(line.decode("gb18030", errors="replace"))
    if b"\x00" in data:  # zero bytes: UTF-16 whose layout the detection did not recognise
        return (
            f"{label}: not UTF-8 text (line {line_no}); it holds zero bytes, as UTF-16 text "
            f"does: give {option} utf-16 (or utf-16-le / utf-16-be), or save the file as UTF-8"
        )
    return (
        f"{label}: not UTF-8 text (line {line_no}): '{western}' if read as Western European "
        f"(cp1252), '{chinese}' if read as Chinese (gb18030); give {option} cp1252 or "
        f"{option} gb18030 (or the file's encoding, e.g. {option} utf-16), or save the "
        "file as UTF-8"
    )


def _entity_from_name(name: str) -> Entity | None:
    stem = name.lower()
    for token in [stem, *re.split(r"[^a-z]+", stem)[::-1]]:
        try:
            return entity_for(token)
        except ValueError:
            continue
    return None


def _choose_entity(path: Path, entity: str | Entity | None, label: str | None = None) -> Entity:
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
            f"{label or path.name}: cannot tell what the file holds; name it after the entity "
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


_LINE_END = re.compile(r"\r\n?|\n")


def _line_at(text: str, pos: int) -> int:
    """The line (from 1) of character ``pos`` of ``text``, line ends counted as CSV does."""
    return len(_LINE_END.findall(text, 0, pos)) + 1


def unclosed_quote_line(text: str, delimiter: str = ",", quotechar: str = '"') -> int | None:
    """The line (from 1) on which a quoted field starts that is never closed, else None.

    ``text`` is read as CSV readers do: a field that begins with ``quotechar`` runs, across
    line ends, to the next single ``quotechar`` (a doubled one is a literal quote); a quote
    inside an unquoted field (``5" screen``) is an ordinary character.
    """
    boundary = re.compile(f"[{re.escape(delimiter)}\r\n]")
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] == quotechar:
            start, pos = pos, pos + 1
            while True:
                close = text.find(quotechar, pos)
                if close < 0:
                    return _line_at(text, start)
                if text.startswith(quotechar, close + 1):  # "" inside quotes: a literal quote
                    pos = close + 2
                    continue
                pos = close + 1
                break
        match = boundary.search(text, pos)  # the rest of the field; then the next one
        if match is None:
            return None
        pos = match.end()
    return None


def _csv_error(
    label: str, text: str, delimiter: str, exc: csv.Error, row_start: int, at: int
) -> str:
    """The message for a CSV the reader cannot parse: where an unterminated quoted field
    starts, else the line the reader stopped at (and where that row began, if earlier)."""
    quoted = unclosed_quote_line(text, delimiter)
    if quoted is not None and "end of data" in str(exc):
        ends = f", at line {at}" if at > quoted else ""
        return (
            f"{label}: malformed CSV at line {quoted}: a quoted field starts there and is never "
            f"closed (the file ends inside it{ends}); add the closing quote or remove the "
            "opening one"
        )
    began = f", in the row that starts on line {row_start}" if row_start < at else ""
    return f"{label}: malformed CSV near line {at}{began} ({exc})"


def _encoding_hint(
    data: bytes, used: str, given: str | None, entity: Entity, header: list[str]
) -> str | None:
    """Why a header that names none of the entity's columns may have been misread: read
    with the encoding detected, the file has a better header; or the header is not ASCII."""
    known = set(entity.column_names)
    if known & set(header) or used in ("utf-8", "utf-8-sig"):
        return None
    if given:
        found = _detected(data)
        if found and found != given:
            text, _ = decode(data, "", found)
            first = text.split("\n", 1)[0]
            names = [n.strip().lower() for n in re.split("[,;\t]", first)]
            if known & set(names):
                return (
                    f"the header looks misread as {given}; without --encoding the file reads "
                    f"as {found}, with the header {first.strip()[:80]!r}: leave out "
                    f"--encoding {given}"
                )
    if any(_NON_ASCII.search(name) for name in header):
        how = f"--encoding {given}" if given else f"the detected encoding {used}"
        return (
            f"no column of the header is known: read with {how} it is "
            f"{', '.join(header)[:60]!r}; check that the encoding is the file's"
        )
    return None


DELIMITERS = (",", ";", "\t")


def detect_delimiter(text: str) -> str:
    """The delimiter of CSV ``text``: whichever of comma, semicolon and tab its header line
    holds most of (comma where none); what every reader of text tables uses."""
    first_line = text.split("\n", 1)[0]
    return max(DELIMITERS, key=first_line.count)


def read_csv(
    path: Path, *, entity: str | Entity | None = None, encoding: str | None = None,
    label: str | None = None,
) -> RawTable:
    """One CSV table; the delimiter (comma, semicolon or tab) is taken from the header line.

    ``label`` names the file in messages (default: its name). A quoted field that is never
    closed is reported at the line where it starts."""
    label = label or path.name
    chosen = _choose_entity(path, entity, label)
    data = path.read_bytes()
    text, used = decode(data, label, encoding)
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    try:
        header = _header(next(reader, []), label)
        records = []
        line = reader.line_num
        for cells in reader:
            records.append((line + 1, cells))
            line = reader.line_num
    except csv.Error as exc:
        raise FileFormatError(
            _csv_error(label, text, delimiter, exc, line + 1, reader.line_num)
        ) from None
    table = _table(chosen, label, header, records, encoding=used, exact_width=True)
    table.header_hint = _encoding_hint(data, used, encoding, chosen, header)
    return table


def read_xlsx(
    path: Path, *, entity: str | Entity | None = None, label: str | None = None
) -> list[RawTable]:
    """The entity sheets of a workbook (sheets named after an entity; others are ignored).

    Texts are unescaped as OOXML prescribes (``_x000D_`` is a carriage return, ``_x005F_`` a
    literal underscore), which openpyxl leaves to its callers. (For Excel's shared strings
    openpyxl already drops ``x005F_``, so a literal ``_x000D_`` typed in Excel reads as a
    carriage return; the exports write inline strings and read back exactly.)"""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = label or path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileFormatError(f"{name}: cannot be read as an XLSX workbook ({exc})") from None
    try:
        wanted = _choose_entity(path, entity, name) if entity else None
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
                f"{name}: no sheet named after an entity ({', '.join(ENTITIES)}); "
                f"sheets: {names}; rename the sheet (e.g. to 'orgs'), or give --entity "
                "(entity= from Python) to read the first sheet as that entity"
            )
        tables = []
        for found, sheet in sheets:
            sheet_label = f"{name}[{sheet.title}]"
            rows = (_unescape_row(cells) for cells in sheet.iter_rows(values_only=True))
            header = _header(next(rows, ()), sheet_label)
            numbered = ((i, cells) for i, cells in enumerate(rows, start=2))
            tables.append(_table(found, sheet_label, header, numbered))
        return tables
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise FileFormatError(f"{name}: damaged XLSX workbook ({exc})") from None
    finally:
        book.close()


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    """``_xHHHH_`` escapes of a spreadsheet text replaced by their characters."""
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _unescape_row(cells: tuple) -> tuple:
    return tuple(unescape_ooxml(c) if isinstance(c, str) else c for c in cells)


def read_json(
    path: Path, *, entity: str | Entity | None = None, encoding: str | None = None,
    label: str | None = None,
) -> list[RawTable]:
    """A JSON list of records (one entity) or an object with a list per entity."""
    name = label or path.name
    text, used = decode(path.read_bytes(), name, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if isinstance(data, list):
        groups = [(_choose_entity(path, entity, name), name, data)]
    elif isinstance(data, dict):
        wanted = _choose_entity(path, entity, name) if entity else None
        groups = []
        for key, records in data.items():
            if key.startswith("_"):
                continue
            try:
                found = entity_for(key)
            except ValueError:
                raise FileFormatError(
                    f"{name}: unknown key {key!r}; expected entity names ({', '.join(ENTITIES)})"
                ) from None
            if not isinstance(records, list):
                raise FileFormatError(f"{name}: {key!r} must hold a list of records")
            if wanted is None or found is wanted:
                groups.append((found, f"{name}[{key}]", records))
    else:
        raise FileFormatError(f"{name}: expected a list of records or an object of lists")
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


def input_files(path: str | Path) -> list[Path]:
    """The files an import of ``path`` reads: the file itself, or a folder's files named
    after an entity (an export; reject files left out), each as ``path`` / name."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
                       and not p.name.endswith(".rejects.csv") and _entity_from_name(p.stem))  # fmt: skip
        if not files:
            raise FileFormatError(f"{path}: no .csv, .xlsx or .json files named after an entity")
        return files
    if not path.is_file():
        raise FileFormatError(f"{path}: no such file")
    return [path]


def read_file(
    path: Path, *, entity: str | None = None, encoding: str | None = None, label: str | None = None
) -> list[RawTable]:
    """The tables of one file; ``label`` names it in messages (default: its name)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [read_csv(path, entity=entity, encoding=encoding, label=label)]
    if suffix == ".xlsx":
        return read_xlsx(path, entity=entity, label=label)
    if suffix == ".json":
        return read_json(path, entity=entity, encoding=encoding, label=label)
    raise FileFormatError(f"{label or path.name}: unknown file type; expected {', '.join(SUFFIXES)}")


def file_labels(files: list[Path]) -> list[str]:
    """How messages name each file: its name, or the path as given where two files of one
    import share a name (``A/orgs.csv`` and ``B/orgs.csv``)."""
    names = Counter(f.name for f in files)
    return [f.name if names[f.name] == 1 else str(f) for f in files]


def read_tables(
    path: str | Path, *, entity: str | None = None, encoding: str | None = None
) -> list[RawTable]:
    """Every table in a file, or in a folder's files named after entities (an export)."""
    files = input_files(path)
    return [t for f, label in zip(files, file_labels(files), strict=True)
            for t in read_file(f, entity=entity, encoding=encoding, label=label)]  # fmt: skip


def registry_keys(engine: Engine | None) -> dict[str, set[str]]:
    """External ids already in the registry, per entity that others reference (a registry
    that does not exist yet is not created by asking)."""
    from innoweave.registry.db import is_initialised, registry_exists
    from innoweave.registry.models import Organisation, Project

    if engine is None or not registry_exists(engine) or not is_initialised(engine):
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
    #: The decimal mark of each number column that the table's cells show.
    marks: dict[str, str] = field(default_factory=dict)


def _note_thousands(table: RawTable, marks: dict, warnings: list[str]) -> None:
    """A warning for each column whose ``1.250``-like cells are read as thousands because
    the file's decimal mark is the other separator: how many, an example, and why."""
    for column, mark in marks.items():
        if mark is None:
            continue
        found = [(number, raw[column].strip()) for raw, number in zip(table.rows, table.row_numbers, strict=True)
                 if isinstance(raw.get(column), str) and ambiguous_separator(raw[column]) not in (None, mark.mark)]  # fmt: skip
        if found:
            row, value = found[0]
            warnings.append(
                f"{table.label}: column {column}: {len(found)} value(s) such as {value!r} (row {row}) "
                f"read as thousands ({value.replace('.', '').replace(',', '')}): the decimal mark is {mark}"
            )


def _file_name_label(label: str) -> str:
    """``label`` with any folders left out: ``A/book.xlsx[orgs]`` -> ``book.xlsx[orgs]``."""
    file_part, bracket, rest = label.partition("[")
    return Path(file_part).name + bracket + rest


Seen = dict[str, dict[str, tuple[str, int]]]


def _check_table(
    table: RawTable, known: dict[str, set[str]], warnings: list[str], seen: Seen | None = None
) -> _Checked:
    """Validate ``table``'s rows. ``seen`` holds each entity's keys met so far in this import
    (with file and row), so a key in two files is reported as well as one twice in a file.

    A header that lacks a required column stops the import even without rows (a JSON list
    without records has no header and is just empty)."""
    entity = table.entity
    checked = _Checked(table)
    missing = [c for c in entity.required if c not in table.header]
    if missing and (table.rows or table.header):  # a header without rows is checked too
        hint = f"; {table.header_hint}" if table.header_hint else ""
        raise FileFormatError(
            f"{table.label}: missing required column(s) {', '.join(missing)} "
            f"(required for {entity.name}: {', '.join(entity.required)}){hint}"
        )
    unknown = [c for c in table.header if c not in entity.column_names and not c.startswith("_")]
    if unknown:
        warnings.append(f"{table.label}: ignored unknown column(s) {', '.join(unknown)}")
    source = f"file:{_file_name_label(table.label)}"[:64]
    first_seen = (seen if seen is not None else {}).setdefault(entity.name, {})
    marks = decimal_marks(table.rows, [c.name for c in entity.columns if c.is_numeric],
                          table.row_numbers)  # fmt: skip
    checked.marks = {column: m.mark for column, m in marks.items() if m is not None}
    _note_thousands(table, marks, warnings)
    for index, (raw, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        errors = []
        if index in table.row_problems:
            errors.append(RowError(table.label, number, None, table.row_problems[index]))
        clean, problems = validate_row(entity, raw, checked.marks)
        errors += [RowError(table.label, number, col, msg) for col, msg in problems]
        try:
            origin = reject_origin(raw)
        except ValueError as exc:
            origin = None
            errors.append(RowError(table.label, number, "_source_row", str(exc)))
        key = clean.get(entity.key)
        if key is not None:  # invalid rows count too: a duplicate is reported either way
            if key in first_seen:
                label, row = first_seen[key]
                where = f"row {row}" if label == table.label else f"{label}, row {row}"
                errors.append(RowError(table.label, number, entity.key,
                                       f"duplicate {entity.key} {key!r} (first at {where})"))  # fmt: skip
            else:
                first_seen[key] = (table.label, number)
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
            if origin is None:
                clean["source"], clean["source_row"] = source, clean["source_row"] or number
            else:  # a reject file's row: the file and row it was first read from
                clean["source"] = f"file:{origin[0]}"[:64]
                clean["source_row"] = clean["source_row"] or origin[1]
        checked.records.append(clean)
    if entity.name in known:
        known[entity.name].update(r[entity.key] for r in checked.records)
    return checked


def _frames(checked: list[_Checked]) -> RegistryFrames:
    by_frame: dict[str, list[dict]] = {}
    origin: dict[tuple[str, str], str] = {}
    for c in checked:
        key_column = c.table.entity.key
        for record in c.records:  # _check_table rejects these already: a last safeguard
            first = origin.setdefault((c.table.entity.frame, record[key_column]), c.table.label)
            if first != c.table.label:
                raise FileFormatError(
                    f"{c.table.entity.name}: {key_column} {record[key_column]!r} is in both "
                    f"{first} and {c.table.label}; import them separately"
                )
        by_frame.setdefault(c.table.entity.frame, []).extend(c.records)
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


def _as_read(value: Any, mark: str | None) -> Any:
    """A number cell that only the file's decimal mark could read (``1.250`` as 1250 in a
    file of decimal commas) as the number read, so that the reject file, which has not the
    file's other rows, reads it the same; any other cell as it is."""
    if not resolved_by_mark(value, mark):
        return value
    return number_text(parse_number(value, mark=mark))


def _rejects_path(label: str, folder: Path, used: set[Path]) -> Path:
    """``<file>[.<sheet>].rejects.csv`` in ``folder``, from the table's label (a label that is
    a path, for files of the same name, gives ``A_orgs.rejects.csv``); never one already used
    by this import, so no file's rejects overwrite another's."""
    file_part, _, sheet = label.partition("[")  # book.xlsx[orgs] -> book.orgs
    file_path = Path(file_part)
    stem = str(file_path.with_suffix("")) if file_path.parent != Path(".") else file_path.stem
    stem += f".{sheet.rstrip(']')}" if sheet else ""
    base = re.sub(r"[^\w.-]+", "_", stem).strip("_.") or "rejects"
    path, n = folder / f"{base}.rejects.csv", 1
    while path in used:
        n += 1
        path = folder / f"{base}.{n}.rejects.csv"
    used.add(path)
    return path


#: The columns a reject file adds to the original cells: where the row was first read
#: (file and row, kept when a reject file is rejected again), its row in the file just
#: read, and the problems. Ignored as data; an import of a reject file takes
#: ``_source_file`` and ``_source_row`` as the provenance of rows without a ``source``.
REJECT_COLUMNS = ("_source_file", "_source_row", "_row", "_errors")


def reject_origin(raw: dict[str, Any]) -> tuple[str, int] | None:
    """The file and row a reject file's row was first read from (its ``_source_file`` and
    ``_source_row``), or None for a row of any other file. A ``_source_row`` that is not a
    row number raises ``ValueError`` saying so."""
    name = raw.get("_source_file")
    if not isinstance(name, str) or not name.strip():
        return None
    row = raw.get("_source_row")
    try:
        number = parse_number(row, count=True) if row not in (None, "") else None
    except ValueError:
        number = None
    if number is None or not number.is_integer() or number < 1:
        raise ValueError(f"expected the row of {name.strip()} the record was first read from "
                         f"(a whole number from 1), got {row!r}")  # fmt: skip
    return name.strip(), int(number)


def _write_rejects(c: _Checked, path: Path) -> Path:
    table = c.table
    header = [h for h in table.header if h not in REJECT_COLUMNS]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*header, *REJECT_COLUMNS])
        for index, errors in c.rejected:
            raw = table.rows[index]
            number = table.row_numbers[index]
            try:
                origin = reject_origin(raw) or (_file_name_label(table.label), number)
            except ValueError:  # a _source_row spoilt by hand: this file is all that is known
                origin = (_file_name_label(table.label), number)
            reasons = "; ".join(f"{e.column or 'row'}: {e.message}" for e in errors)
            writer.writerow([*(_reject_cell(_as_read(raw.get(h), c.marks.get(h))) for h in header),
                             *origin, number, reasons])  # fmt: skip
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
    go to ``<file>[.<sheet>].rejects.csv`` files in ``rejects_dir`` (original cells plus
    :data:`REJECT_COLUMNS`) and the rest is written; imported again, their rows keep the
    original file and row as their source. ``dry_run`` validates and writes nothing at all.
    Files are named in messages by their name, or by their path as given where two share a
    name. Unreadable files raise :class:`FileFormatError`.
    """
    if isinstance(paths, (str, Path)):  # one path, not its characters
        paths = [paths]
    files = [f for p in paths for f in input_files(p)]
    tables = [t for f, label in zip(files, file_labels(files), strict=True)
              for t in read_file(f, entity=entity, encoding=encoding, label=label)]  # fmt: skip
    order = list(ENTITIES)
    tables.sort(key=lambda t: order.index(t.entity.name))
    known = registry_keys(engine)
    warnings: list[str] = []
    seen: Seen = {}
    checked = [_check_table(t, known, warnings, seen) for t in tables]
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
        used: set[Path] = set()
        result.rejects = [str(_write_rejects(c, _rejects_path(c.table.label, folder, used)))
                          for c in checked if c.rejected]  # fmt: skip
    from innoweave.registry.db import upgrade
    from innoweave.registry.writer import write_frames

    if engine is None:
        raise ValueError("an engine is needed to write (or pass dry_run=True)")
    upgrade(engine)
    written = write_frames(engine, frames, rows_checked=True)
    result.written = {k: v for k, v in written.items() if v}
    return result


def _count(items, size, key=lambda t: t) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        name = key(item).entity.name
        out[name] = out.get(name, 0) + size(item)
    return out
