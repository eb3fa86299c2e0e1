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

from innoweave.cli.common import (
    EXIT_BAD_INPUT,
    check_out_dir,
    check_out_file,
    err,
    fail,
    print_json,
)
from innoweave.cli.registry import (
    JsonOpt,
    UrlOpt,
    open_registry,
    registry_engine,
    registry_errors,
    registry_status,
    show_problems,
)

FormatOpt = Annotated[
    str | None,
    typer.Option("--format", "-f", help="csv, xlsx or json (default: from the suffix of --output)."),
]
SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


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


def output_format(output: Path, format: str | None, *, default: str, several: bool,
                  one_entity_possible: bool = False) -> str:
    """The format to write ``output`` in: ``--format``, else the suffix (.csv, .xlsx, .json),
    else ``default``. A suffix that contradicts --format, or CSV of several tables (a folder
    of files) given a .csv name, stops with exit 2."""
    by_suffix = SUFFIX_FORMATS.get(output.suffix.lower())
    fmt = _check_format(format) if format is not None else by_suffix or default
    if by_suffix and by_suffix != fmt:
        raise fail(f"--format {fmt} contradicts the suffix of --output {str(output)!r} "
                   f"({output.suffix}); give a matching name or leave out --format")  # fmt: skip
    if fmt == "csv" and several and by_suffix == "csv":
        raise fail(f"--output {str(output)!r}: CSV of several tables is a folder of files, one "
                   "per entity; give a folder name without .csv"
                   + (" (or one entity for one file)" if one_entity_possible else ""))  # fmt: skip
    if fmt == "csv" and several or (fmt == "csv" and by_suffix != "csv"):
        check_out_dir(output, "--output")
    else:
        check_out_file(output, "--output")
    return fmt


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
        typer.Option(help="Text encoding of CSV/JSON files, e.g. cp1252 (Western European "
                     "Excel) or gb18030 (default: UTF-8 with or without BOM, else GB18030 when "
                     "the text is plainly Chinese; UTF-16 by its byte-order mark or zero bytes; anything "
                     "else is refused)."),  # fmt: skip
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
    state = registry_status(engine)  # a file that is no database stops here, before reading
    if skip_invalid and not dry_run:
        check_out_dir(rejects_dir, "--rejects-dir")
    try:
        with registry_errors(engine):
            result = import_files(
                paths, engine=engine, entity=entity, encoding=encoding, skip_invalid=skip_invalid,
                dry_run=dry_run, rejects_dir=rejects_dir,
            )  # fmt: skip
    except FileFormatError as exc:
        raise fail(str(exc)) from None
    report = result.to_dict() | {"seconds": round(time.perf_counter() - start, 2)}
    if json_out:
        print_json(report)
    for label, enc in result.encodings.items():
        if not enc.startswith("utf-8"):
            err.print(f"{label}: read as {enc}", highlight=False)
    show_problems(result.errors, result.warnings)
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
    if state != "ready":
        where = engine.url.render_as_string(hide_password=True)
        err.print(f"created a new registry at {where}", highlight=False, soft_wrap=True)
    err.print(f"imported {valid or 'no rows'} in {report['seconds']} s")
    if result.rejects:
        err.print(f"{result.rejected_rows} invalid row(s) skipped; reasons in {', '.join(result.rejects)}")


def export(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder (csv) or file (.xlsx, .json).")
    ],
    format: FormatOpt = None,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Export the whole registry in the import template layout (re-importable).

    The format is --format, else the suffix of --output (.xlsx, .json), else csv: a folder
    with one file per entity."""
    from innoweave.registry.export import export_registry

    engine = open_registry(database_url)
    fmt = output_format(output, format, default="csv", several=True)
    try:
        with registry_errors(engine, writing=False):
            counts = export_registry(engine, output, format=fmt)
    except ValueError as exc:  # a value the format cannot hold; no file is left half-written
        raise fail(f"{output}: {exc}; nothing written") from None
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
    format: FormatOpt = None,
) -> None:
    """Write an import template: header, an example row and (xlsx, json) column documentation.

    The format is --format, else the suffix of --output (.csv, .xlsx, .json), else xlsx."""
    from innoweave.registry.export import write_template
    from innoweave.registry.validation import ENTITIES, entity_for

    if entity.strip().lower() == "all":
        names = list(ENTITIES)
    else:
        try:
            names = [entity_for(entity).name]
        except ValueError as exc:
            raise fail(str(exc)) from None
    fmt = output_format(output, format, default="xlsx", several=len(names) > 1, one_entity_possible=True)
    written = write_template(names, output, format=fmt)
    err.print(f"template written: {', '.join(str(p) for p in written)}")
