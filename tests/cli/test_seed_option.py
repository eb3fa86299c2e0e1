"""Every command's ``--seed`` is one option: a negative seed is refused by the parser (exit 2,
naming the option) before any work. ``synth`` and ``complete`` stopped with a traceback, and
``match recommend`` fell back silently to the default weights (exit 0)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from innoweave.cli import app

COMMANDS = [  # (the command, what else it needs)
    (["synth"], ["--smes", "10"]),
    (["complete"], []),
    (["diagnose", "batch"], ["--out", "x.csv"]),
    (["diagnose", "eis-uncertainty"], []),
    (["match", "recommend"], ["1"]),
    (["match", "assign"], ["--k", "3"]),
    (["match", "evaluate"], ["--preset", "cordis-de"]),
    (["clusters", "related"], []),
    (["clusters", "network"], []),
    (["simulate", "run"], ["baseline"]),
    (["simulate", "dock"], []),
    (["simulate", "calibrate"], []),
]


@pytest.mark.parametrize("command, rest", COMMANDS, ids=[" ".join(c) for c, _ in COMMANDS])
def test_a_negative_seed_is_refused_before_any_work(command, rest, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INNOWEAVE_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    result = CliRunner().invoke(app, [*command, *rest, "--seed", "-1"])
    assert result.exit_code == 2, (result.output, result.exception)
    said = " ".join(result.output.split())
    assert "Invalid value for '--seed'" in said and "greater than or equal to 0" in said
    assert list(tmp_path.iterdir()) == []  # nothing written, not even an empty registry
    helped = CliRunner().invoke(app, [*command, "--help"]).output.splitlines()
    assert any("--seed" in line and "[x>=0]" in line for line in helped)
