"""The composite-indicator engine: each step, the estimator, and the bad-input rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from innoweave.diagnosis.composite import (
    CompositeIndex,
    Hierarchy,
    IndicatorData,
    aggregate,
    impute,
    normalise,
    pca_weights,
    performance_groups,
    transform,
    treat_outliers,
)

H = Hierarchy({"d1": ["a", "b"], "d2": ["c"]})


def panel(values: dict[str, list[list[float]]], units=("u1", "u2", "u3"), years=(2020, 2021)) -> IndicatorData:
    """values[indicator][unit][year]"""
    arr = np.stack([np.asarray(values[i], dtype=float) for i in values], axis=2)
    return IndicatorData(arr, list(units), list(years), list(values))


def simple() -> IndicatorData:
    return panel({
        "a": [[0, 1], [2, 3], [4, 5]],
        "b": [[10, 10], [20, 30], [40, 50]],
        "c": [[1, 2], [3, 4], [5, 6]],
    })


def test_from_long_and_duplicates():
    df = pd.DataFrame({"unit": ["x", "x", "y"], "year": [1, 1, 1], "indicator": ["a", "b", "a"], "value": [1, 2, 3]})
    data = IndicatorData.from_long(df)
    assert data.values.shape == (2, 1, 2)
    assert np.isnan(data.values[1, 0, 1])
    with pytest.raises(ValueError, match="duplicate value for unit 'x'"):
        IndicatorData.from_long(pd.concat([df, df.iloc[:1]]))


def test_hierarchy_rejects_an_indicator_in_two_dimensions():
    with pytest.raises(ValueError, match="'a' is in both"):
        Hierarchy({"d1": ["a"], "d2": ["a"]})


def test_outliers_sd_replaces_by_nearest_normal_value():
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0]).reshape(10, 1, 1)
    out, counts = treat_outliers(x, rule="sd", k=2.0)
    assert out.max() == 9.0 and counts == {0: 1}
    assert np.array_equal(out[:9], x[:9])


def _skew_kurtosis(v: np.ndarray) -> tuple[float, float]:
    """Skewness and excess kurtosis from the (biased) central moments, as scipy's defaults."""
    d = v - v.mean()
    m2 = (d**2).mean()
    return (d**3).mean() / m2**1.5, (d**4).mean() / m2**2 - 3


def test_outliers_skew_kurtosis_stops_when_rule_holds():
    x = np.concatenate([np.ones(30), [2, 3, 1000.0]]).reshape(-1, 1, 1) + np.linspace(0, 0.1, 33).reshape(-1, 1, 1)
    top = np.unique(x)[::-1]  # 1000.1, 3.096875, 2.09375, 1.090625, ...
    # by hand: 1000.1 -> 3.096875 (still skewed), both 3.096875 -> 2.09375 (still skewed), all
    # three -> 1.090625, after which the rule holds; three values changed
    out, counts = treat_outliers(x, rule="skew_kurtosis", max_winsorised=5)
    expected = np.where(x >= top[2], top[3], x)
    np.testing.assert_array_equal(out, expected)
    assert counts == {0: 3}
    skew, kurt = _skew_kurtosis(out.ravel())
    assert not (abs(skew) > 2 and kurt > 3.5)
    # the limit counts steps: one step replaces the single extreme by the next value only
    one, n_one = treat_outliers(x, rule="skew_kurtosis", max_winsorised=1)
    np.testing.assert_array_equal(one, np.where(x == top[0], top[1], x))
    assert n_one == {0: 1}
    # a long left tail is treated from below, the mirror image of the above
    mirrored, n_mirrored = treat_outliers(-x, rule="skew_kurtosis", max_winsorised=5)
    np.testing.assert_array_equal(mirrored, -expected)
    assert n_mirrored == {0: 3}
    # a tie at the extreme: both units are replaced in one step and counted as two values
    tied = np.concatenate([np.ones(40), [5.0, 500.0, 500.0]]).reshape(-1, 1, 1)
    out_tied, n_tied = treat_outliers(tied, rule="skew_kurtosis", max_winsorised=1)
    np.testing.assert_array_equal(out_tied, np.where(tied == 500.0, 5.0, tied))
    assert n_tied == {0: 2}


def test_imputation_carry_and_group_mean():
    x = np.array([[[1.0], [np.nan], [3.0]], [[np.nan], [np.nan], [6.0]]])
    carried, n = impute(x, "carry")
    assert carried[0, 1, 0] == 1.0 and carried[1, 0, 0] == 6.0 and n == 3
    y = np.array([[[1.0]], [[3.0]], [[np.nan]], [[10.0]], [[np.nan]]])
    filled, _ = impute(y, "group_mean", groups=["g", "g", "g", "h", "h"])
    assert filled[2, 0, 0] == 2.0 and filled[4, 0, 0] == 10.0
    with pytest.raises(ValueError, match="unknown imputation"):
        impute(x, "median")


