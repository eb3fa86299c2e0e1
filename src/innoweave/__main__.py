"""``python -m innoweave`` runs the command line."""

from innoweave.cli import main

main()
