"""Policy simulation: the collaborative innovation model (CIM) and its scenarios.

The last analytical layer of the flow registry -> analyses -> simulation -> interfaces: a
population built from the registry (or the synthetic generator) is stepped through the
eight phases of ``docs/model.md`` by a vectorised engine, under the government instruments
of a scenario file, and compared with other scenarios with common random numbers.
"""

from innoweave.simulation.params import InstrumentConfig, Mechanisms, ModelParams
from innoweave.simulation.population import (
    Population,
    population_from_frames,
    synthetic_population,
)

__all__ = [
    "InstrumentConfig",
    "Mechanisms",
    "ModelParams",
    "Population",
    "population_from_frames",
    "synthetic_population",
]
