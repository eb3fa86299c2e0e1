"""Small populations shared by the simulation tests (seeded, a few hundred firms)."""

import pytest

from innoweave.simulation.population import synthetic_population


@pytest.fixture(scope="session")
def small_population():
    return synthetic_population(600, seed=11, research_per_firm=1 / 60)
