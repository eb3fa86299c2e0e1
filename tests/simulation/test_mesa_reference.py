"""The Mesa reference: same start as the engine, same outputs, seeded, switchable, guarded."""

import importlib.util
import math
import sys

import numpy as np
import pytest

pytest.importorskip("mesa")

from innoweave.simulation.docking import POLICY_MIX  # noqa: E402
from innoweave.simulation.engine import Engine  # noqa: E402
from innoweave.simulation.mesa_reference import (  # noqa: E402
    Firm,
    ReferenceModel,
    ResearchOrganisation,
    benchmark,
)
from innoweave.simulation.params import STAGES, InstrumentConfig, Mechanisms, ModelParams  # noqa: E402
from innoweave.simulation.population import synthetic_population  # noqa: E402


@pytest.fixture(scope="module")
def population():
    return synthetic_population(150, seed=5, research_per_firm=1 / 30)


def test_agents_start_from_the_population_arrays(population):
    model = ReferenceModel(ModelParams(), population, seed=1)
    assert len(model.agents) == len(population)
    for row in (0, 7, len(population) - 1):
        agent = model.orgs[row]
        assert agent.kind == population.kind[row]
        assert agent.capital == pytest.approx(float(population.capital[row]))
        assert agent.held == population.mask[row].tolist()
        assert agent.field == population.field[row].tolist()
        np.testing.assert_allclose(agent.ability, population.ability[row])
    assert len(model.firms) == population.n_firms
    assert all(isinstance(a, ResearchOrganisation) for a in model.research)


def test_outputs_have_the_engine_columns(population):
    params = ModelParams()
    ref = ReferenceModel(params, population, seed=3).run(4)
    eng = Engine(params, population, seed=3).run(4)
    assert list(ref.columns) == list(eng.columns)
    assert ref["step"].tolist() == [0, 1, 2, 3]
    last = ref.iloc[-1]
    assert 0 <= last["share_sme_project"] <= 1
    assert 0 < last["capability_mean"] < 1
    assert last["collab_total"] == last["collab_alliance"] + last["collab_uir"]
    assert last["patents_total"] >= last["patents"]


def test_the_population_is_not_modified(population):
    before = population.capital.copy(), population.ability.copy()
    ReferenceModel(ModelParams(), population, seed=2).run(3)
    np.testing.assert_array_equal(population.capital, before[0])
    np.testing.assert_array_equal(population.ability, before[1])


def test_same_seed_same_run_other_seed_other_run(population):
    a = ReferenceModel(ModelParams(), population, seed=9).run(5)
    b = ReferenceModel(ModelParams(), population, seed=9).run(5)
    c = ReferenceModel(ModelParams(), population, seed=10).run(5)
    assert a.equals(b)
    assert not a.equals(c)


def test_mechanisms_off_freeze_demography_and_collaboration(population):
    params = ModelParams(mechanisms=Mechanisms.none())
    out = ReferenceModel(params, population, seed=4).run(5)
    assert (out["n_firms"] == population.n_firms).all()
    assert (out["collab_total"] == 0).all()
    assert (out["entries"] == 0).all() and (out["exits"] == 0).all()
    assert (out["patents"] == 0).all()
    assert out["share_sme_project"].sum() > 0  # intent is always on


def test_instruments_spend_within_their_budgets(population):
    instruments = {
        "talent_subsidy": InstrumentConfig.from_dict("talent_subsidy", {"budget": 3.0}),
        "awareness_campaign": InstrumentConfig.from_dict(
            "awareness_campaign", {"budget": 1.0, "targeting": "need"}),
        "matchmaking_platform": InstrumentConfig.from_dict("matchmaking_platform",
                                                           {"budget": 1.0}),
    }
    base = ReferenceModel(ModelParams(), population, seed=6).run(4)
    policy = ReferenceModel(ModelParams(), population, instruments=instruments, seed=6).run(4)
    assert (policy["spend_talent_subsidy"] == 3.0).all()
    assert (policy["spend_awareness_campaign"] <= 1.0 + 1e-9).all()
    assert (policy["spend_matchmaking_platform"] <= 1.0 + 1e-9).all()
    assert policy["mean_talent"].iloc[-1] > base["mean_talent"].iloc[-1]
    assert (base["spend_total"] == 0).all()


def test_every_instrument_reaches_the_firms_it_pays_for(population,
                                                       assert_reach_matches_spending):
    instruments = {key: InstrumentConfig.from_dict(key, dict(table))
                   for key, table in POLICY_MIX.items()}
    df = ReferenceModel(ModelParams(), population, instruments=instruments, seed=3).run(8)
    assert_reach_matches_spending(df, instruments)
    reached = [key for key in instruments if df[f"reach_{key}"].sum() > 0]
    assert len(reached) >= 11, sorted(set(instruments) - set(reached))


def test_bad_input_is_refused(population):
    empty = synthetic_population(1, seed=1)
    for name in ("kind", "region"):
        setattr(empty, name, getattr(empty, name)[:0])
    with pytest.raises(ValueError, match="population"):
        ReferenceModel(ModelParams(), empty, seed=1)
    with pytest.raises(ValueError, match="population"):
        ReferenceModel(ModelParams(), None, seed=1)
    with pytest.raises(ValueError, match="steps"):
        ReferenceModel(ModelParams(), population, seed=1).run(0)


