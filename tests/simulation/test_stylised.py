"""Stylised facts machinery on a small run: every fact is measured and stated with numbers."""

import math

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
    # fact 1 recomputed from the partner counts: the spread, the tail at 5 x the mean against a
    # Poisson distribution of the same mean (its tail summed term by term here), the verdict
    tail = facts.facts_["heavy_tailed_partnerships"]
    d = facts.degrees_.astype(float)
    assert tail["organisations"] == d.size > 0
    assert tail["max_partners"] >= tail["mean_partners"] >= 1
    mean = d.mean()
    assert tail["mean_partners"] == pytest.approx(mean) and tail["max_partners"] == d.max()
    assert tail["coefficient_of_variation"] == pytest.approx(np.sqrt(((d - mean) ** 2).mean()) / mean)
    threshold = math.ceil(5 * mean)
    below = sum(math.exp(-mean) * mean**j / math.factorial(j) for j in range(threshold))
    assert tail["tail_threshold"] == threshold and tail["tail_share"] == pytest.approx((d >= threshold).mean())
    assert tail["poisson_tail_share"] == pytest.approx(1 - below, rel=1e-6, abs=1e-12)
    assert tail["tail_ratio_vs_poisson"] == pytest.approx(tail["tail_share"] / tail["poisson_tail_share"], rel=1e-6)
    top = np.sort(d)[::-1]
    assert tail["top10_share_of_ties"] == pytest.approx(top[: max(1, d.size // 10)].sum() / d.sum())
    assert tail["passed"] == (tail["coefficient_of_variation"] > 1 and tail["tail_ratio_vs_poisson"] >= 100)
    # fact 2: each metric passes when its means rise over the levels and the CI lies above 0
    effect = facts.facts_["research_raises_capability_variety_diffusion"]
    for metric in ("capability", "variety", "diffusion"):
        assert set(effect[metric]["means"]) == {"few", "default", "many"}
        lo, hi = effect[metric]["ci95"]
        assert lo <= effect[metric]["improvement_many_vs_few"] <= hi
        means = effect[metric]["means"]
        ordered = means["few"] <= means["default"] <= means["many"]
        assert effect[metric]["ordered"] == ordered
        assert effect[metric]["passed"] == (ordered and lo > 0)
    assert effect["passed"] == all(effect[m]["passed"] for m in ("capability", "variety", "diffusion"))
    # fact 3: the difference of the two groups' mean gains, passed when it and its CI are > 0
    attractive = facts.facts_["research_linked_firms_more_attractive"]
    if attractive["research_linked_firms"] and attractive["firm_only_firms"]:
        lo, hi = attractive["ci95"]
        assert lo <= attractive["difference"] <= hi
        assert attractive["difference"] == pytest.approx(
            attractive["gain_research_linked"] - attractive["gain_firm_only"])
        assert attractive["passed"] == (attractive["difference"] > 0 and lo > 0)
    else:
        assert attractive["passed"] is False
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
