"""Every benchmark with its small (quick check) and large (the issue's target) configuration.

Each entry is the argument list of one script in this folder; ``run_all.py`` runs them.
Every script prints its figures and saves them as JSON in ``results_dir()``: the documented
figures (``--size large`` and the commands the docs name) in ``benchmarks/results/``, the quick
check (``--size small``, ``make bench``) apart in ``benchmarks/results/small/``, so that it
never overwrites a documented figure and ``make bench-compare`` compares like with like.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the environment variable naming the folder the scripts save in (set by ``run_all.py``)
RESULTS_ENV = "INNOWEAVE_BENCH_RESULTS"
#: where each size's results go
RESULTS_FOLDERS = {"small": HERE / "results" / "small", "large": HERE / "results"}


def results_dir() -> Path:
    """The folder this run's scripts save in: ``$INNOWEAVE_BENCH_RESULTS``, else ``benchmarks/results``."""
    return Path(os.environ.get(RESULTS_ENV) or HERE / "results")

CONFIGURATIONS: dict[str, dict[str, list[str]]] = {
    "import_cordis": {
        "small": ["import_cordis.py", "--repeats", "1"],
        "large": ["import_cordis.py"],
    },
    "synth": {
        "small": ["synth.py", "--sizes", "10000"],
        "large": ["synth.py"],
    },
    "diagnosis": {
        "small": ["diagnosis.py", "--size", "small"],
        "large": ["diagnosis.py"],
    },
    "clusters": {
        "small": ["clusters_network.py", "cordis"],
        "large": ["clusters_network.py", "synthetic"],
    },
    "matching_cordis": {
        "small": ["matching_cordis.py"],
        "large": ["matching_cordis.py"],
    },
    "matching_quality": {
        "small": ["matching_quality.py"],
        "large": ["matching_quality.py"],
    },
    "matching_ceiling": {
        "small": ["matching_ceiling.py"],
        "large": ["matching_ceiling.py"],
    },
    "matching_splits": {
        "small": ["matching_splits.py"],
        "large": ["matching_splits.py"],
    },
    "matching_generic_scale": {
        "small": ["matching_generic_scale.py", "--smes", "20000"],
        "large": ["matching_generic_scale.py", "--smes", "100000"],
    },
    "matching_fit_scale": {
        "small": ["matching_fit_scale.py", "--smes", "30000"],
        "large": ["matching_fit_scale.py", "--smes", "100000"],
    },
    "matching_scale": {
        "small": ["matching_scale.py", "small"],
        "large": ["matching_scale.py", "large"],
    },
    "matching_assign": {
        "small": ["matching_assign.py", "small"],
        "large": ["matching_assign.py", "large"],
    },
    "simulation_idle": {
        "small": ["simulation_idle.py", "--rounds", "3", "--steps", "10"],
        "large": ["simulation_idle.py", "--rounds", "20"],
    },
    "simulation_vs_mesa": {
        "small": ["simulation.py", "--firms", "2000", "--steps", "10", "--vs-mesa", "--json"],
        "large": ["simulation.py", "--firms", "10000", "--steps", "20", "--vs-mesa", "--json"],
    },
    "simulation_sizes": {
        "small": ["simulation.py", "--sizes", "10000,100000", "--steps", "10", "--json"],
        "large": ["simulation.py", "--sizes", "10000,100000,1000000", "--steps", "10", "--json"],
    },
    "stylised_facts": {
        # The documented run (~30 s): at 500 firms and 3 replications two of the three
        # facts' tests have too little data to pass, which says nothing about the model.
        "small": ["stylised_facts.py"],
        "large": ["stylised_facts.py"],
    },
}
