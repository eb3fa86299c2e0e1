"""Real innovation shares by company size from the U.S. Annual Business Survey (NCSES).

The attribute model (:mod:`innoweave.registry.attributes`) calibrates synthetic firms to
these published shares — innovation incidence, barriers ("restricting factors"),
cooperation partners, IP protection and government-programme use — so the diagnosis and
the simulation start from size-differentiated, observed proportions rather than guesses.
:func:`load_ncses_shares` reads the tables in ``../shared/data/ncses_abs_innovation_by_company_size``
when present and otherwise returns the same values embedded below (transcribed from those
published tables), so the project works without the data folder.

Size classes are the survey's: micro 1–9, small 10–49, medium 50–249, large 250+
employees. Tables published by finer bands (1–4, 5–9, …, 25 000+) are aggregated to these
classes as company-count–weighted means of the band percentages, the weights being each
table's own "number of companies" column (exact up to the rounding of the published
percentages to one decimal).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_BOUNDS = {"micro": (1, 9), "small": (10, 49), "medium": (50, 249), "large": (250, math.inf)}
TABLE_FOLDER = "ncses_abs_innovation_by_company_size"


class NcsesFormatError(ValueError):
    """A NCSES table is missing or does not have the expected rows and columns."""


@dataclass(frozen=True)
class ClassShares:
    """Shares (0..1) for one size class; see :class:`NcsesShares` for the denominators."""

    innovating: float
    barriers: dict[str, float]
    barriers_non_innovating: dict[str, float]
    cooperation: dict[str, float]
    ip: dict[str, float]
    government_support: dict[str, float]
    technology: dict[str, float]
    companies: float


@dataclass(frozen=True)
class NcsesShares:
    """Published shares by size class (``"micro"``, ``"small"``, ``"medium"``, ``"large"``)
    and for all companies (``"all"``).

    Denominators, as published:

    - ``innovating``: all companies, any product or process innovation 2015–17 (table 2609).
    - ``barriers``: innovating companies citing a factor interfering with innovation
      (table 4444 / 2626); ``barriers_non_innovating``: non-innovating companies that
      considered innovating, factors preventing it (table 4445).
    - ``cooperation``: innovating companies with a cooperation partner of each type,
      anywhere (table 4446 / 2632). ``university_research`` and ``firms`` are unions
      estimated by assuming the partner types independent among cooperating companies:
      ``any * (1 - prod(1 - p_k / any))``.
    - ``ip``: all companies using each IP protection method, 2021 (table 11259);
      ``patent`` is the utility-patent share.
    - ``government_support``: companies using each kind of government programme to aid
      innovation, 2017–19 (table 7459).
    - ``technology``: all companies by source of technology capabilities, 2021 (table 11253).
    """

    classes: dict[str, ClassShares]
    source: str
    tables: dict[str, str] = field(default_factory=dict)

    @property
    def provenance(self) -> str:
        """Where the shares come from, as outputs record it (``shares_source``): the name of
        the folder the tables were read from (its full path would name the machine), or
        ``"ncses_abs_innovation_by_company_size (embedded copy)"`` for the embedded values;
        :attr:`source` keeps the folder's path."""
        if self.source == "embedded":
            return f"{TABLE_FOLDER} (embedded copy)"
        return Path(self.source).name or self.source

    def __getitem__(self, size_class: str) -> ClassShares:
        try:
            return self.classes[size_class]
        except KeyError:
            allowed = ", ".join(self.classes)
            raise KeyError(f"unknown size class {size_class!r}; allowed: {allowed}") from None

    @property
    def innovating(self) -> dict[str, float]:
        """Share of companies with a product or process innovation, by size class."""
        return {c: s.innovating for c, s in self.classes.items()}

    @property
    def barriers(self) -> dict[str, dict[str, float]]:
        """Shares of innovating companies citing each barrier to innovation, by size class."""
        return {c: s.barriers for c, s in self.classes.items()}

    @property
    def cooperation(self) -> dict[str, dict[str, float]]:
        """Shares of innovating companies with each type of cooperation partner, by size class."""
        return {c: s.cooperation for c, s in self.classes.items()}

    @property
    def ip(self) -> dict[str, dict[str, float]]:
        """Shares of companies using each IP protection method, by size class."""
        return {c: s.ip for c, s in self.classes.items()}

    def size_mix(self) -> dict[str, float]:
        """Share of companies in each size class (table 2609 counts)."""
        total = sum(self.classes[c].companies for c in SIZE_CLASSES)
        return {c: self.classes[c].companies / total for c in SIZE_CLASSES}

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``size_class, group, key, share`` (``group`` "innovating" has key "")."""
        rows = []
        for cls, s in self.classes.items():
            rows.append((cls, "innovating", "", s.innovating))
            for group in ("barriers", "barriers_non_innovating", "cooperation", "ip",
                          "government_support", "technology"):  # fmt: skip
                rows.extend((cls, group, k, v) for k, v in getattr(s, group).items())
        return pd.DataFrame(rows, columns=["size_class", "group", "key", "share"])


# Row labels of each table mapped to the keys used throughout InnoWeave. Labels match by
# prefix, case-insensitively, because the clean and the scraped copies word a few rows
# differently ("Lack of internal financing" / "… finance", "commercial labs" / "laboratories").
BARRIER_KEYS = {
    "Lack of internal financ": "internal_finance",
    "Lack of credit or private equity": "credit",
    "Innovation costs too high": "costs",
    "Lack of skilled employees within the business": "skilled_employees",
    "Lack of collaboration partners": "partners",
    "Difficulties in obtaining government grants or subsidies": "government_grants",
    "Uncertain market demand for your ideas": "market_demand",
    "Too much competition in your market": "competition",
}
COOPERATION_KEYS = {
    "Any cooperation partner": "any",
    "Other affiliated companies": "affiliated",
    "Suppliers of equipment, materials, components, or software": "suppliers",
    "Clients or customers from the private sector": "private_customers",
    "Clients or customers from the public sector": "public_customers",
    "Competitors or other companies in your sector": "competitors",
    "Companies not in your sector": "other_sector_firms",
    "Consultants or commercial lab": "consultants",
    "Universities or other higher education institut": "university",
    "Government or public research institutes": "public_research",
    "Private research institutes": "private_research",
}
RESEARCH_PARTNERS = ("university", "public_research", "private_research")
FIRM_PARTNERS = ("affiliated", "suppliers", "private_customers", "competitors", "other_sector_firms")
IP_KEYS = {
    "field_utility_patents": "patent",
    "field_design_patents": "design_patent",
    "field_copyright": "copyright",
    "field_trademarks": "trademark",
    "field_design_complexity": "design_complexity",
    "field_nondisclosure_agreements_or_noncompete_clauses": "nda",
    "field_branding_and_product_image": "branding",
    "field_trade_secrets": "trade_secret",
}
SUPPORT_KEYS = {
    "field_tax_incentives_or_tax_credit_programs": "tax_credit",
    "field_grants_and_contribution_programs": "grants",
    "field_training_and_hiring_programs": "training_hiring",
    "field_procurement": "procurement",
    "field_other_government_programs": "other",
}
TECHNOLOGY_KEYS = {
    "field_acquired_technology_products": "acquired_technology",
    "field_acquired_intellectual_property_rights": "acquired_ip",
    "field_modified_or_adapted_existing_technology": "adapted_technology",
    "field_developed_new_technology": "developed_technology",
}
CLASS_LABELS = {
    "Micro companies": "micro",
    "Small companies": "small",
    "Medium companies": "medium",
    "Large companies": "large",
}


def parse_cell(value: object) -> float:
    """A published cell as a number.

    Handles the list-like cells of the scraped tables (``"['    57.5 ', '&nbsp;']"`` → 57.5;
    the second element is a footnote flag), thousands commas and ``&nbsp;`` for empty (NaN).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text.startswith("["):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ValueError(f"unreadable list-like cell {text!r}") from None
        text = str(items[0]) if items else ""
    text = text.replace("&nbsp;", "").replace(",", "").strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"cell {value!r} is not a number") from None


