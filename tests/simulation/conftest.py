"""Small populations shared by the simulation tests (seeded, a few hundred firms), and the
check that an instrument's reach agrees with its spending (engine and Mesa reference)."""

import numpy as np
import pytest

from innoweave.registry.instruments import INSTRUMENTS
from innoweave.simulation.population import synthetic_population

#: The setting that prices one firm reached a step, for the instruments of a fixed unit cost
#: (the grant, guarantee and tax credit cost what each firm's project or size says).
UNIT_COST = {"talent_subsidy": "cost", "researcher_secondment": "cost",
             "innovation_voucher": "value", "matchmaking_platform": "cost", "joint_lab": "cost",
             "intermediary_funding": "cost_per_introduction",
             "cluster_programme": "cost_per_member", "ip_support": "cost",
             "awareness_campaign": "cost", "collaborative_call": "grant"}


@pytest.fixture(scope="session")
def small_population():
    return synthetic_population(600, seed=11, research_per_firm=1 / 60)


@pytest.fixture(scope="session")
def assert_reach_matches_spending():
    """A check of a run's per-step results against its instruments: an instrument reaches
    firms in exactly the steps it spends, a whole number of them, each at its unit cost where
    it has one; an instrument not in the scenario reaches nobody."""
    def check(df, instruments):
        for key, cfg in instruments.items():
            spend, reach = df[f"spend_{key}"], df[f"reach_{key}"]
            assert ((spend > 0) == (reach > 0)).all(), key
            assert (reach == reach.round()).all() and (reach >= 0).all(), key
            if key in UNIT_COST:
                np.testing.assert_allclose(spend, reach * cfg.setting(UNIT_COST[key]),
                                           rtol=1e-9, atol=1e-9, err_msg=key)
        for key in set(INSTRUMENTS) - set(instruments):
            assert (df[f"reach_{key}"] == 0).all(), key
    return check
