"""`innoweave simulate`: bad input stops with one line naming the field and the file (exit 2)
before any run, output paths are checked before any work, files are strict JSON and
nothing is left half-written."""

import json
import math
import sqlite3

import pytest
import typer
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.cli import simulate as simulate_cli

runner = CliRunner()
HEAD = 'horizon = 2\nreplications = 2\nseed = 11\n[population]\nn_firms = 200\n'


def write(path, text):
    path.write_text(text)
    return path


def strict(text):
    """Parse JSON, refusing NaN / Infinity."""
    def refuse(token):
        raise AssertionError(f"non-standard JSON constant {token}")
    return json.loads(text, parse_constant=refuse)


def one_line_error(res, *needles):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("name, text, field", [
    ("every0", HEAD + "[instruments.collaborative_call]\nbudget = 5.0\nevery = 0\n",
     "instruments.collaborative_call.every"),
    ("fields0", HEAD + "[params.knowledge]\nn_fields = 0\n", "params.knowledge.n_fields"),
    ("inf", HEAD + "[instruments.rd_grant]\nbudget = inf\n", "instruments.rd_grant.budget"),
    ("nan", HEAD + "[instruments.rd_grant]\nbudget = nan\n", "instruments.rd_grant.budget"),
    ("regint", HEAD + "[instruments.rd_grant]\nbudget = 5.0\nregions = 5\n",
     "instruments.rd_grant.regions"),
    ("regstr", HEAD + '[instruments.rd_grant]\nbudget = 5.0\nregions = "12"\n',
     "instruments.rd_grant.regions"),
    ("regcode", HEAD + '[instruments.rd_grant]\nbudget = 5.0\nregions = ["R01"]\n',
     "instruments.rd_grant.regions"),
    ("regbig", HEAD + "[instruments.rd_grant]\nbudget = 5.0\nregions = [999]\n",
     "instruments.rd_grant.regions: no region 999"),
    ("prob", HEAD + "[params.search]\np_previous = -0.5\n", "params.search.p_previous"),
    ("share", HEAD + "[instruments.rd_grant]\nbudget = 5.0\nshare = 7.5\n",
     "instruments.rd_grant.share"),
    ("badcal", 'calibration = "cal_bad.toml"\n' + HEAD, "calibration: "),
    ("dircal", 'calibration = "cal_dir"\n' + HEAD, "calibration: "),
    ("url", 'horizon = 1\n[population]\nsource = "registry"\nurl = "notaurl"\n',
     "population.url"),
    ("trav", 'name = "../../escaped"\n' + HEAD, "name: "),
    ("longrun", 'horizon = 100000000\n[population]\nn_firms = 300\n', "horizon: must be <= 400"),
    ("manyreps", 'horizon = 2\nreplications = 1000000000\n[population]\nn_firms = 300\n',
     "replications: must be <= 10,000"),
])
def test_bad_scenarios_stop_with_one_line_naming_field_and_file(tmp_path, monkeypatch, name,
                                                                text, field):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cal_bad.toml", "intent_bias = [\n")
    (tmp_path / "cal_dir").mkdir()
    scen = write(tmp_path / f"{name}.toml", text)
    res = runner.invoke(app, ["simulate", "run", str(scen), "-q"])
    one_line_error(res, field, f"{name}.toml")
    assert not (tmp_path / "simulation_runs").exists()  # nothing written, no folder left


def test_unreadable_scenario_files_stop_with_one_line(tmp_path):
    (tmp_path / "adir").mkdir()
    one_line_error(runner.invoke(app, ["simulate", "run", str(tmp_path / "adir")]),
                   "adir is a folder")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Förderung"\nhorizon = 2\n'.encode("latin-1"))
    one_line_error(runner.invoke(app, ["simulate", "run", str(latin)]), "latin.toml",
                   "not UTF-8")


def test_registry_problems_stop_before_running_and_create_nothing(tmp_path):
    missing = tmp_path / "missing.db"
    scen = write(tmp_path / "reg.toml", f'horizon = 1\n[population]\nsource = "registry"\n'
                                        f'url = "sqlite:///{missing}"\n')
    one_line_error(runner.invoke(app, ["simulate", "run", str(scen), "--out",
                                       str(tmp_path / "o")]),
                   "population.url", "no registry file", "reg.toml")
    assert not missing.exists() and not (tmp_path / "o").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("create table other (x int)").connection.close()
    before = empty.read_bytes()
    write(scen, f'horizon = 1\n[population]\nsource = "registry"\nurl = "sqlite:///{empty}"\n')
    one_line_error(runner.invoke(app, ["simulate", "run", str(scen), "--out",
                                       str(tmp_path / "o"), "-q"]),
                   "population.url", "not initialised", "reg.toml")
    assert empty.read_bytes() == before
    assert not (tmp_path / "o").exists()  # the folder made for the run is gone again


# --- comparisons -----------------------------------------------------------------------


def test_compare_refuses_duplicate_names(tmp_path):
    base = write(tmp_path / "base.toml", 'name = "b"\n' + HEAD)
    alt_a = write(tmp_path / "altA.toml", 'name = "alt"\n' + HEAD
                  + "[instruments.rd_grant]\nbudget = 30.0\n")
    alt_b = write(tmp_path / "altB.toml", 'name = "alt"\n' + HEAD
                  + "[instruments.awareness_campaign]\nbudget = 30.0\n")
    alt_c = write(tmp_path / "altC.toml", 'name = "b"\n' + HEAD
                  + "[instruments.rd_grant]\nbudget = 30.0\n")
    out = tmp_path / "c"
    res = runner.invoke(app, ["simulate", "compare", str(base), str(alt_a), str(alt_b),
                              "--out", str(out)])
    one_line_error(res, "altA.toml", "altB.toml", "'alt'")
    res = runner.invoke(app, ["simulate", "compare", str(base), str(alt_c), "--out", str(out)])
    one_line_error(res, "base.toml", "altC.toml", "'b'")
    assert not out.exists()


def test_compare_refuses_another_population_and_notes_replaced_settings(tmp_path):
    base = write(tmp_path / "base.toml", 'name = "b"\n' + HEAD)
    big = write(tmp_path / "big.toml", 'name = "big"\n' + HEAD.replace("200", "300"))
    res = runner.invoke(app, ["simulate", "compare", str(base), str(big), "--out",
                              str(tmp_path / "c")])
    one_line_error(res, "population", "big.toml", "[population]")
    own = write(tmp_path / "own.toml", 'name = "own"\n'
                + HEAD.replace("seed = 11", "seed = 999").replace("horizon = 2", "horizon = 9"))
    res = runner.invoke(app, ["simulate", "compare", str(base), str(own), "--out",
                              str(tmp_path / "c"), "-r", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert "own.toml" in res.stderr and "seed 999 -> 11" in res.stderr
    assert "horizon 9 -> 2" in res.stderr
    data = strict(res.stdout)
    assert data["settings"]["own"]["seed"] == 11 and data["settings"]["own"]["horizon"] == 2
    saved = strict((tmp_path / "c" / "compare.json").read_text())
    assert saved["differences"]["own"]["innovations"]["ci95"] == [None, None]
    assert saved["kernels"] in ("numba", "array")


# --- output paths ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "compare"])
def test_output_folder_problems_stop_before_the_run(tmp_path, monkeypatch, command):
    scen = write(tmp_path / "base.toml", 'name = "b"\n' + HEAD)
    alt = write(tmp_path / "alt.toml", 'name = "a"\n' + HEAD)
    args = ["simulate", command, str(scen)] + ([str(alt)] if command == "compare" else [])

    def no_run(*a, **k):
        raise AssertionError("ran despite a bad --out")

    monkeypatch.setattr("innoweave.simulation.runner.run_scenario", no_run)
    monkeypatch.setattr("innoweave.simulation.runner.compare_scenarios", no_run)
    afile = write(tmp_path / "afile", "keep me")
    one_line_error(runner.invoke(app, args + ["--out", str(afile)]), "--out", "afile")
    assert afile.read_text() == "keep me"
    one_line_error(runner.invoke(app, args + ["--out", "/proc/x"]), "--out")


def test_calibrate_checks_write_before_the_fit(tmp_path, monkeypatch):
    from innoweave.simulation import calibration

    def no_fit(*a, **k):
        raise AssertionError("fitted despite a bad --write")

    monkeypatch.setattr(calibration.Calibration, "fit", no_fit)
    monkeypatch.setattr(calibration.Calibration, "check", no_fit)
    res = runner.invoke(app, ["simulate", "calibrate", "--check", "--write",
                              str(tmp_path / "f.toml")])
    one_line_error(res, "--write", "--check")
    assert not (tmp_path / "f.toml").exists()
    (tmp_path / "adir").mkdir()
    one_line_error(runner.invoke(app, ["simulate", "calibrate", "--write",
                                       str(tmp_path / "adir")]), "--write", "folder")
    afile = write(tmp_path / "afile", "x")
    one_line_error(runner.invoke(app, ["simulate", "calibrate", "--write",
                                       str(afile / "cal.toml")]), "--write")
    one_line_error(runner.invoke(app, ["simulate", "calibrate", "--tolerance", "inf"]),
                   "--tolerance")


def test_calibrate_writes_into_a_new_folder(tmp_path):
    target = tmp_path / "nodir" / "cal.toml"
    # 2,000 firms: fewer can leave a size class empty, which calibrate refuses
    res = runner.invoke(app, ["simulate", "calibrate", "--firms", "2000", "--iterations", "1",
                              "-r", "1", "--tolerance", "100", "--write", str(target),
                              "--json"])
    assert res.exit_code == 0, res.output
    assert "intent_bias" in target.read_text()
    assert strict(res.stdout)["written"] == str(target)


def test_dock_checks_details_and_seeds_before_running(tmp_path, monkeypatch):
    from innoweave.simulation import docking

    def no_dock(*a, **k):
        raise AssertionError("docked despite bad input")

    monkeypatch.setattr(docking, "run_docking", no_dock)
    (tmp_path / "adir").mkdir()
    one_line_error(runner.invoke(app, ["simulate", "dock", "--details", str(tmp_path / "adir")]),
                   "--details")
    afile = write(tmp_path / "afile", "x")
    one_line_error(runner.invoke(app, ["simulate", "dock", "--details",
                                       str(afile / "d.json")]), "--details")
    one_line_error(runner.invoke(app, ["simulate", "dock", "--seeds", "2"]), "--seeds",
                   "at least 8")
    one_line_error(runner.invoke(app, ["simulate", "dock", "--seeds", "7"]), "--seeds")


# --- files written ---------------------------------------------------------------------


def test_one_replication_gives_strict_json_with_unknown_intervals(tmp_path):
    scen = write(tmp_path / "s.toml", 'name = "s"\n' + HEAD)
    res = runner.invoke(app, ["simulate", "run", str(scen), "--out", str(tmp_path / "o"),
                              "-r", "1", "--seed", "99", "--horizon", "3", "--json"])
    assert res.exit_code == 0, res.output
    printed = strict(res.stdout)
    saved = strict((tmp_path / "o" / "summary.json").read_text())
    assert saved["outputs"]["innovations"]["ci95"] == [None, None]
    assert printed["outputs"] == saved["outputs"]
    assert saved["kernels"] in ("numba", "array")
    assert (saved["settings"]["seed"], saved["settings"]["replications"],
            saved["settings"]["horizon"]) == (99, 1, 3)
    assert saved["settings"]["overrides"]["seed"] == {"scenario_file": 11, "used": 99}
    assert "at least 2" in res.stderr
    assert not [p for p in (tmp_path / "o").iterdir() if p.name.startswith(".")]
    # the table for people shows n/a, not nan
    res = runner.invoke(app, ["simulate", "run", str(scen), "--out", str(tmp_path / "o"),
                              "-r", "1", "--horizon", "1"])
    assert res.exit_code == 0, res.output
    assert "n/a" in res.stderr and "nan" not in res.stderr.replace("mean_", "")


def test_default_folder_and_overwrite_note(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scen = write(tmp_path / "s.toml", 'name = "my run"\n' + HEAD.replace("horizon = 2",
                                                                         "horizon = 1"))
    res = runner.invoke(app, ["simulate", "run", str(scen), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "simulation_runs" / "my run" / "summary.json").exists()
    assert "overwriting" not in res.stderr
    res = runner.invoke(app, ["simulate", "run", str(scen), "-q"])
    assert res.exit_code == 0, res.output
    assert "overwriting" in res.stderr and "summary.json" in res.stderr


def test_a_failed_write_leaves_the_earlier_results(tmp_path, monkeypatch):
    folder = tmp_path / "o"
    folder.mkdir()
    write(folder / "summary.json", "earlier")

    def broken(path):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        simulate_cli._write_all(folder, {"summary.json": simulate_cli._text_writer("new"),
                                         "summary.xlsx": broken})
    assert (folder / "summary.json").read_text() == "earlier"
    assert sorted(p.name for p in folder.iterdir()) == ["summary.json"]


# --- small things ----------------------------------------------------------------------


def test_examples_listing_goes_to_stdout():
    res = runner.invoke(app, ["simulate", "examples"])
    assert res.exit_code == 0
    assert "baseline:" in res.stdout and "baseline:" not in res.stderr


def test_negative_seed_names_the_option():
    res = runner.invoke(app, ["simulate", "run", "baseline", "--seed", "-3"])
    assert res.exit_code == 2 and "--seed" in res.output
    res = runner.invoke(app, ["simulate", "dock", "--seed", "-3"])
    assert res.exit_code == 2 and "--seed" in res.output


def test_command_summaries_are_one_paragraph_line():
    """Typer shows a command's first docstring paragraph in the command list as written: a
    line break inside it shows as a broken line ("KS tests / of the key ...")."""
    group = typer.main.get_group(simulate_cli.app)
    for name, command in group.commands.items():
        first = (command.callback.__doc__ or "").strip().split("\n\n")[0]
        assert "\n" not in first, name
    res = runner.invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    line = next(ln for ln in res.output.splitlines() if "│ dock " in ln)
    assert line.rstrip(" │").endswith("(KS tests, Bonferroni-corrected).")


def test_nan_formatting_helpers():
    assert simulate_cli._ci(math.nan, 1.0) == "n/a" and simulate_cli._fmt(None) == "n/a"
    assert simulate_cli._ci(1.0, 2.0) == "[1, 2]"


@pytest.mark.parametrize("option, value, message", [
    ("--horizon", "100000", "--horizon must be at most 400, got 100,000"),
    ("--replications", "20000", "--replications must be at most 10,000, got 20,000"),
])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_horizon_or_replications_beyond_the_limits_are_refused_before_running(
        tmp_path, monkeypatch, command, option, value, message):
    """A mistyped horizon once ran until killed, filling memory (QA: 10^8 steps, 491 MB at 30 s)."""
    monkeypatch.chdir(tmp_path)
    scen = write(tmp_path / "s.toml", 'horizon = 2\n[population]\nn_firms = 300\n')
    args = [str(scen)] if command == "run" else [str(scen), str(scen)]
    res = runner.invoke(app, ["simulate", command, *args, option, value, "-q"])
    one_line_error(res, message)
    assert list(tmp_path.iterdir()) == [scen]  # nothing written


def test_large_figures_are_written_out_not_in_scientific_notation():
    """A QA run's menu showed reach '2.4e+04' and '1.648e+04' to officials."""
    assert simulate_cli._fmt(24000.0) == "24 000" and simulate_cli._fmt(-31234.6) == "-31 235"
    assert simulate_cli._fmt(1648.3) == "1648" and simulate_cli._fmt(0.0001234) == "0.0001234"
    assert simulate_cli._ci(-3.2, 24000.4) == "[-3.2, 24 000]"
    assert simulate_cli._fmt(2.5e15) == "2.5e+15"  # beyond any budget: as it is
