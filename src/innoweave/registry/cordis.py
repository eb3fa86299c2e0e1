"""Reading CORDIS exports into registry frames.

Two layouts are understood:

* the gzip layout of ``shared/data/cordis_de`` (``organisations.csv.gz``,
  ``projects.csv.gz``, ``participations.csv.gz``), and
* the bulk CSV layout CORDIS publishes (``organization.csv`` and ``project.csv``,
  semicolon-separated, one organisation row per participation, decimal commas).

Kinds come from ``activityType`` and the ``SME`` flag (see :func:`cordis_kind`); the SME
flag of a non-firm is kept in ``sme_flag``. External ids are namespaced ``cordis:``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import OrgKind

SOURCE = "cordis"
ACTIVITY_KINDS = {
    "HES": OrgKind.UNIVERSITY,
    "REC": OrgKind.RESEARCH_INSTITUTE,
    "PUB": OrgKind.GOVERNMENT,
    "OTH": OrgKind.INTERMEDIARY,
}


class CordisFormatError(ValueError):
    """A CORDIS file is missing or lacks the columns of either known layout."""


def cordis_kind(activity_type: str | None, sme: bool | None) -> OrgKind:
    """Kind of a CORDIS organisation from ``activityType`` and its ``SME`` flag.

    PRC with SME true → ``sme``; PRC with SME false → ``large_firm``; PRC without the flag
    → ``company``; HES → ``university``; REC → ``research_institute``; PUB →
    ``government``; OTH → ``intermediary``; no type → ``other``.
    """
    code = activity_type.strip().upper() if isinstance(activity_type, str) else ""
    if code == "PRC":
        if sme is None:
            return OrgKind.COMPANY
        return OrgKind.SME if sme else OrgKind.LARGE_FIRM
    return ACTIVITY_KINDS.get(code, OrgKind.OTHER)


def parse_bool(value) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    return None


def parse_amount(series: pd.Series) -> pd.Series:
    """Amounts as published: ``113184515,18`` (decimal comma) or ``113184515.18``."""
    text = series.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def split_geolocation(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = series.astype("string").str.split(",", n=1, expand=True)
    if parts.shape[1] < 2:
        nan = pd.Series(np.nan, index=series.index)
        return nan, nan
    lat = pd.to_numeric(parts[0], errors="coerce")
    lon = pd.to_numeric(parts[1], errors="coerce")
    bad = (lat.abs() > 90) | (lon.abs() > 180)
    return lat.mask(bad), lon.mask(bad)


def _nuts_level(code: pd.Series) -> pd.Series:
    length = code.astype("string").str.len()
    level = length.map({2: "NUTS-0", 3: "NUTS-1", 4: "NUTS-2", 5: "NUTS-3"})
    return level.where(code.notna(), None)


def _read(path: Path, **kw) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], **kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError) as exc:
        raise CordisFormatError(f"{path}: cannot be read as CSV ({exc})") from exc
    return df.astype(object).where(df.notna(), None)


def _require(df: pd.DataFrame, cols: list[str], path: Path) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CordisFormatError(f"{path}: missing column(s) {', '.join(missing)}")


def _org_frame(raw: pd.DataFrame, source_rows: pd.Series) -> pd.DataFrame:
    sme = raw["SME"].map(parse_bool)
    lat, lon = split_geolocation(raw["geolocation"])
    kinds = [cordis_kind(a, s).value for a, s in zip(raw["activityType"], sme, strict=True)]
    pic = raw["organisationID"].str.strip()
    return pd.DataFrame(
        {
            "external_id": "cordis:" + pic,
            "external_ids": [{"cordis_pic": p} for p in pic],
            "name": raw["name"].fillna(pic),
            "short_name": raw["shortName"],
            "kind": kinds,
            "sme_flag": sme.astype(object).where(sme.notna(), None),
            "country": raw.get("country", pd.Series("DE", index=raw.index)).fillna("DE"),
            "region_code": raw["nutsCode"],
            "region_level": _nuts_level(raw["nutsCode"]),
            "city": raw["city"],
            "postcode": raw["postCode"],
            "latitude": lat,
            "longitude": lon,
            "attributes": [{"activity_type": a} if isinstance(a, str) else {} for a in raw["activityType"]],
            "source": SOURCE,
            "source_row": source_rows.to_numpy(),
        }
    )


def _project_frame(raw: pd.DataFrame, source_rows: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": "cordis:project:" + raw["projectID"].str.strip(),
            "acronym": raw["acronym"],
            "title": raw["title"].fillna(raw["acronym"]).fillna(""),
            "programme": raw["programme"],
            "funding_scheme": raw["fundingScheme"],
            "status": raw["status"],
            "start_date": pd.to_datetime(raw["startDate"], errors="coerce").dt.date,
            "end_date": pd.to_datetime(raw["endDate"], errors="coerce").dt.date,
            "budget": parse_amount(raw["ecMaxContribution"]),
            "public_funding": parse_amount(raw["ecMaxContribution"]),
            "source": SOURCE,
            "source_row": source_rows.to_numpy(),
        }
    )


def _participation_frame(raw: pd.DataFrame, source_rows: pd.Series) -> pd.DataFrame:
    key = raw["projectID"].str.strip() + ":" + raw["organisationID"].str.strip() + ":" + raw["role"].fillna("")
    occurrence = key.groupby(key).cumcount().astype(str)
    return pd.DataFrame(
        {
            "external_id": "cordis:part:" + key + ":" + occurrence,
            "project_external_id": "cordis:project:" + raw["projectID"].str.strip(),
            "org_external_id": "cordis:" + raw["organisationID"].str.strip(),
            "role": raw["role"],
            "public_contribution": parse_amount(raw["ecContribution"]),
            "net_public_contribution": parse_amount(raw["netEcContribution"]),
            "source": SOURCE,
            "source_row": source_rows.to_numpy(),
        }
    )


def _rows(n: int) -> pd.Series:
    return pd.Series(np.arange(2, n + 2))  # line numbers: header is line 1


def read_gzip_layout(folder: Path) -> RegistryFrames:
    files = {n: folder / f"{n}.csv.gz" for n in ("organisations", "projects", "participations")}
    raw = {n: _read(p) for n, p in files.items()}
    _require(raw["organisations"], ["organisationID", "name", "SME", "activityType"], files["organisations"])
    _require(raw["projects"], ["projectID", "title", "programme", "startDate"], files["projects"])
    _require(raw["participations"], ["projectID", "organisationID", "role"], files["participations"])
    orgs = raw["organisations"]
    if "country" not in orgs.columns:
        orgs["country"] = "DE"
    return RegistryFrames(
        organisations=_org_frame(orgs, _rows(len(orgs))),
        projects=_project_frame(raw["projects"], _rows(len(raw["projects"]))),
        participations=_participation_frame(raw["participations"], _rows(len(raw["participations"]))),
    )


def _most_frequent(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per ``key`` holding each column's most frequent non-empty value."""
    return df.groupby(key, sort=False).agg(
        lambda s: s.mode(dropna=True).iloc[0] if s.notna().any() else None
    ).reset_index()


