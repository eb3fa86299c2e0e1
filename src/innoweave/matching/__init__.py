"""Partner matchmaking: recommend collaboration partners, explain them, assign them under capacity.

Reads the registry (:class:`~innoweave.registry.frames.RegistryFrames`), learns from past
collaborations, and serves the CLI (``innoweave match``) and the simulation's
matchmaking-platform instrument (:func:`~innoweave.matching.scoring.score_pairs`).
"""

from innoweave.matching.scoring import DEFAULT_WEIGHTS, score_pairs

__all__ = ["DEFAULT_WEIGHTS", "score_pairs"]
