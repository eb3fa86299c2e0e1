"""Reading the small CSV files of ``innoweave match``: every problem named by file and line.

The generic evaluation files (participations, organisations, projects) and the files of
``match assign`` (candidates, forced pairs, conflicts) are read here. Cells are text,
trimmed of surrounding spaces (``"s0 "`` is ``"s0"``), an empty cell is missing; the frame's
index is the line of the file each row came from (the header is line 1), so every later
check can say where a bad value is. Dates are parsed by an explicit format decided per
column — ``YYYY-MM-DD`` (ISO; a time after it is ignored), ``YYYY/MM/DD`` (year first, as
Excel writes dates in Chinese and Japanese locales) or ``DD.MM.YYYY`` (German) — and never
guessed value by value: a column that mixes them, or a date written another way
(``01/02/2021`` could be either day or month first), is an error naming the line.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


class InputFileError(ValueError):
    """A file or option that cannot be used; the message names the file, line or option."""


#: Date formats of the generic files and of ``--train-end``, by name.
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
#: year first with slashes, as Excel writes dates in Chinese and Japanese locales (2021/3/1)
_YEAR_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})" + _TIME + "$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
DATE_FORMATS = {"YYYY-MM-DD": _ISO, "YYYY/MM/DD": _YEAR_SLASH, "DD.MM.YYYY": _GERMAN}
#: The accepted forms, as messages list them.
ACCEPTED_DATES = "YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY"
_DATE_HINT = "write dates as YYYY-MM-DD (or YYYY/MM/DD or DD.MM.YYYY, one format per column)"


def _ymd(fmt: str, match: re.Match) -> tuple[int, int, int]:
    a, b, c = (int(x) for x in match.groups()[:3])
    return (c, b, a) if fmt == "DD.MM.YYYY" else (a, b, c)


def _date_format(value: str) -> tuple[str, re.Match] | None:
    for name, pattern in DATE_FORMATS.items():
        m = pattern.match(value)
        if m:
            return name, m
    return None


def parse_date_option(value: str | None, option: str) -> pd.Timestamp | None:
    """``value`` of a date option (``--train-end``) as a Timestamp: ``YYYY-MM-DD``,
    ``YYYY/MM/DD`` or ``DD.MM.YYYY``; anything else stops with a message naming the option."""
    if value is None:
        return None
    text = str(value).strip()
    found = _date_format(text)
    why = ""
    if found is not None:
        try:
            return pd.Timestamp(*_ymd(*found))
        except ValueError:
            why = " (no such day)"
    elif re.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$", text):
        why = " (ambiguous: day or month first?)"
    raise InputFileError(f"{option}: cannot parse {value!r} as a date{why}; use {ACCEPTED_DATES}, e.g. 2021-01-01")


def parse_dates(values: pd.Series, path: Path | str, column: str, *, allow_empty: bool = False) -> pd.Series:
    """Dates of a column read by :func:`read_csv_lines` (index = file lines).

    The format is decided for the whole column by its values: all ``YYYY-MM-DD``, all
    ``YYYY/MM/DD`` or all ``DD.MM.YYYY``. A value in none of them (``13 Jan 2016``,
    ``01/02/2021``), a day that does not exist (``31.02.2021``, ``2016/13/01``) or a column mixing the formats stops with the file, the
    line and the value; so does an empty cell, unless ``allow_empty`` (then it is ``NaT``:
    the date is unknown)."""
    formats: dict[str, int] = {}
    parts = np.ones((len(values), 3), dtype=np.int64)
    empty = np.zeros(len(values), dtype=bool)
    for i, (line, value) in enumerate(values.items()):
        if not isinstance(value, str) or not value:
            if allow_empty:
                empty[i] = True
                continue
            raise InputFileError(f"{path}, line {line}: empty date in column {column!r}; {_DATE_HINT}")
        found = _date_format(value)
        if found is None:
            why = ("is ambiguous (day or month first?)" if re.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$", value)
                   else "is not a date in a known format")  # fmt: skip
            raise InputFileError(f"{path}, line {line}: {column} {value!r} {why}; {_DATE_HINT}")
        fmt, m = found
        if formats and fmt not in formats:
            (other, other_line), = formats.items()
            raise InputFileError(
                f"{path}, line {line}: {column} {value!r} is {fmt} but line {other_line} is {other} "
                f"({values[other_line]!r}); use one date format per column")
        formats.setdefault(fmt, line)
        parts[i] = _ymd(fmt, m)
    dates = pd.to_datetime(pd.DataFrame(parts, columns=["year", "month", "day"]), errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy() & ~empty)
    dates[empty] = pd.NaT
    if len(bad):
        line = values.index[bad[0]]
        raise InputFileError(f"{path}, line {line}: {column} {values.iloc[bad[0]]!r} is not a valid date")
    return pd.Series(dates.to_numpy(), index=values.index, name=column)


def _workbook_frame(path: Path) -> tuple[pd.DataFrame, str]:
    """The first sheet of the workbook ``path`` as text cells (header from its first row)
    and that header as a line of text; dates as ``YYYY-MM-DD``, whole numbers without
    ``.0``, OOXML escapes (``_x000D_``) undone."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    from innoweave.registry.files import unescape_ooxml

    def text(value) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return unescape_ooxml(str(value))

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot be read as an XLSX workbook ({exc}); save it again as .xlsx, "
                             "or as CSV UTF-8") from None  # fmt: skip
    try:
        rows = [[text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputFileError(f"{path}: damaged XLSX workbook ({exc})") from None
    finally:
        book.close()
    while rows and all(v is None or not v.strip() for v in rows[-1]):
        rows.pop()
    if not rows:
        return pd.DataFrame(), ""
    width = max(len(r) for r in rows)
    header = [h.strip() if h is not None and h.strip() else f"Unnamed: {i}"
              for i, h in enumerate(rows[0] + [None] * (width - len(rows[0])))]  # fmt: skip
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputFileError(f"{path}: column(s) {', '.join(map(repr, twice))} appear more than once in the "
                             "header row; name each column once")  # fmt: skip
    body = [r + [None] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object), ",".join(header)


def read_csv_lines(path: Path | str, what: str, required: Sequence[str], *, option: str | None = None) -> pd.DataFrame:
    """The CSV file (or ``.xlsx`` workbook, its first sheet) ``path`` as text cells, indexed
    by file line or sheet row (the header is line 1).

    Column names and cells are trimmed, column names are read in any case (``Query`` is
    ``query``), empty cells are missing (NaN), blank lines are skipped. Stops
    (:class:`InputFileError`) where the file is missing, empty, not UTF-8 (a byte-order
    mark is fine), not CSV (or not a workbook), or lacks a ``required`` column (a header
    that looks separated by semicolons or tabs is said to be so). ``what`` names the file in
    messages ("candidates"); ``option`` is the option that gave it."""
    path = Path(path)
    label = f"{option} " if option else ""
    if not path.exists():
        raise InputFileError(f"{label}{what} file {path} does not exist")
    if not path.is_file():
        raise InputFileError(f"{label}{what} file {path} is not a file")
    need = ", ".join(required)
    if path.suffix.lower() == ".xlsx":
        df, header = _workbook_frame(path)
        if not header:
            raise InputFileError(f"{path} is empty: its first sheet needs a header row with the columns {need}")
    else:
        df, header = _csv_frame(path, what, need)
    df.columns = _header(df.columns)
    missing = [c for c in required if c not in df.columns]
    if missing:
        separator = next((name for sep, name in ((";", "';'"), ("\t", "tabs")) if sep in header), None)
        hint = (f"; the file looks separated by {separator}: save it comma-separated"
                if separator and "," not in header else "")
        raise InputFileError(f"{path}: missing column(s) {', '.join(missing)} (need {need}; has: "
                             f"{', '.join(df.columns)}){hint}")  # fmt: skip
    df.index = np.arange(2, len(df) + 2)
    for column in df.columns:
        cells = df[column]
        df[column] = cells.str.strip().replace("", np.nan) if cells.notna().any() else cells
    return df[df.notna().any(axis=1)] if len(df.columns) else df


def _header(columns) -> list[str]:
    """Column names trimmed and, where no other column has the same name in another case,
    in lower case: the columns of these files are lower-case names (``query``,
    ``org_id``…), and a header written ``Query,Partner,Score`` (as a spreadsheet would) was
    refused as missing every column."""
    names = [str(c).strip() for c in columns]
    folded = [n.casefold() for n in names]
    return [f if folded.count(f) == 1 else n for n, f in zip(names, folded, strict=True)]


def _csv_frame(path: Path, what: str, need: str) -> tuple[pd.DataFrame, str]:
    """A UTF-8 CSV file as text cells, and its header line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{what} file {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8')") from None
    if not text.strip():
        raise InputFileError(f"{path} is empty: it needs a header line with the columns {need}")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                         skip_blank_lines=False)  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{path}: cannot be read as CSV ({str(exc).strip()})") from None
    return df, text.splitlines()[0] if text.splitlines() else ""


def require_cells(df: pd.DataFrame, path: Path | str, columns: Sequence[str]) -> None:
    """Stop at the first empty cell of ``columns`` (an id that must be given), naming its line."""
    for column in columns:
        empty = df[column].isna().to_numpy()
        if empty.any():
            raise InputFileError(f"{path}, line {df.index[np.flatnonzero(empty)[0]]}: empty {column}")


def first_duplicate(df: pd.DataFrame, columns: Sequence[str]) -> tuple[int, int] | None:
    """Lines of the first row repeating an earlier one in ``columns`` and of that earlier one."""
    dup = df.duplicated(list(columns), keep=False)
    if not dup.any():
        return None
    later = df.duplicated(list(columns), keep="first")
    line = df.index[np.flatnonzero(later.to_numpy())[0]]
    key = tuple(df.loc[line, list(columns)])
    same = (df[list(columns)] == pd.Series(key, index=list(columns))).all(axis=1)
    return int(df.index[np.flatnonzero(same.to_numpy())[0]]), int(line)