def test_transforms_and_log_of_negative_values_names_unit():
    x = np.array([[[4.0]], [[9.0]]])
    assert transform(x, {0: "sqrt"}, units=["p", "q"], indicators=["a"]).ravel().tolist() == [2.0, 3.0]
    bad = np.array([[[4.0]], [[-1.0]]])
    with pytest.raises(ValueError, match="log transform of indicator 'a' needs values > 0; unit 'q'"):
        transform(bad, {0: "log"}, units=["p", "q"], indicators=["a"])
    with pytest.raises(ValueError, match="needs values >= 0"):
        transform(bad, {0: "log1p"}, units=["p", "q"], indicators=["a"])


def test_minmax_over_all_units_and_a_window_of_years():
    data = simple()
    out, constant = normalise(data.values, method="minmax")
    assert constant == []
    assert np.nanmin(out[:, :, 0]) == 0 and np.nanmax(out[:, :, 0]) == 1
    window = np.array([True, False])  # parameters from 2020 only; 2021 may leave [0, 1]
    out_w, _ = normalise(data.values, method="minmax", window=window)
    assert out_w[2, 0, 0] == 1.0 and out_w[2, 1, 0] == pytest.approx(1.25)


def test_zscore_rank_distance_and_direction():
    data = simple()
    z, _ = normalise(data.values, method="zscore")
    assert np.nanmean(z[:, :, 0]) == pytest.approx(0.0)
    # indicator a holds 0..5: mean 2.5, sample SD sqrt(3.5) (ddof=1, as the EIS)
    np.testing.assert_allclose(z[:, :, 0], (data.values[:, :, 0] - 2.5) / np.sqrt(3.5))
    r, _ = normalise(data.values, method="rank")
    assert r[:, 0, 0].tolist() == [0.0, 0.5, 1.0]
    d, _ = normalise(data.values, method="distance", reference=(1, 0))
    assert d[1, 0, 2] == 1.0 and d[2, 0, 2] == pytest.approx(5 / 3)
    rev, _ = normalise(data.values, method="minmax", directions=np.array([-1, 1, 1]))
    assert rev[0, 0, 0] == 1.0 and rev[2, 1, 0] == 0.0
    with pytest.raises(ValueError, match="needs a reference"):
        normalise(data.values, method="distance")


def test_constant_indicator_is_left_out_and_reported():
    data = panel({"a": [[1, 2], [3, 4], [5, 6]], "b": [[7, 7], [7, 7], [7, 7]], "c": [[1, 1], [2, 2], [3, 3]]})
    model = CompositeIndex(H).fit(data)
    assert model.report_["constant_indicators"] == ["b"]
    assert np.all(np.isnan(model.normalised_[:, :, 1]))
    # d1 is then the score of "a" alone
    np.testing.assert_allclose(model.dimension_scores_[:, :, 0], model.normalised_[:, :, 0])


