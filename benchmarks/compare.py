"""Compare two sets of benchmark results figure by figure: what did a change move?

BASE and NEW are each a results folder, one JSON file, or ``git:REV[:FOLDER]`` — the folder
(default ``benchmarks/results``) as committed at revision REV. The usual uses: after ``make
bench`` (the quick check, saved in ``benchmarks/results/small/``), ``make bench-compare``, i.e. ::

    .venv/bin/python benchmarks/compare.py git:HEAD:benchmarks/results/small benchmarks/results/small

and after ``make bench-large`` or one documented command (saved in ``benchmarks/results/``)::

    .venv/bin/python benchmarks/compare.py git:HEAD benchmarks/results

Files are paired by name, and within a pair every figure by its path of keys
(``protocols.P1.metrics.recall@10``). The repeated timings the speed scripts save — a list of
three or more numbers under a key named ``all``, ``all_*``, ``ms_per_step`` or ``pair_ratios*``
— are samples: their medians are compared, with a
bootstrap 95 % interval of their ratio (seeded, ``--seed``). Text and true/false values are
compared too (a ``passed`` that turned false shows). The figures that differ are printed
(every figure with ``--all``; only paths matching ``--match REGEX``; a relative change up to
``--tolerance`` counts as equal: by default 1e-6, the last-digit noise of floating point from
one CPU to another), and ``--out FILE`` saves the rows as JSON.

Caution: two result sets were timed at different moments, maybe on different hosts, so a
ratio of their timings mixes the code's speed with the host's. For speed, use the scripts'
side-by-side baselines (``simulation.py --baseline-src``, ``--vs-mesa``); this comparison is
for quality figures (recall, gaps, p-values), settings, and for seeing what a change moved.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = "benchmarks/results"
MIN_SAMPLE = 3
TOLERANCE = 1e-6
SAMPLE_KEY = re.compile(r"^(all|all_\w+|ms_per_step|pair_ratios\w*)$")


class CompareError(ValueError):
    """A result set that cannot be read: the message names what and where."""


def load_results(spec: str, *, repo: Path = HERE.parent) -> dict[str, Any]:
    """The JSON files of one result set, by file name: a folder, a file or ``git:REV``."""
    if spec.startswith("git:"):
        rev, _, folder = spec[4:].partition(":")
        return _load_git(rev, folder.strip("/") or RESULTS, repo)
    path = Path(spec)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise CompareError(f"{path}: no .json files in this folder")
        return {f.name: _parse(f.read_bytes(), str(f)) for f in files}
    if path.is_file():
        return {path.name: _parse(path.read_bytes(), str(path))}
    raise CompareError(f"{spec}: no such folder or file (or give git:REV)")


def _load_git(rev: str, folder: str, repo: Path) -> dict[str, Any]:
    what = f"git:{rev}:{folder}"
    listing = _git(repo, "ls-tree", "--name-only", f"{rev}:{folder}", what=what)
    names = [n for n in listing.decode().splitlines() if n.endswith(".json")]
    if not names:
        raise CompareError(f"{what}: no .json files in this folder at this revision")
    return {n: _parse(_git(repo, "show", f"{rev}:{folder}/{n}", what=what), f"{what}/{n}") for n in names}


def _git(repo: Path, *args: str, what: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise CompareError(f"{what}: git cannot read it ({reason[-1] if reason else 'no reason given'})")
    return done.stdout


def _parse(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CompareError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise CompareError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of ``obj`` by its dotted path; a sample (see the module's text) is one leaf."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list):
        name = prefix.rsplit(".", 1)[-1]
        if SAMPLE_KEY.match(name) and len(obj) >= MIN_SAMPLE and all(_is_number(v) for v in obj):
            yield prefix, obj
        else:
            for i, value in enumerate(obj):
                yield from flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def ratio_interval(base: list[float], new: list[float], *, seed: int = 0, draws: int = 2000) -> tuple[float, float]:
    """Bootstrap 95 % interval of median(new) / median(base), each sample resampled apart."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(base, float), np.asarray(new, float)
    ma = np.median(rng.choice(a, size=(draws, a.size)), axis=1)
    mb = np.median(rng.choice(b, size=(draws, b.size)), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = mb / ma
    lo, hi = np.nanpercentile(ratios, [2.5, 97.5]) if np.isfinite(ratios).any() else (math.nan, math.nan)
    return float(lo), float(hi)


def _row(file: str, key: str, base: Any, new: Any, tolerance: float, seed: int) -> dict[str, Any]:
    row: dict[str, Any] = {"file": file, "figure": key, "base": base, "new": new}
    if isinstance(base, list) and isinstance(new, list):
        row.update(kind="sample", base=float(np.median(base)), new=float(np.median(new)), n_base=len(base),
                   n_new=len(new))  # fmt: skip
        lo, hi = ratio_interval(base, new, seed=seed)
        row.update(ci_low=lo, ci_high=hi)
    elif _is_number(base) and _is_number(new):
        row["kind"] = "number"
    else:
        row["kind"] = "value"
        row["changed"] = base != new
        return row
    b, n = row["base"], row["new"]
    row["difference"] = n - b
    row["ratio"] = n / b if b else (math.nan if n else 1.0)
    scale = max(abs(b), abs(n))
    row["changed"] = bool(scale) and (abs(n - b) / scale > tolerance or math.isnan(n) != math.isnan(b))
    return row


def compare(base: dict[str, Any], new: dict[str, Any], *, tolerance: float = TOLERANCE, match: str | None = None,
            seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """One row per figure of the files both sets hold, and one per file or figure only one holds."""
    pattern = re.compile(match) if match else None
    rows: list[dict[str, Any]] = []
    for file in sorted(set(base) | set(new)):
        if file not in new or file not in base:
            if pattern and not pattern.search(f"{file}:"):
                continue
            rows.append({"file": file, "figure": "", "kind": "file", "changed": True,
                         "only_in": "base" if file in base else "new"})  # fmt: skip
            continue
        left, right = dict(flatten(base[file])), dict(flatten(new[file]))
        for key in list(left) + [k for k in right if k not in left]:
            if pattern and not pattern.search(f"{file}:{key}"):
                continue
            if key not in left or key not in right:
                side = "base" if key in left else "new"
                rows.append({"file": file, "figure": key, "kind": "figure", "changed": True, "only_in": side,
                             side: left.get(key, right.get(key))})  # fmt: skip
                continue
            rows.append(_row(file, key, left[key], right[key], tolerance, seed))
    return rows


def _finite(v: Any) -> Any:
    """``v`` with every NaN or infinite float turned into ``None`` (strict JSON)."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _fmt(v: Any) -> str:
    if _is_number(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    text = json.dumps(v, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def render(rows: list[dict[str, Any]], *, show_all: bool = False) -> str:
    """The rows as a text table grouped by file (only the changed ones unless ``show_all``)."""
    lines: list[str] = []
    current = None
    for r in rows:
        if not (show_all or r["changed"]):
            continue
        if r["file"] != current:
            current = r["file"]
            lines.append(f"\n{current}")
        if r["kind"] in ("file", "figure"):
            lines.append(f"  {r['figure'] or '(whole file)'}: only in {r['only_in']}")
            continue
        text = f"  {r['figure']}: {_fmt(r['base'])} -> {_fmt(r['new'])}"
        if r["kind"] != "value":
            text += f"  ({r['difference']:+.4g}, x{r['ratio']:.3f})"
        if r["kind"] == "sample":
            text += f"  medians of {r['n_base']} and {r['n_new']}, 95 % CI of ratio {r['ci_low']:.3f}-{r['ci_high']:.3f}"
        lines.append(text)
    changed = sum(r["changed"] for r in rows)
    lines.append(f"\n{changed} of {len(rows)} figures differ")
    return "\n".join(lines).lstrip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="Results folder, JSON file or git:REV.")
    parser.add_argument("new", help="Results folder, JSON file or git:REV.")
    parser.add_argument("--all", action="store_true", help="Print every figure, not only those that differ.")
    parser.add_argument("--match", help="Only figures whose 'file:path' matches this regular expression.")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE,
                        help=f"Relative change counted as equal (default {TOLERANCE:g}).")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="Seed of the bootstrap intervals.")
    parser.add_argument("--out", type=Path, help="Also save the rows as JSON here.")
    args = parser.parse_args(argv)
    if not (math.isfinite(args.tolerance) and args.tolerance >= 0):
        parser.error(f"--tolerance must be a finite number >= 0, got {args.tolerance}")
    if args.match:
        try:
            re.compile(args.match)
        except re.error as exc:
            parser.error(f"--match: not a regular expression ({exc})")
    try:
        base, new = load_results(args.base), load_results(args.new)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(base) == 1 and len(new) == 1 and set(base) != set(new):  # two single files: pair them
        new = {next(iter(base)): next(iter(new.values()))}
    rows = compare(base, new, tolerance=args.tolerance, match=args.match, seed=args.seed)
    print(render(rows, show_all=args.all))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"base": args.base, "new": args.new, "tolerance": args.tolerance, "seed": args.seed,
                   "rows": _finite(rows)}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
