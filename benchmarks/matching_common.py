"""Shared bits of the matching benchmarks: sizes, the environment record and saving results."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

from configurations import results_dir

import innoweave

RESULTS = results_dir()

#: small sizes for a quick check, large ones are the issue's targets
SIZES = {
    "scale": {"small": {"n_sme": 20_000, "n_cand": 50_000}, "large": {"n_sme": 200_000, "n_cand": 50_000}},
    "assign": {"small": {"n_sme": 10_000, "n_cand": 5_000}, "large": {"n_sme": 100_000, "n_cand": 50_000}},
}


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def environment() -> dict:
    return {
        "innoweave": innoweave.__version__,
        "python": platform.python_version(),
        "cpus_visible": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    print(f"saved {path}")
    return path