def test_bounds_score_an_indicator_on_its_known_scale():
    # "b" is constant in the data (everyone answered 0.75 on a 0..1 scale): without bounds it is
    # dropped as constant, with bounds it scores 75 % of the way up the scale
    data = panel({"a": [[1, 2], [3, 4], [5, 6]], "b": [[0.75, 0.75], [0.75, 0.75], [0.75, 0.75]],
                  "c": [[1, 1], [2, 2], [3, 3]]})  # fmt: skip
    model = CompositeIndex(H, bounds={"b": (0.0, 1.0)}, scale=(0.0, 100.0)).fit(data)
    assert model.report_["constant_indicators"] == []
    np.testing.assert_allclose(model.normalised_[:, :, 1], 75.0)
    np.testing.assert_allclose(model.normalised_[:, :, 0], CompositeIndex(H, scale=(0.0, 100.0)).fit(data).normalised_[:, :, 0])
    # one unit with a value, the others missing: it is scored, the others stay missing
    one = panel({"a": [[1, 2], [3, 4], [5, 6]], "b": [[0.2, 0.2], [np.nan, np.nan], [np.nan, np.nan]],
                 "c": [[1, 1], [2, 2], [3, 3]]})  # fmt: skip
    scores = CompositeIndex(H, bounds={"b": (0.0, 1.0)}).fit(one).normalised_[:, :, 1]
    np.testing.assert_allclose(scores[0], 0.2)
    assert np.isnan(scores[1:]).all()
    # a reversed indicator (lower is better) is reversed on its bounds
    rev = CompositeIndex(H, bounds={"b": (0.0, 1.0)}, directions={"b": -1}).fit(data)
    np.testing.assert_allclose(rev.normalised_[:, :, 1], 0.25)
    # no value at all: left out and reported as before
    empty = panel({"a": [[1, 2], [3, 4], [5, 6]], "b": [[np.nan] * 2] * 3, "c": [[1, 1], [2, 2], [3, 3]]})
    assert CompositeIndex(H, bounds={"b": (0.0, 1.0)}).fit(empty).report_["constant_indicators"] == ["b"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"bounds": {"b": (1.0, 0.0)}}, "bounds of 'b' must be two finite numbers, minimum < maximum"),
        ({"bounds": {"b": (0.0, np.inf)}}, "two finite numbers"),
        ({"bounds": {"zz": (0.0, 1.0)}}, r"bounds name indicators \['zz'\] not in the hierarchy"),
        ({"bounds": {"b": (0.0, 1.0)}, "normalisation": "zscore"}, "bounds apply to minmax normalisation"),
        ({"bounds": {"b": (0.0, 20.0)}, "transform": {"b": "log"}}, None),
        ({"bounds": {"b": (0.0, 15.0)}}, r"indicator 'b' has the value 20.0 outside its bounds \[0.0, 15.0\]"),
    ],
)
def test_bad_bounds_are_named(settings, message):
    data = panel({"a": [[1, 2], [3, 4], [5, 6]], "b": [[10, 10], [20, 12], [14, 15]], "c": [[1, 1], [2, 2], [3, 3]]})
    if message is None:  # bounds apply after the transform: log(b) lies within 0..20
        CompositeIndex(H, **settings).fit(data)
        return
    with pytest.raises(ValueError, match=message):
        CompositeIndex(H, **settings).fit(data)


def test_missing_values_renormalise_weights_and_empty_unit_is_nan():
    data = simple()
    data.values[0, 0, 1] = np.nan
    data.values[1] = np.nan  # u2 has every value missing
    model = CompositeIndex(H).fit(data)
    assert model.dimension_scores_[0, 0, 0] == pytest.approx(model.normalised_[0, 0, 0])
    assert np.all(np.isnan(model.index_[1]))
    assert model.report_["empty_units"] == ["u2"]


def test_aggregation_arithmetic_geometric():
    s = np.array([[0.25, 1.0], [0.0, 0.5]])
    w = np.array([[1.0], [1.0]])
    assert aggregate(s, w).ravel().tolist() == [0.625, 0.25]
    g = aggregate(s, w, method="geometric").ravel()
    assert g[0] == pytest.approx(0.5) and g[1] == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        aggregate(np.array([[-1.0, 1.0]]), w, method="geometric")


def test_pca_weights_favour_the_common_signal():
    rng = np.random.default_rng(0)
    f = rng.normal(size=200)
    x = np.column_stack([f + 0.1 * rng.normal(size=200), f + 0.1 * rng.normal(size=200), rng.normal(size=200)])
    x[:, 1] *= 50  # on another scale: the weights come from the correlations, not the covariances
    w = pca_weights(x)
    assert w.sum() == pytest.approx(1.0) and w[2] < w[0] and w[2] < w[1]
    # the reference: the first eigenvector of the correlation matrix, squared and scaled to sum 1
    values, vectors = np.linalg.eigh(np.corrcoef(x, rowvar=False))
    first = vectors[:, np.argmax(values)] ** 2
    np.testing.assert_allclose(w, first / first.sum(), rtol=1e-9)
    # rows with a missing value are left out
    holed = np.vstack([x, [np.nan, 1.0, 2.0]])
    np.testing.assert_allclose(pca_weights(holed), w)


def test_weights_mapping_and_unknown_names():
    data = simple()
    m = CompositeIndex(H, weights={"a": 3.0, "b": 1.0}).fit(data)
    expected = (3 * m.normalised_[:, :, 0] + m.normalised_[:, :, 1]) / 4
    np.testing.assert_allclose(m.dimension_scores_[:, :, 0], expected)
    with pytest.raises(ValueError, match=r"weights name \['zz'\]"):
        CompositeIndex(H, weights={"zz": 1.0}).fit(data)
    with pytest.raises(ValueError, match="absent from the data"):
        CompositeIndex(Hierarchy({"d": ["nope"]})).fit(data)


