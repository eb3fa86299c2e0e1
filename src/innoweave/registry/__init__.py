"""The registry of the innovation ecosystem: storage, import, export and synthetic data.

Everything else in InnoWeave reads the registry, as a database (:mod:`.db`, :mod:`.models`)
or as frames (:class:`RegistryFrames`).
"""

from innoweave.registry.cordis import read_cordis
from innoweave.registry.db import make_engine, session_scope, stats, upgrade
from innoweave.registry.frames import RegistryFrames, load_frames
from innoweave.registry.kinds import CollaborationMode, GrowthStage, OrgKind, Resource, collaboration_mode
from innoweave.registry.writer import write_frames

__all__ = [
    "CollaborationMode",
    "GrowthStage",
    "OrgKind",
    "RegistryFrames",
    "Resource",
    "collaboration_mode",
    "load_frames",
    "make_engine",
    "read_cordis",
    "session_scope",
    "stats",
    "upgrade",
    "write_frames",
]
