"""The collaboration history a recommender learns from: graph, activity, profiles, places.

Matchmaking reads the registry (:class:`~innoweave.registry.frames.RegistryFrames`) once and
turns the projects of one period into a :class:`CollaborationHistory`: organisations are
nodes, two are linked when they took part in the same project (projects with more than
``max_project_size`` organisations still count as activity but create no links, because
they make huge cliques), each organisation gets a text profile (name, keywords,
capabilities and the titles of its projects in the period) and a position (coordinates,
NUTS-2 region). Every later step — pair features, baselines, the learned ranker, the
evaluation protocols — reads only this object, so nothing from outside the period leaks in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from innoweave.registry.frames import RegistryFrames

DEFAULT_MAX_PROJECT_SIZE = 40


def project_dates(frames: RegistryFrames) -> pd.Series:
    """Start date of each project (``datetime64``, NaT where unknown), indexed by external id."""
    dates = pd.to_datetime(frames.projects["start_date"], errors="coerce")
    return pd.Series(dates.to_numpy(), index=frames.projects["external_id"].to_numpy())


def dedup_participations(frames: RegistryFrames) -> pd.DataFrame:
    """One row per (project, organisation), with the project's start date as ``date``."""
    parts = frames.participations[["project_external_id", "org_external_id"]].dropna()
    parts = parts.drop_duplicates().reset_index(drop=True)
    parts["date"] = parts["project_external_id"].map(project_dates(frames))
    return parts


def nuts2(codes: pd.Series) -> np.ndarray:
    """NUTS-2 code of each region code (first four characters of a NUTS code); None if absent.

    Codes that do not look like NUTS (two letters then more) are kept whole, so a generic
    ``region`` column still gives a meaningful "same region".
    """
    out = np.empty(len(codes), dtype=object)
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not code.strip():
            out[i] = None
        else:
            code = code.strip().upper()
            looks_nuts = len(code) >= 4 and code[:2].isalpha()
            out[i] = code[:4] if looks_nuts else code
    return out


