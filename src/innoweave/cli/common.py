"""Output conventions shared by every command: JSON to stdout, people's output to stderr."""

from __future__ import annotations

import errno
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _default(obj: Any):
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def strict_json(data: Any) -> Any:
    """``data`` with every non-finite float (NaN, ±inf, NumPy's too) replaced by None, so the
    JSON is valid for strict parsers (``jq``, JavaScript) where a value is unknown."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: strict_json(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [strict_json(value) for value in data]
    if hasattr(data, "dtype") and getattr(data, "ndim", None) == 0:
        return strict_json(data.item())
    return data


def json_text(data: Any) -> str:
    """``data`` as strict JSON text: numpy scalars and dates converted, unknown numbers (NaN,
    ±inf) as ``null``. Used for stdout and for the JSON files commands write."""
    return json.dumps(strict_json(data), default=_default, indent=2, ensure_ascii=False,
                      allow_nan=False)


def print_json(data: Any) -> None:
    """Write ``data`` as strict JSON on stdout (see :func:`json_text`)."""
    sys.stdout.write(json_text(data) + "\n")
    sys.stdout.flush()


def seed_option(help: str = "Seed of every random draw (same seed, same result).") -> Any:
    """The ``--seed`` option of every command: a whole number >= 0, checked by the parser, so
    a negative seed is refused (exit 2) before any work — as the Python API refuses it."""
    return typer.Option("--seed", min=0, help=f"{help} A whole number >= 0.")


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine output on stdout.")]
UrlOpt = Annotated[
    str | None, typer.Option("--database-url", help="Registry database (overrides INNOWEAVE_DATABASE_URL).")
]
CordisOpt = Annotated[
    Path | None, typer.Option("--cordis", help="Read the registry from this CORDIS folder instead of the database.")
]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def unknown_organisation(ref: str, named: Sequence[str] = ()) -> typer.Exit:
    """The error for an organisation reference that names none (``named`` empty) or several
    organisations of the same name (``named``: their external ids); the Exit to raise."""
    if len(named) > 1:
        listed = ", ".join(named[:5]) + (", …" if len(named) > 5 else "")
        return fail(f"{len(named)} organisations are named {ref!r} ({listed}): give the external id")
    return fail(f"unknown organisation {ref!r}: give an id, an external id, a CORDIS PIC or an exact "
                "name (`innoweave orgs search TEXT` finds one)")  # fmt: skip


def comma_list(text: str) -> list[str]:
    """A comma-separated option's items, stripped, empty ones left out."""
    return [item.strip() for item in text.split(",") if item.strip()]


def note(message: str, label: str = "note") -> None:
    """One line on stderr, ``note: message`` (or ``warning: ...``), shown as written."""
    err.print(f"[yellow]{label}:[/] {escape(str(message))}", highlight=False, soft_wrap=True)


def warn(message: str) -> None:
    """One line on stderr, ``warning: message``."""
    note(message, "warning")


@contextmanager
def progress_bar(quiet: bool = False):
    """A Rich progress bar on stderr (disabled with ``quiet``)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
        transient=False,
    ) as progress:
        yield progress


#: Table files a command writes (``--out``), by suffix.
TABLE_SUFFIXES = (".csv", ".xlsx")


def check_out_file(path: Path | None, option: str = "--out") -> None:
    """Stop (exit 2) unless a file can be written at ``path`` (None: nothing to check).

    Called before any work, so a long run is not lost to a bad path: the folder is made as
    needed, and a folder at ``path`` or a folder that cannot be written is refused."""
    if path is None:
        return
    if path.is_dir():
        raise fail(f"{option} {str(path)!r} is a folder, not a file")
    check_out_dir(path.parent, option, what=f"the folder of {str(path)!r}")


def check_out_dir(path: Path | None, option: str = "--out", *, what: str | None = None) -> None:
    """Stop (exit 2) unless ``path`` is a writable folder, made here where it is missing."""
    if path is None:
        return
    what = what or repr(str(path))
    if path.exists() and not path.is_dir():
        raise fail(f"{option}: {what} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"{option}: cannot create {what}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise fail(f"{option}: cannot write in {what}")
    try:  # a trial file: permissions alone do not tell (e.g. /proc, a read-only mount, as root)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:  # e.g. /proc answers "No such file or directory" for a folder it has
        reason = "no file can be created there" if exc.errno == errno.ENOENT else (exc.strerror or exc)
        raise fail(f"{option}: cannot write in {what}: {reason}") from None


def table_suffix(path: Path) -> str:
    """``path``'s table suffix, in lower case (``PLAN.CSV`` is a CSV file)."""
    return path.suffix.lower()


