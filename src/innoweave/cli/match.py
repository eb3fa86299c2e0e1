"""`innoweave match` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="match commands.", no_args_is_help=True)