def _read(folder: Path, *table_ids: str) -> tuple[pd.DataFrame, str]:
    for tid in table_ids:
        path = folder / f"table_{tid}.csv"
        if path.is_file():
            return pd.read_csv(path, dtype=str), path.name
    names = ", ".join(f"table_{t}.csv" for t in table_ids)
    raise NcsesFormatError(f"{folder}: none of {names} found")


def _column(df: pd.DataFrame, name: str, table: str) -> pd.Series:
    if name not in df.columns:
        raise NcsesFormatError(f"{table}: column {name!r} missing (have {list(df.columns)})")
    return df[name].map(parse_cell)


def _level_col(df: pd.DataFrame, level: int, table: str) -> pd.Series:
    cols = [c for c in df.columns if c.endswith(f"_level_{level}")]
    if not cols:
        raise NcsesFormatError(f"{table}: no *_level_{level} column")
    return df[cols[0]].str.strip()


def _by_class_columns(df: pd.DataFrame, table: str) -> dict[str, str]:
    """The class columns of the 4444/4446 layout (micro…large plus all companies)."""
    fields_ = [c for c in df.columns if c.startswith("field_")]
    if len(fields_) != 5:
        raise NcsesFormatError(f"{table}: expected 5 size-class columns, found {fields_}")
    return dict(zip(("all", *SIZE_CLASSES), fields_, strict=True))


