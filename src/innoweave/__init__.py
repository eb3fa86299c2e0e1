"""InnoWeave: government-guided collaborative innovation for manufacturing SMEs.

The flow is registry → analyses (diagnosis, matchmaking, clusters) → policy simulation →
interfaces (CLI; a web platform later). This namespace re-exports the main objects of each
capability; the analysis and simulation packages are imported on first use, so the command
line starts quickly.
"""

from __future__ import annotations

import importlib

from innoweave._version import __version__
from innoweave.inequality import gini
from innoweave.registry import (
    INSTRUMENTS,
    AttributeModel,
    CollaborationMode,
    GrowthStage,
    OrgKind,
    RegistryFrames,
    Resource,
    StageRules,
    classify_stage,
    export_registry,
    import_files,
    load_frames,
    make_engine,
    read_cordis,
    synthesize,
    write_frames,
)
from innoweave.seeding import make_rng, spawn_seeds

_LAZY = {
    "innoweave.diagnosis": ["CompositeIndex", "SMEDiagnoser", "UncertaintyAnalysis", "reproduce_eis"],
    "innoweave.matching": ["PartnerRecommender", "assign", "score_pairs"],
    "innoweave.clusters": [
        "ClusterRelatedness", "ClusterStars", "CollaborationCommunities", "Crosswalk",
        "LocationQuotients", "SpatialClusters", "StrongClusters", "reproduce_uscmp",
    ],  # fmt: skip
    "innoweave.simulation": [
        "Engine", "InstrumentMenu", "ModelParams", "Scenario", "compare_scenarios",
        "example_scenarios", "load_scenario",
        "plot_comparison", "run_scenario", "synthetic_population",
    ],  # fmt: skip
}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "INSTRUMENTS",
    "AttributeModel",
    "CollaborationMode",
    "GrowthStage",
    "OrgKind",
    "RegistryFrames",
    "Resource",
    "StageRules",
    "__version__",
    "classify_stage",
    "export_registry",
    "gini",
    "import_files",
    "load_frames",
    "make_engine",
    "make_rng",
    "read_cordis",
    "spawn_seeds",
    "synthesize",
    "write_frames",
    *sorted(_WHERE),
]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'innoweave' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
