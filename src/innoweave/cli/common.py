"""Output conventions shared by every command: JSON to stdout, people's output to stderr."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
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


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (numpy scalars and dates converted)."""
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


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


def check_table_path(path: Path | None, option: str = "--out") -> None:
    """Stop (exit 2) unless ``path`` is None or ends in a table suffix: before any work."""
    if path is not None and path.suffix not in TABLE_SUFFIXES:
        raise fail(f"{option} must end in .csv or .xlsx, got {path.name!r}")


def write_table(table, path: Path) -> None:
    """Write a DataFrame as CSV or Excel by ``path``'s suffix (folders made as needed); list
    cells are joined with "; " so they read as text in a spreadsheet."""
    table = table.copy()
    for column in table.columns:
        if table[column].map(lambda v: isinstance(v, (list, tuple))).any():
            table[column] = table[column].map(
                lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".xlsx":
        table.to_excel(path, index=False, engine="openpyxl")
    else:
        table.to_csv(path, index=False)
