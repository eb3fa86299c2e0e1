"""Conventions every command shares: strict JSON, output paths checked before any work, and
one-line messages (exit 2) for files that cannot be read or written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import typer

from innoweave.cli import main
from innoweave.cli.common import check_out_dir, check_out_file, check_table_path, print_json


def test_print_json_writes_unknown_numbers_as_null(capsys):
    print_json({"km": float("nan"), "best": np.float64(np.inf), "rows": [1.5, np.float32("nan")],
                "n": np.int64(3), "pair": (1, -math.inf)})  # fmt: skip
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert data == {"km": None, "best": None, "rows": [1.5, None], "n": 3, "pair": [1, None]}


def _stops(call, *args, **kwargs) -> None:
    with pytest.raises(typer.Exit) as exc:
        call(*args, **kwargs)
    assert exc.value.exit_code == 2


def test_output_paths_are_checked_before_any_work(tmp_path, capsys):
    check_out_file(tmp_path / "new" / "deeper" / "plan.csv")
    assert (tmp_path / "new" / "deeper").is_dir()  # made, so the write at the end succeeds
    (tmp_path / "folder.csv").mkdir()
    _stops(check_out_file, tmp_path / "folder.csv", "--plan")
    assert "is a folder, not a file" in " ".join(capsys.readouterr().err.split())
    (tmp_path / "afile").write_text("x")
    _stops(check_out_dir, tmp_path / "afile")
    _stops(check_out_file, tmp_path / "afile" / "plan.csv")
    said = " ".join(capsys.readouterr().err.split())
    assert "is a file, not a folder" in said
    check_table_path(tmp_path / "PLAN.CSV")  # the suffix in any case
    _stops(check_table_path, tmp_path / "folder.csv")


def test_a_folder_that_cannot_be_made_is_refused(capsys):
    _stops(check_out_dir, Path("/proc/innoweave-results"))  # not even root writes there
    _stops(check_out_file, Path("/proc/innoweave-results/plan.csv"), "--plan")
    said = " ".join(capsys.readouterr().err.split())
    assert "--plan: cannot create the folder of '/proc/innoweave-results/plan.csv'" in said


def test_main_turns_unreadable_files_into_bad_input(tmp_path, monkeypatch, capsys):
    """The safety net under every command: an OSError or a decoding error a command did not
    report itself ends with one line and exit 2, not a traceback."""
    import innoweave.cli as cli

    def broken_reader():
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "gone.csv"))

    def wrong_encoding():
        b"\xff\xfeplan".decode("utf-8")

    for action, expected in [(broken_reader, "No such file or directory: "),
                             (wrong_encoding, "not in the expected encoding (utf-8")]:  # fmt: skip
        monkeypatch.setattr(cli, "app", action)
        with pytest.raises(SystemExit) as exc:
            main()
        assert exc.value.code == 2
        said = " ".join(capsys.readouterr().err.split())
        assert said.startswith("error: ") and expected in said and "Traceback" not in said