def test_scaling_relative_to_reference_and_groups():
    data = simple()
    m = CompositeIndex(H, reference=("u2", 2020), group_thresholds=[(125, "Leader"), (-np.inf, "Other")],
                       group_year=2021).fit(data)
    # by hand: minmax over both years (a 0..5, b 10..50, c 1..6), then the mean of the three;
    # u2 in 2020 scores (0.4 + 0.25 + 0.4) / 3 = 0.35, u3 in 2021 (1 + 1 + 1) / 3 = 1
    np.testing.assert_allclose(m.index_, [[0.0, 0.4 / 3], [0.35, 1.7 / 3], [2.35 / 3, 1.0]])
    np.testing.assert_allclose(m.relative_index_, 100 * m.index_ / 0.35)
    assert m.relative_index_[2, 1] == pytest.approx(100 / 0.35)
    # groups compare each unit with the reference unit in the group year (2021: u2 = 1.7 / 3):
    # u3 is 176 % of it, u2 itself 100 % (not above 125), u1 24 %
    assert m.groups_.to_dict() == {"u1": "Other", "u2": "Other", "u3": "Leader"}
    ranks = m.ranks(2021)
    assert ranks.to_dict() == {"u1": 3.0, "u2": 2.0, "u3": 1.0}
    with pytest.raises(ValueError, match="reference"):
        CompositeIndex(H, reference=("nobody", 2020)).fit(data)


def test_performance_groups_thresholds():
    groups = performance_groups(pd.Series({"x": 130.0, "y": 110.0, "z": 50.0, "w": np.nan}),
                                [(125, "L"), (100, "S"), (70, "M"), (-np.inf, "E")])
    assert groups.to_dict() == {"x": "L", "y": "S", "z": "E", "w": None}


def test_index_from_dimensions_and_geometric_per_level():
    data = simple()
    m = CompositeIndex(H, index_from="dimensions", scale=(1, 100),
                       aggregation={"dimensions": "arithmetic", "index": "geometric"}).fit(data)
    expected = np.sqrt(m.dimension_scores_[:, :, 0] * m.dimension_scores_[:, :, 1])
    np.testing.assert_allclose(m.index_, expected)
    scores = m.scores(relative=False)
    assert list(scores.columns) == ["unit", "year", "index", "d1", "d2"] and len(scores) == 6
    # by hand for u2 in 2021 on 1..100: a = 3 -> 60.4, b = 30 -> 50.5, c = 4 -> 60.4
    row = scores.set_index(["unit", "year"]).loc[("u2", 2021)]
    assert row["d1"] == pytest.approx((60.4 + 50.5) / 2) and row["d2"] == pytest.approx(60.4)
    assert row["index"] == pytest.approx(np.sqrt(55.45 * 60.4))
    low = scores.set_index(["unit", "year"]).loc[("u1", 2020)]
    assert low.tolist() == pytest.approx([1.0, 1.0, 1.0])  # the lowest value of each: 1


def test_full_pipeline_with_treatments_reports_them():
    data = simple()
    data.values[0, 1, 2] = np.nan
    m = CompositeIndex(H, outliers="sd", imputation="carry", transform={"b": "sqrt"}, exclude=("c",)).fit(data)
    assert m.report_["imputed_values"] == 1 and m.report_["transformed"] == {"b": "sqrt"}
    assert m.indicator_weights_["c"] == 0
    assert np.all(np.isnan(m.dimension_scores_[:, :, 1]))
    with pytest.raises(ValueError, match="exclude names"):
        CompositeIndex(H, exclude=("zz",)).fit(data)


def test_estimator_options_sqrt_if_skewed_group_mean_distance_pca():
    rng = np.random.default_rng(2)
    values = rng.uniform(1, 2, size=(20, 1, 3))
    values[:, 0, 0] = np.r_[np.ones(18), 50.0, 80.0]  # strongly skewed
    values[3, 0, 1] = np.nan
    data = IndicatorData(values, [f"u{i}" for i in range(20)], [2020], ["a", "b", "c"])
    groups = {f"u{i}": i % 2 for i in range(20)}
    m = CompositeIndex(H, transform="sqrt_if_skewed", imputation="group_mean", unit_groups=groups,
                       normalisation="distance", reference=("u0", 2020), weights="pca").fit(data)
    assert m.report_["transformed"] == {"a": "sqrt"}
    odd = [values[i, 0, 1] for i in range(1, 20, 2) if i != 3]
    assert m.treated_[3, 0, 1] == pytest.approx(np.mean(odd))
    assert m.normalised_[0, 0, :].tolist() == [1.0, 1.0, 1.0]
    assert m.indicator_weights_[["a", "b"]].sum() == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unknown weights"):
        CompositeIndex(H, weights="entropy").fit(data)