def read_bulk_layout(folder: Path) -> RegistryFrames:
    org_path, proj_path = folder / "organization.csv", folder / "project.csv"
    orgs = _read(org_path, sep=";", quotechar='"')
    projects = _read(proj_path, sep=";", quotechar='"')
    _require(orgs, ["projectID", "organisationID", "name", "SME", "activityType", "role"], org_path)
    _require(projects, ["id", "title", "startDate", "frameworkProgramme"], proj_path)
    for col in ("shortName", "city", "postCode", "nutsCode", "geolocation", "country",
                "ecContribution", "netEcContribution"):  # fmt: skip
        if col not in orgs.columns:
            orgs[col] = None
    orgs["_row"] = np.arange(2, len(orgs) + 2)
    per_org = _most_frequent(
        orgs[["organisationID", "name", "shortName", "SME", "activityType", "city", "postCode",
              "nutsCode", "geolocation", "country", "_row"]],  # fmt: skip
        "organisationID",
    )
    programme = projects["frameworkProgramme"].map(
        {"H2020": "Horizon 2020", "HORIZON": "Horizon Europe", "FP7": "FP7"}
    ).fillna(projects["frameworkProgramme"])
    proj = pd.DataFrame(
        {
            "projectID": projects["id"],
            "acronym": projects.get("acronym"),
            "title": projects["title"],
            "programme": programme,
            "fundingScheme": projects.get("fundingScheme"),
            "status": projects.get("status"),
            "startDate": projects["startDate"],
            "endDate": projects.get("endDate"),
            "ecMaxContribution": projects.get("ecMaxContribution"),
        }
    )
    return RegistryFrames(
        organisations=_org_frame(per_org, per_org["_row"]),
        projects=_project_frame(proj, _rows(len(proj))),
        participations=_participation_frame(orgs, orgs["_row"]),
    )


def read_cordis(path: str | Path) -> RegistryFrames:
    """Read a CORDIS folder in either layout."""
    folder = Path(path)
    if not folder.is_dir():
        raise CordisFormatError(f"{folder}: not a folder")
    if (folder / "organisations.csv.gz").exists():
        frames = read_gzip_layout(folder)
    elif (folder / "organization.csv").exists():
        frames = read_bulk_layout(folder)
    else:
        raise CordisFormatError(
            f"{folder}: expected organisations/projects/participations.csv.gz "
            "or the CORDIS bulk files organization.csv and project.csv"
        )
    known_orgs = set(frames.organisations["external_id"])
    known_projects = set(frames.projects["external_id"])
    parts = frames.participations
    bad = ~parts["org_external_id"].isin(known_orgs) | ~parts["project_external_id"].isin(known_projects)
    if bad.any():
        first = parts[bad].iloc[0]
        raise CordisFormatError(
            f"{folder}: {int(bad.sum())} participation(s) name an organisation or project "
            f"absent from the files (first at row {first['source_row']}: "
            f"{first['project_external_id']} / {first['org_external_id']})"
        )
    return frames
