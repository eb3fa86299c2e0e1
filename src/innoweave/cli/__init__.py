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
    app()