def _text_of(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return " ".join(str(v) for v in value)
    return str(value)


@dataclass
class CollaborationHistory:
    """Everything known about the organisations up to the end of one period.

    Arrays are aligned with ``org_ids`` (all organisations of the registry, active in the
    period or not, so that a cold-start organisation still has a row).
    """

    org_ids: np.ndarray
    names: np.ndarray
    kinds: np.ndarray
    region: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    clusters: np.ndarray
    adjacency: sp.csr_matrix
    shared: sp.csr_matrix
    last_shared: sp.csr_matrix
    activity: np.ndarray
    recent_activity: np.ndarray
    last_active: np.ndarray
    peak_yearly: np.ndarray
    current_load: np.ndarray
    profiles: list[str]
    keywords_text: list[str]
    end: float

    @property
    def index(self) -> dict[str, int]:
        """Row of each organisation id in the aligned arrays (``org_id -> row``)."""
        return {o: i for i, o in enumerate(self.org_ids)}

    @cached_property
    def degree(self) -> np.ndarray:
        """Distinct partners of each organisation (computed once: the adjacency is fixed;
        explaining a plan's pairs reads it twice a pair)."""
        degree = np.asarray(self.adjacency.sum(axis=1)).ravel()
        degree.flags.writeable = False  # shared by every reader
        return degree

    @property
    def end_date(self) -> str | None:
        """The latest project start of the period as ``YYYY-MM-DD`` (``end`` is it in fractional
        years); None where no project is dated. Current loads count the twelve months up to it."""
        if not np.isfinite(self.end):
            return None
        year = int(np.floor(self.end))
        days = int(round((self.end - year) * 365.25))
        return (pd.Timestamp(year=year, month=1, day=1) + pd.Timedelta(days=days)).date().isoformat()

    def active(self) -> np.ndarray:
        """Organisations with at least one project in the period."""
        return self.activity > 0


def _years(dates: pd.Series) -> np.ndarray:
    d = pd.to_datetime(dates)
    return (d.dt.year + (d.dt.day_of_year - 1) / 365.25).to_numpy(dtype=float)


def build_history(
    frames: RegistryFrames,
    projects: Iterable[str],
    *,
    max_project_size: int = DEFAULT_MAX_PROJECT_SIZE,
    recent_years: float = 3.0,
) -> CollaborationHistory:
    """Build the history of the given projects (the period) over all organisations."""
    orgs = frames.organisations.reset_index(drop=True)
    org_ids = orgs["external_id"].astype(str).to_numpy()
    index = pd.Series(np.arange(len(org_ids)), index=org_ids)
    project_set = set(projects)
    parts = dedup_participations(frames)
    parts = parts[parts["project_external_id"].isin(project_set) & parts["org_external_id"].isin(index.index)]
    years = _years(parts["date"])
    end = float(np.nanmax(years)) if len(parts) and np.isfinite(years).any() else np.nan
    rows = index[parts["org_external_id"]].to_numpy()
    proj_codes, proj_index = np.unique(parts["project_external_id"].to_numpy(), return_inverse=True)
    n, m = len(org_ids), len(proj_codes)
    activity = np.bincount(rows, minlength=n).astype(float)
    recent = np.nan_to_num(years) >= (end - recent_years) if np.isfinite(end) else np.zeros(len(rows), bool)
    recent_activity = np.bincount(rows, weights=recent.astype(float), minlength=n)
    last_active = np.full(n, np.nan)
    peak_yearly = np.zeros(n)
    current_load = np.zeros(n)
    if len(rows):
        last = pd.Series(years).groupby(rows).max()
        last_active[last.index.to_numpy()] = last.to_numpy()
        # capacity shown = most projects started in one calendar year (or in the last 12
        # months, below); load = projects started in the last 12 months
        per_year = pd.Series(1.0, index=pd.MultiIndex.from_arrays([rows, np.floor(np.nan_to_num(years))])).groupby(level=[0, 1]).sum()
        peak = per_year.groupby(level=0).max()
        peak_yearly[peak.index.to_numpy()] = peak.to_numpy()
        current_load = np.bincount(rows, weights=(np.nan_to_num(years) > end - 1.0).astype(float), minlength=n)
        # the last 12 months may straddle two calendar years and hold more than either:
        # then they are the most it has taken on in a year (capacity never below load)
        peak_yearly = np.maximum(peak_yearly, current_load)

    incidence = sp.csr_matrix((np.ones(len(rows)), (rows, proj_index)), shape=(n, m))
    size = np.asarray(incidence.sum(axis=0)).ravel()
    linking = sp.diags((size <= max_project_size).astype(float))
    inc_link = (incidence @ linking).tocsr()
    shared = (inc_link @ inc_link.T).tocsr()
    shared.setdiag(0)
    shared.eliminate_zeros()
    adjacency = shared.copy()
    adjacency.data[:] = 1.0
    last_shared = _last_shared(rows, proj_index, years, size <= max_project_size, n)

    title_of = dict(zip(frames.projects["external_id"], frames.projects["title"], strict=True))
    titles_by_org: dict[str, list[str]] = {}
    for project, org in zip(parts["project_external_id"].tolist(), parts["org_external_id"].tolist(), strict=True):
        title = title_of.get(project)
        if isinstance(title, str):
            titles_by_org.setdefault(org, []).append(title)
    keywords_text = [
        " ".join(filter(None, (_text_of(k), _text_of(c))))
        for k, c in zip(orgs["keywords"].tolist(), orgs["capabilities"].tolist(), strict=True)
    ]
    names = orgs["name"].astype(object).where(orgs["name"].notna(), pd.Series(org_ids)).astype(str).tolist()
    profiles = [
        " ".join(filter(None, (name, kw, " ".join(titles_by_org.get(o, ())))))
        for name, kw, o in zip(names, keywords_text, org_ids.tolist(), strict=True)
    ]
    return CollaborationHistory(
        org_ids=org_ids,
        names=np.array(names, dtype=object),
        kinds=orgs["kind"].astype(str).to_numpy(),
        region=nuts2(orgs["region_code"]),
        latitude=pd.to_numeric(orgs["latitude"], errors="coerce").to_numpy(dtype=float),
        longitude=pd.to_numeric(orgs["longitude"], errors="coerce").to_numpy(dtype=float),
        clusters=orgs["cluster"].to_numpy(dtype=object),
        adjacency=adjacency,
        shared=shared,
        last_shared=last_shared,
        activity=activity,
        recent_activity=recent_activity,
        last_active=last_active,
        peak_yearly=peak_yearly,
        current_load=current_load,
        profiles=profiles,
        keywords_text=keywords_text,
        end=end,
    )


def _last_shared(rows, proj_index, years, linking, n) -> sp.csr_matrix:
    """Year of the latest linking project each pair shared (sparse, same pattern as the links)."""
    keep = linking[proj_index]
    memb = pd.DataFrame({"p": proj_index[keep], "o": rows[keep], "y": np.nan_to_num(years[keep])})
    pairs = memb.merge(memb[["p", "o"]], on="p", suffixes=("", "_b"))
    pairs = pairs[pairs["o"] != pairs["o_b"]]
    latest = pairs.groupby(["o", "o_b"], sort=False)["y"].max()
    a = latest.index.get_level_values(0).to_numpy()
    b = latest.index.get_level_values(1).to_numpy()
    return sp.csr_matrix((latest.to_numpy(), (a, b)), shape=(n, n))
