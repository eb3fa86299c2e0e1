"""The EIS 2023 reproduction (real data) and the uncertainty analysis (synthetic and real)."""

from __future__ import annotations

import numpy as np
import pytest

from innoweave.diagnosis.composite import CompositeIndex, Hierarchy, IndicatorData
from innoweave.diagnosis.uncertainty import UncertaintyAnalysis


def test_eis_reproduction(eis_csv):
    from innoweave.diagnosis.eis import reproduce_eis

    result, model = reproduce_eis(eis_csv.parent.parent)
    assert result["sii"]["compared"] == 216
    assert result["sii"]["within_0.001"] == 216
    assert result["sii"]["max_abs_error"] <= 0.001
    assert result["dimensions"]["n_dimensions"] == 11
    assert result["dimensions"]["within_0.001"] == result["dimensions"]["compared"] == 11 * 216
    assert result["groups"] == result["groups"] | {"compared": 38, "matched": 38}
    # spot values of the README, recomputed
    scores = model.scores().set_index(["unit", "year"])["SII"]
    for (unit, year), published in {("EU Average", 2023): 108.467, ("SE", 2016): 135.486,
                                    ("DK", 2023): 149.243, ("RO", 2023): 35.852}.items():
        assert scores[(unit, year)] == pytest.approx(published, abs=0.001)


def test_eis_uncertainty_small(eis_csv):
    from innoweave.diagnosis.eis import eis_uncertainty

    ua, sobol = eis_uncertainty(eis_csv.parent.parent, n_draws=20, sobol_base=4, seed=7)
    s = ua.summary_
    assert len(s) == 38 and "EU Average" not in set(s["unit"])
    assert (s["rank_p05"] <= s["median_rank"]).all() and (s["median_rank"] <= s["rank_p95"]).all()
    assert set(sobol["choice"]) == {"normalisation", "aggregation", "weighting", "exclusion"}


def _toy():
    rng = np.random.default_rng(1)
    values = rng.uniform(1, 10, size=(12, 2, 6))
    data = IndicatorData(values, [f"u{i}" for i in range(12)], [2020, 2021], list("abcdef"))
    h = Hierarchy({"x": ["a", "b", "c"], "y": ["d", "e", "f"]})
    return data, CompositeIndex(h)


CHOICES = {
    "normalisation": [{"normalisation": "minmax"}, {"normalisation": "rank"}],
    "aggregation": [{"aggregation": "arithmetic"}, {"aggregation": "geometric"}],
    "weighting": [{"weights": "equal"}, {"weights": "pca", "index_from": "dimensions"}],
}


def test_uncertainty_is_seeded_and_intervals_contain_median():
    data, base = _toy()
    a = UncertaintyAnalysis(base, CHOICES, n_draws=50, fixed={"scale": (1, 100)}, seed=3).fit(data)
    b = UncertaintyAnalysis(base, CHOICES, n_draws=50, fixed={"scale": (1, 100)}, seed=3).fit(data)
    assert a.ranks_.equals(b.ranks_)
    assert a.meta_["n_draws"] == 50 and a.meta_["seed"] == 3 and a.meta_["distinct_combinations"] <= 8
    s = a.summary_
    assert ((s["rank_p05"] <= s["median_rank"]) & (s["median_rank"] <= s["rank_p95"])).all()
    assert s["median_rank"].between(1, 12).all()


def test_sobol_indices_via_salib():
    data, base = _toy()
    ua = UncertaintyAnalysis(base, CHOICES, n_draws=10, fixed={"scale": (1, 100)}, seed=0).fit(data)
    idx = ua.sobol(n_base=16, seed=0)
    assert list(idx.columns) == ["choice", "S1", "S1_conf", "ST", "ST_conf"]
    assert ua.sobol_meta_["evaluations"] == 16 * (3 + 2)
    with pytest.raises(ValueError, match="power of two"):
        ua.sobol(n_base=10)


def test_uncertainty_bad_choices():
    data, base = _toy()
    with pytest.raises(ValueError, match="unknown settings"):
        UncertaintyAnalysis(base, {"x": [{"colour": "red"}]}).fit(data)
    with pytest.raises(ValueError, match="no alternatives"):
        UncertaintyAnalysis(base, {"x": []}).fit(data)
    with pytest.raises(RuntimeError, match="fit"):
        UncertaintyAnalysis(base, CHOICES).sobol()


def test_switzerland_recomputed_below_published(eis_csv):
    """docs/diagnosis.md: three indicators of Switzerland are "n/a" in the export, so its
    recomputed 2023 SII (146.2) falls below the published 151.4 and Denmark ranks first."""
    from innoweave.diagnosis.eis import load_eis, reproduce_eis

    eis = load_eis(eis_csv)
    rows = eis[(eis["level"] == "indicator") & (eis["country"] == "CH") & (eis["year"] == 2023)]
    assert sorted(rows.loc[rows["value"].isna(), "indicator_code"]) == ["2.2.2", "2.2.3", "2.3.1"]
    _, model = reproduce_eis(eis_csv.parent.parent)
    sii = model.scores().set_index(["unit", "year"])["SII"]
    assert sii[("CH", 2023)] == pytest.approx(146.2, abs=0.05)
    assert sii[("CH", 2023)] < sii[("DK", 2023)]
    published = eis[(eis["level"] == "index") & (eis["country"] == "CH") & (eis["year"] == 2023)]["value"]
    assert published.iloc[0] == pytest.approx(151.393)
