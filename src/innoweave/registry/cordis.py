"""Reading CORDIS exports into registry frames.

Two layouts are understood:

* the gzip layout of ``shared/data/cordis_de`` (``organisations.csv.gz``,
  ``projects.csv.gz``, ``participations.csv.gz``), and
* the bulk CSV layout CORDIS publishes (``organization.csv`` and ``project.csv``,
  semicolon-separated, one organisation row per participation, decimal commas).

Kinds come from ``activityType`` and the ``SME`` flag (see :func:`cordis_kind`); the SME
flag of a non-firm is kept in ``sme_flag``. External ids are namespaced ``cordis:``.

Rows are checked as ``import file`` checks its rows (:func:`read_cordis_checked`): an
unreadable date, an end before the start, an amount that is not a number (or negative), a
missing or repeated id, a text longer than the registry holds. Such a row is reported as
``file, row N, column C: message`` and left out, and so is every participation of a
left-out project or organisation; :func:`read_cordis` refuses the folder when there is any.
A geolocation outside the globe or not ``lat,lon`` is left empty, with a warning.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from innoweave.registry.files import RowError
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import OrgKind
from innoweave.registry.validation import ORGS, PARTICIPATIONS, PROJECTS

SOURCE = "cordis"
ACTIVITY_KINDS = {
    "HES": OrgKind.UNIVERSITY,
    "REC": OrgKind.RESEARCH_INSTITUTE,
    "PUB": OrgKind.GOVERNMENT,
    "OTH": OrgKind.INTERMEDIARY,
}


class CordisFormatError(ValueError):
    """A CORDIS file is missing or lacks the columns of either known layout."""


class CordisRowErrors(CordisFormatError):
    """Rows of a CORDIS folder that cannot be imported (``errors``: one per problem)."""

    def __init__(self, folder: Path, errors: list[RowError]):
        self.errors = errors
        rows = len({(e.file, e.row) for e in errors})
        super().__init__(f"{folder}: {len(errors)} problem(s) in {rows} row(s); first: {errors[0]}")


@dataclass
class CordisRead:
    """A CORDIS folder as read: the valid rows, the problems of the others, and warnings."""

    frames: RegistryFrames
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> dict[str, int]:
        """Rows left out, per file."""
        out: dict[str, int] = {}
        for file, _row in {(e.file, e.row) for e in self.errors}:
            out[file] = out.get(file, 0) + 1
        return dict(sorted(out.items()))


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
    """A CORDIS flag cell as ``True``/``False`` (``true/1/yes/y/t`` or ``false/0/no/n/f``, any
    case); ``None`` when empty or not recognised."""
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
    """Latitude and longitude from CORDIS's ``"lat,lon"``; both are empty where either is
    unreadable or off the globe (a position is kept whole or not at all)."""
    parts = series.astype("string").str.split(",", n=1, expand=True)
    if parts.shape[1] < 2:
        nan = pd.Series(np.nan, index=series.index)
        return nan, nan
    lat = pd.to_numeric(parts[0].str.strip(), errors="coerce").astype(float)
    lon = pd.to_numeric(parts[1].str.strip(), errors="coerce").astype(float)
    bad = ~((lat.abs() <= 90) & (lon.abs() <= 180))
    return lat.mask(bad), lon.mask(bad)


def _geolocation(raw: pd.DataFrame, label: str, rows, warnings: list[str]) -> tuple[pd.Series, pd.Series]:
    lat, lon = split_geolocation(raw["geolocation"])
    text = raw["geolocation"].astype("string").str.strip()
    dropped = (text.notna() & (text != "")).to_numpy() & lat.isna().to_numpy()
    if dropped.any():
        examples = ", ".join(f"row {r}: {t!r}" for r, t in
                             zip(np.asarray(rows)[dropped][:3], text[dropped][:3], strict=True))  # fmt: skip
        warnings.append(f"{label}: {int(dropped.sum())} geolocation(s) not 'latitude,longitude' "
                        f"on the globe, left empty ({examples})")  # fmt: skip
    return lat, lon


class _Checks:
    """Row problems of one raw CORDIS table, collected column by column (vectorised)."""

    def __init__(self, label: str, rows: np.ndarray):
        self.label, self.rows = label, np.asarray(rows)
        self.bad = np.zeros(len(self.rows), dtype=bool)
        self.errors: list[RowError] = []

    def add(self, mask, column: str, messages) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        for row, message in zip(self.rows[mask], messages(mask), strict=True):
            self.errors.append(RowError(self.label, int(row), column, message))

    def required(self, raw: pd.DataFrame, column: str) -> None:
        text = raw[column].astype("string").str.strip()
        missing = (text.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
        self.add(missing, column, lambda m: ["required value is missing"] * int(m.sum()))

    def unique(self, raw: pd.DataFrame, column: str) -> None:
        key = raw[column].astype("string").str.strip()
        dup = key.duplicated(keep="first").to_numpy() & key.notna().to_numpy()
        first = dict(zip(key[~key.duplicated()].tolist(), self.rows[~key.duplicated().to_numpy()], strict=True))
        self.add(dup, column, lambda m: [f"duplicate {column} {k!r} (first at row {first[k]})" for k in key[m]])

    def length(self, raw: pd.DataFrame, column: str, limit: int | None, prefix: str = "") -> None:
        if limit is None or column not in raw.columns:
            return
        size = raw[column].astype("string").str.len().fillna(0).to_numpy() + len(prefix)
        self.add(size > limit, column,
                 lambda m: [f"longer than {limit} characters ({n})" for n in size[m]])  # fmt: skip

    def amount(self, raw: pd.DataFrame, column: str) -> pd.Series:
        """The parsed amounts; non-numbers and negative amounts are problems."""
        text = raw[column].astype("string").str.strip()
        value = parse_amount(raw[column])
        given = text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
        finite = np.isfinite(value.to_numpy(dtype=float, na_value=np.nan))
        self.add(given & ~finite, column, lambda m: [f"expected a number, got {t!r}" for t in text[m]])
        negative = given & finite & (value.to_numpy(dtype=float, na_value=np.nan) < 0)
        self.add(negative, column, lambda m: [f"{v:g} is out of range 0.." for v in value[negative]])
        return value.where(pd.Series(finite, index=value.index))

    def date(self, raw: pd.DataFrame, column: str) -> pd.Series:
        """The parsed dates (ISO 8601); other text is a problem."""
        text = raw[column].astype("string").str.strip()
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        given = text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
        self.add(given & parsed.isna().to_numpy(), column,
                 lambda m: [f"expected a date YYYY-MM-DD, got {t!r}" for t in text[m]])  # fmt: skip
        return parsed

    def boolean(self, raw: pd.DataFrame, column: str) -> None:
        text = raw[column].astype("string").str.strip()
        given = text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
        unknown = given & raw[column].map(parse_bool).isna().to_numpy()
        self.add(unknown, column, lambda m: [f"expected true or false, got {t!r}" for t in text[m]])


def _max_length(entity, column: str) -> int | None:
    return entity.column(column).max_length


def _check_orgs(raw: pd.DataFrame, label: str, rows, *, unique: bool) -> _Checks:
    checks = _Checks(label, rows)
    checks.required(raw, "organisationID")
    if unique:
        checks.unique(raw, "organisationID")
    checks.length(raw, "organisationID", _max_length(ORGS, "external_id"), "cordis:")
    for column, target in (("name", "name"), ("shortName", "short_name"), ("city", "city"),
                           ("postCode", "postcode"), ("nutsCode", "region_code"),
                           ("country", "country")):  # fmt: skip
        checks.length(raw, column, _max_length(ORGS, target))
    checks.boolean(raw, "SME")
    return checks


def _check_projects(raw: pd.DataFrame, label: str, rows) -> tuple[_Checks, dict[str, pd.Series]]:
    checks = _Checks(label, rows)
    checks.required(raw, "projectID")
    checks.unique(raw, "projectID")
    checks.length(raw, "projectID", _max_length(PROJECTS, "external_id"), "cordis:project:")
    no_title = raw["title"].isna().to_numpy() & raw["acronym"].isna().to_numpy()
    checks.add(no_title, "title", lambda m: ["required value is missing (and no acronym)"] * int(m.sum()))
    for column, target in (("acronym", "acronym"), ("programme", "programme"),
                           ("fundingScheme", "funding_scheme"), ("status", "status")):  # fmt: skip
        checks.length(raw, column, _max_length(PROJECTS, target))
    start, end = checks.date(raw, "startDate"), checks.date(raw, "endDate")
    reversed_ = (end < start).fillna(False).to_numpy()
    checks.add(reversed_, "endDate", lambda m: [
        f"end {e.date()} is before start {b.date()}" for b, e in zip(start[m], end[m], strict=True)
    ])  # fmt: skip
    amount = checks.amount(raw, "ecMaxContribution")
    return checks, {"start": start, "end": end, "amount": amount}


def _check_participations(raw: pd.DataFrame, label: str, rows) -> tuple[_Checks, dict[str, pd.Series]]:
    checks = _Checks(label, rows)
    checks.required(raw, "projectID")
    checks.required(raw, "organisationID")
    checks.length(raw, "role", _max_length(PARTICIPATIONS, "role"))
    parsed = {c: checks.amount(raw, c) for c in ("ecContribution", "netEcContribution")}
    return checks, parsed


def _nuts_level(code: pd.Series) -> pd.Series:
    length = code.astype("string").str.len()
    level = length.map({2: "NUTS-0", 3: "NUTS-1", 4: "NUTS-2", 5: "NUTS-3"})
    return level.where(code.notna(), None)


def _read(path: Path, **kw) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], **kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, EOFError, zlib.error) as exc:
        raise CordisFormatError(f"{path}: cannot be read as CSV ({exc})") from exc
    return df.astype(object).where(df.notna(), None)


def _require(df: pd.DataFrame, cols: list[str], path: Path) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CordisFormatError(f"{path}: missing column(s) {', '.join(missing)}")


def _org_frame(raw: pd.DataFrame, source_rows, lat: pd.Series, lon: pd.Series) -> pd.DataFrame:
    sme = raw["SME"].map(parse_bool)
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
            "source_row": np.asarray(source_rows),
        }
    )


def _project_frame(raw: pd.DataFrame, source_rows, parsed: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": "cordis:project:" + raw["projectID"].str.strip(),
            "acronym": raw["acronym"],
            "title": raw["title"].fillna(raw["acronym"]).fillna(""),
            "programme": raw["programme"],
            "funding_scheme": raw["fundingScheme"],
            "status": raw["status"],
            "start_date": parsed["start"].dt.date,
            "end_date": parsed["end"].dt.date,
            "budget": parsed["amount"],
            "public_funding": parsed["amount"],
            "source": SOURCE,
            "source_row": np.asarray(source_rows),
        }
    )


def _participation_frame(raw: pd.DataFrame, source_rows, parsed: dict[str, pd.Series]) -> pd.DataFrame:
    key = raw["projectID"].str.strip() + ":" + raw["organisationID"].str.strip() + ":" + raw["role"].fillna("")
    occurrence = key.groupby(key).cumcount().astype(str)
    return pd.DataFrame(
        {
            "external_id": "cordis:part:" + key + ":" + occurrence,
            "project_external_id": "cordis:project:" + raw["projectID"].str.strip(),
            "org_external_id": "cordis:" + raw["organisationID"].str.strip(),
            "role": raw["role"],
            "public_contribution": parsed["ecContribution"],
            "net_public_contribution": parsed["netEcContribution"],
            "source": SOURCE,
            "source_row": np.asarray(source_rows),
        }
    )


def _rows(n: int) -> np.ndarray:
    return np.arange(2, n + 2)  # line numbers: header is line 1


@dataclass
class _Tables:
    """Checked raw tables of either layout, before invalid rows are left out."""

    orgs: pd.DataFrame
    org_rows: np.ndarray
    org_checks: _Checks
    projects: pd.DataFrame
    project_rows: np.ndarray
    project_checks: _Checks
    project_values: dict[str, pd.Series]
    parts: pd.DataFrame
    part_rows: np.ndarray
    part_checks: _Checks
    part_values: dict[str, pd.Series]
    lat: pd.Series
    lon: pd.Series
    warnings: list[str]


def _check_layout(orgs, org_rows, org_label, projects, project_label, parts, part_rows, part_label,
                  *, unique_orgs: bool) -> _Tables:  # fmt: skip
    warnings: list[str] = []
    org_checks = _check_orgs(orgs, org_label, org_rows, unique=unique_orgs)
    lat, lon = _geolocation(orgs, org_label, org_rows, warnings)
    project_rows = _rows(len(projects))
    project_checks, project_values = _check_projects(projects, project_label, project_rows)
    part_checks, part_values = _check_participations(parts, part_label, part_rows)
    return _Tables(orgs, np.asarray(org_rows), org_checks, projects, project_rows, project_checks,
                   project_values, parts, np.asarray(part_rows), part_checks, part_values, lat, lon,
                   warnings)  # fmt: skip


def _assemble(t: _Tables) -> CordisRead:
    """Frames of the valid rows; a participation of a left-out organisation or project is
    left out too, with a problem that says why."""
    ok_org, ok_proj = ~t.org_checks.bad, ~t.project_checks.bad
    def left_out(ids: pd.Series, ok: np.ndarray) -> set[str]:  # a repeated id's first row stays
        ids = ids.astype("string").str.strip()
        return set(ids[~ok].dropna()) - set(ids[ok].dropna())

    rejected_orgs = left_out(t.orgs["organisationID"], ok_org)
    rejected_projects = left_out(t.projects["projectID"], ok_proj)
    ok_part = ~t.part_checks.bad
    pid = t.parts["projectID"].astype("string").str.strip()
    oid = t.parts["organisationID"].astype("string").str.strip()
    for ids, rejected, column, what in ((oid, rejected_orgs, "organisationID", "organisation"),
                                        (pid, rejected_projects, "projectID", "project")):  # fmt: skip
        orphan = ok_part & ids.isin(rejected).fillna(False).to_numpy()
        t.part_checks.add(orphan, column,
                          lambda m, ids=ids, what=what: [f"its {what} {i!r} was left out (see its row)"
                                                         for i in ids[m]])  # fmt: skip
        ok_part &= ~orphan

    def keep(values: dict[str, pd.Series], mask) -> dict[str, pd.Series]:
        return {k: v[mask] for k, v in values.items()}

    frames = RegistryFrames(
        organisations=_org_frame(t.orgs[ok_org], t.org_rows[ok_org], t.lat[ok_org], t.lon[ok_org]),
        projects=_project_frame(t.projects[ok_proj], t.project_rows[ok_proj],
                                keep(t.project_values, ok_proj)),
        participations=_participation_frame(t.parts[ok_part], t.part_rows[ok_part],
                                            keep(t.part_values, ok_part)),
    )  # fmt: skip
    errors = t.org_checks.errors + t.project_checks.errors + t.part_checks.errors
    return CordisRead(frames, errors, t.warnings)


def _read_gzip(folder: Path) -> _Tables:
    files = {n: folder / f"{n}.csv.gz" for n in ("organisations", "projects", "participations")}
    raw = {n: _read(p) for n, p in files.items()}
    _require(raw["organisations"], ["organisationID", "name", "SME", "activityType"], files["organisations"])
    _require(raw["projects"], ["projectID", "title", "programme", "startDate"], files["projects"])
    _require(raw["participations"], ["projectID", "organisationID", "role"], files["participations"])
    orgs, projects, parts = raw["organisations"], raw["projects"], raw["participations"]
    if "country" not in orgs.columns:
        orgs["country"] = "DE"
    for col in ("shortName", "city", "postCode", "nutsCode", "geolocation"):
        if col not in orgs.columns:
            orgs[col] = None
    for col in ("acronym", "fundingScheme", "status", "endDate", "ecMaxContribution"):
        if col not in projects.columns:
            projects[col] = None
    for col in ("ecContribution", "netEcContribution"):
        if col not in parts.columns:
            parts[col] = None
    return _check_layout(orgs, _rows(len(orgs)), files["organisations"].name,
                         projects, files["projects"].name,
                         parts, _rows(len(parts)), files["participations"].name, unique_orgs=True)  # fmt: skip


def read_gzip_layout(folder: Path) -> RegistryFrames:
    """Read the gzip layout in ``folder``; raises :class:`CordisRowErrors` if any row cannot be
    imported."""
    return _strict(folder, _assemble(_read_gzip(Path(folder))))


def _most_frequent(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per ``key`` holding each column's most frequent non-empty value."""
    return df.groupby(key, sort=False).agg(
        lambda s: s.mode(dropna=True).iloc[0] if s.notna().any() else None
    ).reset_index()


