"""Outputs name their inputs without the machine's folders: a shipped scenario as
``innoweave:...`` with its digest, a user's path as given (or relative to the current
folder), the NCSES tables by their folder's name or as the embedded copy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.provenance import file_sha256, recorded_path
from innoweave.registry.ncses import TABLE_FOLDER, embedded_shares, load_ncses_shares
from innoweave.simulation.scenario import example_scenarios, load_scenario

runner = CliRunner()


def _absolute_paths(data) -> list[str]:
    """Every string in ``data`` (nested mappings and lists) that is an absolute path."""
    if isinstance(data, dict):
        return [p for value in data.values() for p in _absolute_paths(value)]
    if isinstance(data, list):
        return [p for value in data for p in _absolute_paths(value)]
    return [data] if isinstance(data, str) and Path(data).is_absolute() else []


def test_recorded_path_rules(tmp_path, monkeypatch):
    baseline = example_scenarios()["baseline"]
    assert baseline.is_absolute()
    assert recorded_path(baseline) == "innoweave:simulation/scenarios/baseline.toml"
    assert recorded_path(None) is None
    assert recorded_path("runs/my.toml") == "runs/my.toml"  # relative stays as given
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    assert recorded_path(tmp_path / "sub" / "my.toml") == "sub/my.toml"  # beneath here
    assert recorded_path("/elsewhere/my.toml") == "/elsewhere/my.toml"  # as the user gave it


def test_file_sha256(tmp_path):
    file = tmp_path / "a.toml"
    file.write_bytes(b"name = 'a'\n")
    assert file_sha256(file) == hashlib.sha256(b"name = 'a'\n").hexdigest()
    assert file_sha256(tmp_path / "missing.toml") is None and file_sha256(None) is None


def test_a_shipped_scenario_is_recorded_by_its_place_in_the_package():
    path = example_scenarios()["baseline"]
    settings = load_scenario(path).to_dict()
    assert settings["path"] == "innoweave:simulation/scenarios/baseline.toml"
    assert settings["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert _absolute_paths(settings) == []


def test_a_users_scenario_is_recorded_as_given_or_relative_to_here(tmp_path, monkeypatch):
    source = example_scenarios()["baseline"].read_text(encoding="utf-8")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "mine.toml").write_text(source, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_scenario("runs/mine.toml").to_dict()["path"] == "runs/mine.toml"
    assert load_scenario(tmp_path / "runs" / "mine.toml").to_dict()["path"] == "runs/mine.toml"


def test_simulate_compare_records_no_absolute_path(tmp_path, monkeypatch):
    """As ``make demo`` runs it: the shipped examples by the absolute paths ``simulate
    examples`` prints, the output folder relative."""
    monkeypatch.chdir(tmp_path)
    examples = json.loads(runner.invoke(app, ["simulate", "examples", "--json"]).stdout)
    assert Path(examples["baseline"]).is_absolute()
    result = runner.invoke(app, ["simulate", "compare", examples["baseline"], examples["capital"],
                                 "-r", "2", "--horizon", "1", "--out", "sim",
                                 "--json", "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    for data in (
        json.loads(result.stdout),
        json.loads((tmp_path / "sim" / "compare.json").read_text()),
    ):
        assert _absolute_paths(data) == []
        assert data["settings"]["capital"]["path"] == "innoweave:simulation/scenarios/capital.toml"


def test_ncses_provenance_names_the_dataset_not_the_machine(tmp_path):
    assert embedded_shares().provenance == f"{TABLE_FOLDER} (embedded copy)"
    assert embedded_shares().source == "embedded"  # unchanged for the code that reads it
    shares = load_ncses_shares()
    assert shares.provenance in (TABLE_FOLDER, f"{TABLE_FOLDER} (embedded copy)")
    assert not Path(shares.provenance).is_absolute()


def test_complete_records_the_shares_source_without_a_path(tmp_path):
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.frames import RegistryFrames
    from innoweave.registry.writer import write_frames

    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    upgrade(engine)
    orgs = pd.DataFrame({"external_id": ["cordis:1"], "name": ["A GmbH"], "kind": ["sme"],
                         "source": "cordis"})  # fmt: skip
    write_frames(engine, RegistryFrames(orgs))
    result = runner.invoke(app, ["complete", "--seed", "1", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["shares_source"] in (TABLE_FOLDER, f"{TABLE_FOLDER} (embedded copy)")
    assert _absolute_paths(report) == []


def test_a_registry_url_is_recorded_without_its_password():
    from innoweave.simulation.scenario import parse_scenario

    sc = parse_scenario({"name": "pg", "horizon": 2, "replications": 1, "seed": 1,
                         "population": {"source": "registry",
                                        "url": "postgresql://ana:s3cret@localhost:5432/reg"}})
    recorded = sc.to_dict()["population"]["url"]
    assert "s3cret" not in json.dumps(sc.to_dict())
    assert recorded == "postgresql://ana:***@localhost:5432/reg"
