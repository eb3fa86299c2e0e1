"""Policy simulation: the collaborative innovation model (CIM) and its scenarios.

The last analytical layer of the flow registry -> analyses -> simulation -> interfaces: a
population built from the registry (or a synthetic generator) is stepped through the
eight phases of ``docs/model.md`` by a vectorised engine, under the government instruments
of a scenario file, and compared with other scenarios with common random numbers — or each
instrument alone at one budget, as a menu (``InstrumentMenu``).
"""

from innoweave.simulation.calibration import Calibration
from innoweave.simulation.engine import Engine
from innoweave.simulation.menu import InstrumentMenu
from innoweave.simulation.params import InstrumentConfig, Mechanisms, ModelParams
from innoweave.simulation.population import (
    Population,
    population_from_frames,
    synthetic_population,
)
from innoweave.simulation.runner import compare_scenarios, plot_comparison, run_scenario
from innoweave.simulation.scenario import Scenario, ScenarioError, example_scenarios, load_scenario

__all__ = [
    "Calibration",
    "Engine",
    "InstrumentConfig",
    "InstrumentMenu",
    "Mechanisms",
    "ModelParams",
    "Population",
    "Scenario",
    "ScenarioError",
    "compare_scenarios",
    "example_scenarios",
    "load_scenario",
    "plot_comparison",
    "population_from_frames",
    "run_scenario",
    "synthetic_population",
]