def _read_bulk(folder: Path) -> _Tables:
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
    return _check_layout(per_org, per_org["_row"].to_numpy(), org_path.name, proj, proj_path.name,
                         orgs, orgs["_row"].to_numpy(), org_path.name, unique_orgs=False)  # fmt: skip


def read_bulk_layout(folder: Path) -> RegistryFrames:
    """Read the bulk CSV layout in ``folder``; raises :class:`CordisRowErrors` if any row cannot be
    imported."""
    return _strict(folder, _assemble(_read_bulk(Path(folder))))


def read_cordis_checked(path: str | Path) -> CordisRead:
    """Read a CORDIS folder in either layout, checking every row (see the module's notes).

    Returns the frames of the valid rows with the problems of the others (``errors``, one
    :class:`~innoweave.registry.files.RowError` each) and ``warnings``. A missing file or
    column, or a participation naming an organisation or project absent from the files,
    raises :class:`CordisFormatError`."""
    folder = Path(path)
    if not folder.is_dir():
        raise CordisFormatError(f"{folder}: not a folder")
    if (folder / "organisations.csv.gz").exists():
        read = _assemble(_read_gzip(folder))
    elif (folder / "organization.csv").exists():
        read = _assemble(_read_bulk(folder))
    else:
        raise CordisFormatError(
            f"{folder}: expected organisations/projects/participations.csv.gz "
            "or the CORDIS bulk files organization.csv and project.csv"
        )
    frames = read.frames
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
    read.errors.sort(key=lambda e: (e.file, e.row))
    return read


def read_cordis(path: str | Path) -> RegistryFrames:
    """Read a CORDIS folder in either layout; any row that cannot be imported raises
    :class:`CordisRowErrors` (a :class:`CordisFormatError`) listing the problems."""
    return _strict(path, read_cordis_checked(path))


def _strict(path: str | Path, read: CordisRead) -> RegistryFrames:
    if read.errors:
        raise CordisRowErrors(Path(path), read.errors)
    return read.frames
