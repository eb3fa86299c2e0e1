"""Stylised facts machinery on a small run: every fact is measured and stated with numbers."""

import numpy as np
import pytest

from innoweave.simulation.stylised import (
    StylisedFacts,
    _RunTrace,
    adoption_speed,
    half_adoption_time,
    partner_counts,
)


@pytest.fixture(scope="module")
def facts():
    return StylisedFacts(n_firms=300, steps=9, replications=2, seed=3).fit()


def test_every_fact_has_a_verdict_criterion_and_numbers(facts):
    assert set(facts.facts_) == {"heavy_tailed_partnerships",
                                 "research_raises_capability_variety_diffusion",
                                 "research_linked_firms_more_attractive"}
    for fact in facts.facts_.values():
        assert isinstance(fact["passed"], bool)
        assert fact["criterion"]
    tail = facts.facts_["heavy_tailed_partnerships"]
    assert tail["organisations"] == facts.degrees_.size > 0
    assert tail["max_partners"] >= tail["mean_partners"] >= 1
    effect = facts.facts_["research_raises_capability_variety_diffusion"]
    for metric in ("capability", "variety", "diffusion"):
        assert set(effect[metric]["means"]) == {"few", "default", "many"}
        lo, hi = effect[metric]["ci95"]
        assert lo <= effect[metric]["improvement_many_vs_few"] <= hi
    attractive = facts.facts_["research_linked_firms_more_attractive"]
    if attractive["research_linked_firms"] and attractive["firm_only_firms"]:
        lo, hi = attractive["ci95"]
        assert lo <= attractive["difference"] <= hi
        assert attractive["difference"] == pytest.approx(
            attractive["gain_research_linked"] - attractive["gain_firm_only"])
    assert facts.passed_ == all(f["passed"] for f in facts.facts_.values())
    report = facts.report()
    assert report["settings"]["replications"] == 2


def test_plots_are_written(facts, tmp_path):
    paths = facts.plot(tmp_path)
    assert len(paths) == 3
    for path in paths:
        assert path.suffix == ".png" and path.stat().st_size > 1000


def test_partner_counts_and_adoption_on_a_known_trace():
    trace = _RunTrace.__new__(_RunTrace)
    trace.pairs = [(np.array([0, 1]), np.array([5, 5])), (np.array([0, 2]), np.array([5, 3]))]
    trace.first_success = {0: 0, 1: 2}
    counts = partner_counts(trace)
    # organisation 5 has partners 0 and 1; 0, 1, 2, 3 one each; the repeated 0-5 counts once
    assert sorted(counts.tolist()) == [1, 1, 1, 1, 2]
    firms = np.array([0, 1, 2, 3])
    assert adoption_speed(trace, firms, 4) == pytest.approx(np.mean([0.25, 0.25, 0.5, 0.5]))
    assert half_adoption_time(trace, firms, 4) == 3.0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="replications"):
        StylisedFacts(n_firms=100, steps=8, replications=1).fit()
