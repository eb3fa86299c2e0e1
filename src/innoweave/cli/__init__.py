"""The ``innoweave`` command line: one Typer app with a sub-command group per capability.

Machine output (``--json``) goes to stdout; progress bars, tables meant for people and
messages go to stderr. Exit codes: 0 success, 1 a failed check or run, 2 bad input
(usage, unreadable or invalid files, unknown ids).
"""

from __future__ import annotations

import typer

from innoweave.cli import clusters, diagnose, files, match, registry, simulate, synth

app = typer.Typer(
    name="innoweave",
    help="InnoWeave: registry, diagnosis, matchmaking, clusters and policy simulation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
registry.register(app)
files.register(app, registry.import_app)
synth.register(app, registry.import_app)
app.add_typer(diagnose.app, name="diagnose")
app.add_typer(match.app, name="match")
app.add_typer(clusters.app, name="clusters")
app.add_typer(simulate.app, name="simulate")


def main() -> None:
    """Run the command line. A file that cannot be read or written, or text in an unexpected
    encoding, that a command did not report itself ends with a one-line message and exit 2
    (bad input) instead of a traceback."""
    try:
        app()
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped early
        raise SystemExit(0) from None
    except (OSError, UnicodeError) as exc:
        raise SystemExit(_bad_input(exc)) from None


def _bad_input(exc: OSError | UnicodeError) -> int:
    from innoweave.cli.common import EXIT_BAD_INPUT, err

    if isinstance(exc, UnicodeDecodeError):
        message = (f"a file is not in the expected encoding ({exc.encoding}; {exc.reason} at "
                   f"byte {exc.start}): save it as UTF-8")
    elif isinstance(exc, OSError) and exc.filename is not None:
        message = f"{exc.strerror or exc}: {exc.filename}"
    else:
        message = str(exc)
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return EXIT_BAD_INPUT
