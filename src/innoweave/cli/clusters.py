"""`innoweave clusters` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="clusters commands.", no_args_is_help=True)
