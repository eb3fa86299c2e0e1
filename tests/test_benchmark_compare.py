"""``benchmarks/compare.py``: two result sets compared figure by figure, and its bad input."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare.py"
_spec = importlib.util.spec_from_file_location("benchmark_compare", _SCRIPT)
cmp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cmp)

BASE = {
    "quality.json": {
        "seed": 0,
        "version": "0.1.0",
        "protocols": {"P1": {"recall@10": 0.30, "hit@10": 0.56}, "P2": {"recall@10": 0.47}},
        "docking": {"passed": True, "min_p": 1.0},
        "dropped": 3,
    },
    "speed.json": {"engine": {"all_seconds": [1.0, 1.1, 0.9, 1.0, 1.05]}, "load_average": [1.0, 0.5, 0.2]},
    "old_only.json": {"x": 1},
}


def _new():
    new = json.loads(json.dumps(BASE))
    new["quality.json"]["protocols"]["P1"]["recall@10"] = 0.33
    new["quality.json"]["docking"]["passed"] = False
    del new["quality.json"]["dropped"]
    new["quality.json"]["added"] = 7
    new["speed.json"]["engine"]["all_seconds"] = [2 * v for v in BASE["speed.json"]["engine"]["all_seconds"]]
    del new["old_only.json"]
    new["new_only.json"] = {"y": 2}
    return new


def _write(folder: Path, sets: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sets.items():
        (folder / name).write_text(json.dumps(data))
    return folder


def _by_figure(rows):
    return {(r["file"], r["figure"]): r for r in rows}


def test_flatten_keeps_timing_samples_whole_and_splits_other_lists():
    leaves = dict(cmp.flatten(BASE["speed.json"]))
    assert leaves["engine.all_seconds"] == [1.0, 1.1, 0.9, 1.0, 1.05]
    # a load average is three different figures, not a sample
    assert leaves["load_average[0]"] == 1.0 and leaves["load_average[2]"] == 0.2
    assert "load_average" not in leaves
    assert dict(cmp.flatten({"all": [1, 2]})) == {"all[0]": 1, "all[1]": 2}  # too short to be a sample


def test_compare_reports_what_moved_and_what_is_only_on_one_side(tmp_path):
    base = cmp.load_results(str(_write(tmp_path / "a", BASE)))
    new = cmp.load_results(str(_write(tmp_path / "b", _new())))
    rows = _by_figure(cmp.compare(base, new))
    moved = rows[("quality.json", "protocols.P1.recall@10")]
    assert moved["changed"] and moved["base"] == 0.30 and moved["new"] == 0.33
    assert moved["difference"] == pytest.approx(0.03) and moved["ratio"] == pytest.approx(1.1)
    assert not rows[("quality.json", "protocols.P2.recall@10")]["changed"]
    assert not rows[("quality.json", "version")]["changed"]
    passed = rows[("quality.json", "docking.passed")]
    assert passed["kind"] == "value" and passed["changed"] and passed["new"] is False
    assert rows[("quality.json", "dropped")]["only_in"] == "base"
    assert rows[("quality.json", "added")]["only_in"] == "new"
    assert rows[("old_only.json", "")]["only_in"] == "base"
    assert rows[("new_only.json", "")]["only_in"] == "new"
    sample = rows[("speed.json", "engine.all_seconds")]
    assert sample["kind"] == "sample" and sample["ratio"] == pytest.approx(2.0)
    assert sample["ci_low"] <= 2.0 <= sample["ci_high"]
    text = cmp.render(cmp.compare(base, new))
    assert "protocols.P1.recall@10: 0.3 -> 0.33" in text
    assert "protocols.P2" not in text  # unchanged figures are left out unless --all
    assert "protocols.P2" in cmp.render(cmp.compare(base, new), show_all=True)


def test_tolerance_and_match_narrow_the_rows(tmp_path):
    base, new = BASE, _new()
    noise = json.loads(json.dumps(base))
    noise["quality.json"]["protocols"]["P2"]["recall@10"] = 0.47 * (1 + 1e-9)  # another CPU's last digits
    assert not _by_figure(cmp.compare(base, noise))[("quality.json", "protocols.P2.recall@10")]["changed"]
    assert _by_figure(cmp.compare(base, noise, tolerance=0))[("quality.json", "protocols.P2.recall@10")]["changed"]
    rows = _by_figure(cmp.compare(base, new, tolerance=0.2))
    assert not rows[("quality.json", "protocols.P1.recall@10")]["changed"]  # 9 % < 20 %
    assert rows[("speed.json", "engine.all_seconds")]["changed"]  # 50 % > 20 %
    only = cmp.compare(base, new, match=r"recall")
    assert {r["figure"] for r in only} == {"protocols.P1.recall@10", "protocols.P2.recall@10"}
    assert {r["file"] for r in cmp.compare(base, new, match=r"^new_only")} == {"new_only.json"}


def test_bootstrap_interval_is_seeded():
    a, b = [1.0, 1.2, 0.8, 1.1, 0.95, 1.05], [1.5, 1.4, 1.7, 1.6, 1.45, 1.55]
    assert cmp.ratio_interval(a, b, seed=3) == cmp.ratio_interval(a, b, seed=3)
    lo, hi = cmp.ratio_interval(a, b, seed=3)
    assert 1.0 < lo < 1.5 < hi < 2.2


def test_git_revision_reads_the_results_as_committed(tmp_path):
    repo = tmp_path / "repo"
    results = repo / "benchmarks" / "results"
    _write(results, {"quality.json": BASE["quality.json"]})
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
           "-c", "commit.gpgsign=false"]  # fmt: skip
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "results"], check=True)
    _write(results, {"quality.json": _new()["quality.json"]})
    committed = cmp.load_results("git:HEAD", repo=repo)
    assert committed["quality.json"]["protocols"]["P1"]["recall@10"] == 0.30
    rows = _by_figure(cmp.compare(committed, cmp.load_results(str(results))))
    assert rows[("quality.json", "protocols.P1.recall@10")]["changed"]
    _write(results / "small", {"quick.json": {"x": 1}})
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "quick check"], check=True)
    assert cmp.load_results("git:HEAD:benchmarks/results/small", repo=repo) == {"quick.json": {"x": 1}}
    assert "quick.json" not in cmp.load_results("git:HEAD", repo=repo)  # one folder, not its subfolders
    with pytest.raises(cmp.CompareError, match=r"git:nosuch:benchmarks/results: git cannot read it"):
        cmp.load_results("git:nosuch", repo=repo)
    with pytest.raises(cmp.CompareError, match=r"git:HEAD:benchmarks/nothing: git cannot read it"):
        cmp.load_results("git:HEAD:benchmarks/nothing", repo=repo)


def test_bad_input_names_the_file_and_place(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.json").write_text('{"a": 1,\n "b": }')
    with pytest.raises(cmp.CompareError, match=r"broken\.json: not valid JSON .* line 2"):
        cmp.load_results(str(bad))
    (bad / "broken.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(cmp.CompareError, match=r"broken\.json: not UTF-8"):
        cmp.load_results(str(bad))
    (tmp_path / "empty").mkdir()
    with pytest.raises(cmp.CompareError, match=r"no \.json files"):
        cmp.load_results(str(tmp_path / "empty"))
    with pytest.raises(cmp.CompareError, match=r"no such folder or file"):
        cmp.load_results(str(tmp_path / "missing"))


def test_main_prints_the_changes_and_saves_strict_json(tmp_path, capsys):
    a = _write(tmp_path / "a", {"r.json": {"x": 0, "y": 1.0, "z": [0.5, None]}})
    b = _write(tmp_path / "b", {"r.json": {"x": 5, "y": 1.0, "z": [float("nan"), 2]}})
    out = tmp_path / "cmp" / "rows.json"
    assert cmp.main([str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "x: 0 -> 5" in printed and "3 of 4 figures differ" in printed
    saved = json.loads(out.read_text())  # strict: a ratio over zero is null, not NaN
    row = next(r for r in saved["rows"] if r["figure"] == "x")
    assert row["ratio"] is None and row["difference"] == 5
    assert next(r for r in saved["rows"] if r["figure"] == "z[0]")["new"] is None
    # two single files with different names are paired with each other
    assert cmp.main([str(a / "r.json"), str(_write(tmp_path / "c", {"s.json": {"x": 5}}) / "s.json")]) == 0
    assert "x: 0 -> 5" in capsys.readouterr().out
    assert cmp.main([str(tmp_path / "missing"), str(b)]) == 2
    assert "missing: no such folder or file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cmp.main([str(a), str(b), "--tolerance", "-1"])
    with pytest.raises(SystemExit):
        cmp.main([str(a), str(b), "--match", "("])
