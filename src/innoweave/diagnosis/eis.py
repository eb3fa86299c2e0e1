"""The European Innovation Scoreboard 2023, rebuilt with the composite-indicator engine.

The EIS is the reference composite index for innovation performance in Europe; rebuilding
it from its own database is how the engine (:mod:`innoweave.diagnosis.composite`) proves it
does what it says before it scores SMEs. The shared export holds scores relative to the
EU in 2016, ``100 * n(i,c,t) / n(i,EU,2016)`` with ``n`` min–max normalised over all
countries and the eight years. Min–max normalising those values again over the same window
gives back ``n`` (the minimum is 0 for every indicator); the Summary Innovation Index is
the unweighted mean of the 32 indicators, each dimension the mean of its indicators, both
relative to the EU average of 2016; performance groups compare a country's 2023 index with
the EU's 2023 index (> 125 % Leader, 100–125 % Strong, 70–100 % Moderate, < 70 % Emerging).
The data's README records why Ireland and dimension "2.1 Finance and support" cannot be
reproduced from this export; they are left out of the comparison and said so in the output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from innoweave import __version__
from innoweave.config import default_data_dir
from innoweave.diagnosis.composite import (
    CompositeIndex,
    Hierarchy,
    IndicatorData,
    performance_groups,
)
from innoweave.diagnosis.uncertainty import UncertaintyAnalysis
from innoweave.seeding import make_rng

EIS_FOLDER = "eis2023_database"
EIS_FILE = "eis2023_scores_long.csv"
EU = "EU Average"
YEARS = (2016, 2023)
GROUP_THRESHOLDS = [(125.0, "Leader"), (100.0, "Strong"), (70.0, "Moderate"), (-np.inf, "Emerging")]
# Documented in the data's README: Ireland's "3.2.3" is blank-as-0 in the export, and
# "2.1 Finance and support" does not reproduce from it (cause unknown).
NOT_REPRODUCIBLE_UNITS = ("IE",)
# The export's ``zone`` column is not reliable (some Albanian rows say "EU"), so the member
# states are listed here.
EU27 = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)
NOT_REPRODUCIBLE_DIMENSIONS = ("2.1",)
TOLERANCE = 0.001


def eis_path(data_dir: str | Path | None = None) -> Path:
    """The EIS long CSV under ``data_dir`` (default: the shared data folder)."""
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    path = base / EIS_FOLDER / EIS_FILE if (base / EIS_FOLDER).is_dir() else base / EIS_FILE
    if not path.exists():
        raise FileNotFoundError(f"EIS 2023 data not found: {path}")
    return path


#: Columns of the EIS long CSV the reproduction reads.
EIS_COLUMNS = ("indicator_code", "indicator", "performance_group", "year", "country", "value")


def load_eis(path: str | Path | None = None) -> pd.DataFrame:
    """The EIS long table with a ``level`` column: index, dimension, indicator or context.

    A file that is empty, not CSV, lacks one of :data:`EIS_COLUMNS`, holds a value or year
    that is not a number, or a country, year and indicator twice raises ``ValueError`` naming
    the file (and the column, lines and values)."""
    path = Path(path) if path is not None and Path(path).is_file() else eis_path(path)
    try:
        df = pd.read_csv(path, dtype={"indicator_code": str, "country": str})
    except pd.errors.EmptyDataError:
        raise ValueError(f"EIS file {path} is empty") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"EIS file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"EIS file {path} is not a readable CSV table: {exc}") from None
    missing = [c for c in EIS_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"EIS file {path} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(it has: {', '.join(map(str, df.columns))}); expected the long export with {', '.join(EIS_COLUMNS)}"
        )
    if df.empty:
        raise ValueError(f"EIS file {path} has a header but no rows")
    for col in ("value", "year"):
        number = pd.to_numeric(df[col], errors="coerce")
        wrong = number.isna() & df[col].notna()
        if wrong.any():
            pos = int(np.flatnonzero(wrong.to_numpy())[0])
            raise ValueError(f"EIS file {path} line {pos + 2}: {col} {df[col].iloc[pos]!r} is not a number "
                             f"({int(wrong.sum())} such cells; leave a missing value empty)")
        df[col] = number
    key = ["country", "year", "indicator_code"]
    again = df.duplicated(key, keep=False)
    if again.any():  # one value per country, year and indicator: a second one is ambiguous
        lines = np.flatnonzero(again.to_numpy())
        first = df.iloc[lines[0]]
        same = lines[(df.iloc[lines][key] == first[key]).all(axis=1).to_numpy()]
        raise ValueError(
            f"EIS file {path} lines {', '.join(str(int(i) + 2) for i in same)}: country "
            f"{first['country']!r}, year {int(first['year'])}, indicator {first['indicator_code']!r} "
            f"appears {len(same)} times ({int(again.sum())} duplicated rows in all); keep one row for each"
        )
    depth = df["indicator_code"].str.count(r"\.")
    main = df["indicator_code"].str[0].isin(list("1234"))
    df["level"] = np.select(
        [df["indicator_code"] == "0", main & (depth == 1), main & (depth == 2)],
        ["index", "dimension", "indicator"], default="context",
    )
    return df


def eis_hierarchy(eis: pd.DataFrame) -> Hierarchy:
    """The 12 dimensions and their 32 indicators, as the codes declare them."""
    inds = eis.loc[eis["level"] == "indicator", ["indicator_code", "indicator"]].drop_duplicates()
    dims = eis.loc[eis["level"] == "dimension", ["indicator_code", "indicator"]].drop_duplicates()
    members: dict[str, list[str]] = {d: [] for d in sorted(dims["indicator_code"])}
    for code in sorted(inds["indicator_code"], key=lambda c: tuple(int(p) for p in c.split("."))):
        members[code.rsplit(".", 1)[0]].append(code)
    labels = dict(zip(inds["indicator_code"], inds["indicator"], strict=True))
    labels |= dict(zip(dims["indicator_code"], dims["indicator"], strict=True))
    return Hierarchy(members, index_name="SII", labels=labels)


def eis_data(eis: pd.DataFrame) -> IndicatorData:
    """The indicator rows of the EIS table as :class:`IndicatorData` (countries × years × indicator
    codes)."""
    rows = eis[eis["level"] == "indicator"]
    return IndicatorData.from_long(rows, unit="country", year="year", indicator="indicator_code")


def eis_index(hierarchy: Hierarchy, **overrides: object) -> CompositeIndex:
    """The EIS 2023 method; ``overrides`` change any setting (for the uncertainty analysis)."""
    settings: dict[str, object] = dict(
        normalisation="minmax", window=YEARS, scale=(0.0, 1.0), weights="equal",
        aggregation="arithmetic", index_from="indicators", reference=(EU, YEARS[0]),
        group_thresholds=GROUP_THRESHOLDS, group_year=YEARS[1],
    )
    settings.update(overrides)
    return CompositeIndex(hierarchy, **settings)


def _published(eis: pd.DataFrame, level: str) -> pd.DataFrame:
    rows = eis[eis["level"] == level]
    return rows.set_index(["indicator_code", "country", "year"])["value"]


def _compare(computed: pd.Series, published: pd.Series) -> dict[str, object]:
    both = pd.concat({"computed": computed, "published": published}, axis=1, join="inner").dropna()
    err = (both["computed"] - both["published"]).abs()
    return {
        "compared": int(len(both)),
        "within_0.001": int((err <= TOLERANCE + 1e-9).sum()),
        "max_abs_error": round(float(err.max()), 6) if len(err) else None,
    }


def reproduce_eis(data_dir: str | Path | None = None) -> tuple[dict[str, object], CompositeIndex]:
    """Recompute the SII, dimensions and groups and compare them with the published values.

    Returns the comparison (``sii``, ``dimensions``, ``groups`` — the JSON of
    ``innoweave diagnose eis`` — and ``meta``: units, years, version) and the fitted index.
    """
    eis = load_eis(data_dir)
    hierarchy = eis_hierarchy(eis)
    data = eis_data(eis)
    model = eis_index(hierarchy).fit(data)
    scores = model.scores()
    targets = [c for c in EU27 if c not in NOT_REPRODUCIBLE_UNITS] + [EU]
    scores = scores[scores["unit"].isin(targets)].set_index(["unit", "year"])

    published_sii = _published(eis, "index").loc["0"]
    sii = _compare(scores["SII"], published_sii)

    published_dims = _published(eis, "dimension")
    dim_rows = {}
    for dim in hierarchy.dimension_names:
        if dim in NOT_REPRODUCIBLE_DIMENSIONS:
            continue
        dim_rows[dim] = _compare(scores[dim], published_dims.loc[dim])
    errors = [r["max_abs_error"] for r in dim_rows.values() if r["max_abs_error"] is not None]
    dimensions = {
        "compared": sum(r["compared"] for r in dim_rows.values()),
        "within_0.001": sum(r["within_0.001"] for r in dim_rows.values()),
        "max_abs_error": max(errors) if errors else None,
        "n_dimensions": len(dim_rows),
        "excluded": list(NOT_REPRODUCIBLE_DIMENSIONS),
        "by_dimension": dim_rows,
    }

    published_groups = (
        eis.loc[(eis["level"] == "index") & (eis["country"] != EU), ["country", "performance_group"]]
        .drop_duplicates()
        .set_index("country")["performance_group"]
    )
    # Countries with "n/a" indicators (and Ireland) have a published SII this export cannot
    # give back, so the group rule is checked on the published 2023 SII for all 38, and the
    # groups of the recomputed SII are reported beside it.
    sii_2023 = published_sii.xs(YEARS[1], level="year")
    rule_groups = performance_groups(
        100 * sii_2023 / sii_2023[EU], GROUP_THRESHOLDS
    ).reindex(published_groups.index)
    recomputed = model.groups_.reindex(published_groups.index)
    groups = {
        "compared": int(len(published_groups)),
        "matched": int((rule_groups == published_groups).sum()),
        "basis": "published 2023 SII relative to the EU, through the engine's threshold rule",
        "matched_from_recomputed_sii": int((recomputed == published_groups).sum()),
        "mismatched_from_recomputed_sii": sorted(
            published_groups.index[recomputed != published_groups]
        ),
    }
    result = {
        "sii": sii,
        "dimensions": dimensions,
        "groups": groups,
        "meta": {
            "units_compared": targets,
            "units_excluded": list(NOT_REPRODUCIBLE_UNITS),
            "years": list(range(YEARS[0], YEARS[1] + 1)),
            "version": __version__,
        },
    }
    return result, model


def eis_choices(hierarchy: Hierarchy) -> dict[str, list[dict[str, object]]]:
    """The methodological choices the EIS uncertainty analysis varies.

    Normalisation (min–max or rank), aggregation (arithmetic or geometric), weighting
    (equal indicators as published, equal dimensions, PCA-derived) and leaving one of the
    32 indicators out (or none). All draws use scores on [1, 100] so that geometric means
    are defined; ranks under arithmetic min–max are the same as on [0, 1].
    """
    return {
        "normalisation": [{"normalisation": "minmax"}, {"normalisation": "rank"}],
        "aggregation": [{"aggregation": "arithmetic"}, {"aggregation": "geometric"}],
        "weighting": [
            {"weights": "equal", "index_from": "indicators"},
            {"weights": "equal", "index_from": "dimensions"},
            {"weights": "pca", "index_from": "dimensions"},
        ],
        "exclusion": [{"exclude": ()}] + [{"exclude": (i,)} for i in hierarchy.indicators],
    }


EIS_UNCERTAINTY_FIXED: dict[str, object] = {"scale": (1.0, 100.0)}


def eis_uncertainty(
    data_dir: str | Path | None = None, *, n_draws: int = 1000, sobol_base: int = 0, seed: int = 0
):
    """The 1,000-draw uncertainty analysis of the 2023 ranking of the 38 countries.

    Returns the fitted :class:`~innoweave.diagnosis.uncertainty.UncertaintyAnalysis` and,
    when ``sobol_base`` > 0, the Sobol indices (else None).
    """
    eis = load_eis(data_dir)
    hierarchy = eis_hierarchy(eis)
    data = eis_data(eis)
    countries = [u for u in data.units if u != EU]
    rng = make_rng(seed)
    ua = UncertaintyAnalysis(
        eis_index(hierarchy), eis_choices(hierarchy), n_draws=n_draws, year=YEARS[1],
        units=countries, fixed=EIS_UNCERTAINTY_FIXED, seed=rng,
    ).fit(data)
    ua.meta_["seed"] = seed
    sobol = ua.sobol(n_base=sobol_base, seed=rng) if sobol_base else None
    return ua, sobol
