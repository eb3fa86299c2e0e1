"""Growth stages are an SME attribute: the generator, the attribute model and ``db stats``.

QA found 3 large firms with a stage after ``innoweave synth --smes 300 --seed 1``: ``db stats``
counted 303 stages while ``diagnose stages`` counted 300, and ``innoweave complete`` wrote
stages onto ``company`` and ``large_firm`` records.
"""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.registry.frames import RegistryFrames, load_frames
from innoweave.registry.ncses import embedded_shares
from innoweave.registry.stages import STAGE_ORDER
from innoweave.registry.synth import synthesize
from innoweave.registry.writer import write_frames

runner = CliRunner()


def _flat(text: str) -> str:
    """Rich wraps long messages; compare on single spaces."""
    return " ".join(text.split())


def test_the_generator_gives_stages_to_smes_only():
    orgs = synthesize(n_smes=300, seed=1, shares=embedded_shares()).organisations
    smes, others = orgs[orgs["kind"] == "sme"], orgs[orgs["kind"] != "sme"]
    assert (others["kind"] == "large_firm").sum() == 3
    assert smes["stage"].isin(STAGE_ORDER).all()
    assert others["stage"].isna().all(), others.loc[others["stage"].notna(), ["kind", "stage"]]
    assert not others["synthetic_fields"].map(lambda f: "stage" in f).any()


def test_cli_db_stats_counts_the_stages_diagnose_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = runner.invoke(
        app, ["synth", "--smes", "300", "--seed", "1", "--json", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(app, ["db", "stats", "--json", "--database-url", url]).stdout)
    result = runner.invoke(app, ["diagnose", "stages", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    stages = json.loads(result.stdout)
    assert sum(stats["by_stage"].values()) == stages["total"] == stats["by_kind"]["sme"] == 300
    assert stats["by_stage"] == {k: v for k, v in sorted(stages["counts"].items()) if v}
    assert stats["stages_not_on_smes"] == {}


def test_cli_stages_on_other_kinds_are_counted_apart_and_drawn_ones_removed(tmp_path):
    """A registry written before the fix: a large firm with a drawn (synthetic) stage, a
    company with a recorded one. ``db stats`` counts SMEs' stages and names the others;
    ``complete`` removes the drawn stage and keeps the recorded one."""
    from innoweave.registry.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    upgrade(engine)
    orgs = pd.DataFrame({
        "external_id": ["x:1", "x:2", "x:3"],
        "name": ["A GmbH", "B AG", "C KG"],
        "kind": ["sme", "large_firm", "company"],
        "stage": ["growth", "transformation", "maturity"],
        "synthetic_fields": [["stage"], ["stage"], []],
        "source": "test",
    })  # fmt: skip
    write_frames(engine, RegistryFrames(orgs))
    result = runner.invoke(app, ["db", "stats", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["by_stage"] == {"growth": 1}
    assert stats["stages_not_on_smes"] == {"company": 1, "large_firm": 1}
    assert "growth stages are for SMEs, but 1 company, 1 large_firm" in _flat(result.stderr)
    table = runner.invoke(app, ["db", "stats", "--database-url", url])
    assert "SME stage: growth" in table.stderr and "stage on a large_firm" in table.stderr

    from innoweave.registry.db import stats as db_stats

    assert db_stats(engine)["by_stage"] == {"growth": 1}  # the Python API counts as the CLI does
    result = runner.invoke(app, ["complete", "--seed", "0", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    # the large firm's drawn stage was cleared: counted as such, not as -1 value drawn
    assert done["drawn_values_cleared"] == 1 and done["values_drawn"] >= 0
    assert done["completed_by_kind"].get("large_firm") == 1
    back = load_frames(engine).organisations.set_index("external_id")
    assert back.at["x:1", "stage"] == "growth"
    assert pd.isna(back.at["x:2", "stage"]) and "stage" not in back.at["x:2", "synthetic_fields"]
    assert back.at["x:3", "stage"] == "maturity"  # recorded, not drawn: kept
    stats = json.loads(runner.invoke(app, ["db", "stats", "--json", "--database-url", url]).stdout)
    assert stats["stages_not_on_smes"] == {"company": 1}
    engine.dispose()
