"""A synthetic innovation ecosystem. Work in progress: the signature is the agreed interface."""

from __future__ import annotations

from innoweave.registry.frames import RegistryFrames
from innoweave.seeding import SeedLike


def synthesize(*, n_smes: int, seed: SeedLike = 0, n_regions: int | None = None,
               n_clusters: int | None = None, years: tuple[int, int] = (2014, 2023),
               shares=None) -> RegistryFrames:
    raise NotImplementedError
