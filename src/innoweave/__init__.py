"""InnoWeave: government-guided collaborative innovation for manufacturing SMEs.

The flow is registry → analyses (diagnosis, matchmaking, clusters) → policy simulation →
interfaces (CLI, later the web platform). This namespace re-exports the main objects.
"""

from innoweave._version import __version__
from innoweave.registry import (
    CollaborationMode,
    GrowthStage,
    OrgKind,
    RegistryFrames,
    Resource,
    load_frames,
    make_engine,
    read_cordis,
    write_frames,
)
from innoweave.seeding import make_rng, spawn_seeds

__all__ = [
    "CollaborationMode",
    "GrowthStage",
    "OrgKind",
    "RegistryFrames",
    "Resource",
    "__version__",
    "load_frames",
    "make_engine",
    "make_rng",
    "read_cordis",
    "spawn_seeds",
    "write_frames",
]
