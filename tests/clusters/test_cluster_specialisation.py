"""Location quotients, strong-cluster flags and stars on hand-made and random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from innoweave.clusters import (
    ClusterInputError,
    ClusterStars,
    Columns,
    LocationQuotients,
    StrongClusters,
)

HAND = pd.DataFrame(
    {
        "region": ["N", "N", "N", "S", "S", "S"],
        "cluster": ["cars", "chips", "shops", "cars", "chips", "shops"],
        "type": ["traded", "traded", "local", "traded", "traded", "local"],
        "employment": [30, 10, 100, 10, 50, 5],
        "establishments": [3, 1, 20, 2, 5, 1],
    }
)


def lq_of(table: pd.DataFrame, region: str, cluster: str) -> float:
    return float(table.set_index(["region", "cluster"]).loc[(region, cluster), "lq"])


def test_lq_is_benchmarked_within_type():
    table = LocationQuotients().fit(HAND).table_
    # cars in N: (30/40) / (40/100); traded total is 100 nationally, cars 40
    assert lq_of(table, "N", "cars") == pytest.approx((30 / 40) / (40 / 100))
    assert lq_of(table, "S", "chips") == pytest.approx((50 / 60) / (60 / 100))
    # a local cluster is compared with local employment only: the only local cluster has LQ 1
    assert lq_of(table, "N", "shops") == pytest.approx(1.0)
    assert table["focus"].between(0, 1).all()


def test_national_share_column_sets_national_employment():
    data = HAND.assign(share=[30 / 80, 10 / 60, 100 / 200, 10 / 80, 50 / 60, 5 / 200])
    columns = Columns(national_share="share")
    table = LocationQuotients(columns=columns).fit(data).table_
    # national cars 80, chips 60 (traded 140); N has cars 30 of traded 40
    assert lq_of(table, "N", "cars") == pytest.approx((30 / 40) / (80 / 140))
    summed = LocationQuotients(columns=columns, national="sum").fit(data).table_
    assert lq_of(summed, "N", "cars") == pytest.approx((30 / 40) / (40 / 100))


def test_region_with_zero_employment_is_reported_not_dropped():
    data = pd.concat(
        [
            HAND,
            pd.DataFrame(
                {
                    "region": ["E", "E"],
                    "cluster": ["cars", "chips"],
                    "type": "traded",
                    "employment": [0, 0],
                    "establishments": [0, 0],
                }
            ),
        ],
        ignore_index=True,
    )
    model = LocationQuotients().fit(data)
    assert len(model.table_) == 8
    assert model.table_.loc[model.table_["region"] == "E", "lq"].isna().all()
    assert model.report_.counts["regions_with_zero_employment"] == 1
    assert model.report_.examples["regions_with_zero_employment"] == [["E", "traded"]]


def test_missing_establishments_leave_flags_undecided(employment_table):
    data = employment_table(np.random.default_rng(3), 30)
    data.loc[[0, 9], "establishments"] = np.nan
    data.loc[0, "employment"] = 100
    lq = LocationQuotients().fit(data)
    assert lq.report_.counts["missing_establishments"] == 2
    flags = StrongClusters().fit(lq).flags_
    assert flags.loc[0].isna().all()
    assert flags.drop(index=[0, 9]).loc[lambda f: lq.table_["type"] == "traded"].notna().all().all()


def test_identical_duplicates_counted_once_and_conflicts_refused():
    doubled = pd.concat([HAND, HAND.iloc[[0]]], ignore_index=True)
    model = LocationQuotients().fit(doubled)
    assert len(model.table_) == 6 and model.report_.counts["duplicate_rows_identical"] == 1
    assert lq_of(model.table_, "N", "cars") == pytest.approx((30 / 40) / (40 / 100))

    clash = pd.concat([HAND, HAND.iloc[[0]].assign(employment=5)], ignore_index=True)
    with pytest.raises(
        ClusterInputError, match=r"1 key\(s\).*\('N', 'cars'\).*file lines \[2, 8\]"
    ) as refused:
        LocationQuotients().fit(clash)
    # Both ways out are named: the CLI option and the Python argument.
    assert "--duplicates sum or first" in str(refused.value)
    assert "duplicates='sum' or 'first'" in str(refused.value)
    summed = LocationQuotients(duplicates="sum").fit(clash)
    assert summed.report_.counts["duplicate_keys_summed"] == 1
    assert summed.table_.set_index(["region", "cluster"]).loc[("N", "cars"), "employment"] == 35
    first = LocationQuotients(duplicates="first").fit(clash)
    assert first.table_.set_index(["region", "cluster"]).loc[("N", "cars"), "employment"] == 30


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.assign(employment=d["employment"].where(d.index != 2, -1)),
            r"'employment' has 1 negative value.*file lines 4",
        ),
        (
            lambda d: d.assign(
                employment=d["employment"].astype(object).where(d.index != 1, "many")
            ),
            r"1 not a number",
        ),
        (lambda d: d.drop(columns="cluster"), r"missing column\(s\) cluster"),
        (
            lambda d: d.assign(region=d["region"].where(d.index != 3, None)),
            r"'region' is empty in 1 row",
        ),
        (
            lambda d: d.assign(type=["traded", "traded", "local", "traded", "local", "local"]),
            r"several types",
        ),
    ],
)
def test_bad_input_names_what_and_where(change, message):
    with pytest.raises(ClusterInputError, match=message):
        LocationQuotients().fit(change(HAND))


@pytest.mark.parametrize("value", [np.inf, -np.inf, "inf", "Infinity"])
@pytest.mark.parametrize("column", ["employment", "establishments"])
def test_infinite_counts_are_refused_naming_column_and_rows(column, value):
    data = HAND.astype({column: object})
    data.loc[[1, 4], column] = value
    with pytest.raises(ClusterInputError, match=rf"'{column}' has 2 infinite value\(s\) \(file lines 3, 6\)"):
        LocationQuotients().fit(data)


def test_infinite_national_share_is_refused():
    data = HAND.assign(share=[0.1, 0.2, np.inf, 0.1, 0.2, 0.3])
    with pytest.raises(ClusterInputError, match=r"'share' has 1 infinite value\(s\) \(file lines 4\)"):
        LocationQuotients(columns=Columns(national_share="share")).fit(data)


def test_true_false_counts_are_refused_not_read_as_one_and_zero():
    data = HAND.astype({"employment": object})
    data.loc[2, "employment"] = True
    with pytest.raises(ClusterInputError, match=r"'employment' has 1 not a number value\(s\) \(file lines 4\)"):
        LocationQuotients().fit(data)


def test_estimators_refuse_settings_and_inputs_of_the_wrong_kind():
    with pytest.raises(TypeError, match="LocationQuotients.fit takes a DataFrame"):
        LocationQuotients().fit(None)
    with pytest.raises(TypeError, match="columns must be a Columns"):
        LocationQuotients(columns={"region": "state"}).fit(HAND)
    lq = LocationQuotients().fit(HAND)
    with pytest.raises(ValueError, match="min_regions must be a whole number >= 1, got 2.5"):
        StrongClusters(min_regions=2.5).fit(lq)
    with pytest.raises(ValueError, match=r"types must be some of traded, local or None \(all\), got \('tradd',\)"):
        StrongClusters(types=("tradd",)).fit(lq)
    with pytest.raises(ValueError, match="top_share must be a finite number"):
        ClusterStars(top_share=float("nan")).fit(lq)
    with pytest.raises(ValueError, match="lq_min must be a number, got '2'"):
        ClusterStars(lq_min="2").fit(lq)
    with pytest.raises(TypeError, match="StrongClusters.fit takes a fitted LocationQuotients"):
        StrongClusters().fit(None)
    with pytest.raises(RuntimeError, match=r"call LocationQuotients.fit\(\) first"):
        ClusterStars().fit(LocationQuotients())


def test_one_type_given_as_a_string_is_that_type():
    """types="traded" was read as the letters t, r, a, d, e: nothing was flagged."""
    lq = LocationQuotients().fit(HAND)
    as_text = StrongClusters(types="traded", min_regions=1).fit(lq)
    assert as_text.flags_.equals(StrongClusters(types=("traded",), min_regions=1).fit(lq).flags_)
    assert as_text.flags_.notna().all(axis=1).sum() == 4


def test_missing_employment_is_reported_and_left_undecided(employment_table):
    data = employment_table(np.random.default_rng(2), 20)
    data.loc[3, "employment"] = np.nan
    model = LocationQuotients().fit(data)
    assert model.report_.counts["missing_employment"] == 1
    assert model.report_.examples["missing_employment"] == [["R000", "C3"]]
    assert np.isnan(model.table_.loc[3, "lq"]) and model.table_["lq"].drop(index=3).notna().all()
    flags = StrongClusters().fit(model).flags_
    assert flags.loc[3].isna().all() and flags.loc[4].notna().all()


def test_without_type_or_establishments_columns_it_says_so():
    model = LocationQuotients().fit(HAND.drop(columns=["type", "establishments"]))
    assert set(model.report_.counts) == {"no_type_column", "no_establishments_column"}
    assert lq_of(model.table_, "N", "shops") == pytest.approx((100 / 140) / (105 / 205))


def test_flags_follow_the_percentile_rules(employment_table, reference_flags):
    lq = LocationQuotients().fit(employment_table(np.random.default_rng(7), 40))
    model = StrongClusters().fit(lq)
    traded = lq.table_["type"] == "traded"
    expected = reference_flags(lq.table_[traded])
    assert (model.flags_[traded].astype(bool) == expected).all().all()
    assert model.flags_[~traded].isna().all().all()
    assert model.summary()["strong"] == int(expected["strong"].sum())


def test_flags_need_enough_regions(employment_table):
    lq = LocationQuotients().fit(employment_table(np.random.default_rng(1), 6))
    model = StrongClusters(min_regions=10).fit(lq)
    assert model.flags_.isna().all().all()
    assert len(model.skipped_) == 6 and (model.skipped_["regions_with_employment"] <= 6).all()
    assert (
        StrongClusters(min_regions=3)
        .fit(lq)
        .flags_[lq.table_["type"] == "traded"]
        .notna()
        .all()
        .all()
    )


def test_stars_count_size_specialisation_and_focus(employment_table):
    table = LocationQuotients().fit(employment_table(np.random.default_rng(5), 50)).table_
    stars = ClusterStars().fit(table).stars_
    assert stars["stars"].between(0, 3).all()
    assert (stars["specialisation_star"] == ((table["lq"] >= 2) & (table["employment"] > 0))).all()
    for cluster, rows in table.groupby("cluster"):
        active = rows[rows["employment"] > 0]
        top = active["employment"] >= np.percentile(active["employment"], 90)
        assert (stars.loc[active.index, "size_star"] == top).all(), cluster
    assert (
        not stars.loc[table["employment"] == 0].any(axis=None)
        or stars.loc[table["employment"] == 0, "stars"].eq(0).all()
    )
    with pytest.raises(ValueError, match="top_share"):
        ClusterStars(top_share=1.5).fit(table)
