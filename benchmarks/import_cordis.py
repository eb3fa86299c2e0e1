"""Benchmark of the CORDIS import: the whole of ``shared/data/cordis_de`` into a fresh registry.

Target (issue 2): reading and writing all 6,542 organisations, 18,030 projects and 36,985
participations into a fresh SQLite file takes under 30 s on 2 cores. Each repeat creates a
new database, migrates it, reads the CORDIS files (``read_cordis``), writes them
(``write_frames``) and writes them a second time (the upsert that must change nothing).
Wall and CPU seconds are recorded separately, with the load average, because the machine
may be shared. With ``INNOWEAVE_BENCH_POSTGRES_URL`` set to a PostgreSQL server URL
(``postgresql://user@host:port``, a role allowed to create databases) the same runs go to a
fresh PostgreSQL database per repeat as well.

    .venv/bin/python benchmarks/import_cordis.py              # 3 repeats, SQLite
    INNOWEAVE_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432 \\
        .venv/bin/python benchmarks/import_cordis.py

``--files csv json xlsx`` also times the file round trip of the whole registry: export
from the SQLite registry, then validated import into a fresh SQLite file (XLSX goes through
openpyxl and takes about a minute each way).

Prints the figures and saves them to ``benchmarks/results/import_cordis.json``. No
randomness is involved.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy
from configurations import results_dir
from sqlalchemy import create_engine, text

import innoweave
from innoweave.config import default_data_dir
from innoweave.registry.cordis import read_cordis
from innoweave.registry.db import make_engine, stats, upgrade
from innoweave.registry.writer import write_frames

RESULTS = results_dir()
TARGET_S = 30.0
EXPECTED = {"organisations": 6542, "projects": 18030, "participations": 36985}


def _timed(fn: Callable, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    return value, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def one_run(folder: Path, url: str) -> dict:
    """Read and write the CORDIS folder into the fresh database at ``url``."""
    engine = make_engine(url)
    _, migrate_s, _ = _timed(lambda: upgrade(engine))
    frames, read_s, read_cpu = _timed(lambda: read_cordis(folder))
    _, write_s, write_cpu = _timed(lambda: write_frames(engine, frames))
    counts = stats(engine)
    _, rewrite_s, rewrite_cpu = _timed(lambda: write_frames(engine, frames))
    engine.dispose()
    found = {k: counts[k] for k in EXPECTED}
    if found != EXPECTED:
        raise SystemExit(f"import incomplete: {found} != {EXPECTED}")
    return {
        "migrate_s": migrate_s,
        "read_s": read_s, "read_cpu_s": read_cpu,
        "write_s": write_s, "write_cpu_s": write_cpu,
        "import_s": round(read_s + write_s, 3),
        "reimport_write_s": rewrite_s, "reimport_write_cpu_s": rewrite_cpu,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }  # fmt: skip


def summarise(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if k.endswith("_s")]
    return {k: {"median": statistics.median(r[k] for r in runs), "min": min(r[k] for r in runs)} for k in keys}


def file_round_trips(folder: Path, formats: list[str]) -> dict:
    """Export the CORDIS registry in each format and import it into a fresh SQLite file."""
    from innoweave.registry.export import export_registry
    from innoweave.registry.files import import_files

    out = {}
    with tempfile.TemporaryDirectory(prefix="innoweave-bench-") as tmp:
        source = make_engine(f"sqlite:///{Path(tmp) / 'source.db'}")
        upgrade(source)
        write_frames(source, read_cordis(folder))
        for fmt in formats:
            path = Path(tmp) / (f"export.{fmt}" if fmt != "csv" else "export")
            _, export_s, export_cpu = _timed(export_registry, source, path, format=fmt)
            target = make_engine(f"sqlite:///{Path(tmp) / f'{fmt}.db'}")
            result, import_s, import_cpu = _timed(import_files, [path], engine=target)
            if result.errors or {k: stats(target)[k] for k in EXPECTED} != EXPECTED:
                raise SystemExit(f"{fmt} round trip incomplete: {result.errors[:3]}")
            target.dispose()
            out[fmt] = {"export_s": export_s, "export_cpu_s": export_cpu, "import_s": import_s,
                        "import_cpu_s": import_cpu, "load_average_1min": round(os.getloadavg()[0], 2)}  # fmt: skip
            print(f"  {fmt}: {out[fmt]}")
        source.dispose()
    return out


def sqlite_runs(folder: Path, repeats: int) -> list[dict]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="innoweave-bench-") as tmp:
        for i in range(repeats):
            runs.append(one_run(folder, f"sqlite:///{Path(tmp) / f'registry-{i}.db'}"))
            print(f"  sqlite run {i + 1}: {runs[-1]}")
    return runs


def postgres_runs(folder: Path, repeats: int, server: str) -> tuple[list[dict], str]:
    server = server.rstrip("/")
    if server.startswith("postgresql://"):
        server = "postgresql+psycopg://" + server[len("postgresql://") :]
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = conn.execute(text("show server_version")).scalar()
    runs = []
    for i in range(repeats):
        name = f"innoweave_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            runs.append(one_run(folder, f"{server}/{name}"))
            print(f"  postgresql run {i + 1}: {runs[-1]}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
    return runs, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir() / "cordis_de")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--files", nargs="*", default=[], choices=["csv", "json", "xlsx"],
                        help="also time the export/import round trip in these formats")
    args = parser.parse_args()
    if not (args.data / "organisations.csv.gz").exists():
        raise SystemExit(f"CORDIS data absent: {args.data}")

    print(f"CORDIS import benchmark: {args.data}, {args.repeats} repeats")
    result: dict = {
        "benchmark": "import_cordis",
        "data": args.data.name,  # the dataset folder, not this machine's path to it
        "repeats": args.repeats,
        "target_s": TARGET_S,
        "records": EXPECTED,
        "environment": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "innoweave": innoweave.__version__,
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "pandas": pd.__version__,
            "sqlite": sqlite3.sqlite_version,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
    }
    runs = sqlite_runs(args.data, args.repeats)
    result["sqlite"] = {"runs": runs, "summary": summarise(runs)}
    median_import = result["sqlite"]["summary"]["import_s"]["median"]
    result["sqlite"]["target_met"] = median_import < TARGET_S
    print(f"SQLite: import (read + write) median {median_import:.2f} s "
          f"(read {result['sqlite']['summary']['read_s']['median']:.2f} s, "
          f"write {result['sqlite']['summary']['write_s']['median']:.2f} s); target < {TARGET_S:g} s: "
          f"{'met' if result['sqlite']['target_met'] else 'NOT met'}")  # fmt: skip

    server = os.environ.get("INNOWEAVE_BENCH_POSTGRES_URL")
    if server:
        import psycopg

        pg_runs, version = postgres_runs(args.data, args.repeats, server)
        result["postgresql"] = {"runs": pg_runs, "summary": summarise(pg_runs),
                                "server_version": version, "psycopg": psycopg.__version__}  # fmt: skip
        s = result["postgresql"]["summary"]
        print(f"PostgreSQL {version}: import median {s['import_s']['median']:.2f} s "
              f"(read {s['read_s']['median']:.2f} s, write {s['write_s']['median']:.2f} s)")  # fmt: skip

    if args.files:
        print("file round trips of the whole registry (SQLite):")
        result["file_round_trip"] = file_round_trips(args.data, args.files)

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "import_cordis.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
