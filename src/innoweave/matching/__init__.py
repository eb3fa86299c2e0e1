"""Partner matchmaking: recommend collaboration partners, explain them, assign them under capacity.

Reads the registry (:class:`~innoweave.registry.frames.RegistryFrames`), learns from past
collaborations, and serves the CLI (``innoweave match``) and the simulation's
matchmaking-platform instrument (:func:`~innoweave.matching.scoring.score_pairs`).
"""

from innoweave.inequality import gini
from innoweave.matching.assignment import Assignment, assign, capacity_from_activity, greedy_assign
from innoweave.matching.protocols import assignment_quality
from innoweave.matching.recommender import MODES, PartnerRecommender, UnknownOrganisation
from innoweave.matching.scoring import DEFAULT_WEIGHTS, score_pairs

__all__ = [
    "DEFAULT_WEIGHTS",
    "MODES",
    "Assignment",
    "PartnerRecommender",
    "UnknownOrganisation",
    "assign",
    "assignment_quality",
    "capacity_from_activity",
    "gini",
    "greedy_assign",
    "score_pairs",
]