def _banded(df: pd.DataFrame, table: str, count_col: str, value_cols: Mapping[str, str]):
    """Aggregate a table published by size bands (1–4, 5–9, …) to the four classes.

    Returns ``{class: {key: share}}`` plus ``"all"`` (the published all-companies row) and
    the company counts per class.
    """
    depth = _column(df, [c for c in df.columns if c.endswith("_hierarchy_depth")][0], table)
    level2 = _level_col(df, 2, table).map(CLASS_LABELS)
    counts = _column(df, count_col, table)
    values = {key: _column(df, col, table) for col, key in value_cols.items()}
    out: dict[str, dict[str, float]] = {}
    n_companies: dict[str, float] = {}
    for cls in SIZE_CLASSES:
        bands = (depth == 3) & (level2 == cls)
        if not bands.any():
            raise NcsesFormatError(f"{table}: no size bands for the {cls} class")
        w = counts[bands]
        out[cls] = {k: float((v[bands] * w).sum() / w.sum()) / 100.0 for k, v in values.items()}
        n_companies[cls] = float(w.sum())
    top = depth == 1
    out["all"] = {k: float(v[top].iloc[0]) / 100.0 for k, v in values.items()}
    n_companies["all"] = float(counts[top].iloc[0])
    return out, n_companies


def _class_table(df: pd.DataFrame, table: str, label_keys: Mapping[str, str], level: int):
    """Rows of a by-class table (4444/4445/4446) keyed by ``label_keys``; percent → share."""
    cols = _by_class_columns(df, table)
    labels = _level_col(df, level, table).fillna("").str.lower()
    out: dict[str, dict[str, float]] = {c: {} for c in cols}
    for label, key in label_keys.items():
        rows = df[labels.str.startswith(label.lower()).to_numpy()]
        if rows.empty:
            raise NcsesFormatError(f"{table}: row {label!r}… missing")
        row = rows.iloc[0]
        for cls, col in cols.items():
            out[cls][key] = parse_cell(row[col]) / 100.0
    return out


def _union(shares: Mapping[str, float], keys: tuple[str, ...]) -> float:
    any_ = shares["any"]
    if any_ <= 0:
        return 0.0
    miss = 1.0
    for k in keys:
        miss *= 1.0 - min(shares[k] / any_, 1.0)
    return any_ * (1.0 - miss)


