"""`innoweave diagnose` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="diagnose commands.", no_args_is_help=True)