def test_entrants_are_firm_agents_within_the_row_capacity(population):
    model = ReferenceModel(ModelParams(), population, seed=8)
    out = model.run(12)
    added = len(model.orgs) - len(population)
    assert added == out["entries"].sum()
    assert len(model.orgs) <= model.row_capacity
    assert all(isinstance(a, Firm) and a.age < 3.0 for a in model.orgs[len(population):])


def test_runs_on_a_population_from_registry_frames():
    from innoweave.registry.synth import synthesize
    from innoweave.simulation.population import population_from_frames

    population = population_from_frames(synthesize(n_smes=80, seed=1), seed=2)
    out = ReferenceModel(None, population, seed=3).run(3)
    assert out["n_firms"].iloc[0] > 0
    assert (out["capability_mean"] > 0).all()


def test_benchmark_reports_and_extrapolates():
    full = benchmark(120, 2, seed=1)
    assert full["agent_steps_per_s"] > 0 and not full["extrapolated"]
    assert full["steps_run"] == 2
    cut = benchmark(120, 5, seed=1, max_seconds=0.0)
    assert cut["steps_run"] == 1 and cut["extrapolated"]
    assert math.isfinite(cut["agent_steps_per_s"])


def test_missing_mesa_gives_a_clear_message(monkeypatch):
    import innoweave.simulation.mesa_reference as module

    spec = importlib.util.spec_from_file_location("_mesa_reference_copy", module.__file__)
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "mesa", None)
    with pytest.raises(ImportError, match=r"innoweave\[mesa\]"):
        spec.loader.exec_module(copy)


def test_the_grant_call_funds_applicants_within_its_budget(population):
    """The reference's R&D grant call, as the engine's: grants only for projects started, within
    the step's budget, and with more applicants than money most of the budget spent."""
    budget = 2.0
    grant = {"rd_grant": InstrumentConfig.from_dict("rd_grant", {"budget": budget,
                                                                 "stages": list(STAGES)})}
    model = ReferenceModel(ModelParams(), population, instruments=grant, seed=4)
    out = model.run(8)
    spent = out["spend_rd_grant"].iloc[1:]
    assert (spent <= budget + 1e-9).all()
    assert spent.mean() >= 0.6 * budget
    assert out["spend_rd_grant"].iloc[0] == 0  # the call opens after the first phase 6


def test_secondments_stay_within_their_hosts_capacity(population):
    instruments = {"researcher_secondment": InstrumentConfig.from_dict(
        "researcher_secondment", {"budget": 100.0, "stages": list(STAGES)})}
    model = ReferenceModel(ModelParams(), population, instruments=instruments, seed=2)
    df = model.run(6)
    hosted = model.hosted_counts()
    assert hosted and all(n <= model.orgs[row].capacity for row, n in hosted.items())
    assert any(n == model.orgs[row].capacity for row, n in hosted.items())  # it binds
    assert (df["reach_researcher_secondment"] <= sum(o.capacity for o in model.research)).all()


def test_the_price_effect_adds_projects_in_the_reference_too():
    """The reference writes the user-cost term again: grants raise the projects of the firms
    the call funds beyond those short of funds (seeds 1-3: +13 % to +42 % with elasticity 1)."""
    from dataclasses import replace

    pop = synthetic_population(300, seed=6, research_per_firm=1 / 30)
    inst = {"rd_grant": InstrumentConfig.from_dict("rd_grant", {"budget": 20.0,
                                                                "stages": list(STAGES)})}
    totals = {}
    for elasticity in (0.0, 1.0):
        params = ModelParams(intent=replace(ModelParams().intent, price_elasticity=elasticity))
        totals[elasticity] = sum(
            (df["share_sme_project"] * df["n_smes"]).sum()
            for df in (ReferenceModel(params, pop, instruments=inst, seed=s).run(8)
                       for s in (1, 2, 3)))
    assert totals[1.0] > 1.1 * totals[0.0]


def test_the_voucher_programme_learns_its_rate_of_use_in_the_reference_too():
    """The reference's vouchers: counted at face value (learn_use = 0) few are out and little is
    spent; the learned rate keeps out what the budget pays at it, never more than a step's
    budget (400 firms, 12 steps: 18 vs 5 spent, 71 vs 12 vouchers out)."""
    pop = synthetic_population(400, seed=6, research_per_firm=1 / 30)
    runs = {}
    for learn in (0, 1):
        inst = {"innovation_voucher": InstrumentConfig.from_dict(
            "innovation_voucher", {"budget": 3.0, "learn_use": learn})}
        model = ReferenceModel(ModelParams(), pop, instruments=inst, seed=2)
        df = model.run(12)
        assert (df["spend_innovation_voucher"] <= 3.0 + 1e-9).all()
        out = sum(1 for f in model.firms if f.voucher_left > 0)
        runs[learn] = (df["spend_innovation_voucher"].sum(), out, model.government)
    assert runs[1][0] > 2 * runs[0][0] and runs[1][1] > 3 * runs[0][1]
    gov = runs[1][2]
    assert gov.voucher_rate() == (gov.voucher_presented + 1) / (gov.voucher_exposure + 1) < 0.2
    assert runs[1][1] <= 3.0 / gov.voucher_rate()