def read_ncses_tables(folder: str | Path) -> NcsesShares:
    """Parse the NCSES tables in ``folder`` (raises :class:`NcsesFormatError` when unusable)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NcsesFormatError(f"{folder}: not a folder")
    used: dict[str, str] = {}

    df, name = _read(folder, "2609")
    used["innovating"] = name
    innov, companies = _banded(df, name, "field_companies_number_",
                               {"field_any_innovation_percent_yes": "innovating"})  # fmt: skip

    df, name = _read(folder, "4444", "2626")
    used["barriers"] = name
    barriers = _class_table(df, name, BARRIER_KEYS, 2)

    df, name = _read(folder, "4445")
    used["barriers_non_innovating"] = name
    barriers_non = _class_table(df, name, BARRIER_KEYS, 2)

    df, name = _read(folder, "4446", "2632")
    used["cooperation"] = name
    global_rows = df[_level_col(df, 2, name) == "Type of cooperation partner, global"]
    coop = _class_table(global_rows, name, COOPERATION_KEYS, 3)

    df, name = _read(folder, "11259")
    used["ip"] = name
    ip, _ = _banded(df, name, "field_companies_number_", IP_KEYS)

    df, name = _read(folder, "7459")
    used["government_support"] = name
    support, _ = _banded(df, name, "field_all_companies", SUPPORT_KEYS)

    df, name = _read(folder, "11253")
    used["technology"] = name
    tech, _ = _banded(df, name, "field_companies_number_", TECHNOLOGY_KEYS)

    raw = {
        cls: {
            "innovating": innov[cls]["innovating"],
            "companies": companies[cls],
            "barriers": barriers[cls],
            "barriers_non_innovating": barriers_non[cls],
            "cooperation": coop[cls],
            "ip": ip[cls],
            "government_support": support[cls],
            "technology": tech[cls],
        }
        for cls in ("all", *SIZE_CLASSES)
    }
    return _assemble(raw, source=str(folder), tables=used)


def _assemble(raw: Mapping[str, Mapping], *, source: str, tables: dict[str, str]) -> NcsesShares:
    """Shares from ``{class: {"innovating": x, "companies": n, group: {key: share}}}``."""
    classes = {}
    for cls in ("all", *SIZE_CLASSES):
        r = raw[cls]
        coop = dict(r["cooperation"])
        coop["university_research"] = _union(coop, RESEARCH_PARTNERS)
        coop["firms"] = _union(coop, FIRM_PARTNERS)
        classes[cls] = ClassShares(
            innovating=float(r["innovating"]),
            barriers=dict(r["barriers"]),
            barriers_non_innovating=dict(r["barriers_non_innovating"]),
            cooperation=coop,
            ip=dict(r["ip"]),
            government_support=dict(r["government_support"]),
            technology=dict(r["technology"]),
            companies=float(r["companies"]),
        )
    return NcsesShares(classes=classes, source=source, tables=tables)


# The published shares as read from the tables above (class values of banded tables already
# aggregated with their company counts); used when the data folder is absent. Regenerate
# with `read_ncses_tables(folder)` if the tables change.
_EMBEDDED: dict[str, dict] = {
    "all": {
        "innovating": 0.432,
        "companies": 4603606.0,
        "barriers": {'internal_finance': 0.575, 'credit': 0.423, 'costs': 0.524, 'skilled_employees': 0.582, 'partners': 0.338, 'government_grants': 0.23, 'market_demand': 0.407, 'competition': 0.53},
        "barriers_non_innovating": {'internal_finance': 0.804, 'credit': 0.606, 'costs': 0.827, 'skilled_employees': 0.751, 'partners': 0.565, 'government_grants': 0.398, 'market_demand': 0.636, 'competition': 0.689},
        "cooperation": {'any': 0.416, 'affiliated': 0.139, 'suppliers': 0.291, 'private_customers': 0.277, 'public_customers': 0.203, 'competitors': 0.178, 'other_sector_firms': 0.102, 'consultants': 0.124, 'university': 0.081, 'public_research': 0.052, 'private_research': 0.047},
        "ip": {'patent': 0.016, 'design_patent': 0.016, 'copyright': 0.06, 'trademark': 0.077, 'design_complexity': 0.037, 'nda': 0.139, 'branding': 0.141, 'trade_secret': 0.073},
        "government_support": {'tax_credit': 0.039, 'grants': 0.014, 'training_hiring': 0.013, 'procurement': 0.01, 'other': 0.013},
        "technology": {'acquired_technology': 0.183, 'acquired_ip': 0.018, 'adapted_technology': 0.103, 'developed_technology': 0.033},
    },
    "micro": {
        "innovating": 0.40499,
        "companies": 3500973.0,
        "barriers": {'internal_finance': 0.586, 'credit': 0.436, 'costs': 0.522, 'skilled_employees': 0.558, 'partners': 0.34, 'government_grants': 0.237, 'market_demand': 0.41, 'competition': 0.531},
        "barriers_non_innovating": {'internal_finance': 0.822, 'credit': 0.629, 'costs': 0.838, 'skilled_employees': 0.745, 'partners': 0.564, 'government_grants': 0.414, 'market_demand': 0.639, 'competition': 0.691},
        "cooperation": {'any': 0.41, 'affiliated': 0.132, 'suppliers': 0.279, 'private_customers': 0.278, 'public_customers': 0.203, 'competitors': 0.18, 'other_sector_firms': 0.1, 'consultants': 0.116, 'university': 0.078, 'public_research': 0.051, 'private_research': 0.045},
        "ip": {'patent': 0.01277, 'design_patent': 0.01203, 'copyright': 0.05597, 'trademark': 0.06068, 'design_complexity': 0.03203, 'nda': 0.11474, 'branding': 0.121, 'trade_secret': 0.05964},
        "government_support": {'tax_credit': 0.02484, 'grants': 0.01195, 'training_hiring': 0.00863, 'procurement': 0.00832, 'other': 0.012},
        "technology": {'acquired_technology': 0.16045, 'acquired_ip': 0.01455, 'adapted_technology': 0.08793, 'developed_technology': 0.02703},
    },
    "small": {
        "innovating": 0.50709,
        "companies": 915959.0,
        "barriers": {'internal_finance': 0.565, 'credit': 0.409, 'costs': 0.538, 'skilled_employees': 0.646, 'partners': 0.337, 'government_grants': 0.221, 'market_demand': 0.402, 'competition': 0.53},
        "barriers_non_innovating": {'internal_finance': 0.756, 'credit': 0.552, 'costs': 0.799, 'skilled_employees': 0.773, 'partners': 0.571, 'government_grants': 0.366, 'market_demand': 0.628, 'competition': 0.677},
        "cooperation": {'any': 0.419, 'affiliated': 0.146, 'suppliers': 0.312, 'private_customers': 0.269, 'public_customers': 0.206, 'competitors': 0.175, 'other_sector_firms': 0.105, 'consultants': 0.136, 'university': 0.087, 'public_research': 0.055, 'private_research': 0.049},
        "ip": {'patent': 0.02045, 'design_patent': 0.02286, 'copyright': 0.06368, 'trademark': 0.11209, 'design_complexity': 0.04423, 'nda': 0.19454, 'branding': 0.18868, 'trade_secret': 0.10159},
        "government_support": {'tax_credit': 0.0555, 'grants': 0.01783, 'training_hiring': 0.01708, 'procurement': 0.01242, 'other': 0.014},
        "technology": {'acquired_technology': 0.23722, 'acquired_ip': 0.02364, 'adapted_technology': 0.13359, 'developed_technology': 0.04268},
    },
    "medium": {
        "innovating": 0.56668,
        "companies": 156990.0,
        "barriers": {'internal_finance': 0.481, 'credit': 0.325, 'costs': 0.503, 'skilled_employees': 0.629, 'partners': 0.314, 'government_grants': 0.176, 'market_demand': 0.395, 'competition': 0.521},
        "barriers_non_innovating": {'internal_finance': 0.715, 'credit': 0.491, 'costs': 0.754, 'skilled_employees': 0.759, 'partners': 0.546, 'government_grants': 0.29, 'market_demand': 0.641, 'competition': 0.721},
        "cooperation": {'any': 0.474, 'affiliated': 0.189, 'suppliers': 0.352, 'private_customers': 0.297, 'public_customers': 0.203, 'competitors': 0.172, 'other_sector_firms': 0.111, 'consultants': 0.178, 'university': 0.096, 'public_research': 0.056, 'private_research': 0.049},
        "ip": {'patent': 0.04192, 'design_patent': 0.0477, 'copyright': 0.09298, 'trademark': 0.17296, 'design_complexity': 0.07006, 'nda': 0.29246, 'branding': 0.26033, 'trade_secret': 0.15298},
        "government_support": {'tax_credit': 0.1234, 'grants': 0.02263, 'training_hiring': 0.03443, 'procurement': 0.01523, 'other': 0.01429},
        "technology": {'acquired_technology': 0.31539, 'acquired_ip': 0.03428, 'adapted_technology': 0.20096, 'developed_technology': 0.07904},
    },
    "large": {
        "innovating": 0.60722,
        "companies": 29684.0,
        "barriers": {'internal_finance': 0.43, 'credit': 0.274, 'costs': 0.517, 'skilled_employees': 0.564, 'partners': 0.317, 'government_grants': 0.154, 'market_demand': 0.419, 'competition': 0.516},
        "barriers_non_innovating": {'internal_finance': 0.668, 'credit': 0.412, 'costs': 0.835, 'skilled_employees': 0.746, 'partners': 0.581, 'government_grants': 0.223, 'market_demand': 0.607, 'competition': 0.638},
        "cooperation": {'any': 0.534, 'affiliated': 0.288, 'suppliers': 0.382, 'private_customers': 0.316, 'public_customers': 0.198, 'competitors': 0.162, 'other_sector_firms': 0.123, 'consultants': 0.24, 'university': 0.127, 'public_research': 0.072, 'private_research': 0.07},
        "ip": {'patent': 0.11837, 'design_patent': 0.11165, 'copyright': 0.18662, 'trademark': 0.29421, 'design_complexity': 0.1212, 'nda': 0.39563, 'branding': 0.36934, 'trade_secret': 0.21489},
        "government_support": {'tax_credit': 0.2265, 'grants': 0.03723, 'training_hiring': 0.05686, 'procurement': 0.01999, 'other': 0.0281},
        "technology": {'acquired_technology': 0.40119, 'acquired_ip': 0.0878, 'adapted_technology': 0.31656, 'developed_technology': 0.15784},
    },
}
_EMBEDDED_TABLES = {'innovating': 'table_2609.csv', 'barriers': 'table_4444.csv', 'barriers_non_innovating': 'table_4445.csv', 'cooperation': 'table_4446.csv', 'ip': 'table_11259.csv', 'government_support': 'table_7459.csv', 'technology': 'table_11253.csv'}


def embedded_shares() -> NcsesShares:
    """The embedded published values (no files read)."""
    return _assemble(_EMBEDDED, source="embedded", tables=dict(_EMBEDDED_TABLES))



def load_ncses_shares(data_dir: str | Path | None = None) -> NcsesShares:
    """Shares by size class from the NCSES tables, or the embedded values when absent.

    ``data_dir`` is the shared data folder (containing ``ncses_abs_innovation_by_company_size``)
    or that folder itself; ``None`` uses the configured data folder. A folder that exists but
    holds malformed tables raises :class:`NcsesFormatError` rather than silently falling back.
    """
    from innoweave.config import get_settings

    base = Path(data_dir) if data_dir is not None else get_settings().shared_data
    folder = base if (base / "table_4444.csv").exists() or base.name == TABLE_FOLDER else base / TABLE_FOLDER
    if not folder.is_dir():
        return embedded_shares()
    return read_ncses_tables(folder)