def check_table_path(path: Path | None, option: str = "--out") -> None:
    """Stop (exit 2) unless ``path`` is None or a writable file with a table suffix: before
    any work."""
    if path is None:
        return
    if table_suffix(path) not in TABLE_SUFFIXES:
        raise fail(f"{option} must end in .csv or .xlsx, got {path.name!r}")
    check_out_file(path, option)


def table_cell(value: Any) -> Any:
    """A cell as a spreadsheet reads it: lists, tuples, sets and 1-d arrays joined with "; ",
    mappings as "key: value; key: value"; anything else unchanged."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {table_cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)) or (
        hasattr(value, "ndim") and hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1
    ):
        items = value.tolist() if hasattr(value, "tolist") else value
        return "; ".join(str(table_cell(v)) for v in items)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def table_text(table):
    """A copy of ``table`` with container cells (lists, arrays, mappings) rendered as text
    (:func:`table_cell` on every cell of the object columns; other cells are unchanged)."""
    table = table.copy()
    for column in table.columns:
        if table[column].dtype == object:
            table[column] = table[column].map(table_cell)
    return table


def table_job(table, path: Path, *, sheet: str | None = None, index: bool = False):
    """``(path, write)`` for :func:`innoweave.writing.write_all`: ``write(target)`` writes
    ``table`` as CSV or Excel by ``path``'s suffix (not the target's), as :func:`write_table`
    describes. Commands that write several tables pass all their jobs to one ``write_all``,
    so that a failure leaves none of them half-written."""
    table = table_text(table)
    if index:
        table = table.reset_index()
    if table_suffix(path) == ".xlsx":
        name = (sheet or path.stem).translate(_SHEET_BAD).strip("'")[:31] or "Sheet1"
        return path, lambda target: _write_xlsx(table, target, name)
    return path, lambda target: table.to_csv(target, index=False)


def write_table(table, path: Path, *, sheet: str | None = None, index: bool = False) -> None:
    """Write a DataFrame as CSV or Excel by ``path``'s suffix (folders made as needed).

    List (and array) cells are joined with "; " and mapping cells written as
    "key: value; key: value", so they read as text in a spreadsheet. An ``.xlsx`` gets one
    sheet named ``sheet`` (default: the file's stem; at most 31 characters), a frozen header
    row, column widths fitted to the content (10-50 characters) and the number format
    "0.00" on float columns (stored values unchanged); texts stay texts (a name starting
    with "=" is not a formula) and control characters are written as ``_xHHHH_`` escapes,
    which Excel shows as the characters (openpyxl refuses them otherwise). The file is
    written under a temporary name and renamed when complete: a failure leaves no
    half-written file, and an earlier file of that name as it was.
    """
    from innoweave.writing import write_all

    path.parent.mkdir(parents=True, exist_ok=True)
    write_all([table_job(table, path, sheet=sheet, index=index)])


_SHEET_BAD = str.maketrans({c: "_" for c in "[]:*?/\\"})


def _write_xlsx(table, path: Path, name: str) -> None:
    import pandas as pd
    from openpyxl.utils import get_column_letter

    from innoweave.registry.export import escape_ooxml

    table = table.copy()
    texts = [c for c in table.columns
             if table[c].dtype == object or pd.api.types.is_string_dtype(table[c].dtype)]
    for column in texts:
        table[column] = table[column].map(lambda v: escape_ooxml(v) if isinstance(v, str) else v)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=name, index=False)
        ws = writer.sheets[name]
        ws.freeze_panes = "A2"
        for i, column in enumerate(table.columns, start=1):
            values = table[column]
            is_float = pd.api.types.is_float_dtype(values)
            shown = values.map((lambda v: f"{v:.2f}") if is_float else str)
            longest = max([len(str(column))] + [len(t) for t in shown.head(1000)])
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = min(50, max(10, longest + 2))
            if is_float:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "0.00"
            elif column in texts:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    if cell.data_type == "f":  # openpyxl takes a text starting with "=" for a formula
                        cell.data_type = "s"
