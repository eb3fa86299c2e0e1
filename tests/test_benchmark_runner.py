"""``benchmarks/run_all.py``: each size saves in its own folder, so the quick check never
overwrites the documented figures; ``configurations.results_dir`` is where scripts save."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # as when the scripts run: their folder's modules import


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


configurations = _load("configurations")
run_all = _load("run_all")

# stands in for a benchmark script: saves where the runner tells every script to save
_SCRIPT = """
import json, os, pathlib, sys
folder = pathlib.Path(os.environ["INNOWEAVE_BENCH_RESULTS"])
folder.mkdir(parents=True, exist_ok=True)
(folder / "probe.json").write_text(json.dumps({"args": sys.argv[1:]}))
sys.exit(int(sys.argv[1]))
"""


def test_results_dir_is_the_documented_folder_unless_the_runner_says_otherwise(monkeypatch):
    monkeypatch.delenv(configurations.RESULTS_ENV, raising=False)
    assert configurations.results_dir() == BENCHMARKS / "results"
    monkeypatch.setenv(configurations.RESULTS_ENV, "/tmp/elsewhere")
    assert configurations.results_dir() == Path("/tmp/elsewhere")
    folders = configurations.RESULTS_FOLDERS
    assert folders["large"] == BENCHMARKS / "results" and folders["small"] == BENCHMARKS / "results" / "small"


def test_every_configuration_names_a_script_of_the_folder_at_both_sizes():
    for name, sizes in configurations.CONFIGURATIONS.items():
        assert set(sizes) == {"small", "large"}, name
        for args in sizes.values():
            assert (BENCHMARKS / args[0]).is_file(), (name, args[0])


def test_each_size_saves_in_its_own_folder(tmp_path, monkeypatch):
    here = tmp_path / "benchmarks"
    here.mkdir()
    (here / "probe.py").write_text(_SCRIPT)
    folders = {"small": here / "results" / "small", "large": here / "results"}
    configs = {"ok": {"small": ["probe.py", "0", "quick"], "large": ["probe.py", "0", "target"]},
               "broken": {"small": ["probe.py", "3"], "large": ["probe.py", "3"]}}  # fmt: skip
    monkeypatch.setattr(run_all, "HERE", here)
    monkeypatch.setattr(run_all, "RESULTS_FOLDERS", folders)
    monkeypatch.setattr(run_all, "CONFIGURATIONS", configs)
    assert run_all.main(["--size", "small", "--only", "ok"]) == 0
    assert json.loads((folders["small"] / "probe.json").read_text()) == {"args": ["0", "quick"]}
    assert not (folders["large"] / "probe.json").exists()  # the documented folder is untouched
    summary = json.loads((folders["small"] / "run_all.json").read_text())
    assert summary["results"] == "benchmarks/results/small"
    assert summary["runs"]["ok"]["returncode"] == 0
    assert run_all.main(["--size", "large"]) == 1  # a failing script fails the run, the rest still run
    assert json.loads((folders["large"] / "probe.json").read_text()) == {"args": ["3"]}
    summary = json.loads((folders["large"] / "run_all.json").read_text())
    assert summary["runs"]["ok"]["returncode"] == 0 and summary["runs"]["broken"]["returncode"] == 3
