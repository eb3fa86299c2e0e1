"""The registry of the innovation ecosystem: storage, import, export and synthetic data.

Everything else in InnoWeave reads the registry, as a database (:mod:`.db`, :mod:`.models`)
or as frames (:class:`RegistryFrames`).
"""

from innoweave.registry.attributes import AttributeModel, calibration_table
from innoweave.registry.cordis import read_cordis
from innoweave.registry.db import make_engine, session_scope, stats, upgrade
from innoweave.registry.export import export_registry, write_template
from innoweave.registry.files import FileFormatError, import_files
from innoweave.registry.frames import RegistryFrames, load_frames
from innoweave.registry.instruments import INSTRUMENTS, Instrument, RestrictingFactor
from innoweave.registry.kinds import (
    CollaborationMode,
    GrowthStage,
    OrgKind,
    Resource,
    collaboration_mode,
)
from innoweave.registry.ncses import NcsesShares, load_ncses_shares
from innoweave.registry.stages import StageRules, classify_stage, stage_distribution
from innoweave.registry.synth import synthesize
from innoweave.registry.writer import write_frames

__all__ = [
    "INSTRUMENTS",
    "AttributeModel",
    "CollaborationMode",
    "FileFormatError",
    "GrowthStage",
    "Instrument",
    "NcsesShares",
    "OrgKind",
    "RegistryFrames",
    "Resource",
    "RestrictingFactor",
    "StageRules",
    "calibration_table",
    "classify_stage",
    "collaboration_mode",
    "export_registry",
    "import_files",
    "load_frames",
    "load_ncses_shares",
    "make_engine",
    "read_cordis",
    "session_scope",
    "stage_distribution",
    "stats",
    "synthesize",
    "upgrade",
    "write_frames",
    "write_template",
]
