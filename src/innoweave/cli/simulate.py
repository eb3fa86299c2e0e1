"""`innoweave simulate` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="simulate commands.", no_args_is_help=True)
