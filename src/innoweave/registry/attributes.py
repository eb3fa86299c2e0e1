"""The attribute model: firm attributes drawn by size class, calibrated to NCSES shares.

Work in progress: the signature below is the agreed interface; the model follows.
"""

from __future__ import annotations

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.ncses import NcsesShares
from innoweave.registry.stages import StageRules
from innoweave.seeding import SeedLike


class AttributeModel:
    """Fills missing firm and research-organisation attributes (flagged synthetic)."""

    def __init__(self, *, shares: NcsesShares | None = None, stage_rules: StageRules | None = None,
                 reference_year: int = 2024) -> None:
        self.shares = shares
        self.stage_rules = stage_rules
        self.reference_year = reference_year

    def complete(self, frames: RegistryFrames, *, seed: SeedLike = None) -> RegistryFrames:
        raise NotImplementedError
