"""Diagnosis: composite indices, the EIS 2023 reproduction, and SME profiles with support that fits.

The first analysis on top of the registry. :mod:`.composite` is a general composite-indicator
engine (indicators -> dimensions -> index) and :mod:`.uncertainty` its Monte Carlo and Sobol
analysis; :mod:`.eis` rebuilds the European Innovation Scoreboard 2023 with it;
:mod:`.sme` profiles each SME on the seed paper's six restricting factors, from the registry
and the questionnaire of :mod:`.questionnaire`, against its peers, and recommends the
instruments of :mod:`innoweave.registry.instruments` that fit its weakest factors and growth
stage. :mod:`.plots` draws the radar and the ranking. The simulation consumes the
recommendations; the CLI (``innoweave diagnose``) exposes all of it.
"""

from innoweave.diagnosis.composite import CompositeIndex, Hierarchy, IndicatorData
from innoweave.diagnosis.eis import eis_uncertainty, reproduce_eis
from innoweave.diagnosis.questionnaire import Questionnaire, load_questionnaire, score_answers
from innoweave.diagnosis.sme import SMEDiagnoser, UnknownOrganisation
from innoweave.diagnosis.uncertainty import UncertaintyAnalysis

__all__ = [
    "CompositeIndex",
    "Hierarchy",
    "IndicatorData",
    "Questionnaire",
    "SMEDiagnoser",
    "UncertaintyAnalysis",
    "UnknownOrganisation",
    "eis_uncertainty",
    "load_questionnaire",
    "reproduce_eis",
    "score_answers",
]
