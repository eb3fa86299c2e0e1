"""File commands: ``innoweave import file``, ``innoweave export`` and ``innoweave template``.

They wrap :mod:`innoweave.registry.files` (validated import), :mod:`innoweave.registry.export`
(export and templates). Row errors are printed on stderr, one line each naming file, row and
column; ``--json`` prints the full report on stdout.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from innoweave.cli.common import EXIT_BAD_INPUT, err, fail, print_json
from innoweave.cli.registry import JsonOpt, UrlOpt, open_registry, registry_engine

SHOWN_ERRORS = 20
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="csv, xlsx or json.")]


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's commands to the main app and the `import` group."""
    import_app.command("file")(import_file)
    app.command("export")(export)
    app.command("template")(template)


def _check_format(format: str) -> str:
    from innoweave.registry.export import FORMATS

    value = format.strip().lower()
    if value not in FORMATS:
        raise fail(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    return value


def import_file(
    paths: Annotated[
        list[Path],
        typer.Argument(help="CSV, XLSX or JSON files, or folders of them (e.g. an export)."),
    ],
    entity: Annotated[
        str | None,
        typer.Option(help="What a file holds when its name does not say: orgs, projects, "
                     "participations, programmes or clusters."),  # fmt: skip
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding of CSV/JSON files (default: UTF-8 with or without "
                     "BOM, else GB18030/GBK)."),  # fmt: skip
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Write the valid rows; invalid ones go to reject files.")
    ] = False,
    rejects_dir: Annotated[
        Path, typer.Option("--rejects-dir", help="Folder for the <file>.rejects.csv files.")
    ] = Path("."),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Import organisations, projects, participations, programmes or clusters from files.

    Every row is validated first; if any row is invalid nothing is written (exit 2) unless
    --skip-invalid is given. Rows are upserted by external_id (programmes by name).
    """
    from innoweave.registry.files import FileFormatError, import_files

    start = time.perf_counter()
    engine = registry_engine(database_url)
    try:
        result = import_files(
            paths, engine=engine, entity=entity, encoding=encoding, skip_invalid=skip_invalid,
            dry_run=dry_run, rejects_dir=rejects_dir,
        )  # fmt: skip
    except FileFormatError as exc:
        raise fail(str(exc)) from None
    report = result.to_dict() | {"seconds": round(time.perf_counter() - start, 2)}
    if json_out:
        print_json(report)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    for label, enc in result.encodings.items():
        if not enc.startswith("utf-8"):
            err.print(f"{label}: read as {enc}", highlight=False)
    for error in result.errors[:SHOWN_ERRORS]:
        err.print(str(error), highlight=False, markup=False, soft_wrap=True)
    if len(result.errors) > SHOWN_ERRORS:
        err.print(f"… and {len(result.errors) - SHOWN_ERRORS} more (--json lists all)")
    read = sum(result.read.values())
    if result.errors and not skip_invalid:
        raise fail(
            f"{len(result.errors)} problem(s) in {result.rejected_rows} of {read} row(s); "
            "nothing written (fix them, or --skip-invalid to write the valid rows)",
            EXIT_BAD_INPUT,
        )
    valid = ", ".join(f"{n:,} {name}" for name, n in result.valid.items())
    if dry_run:
        err.print(f"dry run: {valid or 'no rows'} valid, {result.rejected_rows} invalid; nothing written")
        return
    err.print(f"imported {valid or 'no rows'} in {report['seconds']} s")
    if result.rejects:
        err.print(f"{result.rejected_rows} invalid row(s) skipped; reasons in {', '.join(result.rejects)}")


def export(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder (csv) or file (xlsx, json).")
    ],
    format: FormatOpt = "csv",
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Export the whole registry in the import template layout (re-importable)."""
    from innoweave.registry.export import export_registry

    fmt = _check_format(format)
    if fmt == "csv" and output.exists() and not output.is_dir():
        raise fail(f"{output}: CSV export writes a folder of files; give a folder")
    engine = open_registry(database_url)
    counts = export_registry(engine, output, format=fmt)
    if json_out:
        print_json({"output": str(output), "format": fmt, "rows": counts})
    else:
        rows = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        err.print(f"exported {rows} to {output}")


def template(
    entity: Annotated[
        str, typer.Argument(help="orgs, projects, participations, programmes, clusters or all.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (a folder for csv + all).")],
    format: FormatOpt = "xlsx",
) -> None:
    """Write an import template: header, an example row and (xlsx, json) column documentation."""
    from innoweave.registry.export import write_template
    from innoweave.registry.validation import ENTITIES, entity_for

    fmt = _check_format(format)
    if entity.strip().lower() == "all":
        names = list(ENTITIES)
    else:
        try:
            names = [entity_for(entity).name]
        except ValueError as exc:
            raise fail(str(exc)) from None
    written = write_template(names, output, format=fmt)
    err.print(f"template written: {', '.join(str(p) for p in written)}")
