"""The SME self-assessment questionnaire: a versioned instrument and its scoring.

The registry knows what an SME has done (projects, partners, funding); only the SME can say
how it sees its own awareness, funding, talent, innovation, IP work and the support around
it. The questionnaire asks that with 4–6 Likert items per restricting factor, worded in
English and Chinese, in a versioned file shipped with the package
(``questionnaire_v1.yaml``). :func:`score_answers` turns answers into one 0..1 score per
factor, which the SME diagnosis (:mod:`innoweave.diagnosis.sme`) uses as one indicator of
each factor beside the registry's.

Answers are a long table ``org_id, item_id, answer`` (or a wide one: ``org_id`` plus one
column per item), read from CSV, XLSX or JSON by :func:`read_answers`, which keeps where
each answer came from (file and line) for the messages. Numbers written as text parse; an
answer that is not a whole number on the scale (text such as "agree" included) raises
:class:`InvalidAnswer` (a ``ValueError``) listing every such answer (the first
:data:`MAX_LISTED_INVALID`, the rest counted) with the file and line, the organisation, the
item and the value, unless ``on_invalid="missing"`` treats them as unanswered; an unknown item
id always raises; an empty answer is unanswered; the same answer given twice counts once,
two different answers to one item raise.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from innoweave.registry.instruments import RestrictingFactor
from innoweave.seeding import SeedLike, make_rng

LANGUAGES = ("en", "zh")
ITEMS_PER_FACTOR = (4, 6)


@dataclass(frozen=True)
class Item:
    """One questionnaire statement: its ``id``, the restricting ``factor`` it measures, its wording
    per language, and whether it is reverse-scored (agreement means a weaker factor)."""

    id: str
    factor: str
    text: dict[str, str]
    reverse: bool = False


@dataclass(frozen=True)
class Questionnaire:
    """A validated questionnaire: version, Likert scale, factor names and items."""

    version: str
    scale: tuple[int, int]
    scale_labels: dict[str, list[str]]
    factor_labels: dict[str, dict[str, str]]
    items: tuple[Item, ...]

    @property
    def item_ids(self) -> list[str]:
        """The ids of all items, in questionnaire order."""
        return [i.id for i in self.items]

    def items_of(self, factor: str) -> list[Item]:
        """The items that measure the restricting ``factor``, in questionnaire order."""
        return [i for i in self.items if i.factor == factor]

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "questionnaire") -> Questionnaire:
        """Build and validate (six factors, 4–6 items each, both languages, unique ids)."""
        try:
            lo, hi = int(data["scale"]["min"]), int(data["scale"]["max"])
            raw_items = data["items"]
            version = str(data["version"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{source}: missing field {exc}") from None
        if hi <= lo:
            raise ValueError(f"{source}: scale max ({hi}) must exceed min ({lo})")
        items = []
        for n, raw in enumerate(raw_items):
            where = f"{source}: item {n + 1} ({raw.get('id', '?')})"
            missing = [k for k in ("id", "factor", *LANGUAGES) if not raw.get(k)]
            if missing:
                raise ValueError(f"{where} lacks {missing}")
            if raw["factor"] not in {f.value for f in RestrictingFactor}:
                raise ValueError(f"{where}: unknown factor {raw['factor']!r}")
            items.append(Item(str(raw["id"]), raw["factor"], {k: raw[k] for k in LANGUAGES},
                              bool(raw.get("reverse", False))))
        ids = [i.id for i in items]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"{source}: duplicate item ids {dup}")
        for factor in RestrictingFactor:
            k = sum(i.factor == factor for i in items)
            if not ITEMS_PER_FACTOR[0] <= k <= ITEMS_PER_FACTOR[1]:
                raise ValueError(
                    f"{source}: factor {factor.value!r} has {k} items; "
                    f"{ITEMS_PER_FACTOR[0]}-{ITEMS_PER_FACTOR[1]} required"
                )
        return cls(version, (lo, hi), data["scale"].get("labels", {}), data.get("factors", {}), tuple(items))


def load_questionnaire(source: str | Path = "v1") -> Questionnaire:
    """A shipped version (``"v1"``) or a YAML/JSON file of the same layout."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml", ".json") and path.exists():
        text, name = path.read_text(encoding="utf-8"), str(path)
    else:
        name = f"questionnaire_{source}.yaml"
        try:
            text = resources.files("innoweave.diagnosis").joinpath(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"no questionnaire {source!r}: not a file and not a shipped version") from None
    return Questionnaire.from_dict(yaml.safe_load(text), source=name)


ANSWER_COLUMNS = ("org_id", "item_id", "answer")
#: Columns that say which organisation a row is and are not answers: read and left out (the
#: answer form of :func:`write_answer_form` has the organisation's name beside its id).
DESCRIPTIVE_COLUMNS = ("name",)
#: Where each answer came from: the file's line (CSV), row (XLSX) or record (JSON) number.
LINE = "_line"


#: How many invalid answers an :class:`InvalidAnswer` message lists one by one (the rest are counted).
MAX_LISTED_INVALID = 20


class InvalidAnswer(ValueError):
    """Answers that are not whole numbers on the scale (``on_invalid="missing"`` skips them).

    ``problems`` holds one line per invalid answer listed (file and line, organisation, item,
    value; at most :data:`MAX_LISTED_INVALID`), ``count`` how many there are in all.
    """

    def __init__(self, message: str, problems: list[str] | None = None, count: int | None = None):
        """``message`` as for any error; ``problems`` and ``count`` as described above."""
        super().__init__(message)
        self.problems = list(problems) if problems is not None else [message]
        self.count = count if count is not None else len(self.problems)


def read_answers(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Answers from a CSV/XLSX/JSON file, long or wide, as a long table.

    CSV (and ``.tsv``/``.txt``) and JSON files are decoded as the registry's file import
    decodes them (:func:`innoweave.registry.files.decode`: UTF-8 with or without BOM,
    UTF-16, plainly Chinese GB18030; ``encoding`` names another, e.g. cp1252) and a CSV's
    separator (comma, semicolon or tab) is taken from the header line. Every cell is read as text,
    so numbers stored as text parse like numbers. The table keeps, in column ``_line``, the
    line (CSV), row (XLSX) or record (JSON) number of each answer, so that errors can say
    where; ``attrs["source"]`` names the file. Any problem raises ``ValueError`` naming the
    file and what to fix: not found, empty, not UTF-8, not valid JSON, not a workbook, no
    answers.
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"answers file not found: {path}")
    if path.is_dir():
        raise ValueError(f"answers file {path} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        df, unit, first = _read_excel(path), "row", 2
    elif suffix == ".xls":
        raise ValueError(f"answers file {path}: the old .xls format cannot be read; save it as .xlsx or CSV (UTF-8)")
    elif suffix == ".json":
        df, unit, first = _read_json(path, encoding), "record", 1
    else:
        df, unit, first = _read_csv(path, encoding), "line", 2
    df.columns = [_header(c) for c in df.columns]
    df[LINE] = np.arange(first, first + len(df))
    df.attrs["source"] = str(path)
    df.attrs["line_unit"] = unit
    cells = df.drop(columns=LINE)
    filled = cells.notna() & (cells.astype(str).apply(lambda c: c.str.strip()) != "")
    df = df[filled.any(axis=1).to_numpy()]  # blank lines and empty spreadsheet rows
    if df.empty:
        raise ValueError(f"answers file {path} has no answers (only a header: {', '.join(map(str, cells.columns))})"
                         if len(cells.columns) else f"answers file {path} is empty")
    return long_answers(df)


def _header(name: object) -> str:
    text = str(name).strip().lstrip("\ufeff").strip()
    return text.lower() if text.lower() in (*ANSWER_COLUMNS, *DESCRIPTIVE_COLUMNS) else text


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    """The cells of a CSV answers file as text, decoded and split as the registry's file
    import does (:func:`innoweave.registry.files.decode`, :func:`~innoweave.registry.files.detect_delimiter`:
    UTF-8, UTF-16, plainly Chinese GB18030; comma, semicolon or tab), and a quoted field
    never closed is named by the line where it starts."""
    from innoweave.registry.files import decode, detect_delimiter, unclosed_quote_line

    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError(f"answers file {path} is empty")
    text, _ = decode(raw, f"answers file {path}", encoding, option="--answers-encoding")
    sep = "\t" if path.suffix.lower() == ".tsv" else detect_delimiter(text)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                           skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"answers file {path} is empty") from None
    except pd.errors.ParserError as exc:
        quoted = unclosed_quote_line(text.lstrip("\ufeff"), sep) if "EOF inside string" in str(exc) else None
        if quoted is not None:
            raise ValueError(
                f"answers file {path} line {quoted}: a quoted field starts there and is never closed (the file "
                "ends inside it); add the closing quote or remove the opening one"
            ) from None
        raise ValueError(f"answers file {path} is not a readable {_sep_name(sep)}-separated table: {exc}") from None


def _sep_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}[sep]


def _read_excel(path: Path) -> pd.DataFrame:
    """The first sheet's cells as typed; only an empty cell is missing (text such as "n/a" is
    kept, as in a CSV, so that it is named as an invalid answer rather than dropped)."""
    try:
        return pd.read_excel(path, dtype=object, engine="openpyxl", keep_default_na=False, na_values=[""])
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        raise ValueError(
            f"answers file {path} is not a readable Excel workbook ({type(exc).__name__}: {exc}); "
            "open and save it again as .xlsx, or export it as CSV UTF-8"
        ) from None


def _read_json(path: Path, encoding: str | None) -> pd.DataFrame:
    from innoweave.registry.files import decode

    text, _ = decode(path.read_bytes(), f"answers file {path}", encoding, option="--answers-encoding")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"answers file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if isinstance(data, dict) and all(isinstance(v, (list, dict)) for v in data.values()):
        df = pd.DataFrame(data)  # {"org_id": [...], ...} or {"org_id": {"0": ...}, ...}
    elif isinstance(data, list) and all(isinstance(r, dict) for r in data):
        df = pd.DataFrame.from_records(data)
    else:
        raise ValueError(f"answers file {path}: JSON answers must be a list of records "
                         '[{"org_id": …, "item_id": …, "answer": …}, …] or an object of columns')
    return df.astype(object).reset_index(drop=True)


def _source(df: pd.DataFrame) -> str:
    return str(df.attrs.get("source", "answers"))


def _where(df: pd.DataFrame, pos: int) -> str:
    """Where answer ``pos`` (0-based position in ``df``) came from: file and line, or table row."""
    if LINE in df.columns:
        unit = df.attrs.get("line_unit", "row")
        return f"{_source(df)} {unit} {int(df[LINE].iloc[pos])}"
    return f"answers row {pos + 1}"


def _id_text(values: pd.Series) -> np.ndarray:
    """Ids as stripped text (a whole-number float id loses its ``.0``), ``""`` where missing."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_float_dtype(values) and bool((values.dropna() % 1 == 0).all()):
        values = values.fillna(0).astype("int64").astype("str")
    elif not isinstance(values.dtype, pd.StringDtype):
        values = values.astype(object).where(~missing, "").astype("str")
    text = values.str.strip().to_numpy(dtype=object, na_value="")
    text[missing] = ""
    return text


def long_answers(df: pd.DataFrame) -> pd.DataFrame:
    """Answers as a long table ``org_id, item_id, answer`` (plus ``_line`` where known).

    A long input has ``org_id``, ``item_id`` and ``answer``; a wide one ``org_id`` and one
    column per item (and neither ``item_id`` nor ``answer``); a ``name`` column beside the
    id (:data:`DESCRIPTIVE_COLUMNS`) is left out. Header names are matched
    without regard to case or surrounding spaces; organisation and item ids are stripped. An
    empty ``org_id`` raises ``ValueError`` naming where.
    """
    attrs = dict(df.attrs)
    if attrs.get("normalised") and {"org_id", "item_id", "answer"} <= set(df.columns):
        return df  # already through here (the diagnosis reads, then scores)
    src = attrs.get("source", "answers")
    df = df.rename(columns=_header)
    columns = [c for c in df.columns if c != LINE]
    if "org_id" not in columns:
        only = columns[0] if len(columns) == 1 else ""
        hint = next((f"; it looks {_sep_name(s)}-separated" for s in (";", "\t") if s in str(only)), "")
        raise ValueError(
            f"{src} has no 'org_id' column (columns: {', '.join(map(str, columns[:8]))}"
            f"{', …' if len(columns) > 8 else ''}){hint}; answers are a long table org_id,item_id,answer "
            "or a wide one: org_id and one column per item"
        )
    has = {c: c in columns for c in ("item_id", "answer")}
    if all(has.values()):
        keep = ["org_id", "item_id", "answer"] + ([LINE] if LINE in df.columns else [])
        long = df[keep].copy()
    elif any(has.values()):
        lacking = next(c for c, here in has.items() if not here)
        raise ValueError(f"{src} has no {lacking!r} column (columns: {', '.join(map(str, columns[:8]))}"
                         f"{', …' if len(columns) > 8 else ''}): a long answers table needs org_id, item_id and answer")
    else:
        ids = ["org_id"] + ([LINE] if LINE in df.columns else [])
        df = df.drop(columns=[c for c in DESCRIPTIVE_COLUMNS if c in columns])
        long = df.melt(id_vars=ids, var_name="item_id", value_name="answer")
        if LINE in long.columns:  # one row per organisation: list its answers in file order
            long = long.sort_values(LINE, kind="stable").reset_index(drop=True)
        attrs["layout"] = "wide"
    long.attrs = attrs
    org = _id_text(long["org_id"])
    blank = org == ""
    if blank.any():
        pos = int(np.flatnonzero(blank)[0])
        raise ValueError(f"{_where(long, pos)}: org_id is empty ({int(blank.sum())} answers without an organisation)")
    # plain object columns: hashing Arrow-backed strings row by row is slow at 10^6 answers
    long["org_id"] = pd.Series(org, index=long.index, dtype=object)
    long["item_id"] = pd.Series(_id_text(long["item_id"]), index=long.index, dtype=object)
    long.attrs["normalised"] = True
    return long


def numeric_values(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numeric value of each cell (NaN where not a number) and whether a value was given.

    Text is stripped and parsed ("3", " 4 ", "5.0", "3,0": a decimal comma, read as the
    registry's file import reads it); an empty cell is not given; true and
    false are given but are not numbers. The rule for answers, and for the firm attributes
    the SME diagnosis checks (:mod:`innoweave.diagnosis.sme`)."""
    if pd.api.types.is_bool_dtype(raw):
        given = raw.notna().to_numpy()
        return np.full(len(raw), np.nan), given
    if pd.api.types.is_numeric_dtype(raw):
        value = raw.to_numpy(dtype=float, na_value=np.nan)
        return value, ~np.isnan(value)
    obj = raw.astype(object)
    missing = obj.isna().to_numpy()
    text = obj.where(~missing, "").astype(str).str.strip()
    given = ~missing & (text.to_numpy(dtype=object) != "")
    value = np.array(pd.to_numeric(text.where(given, ""), errors="coerce"), dtype=float)
    retry = np.flatnonzero(given & np.isnan(value))
    if len(retry):  # a decimal comma (3,0) or another form the registry's import reads
        value[retry] = [_text_number(t) for t in text.to_numpy(dtype=object)[retry]]
    flags = obj.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool) if raw.dtype == object else None
    if flags is not None and flags.any():
        value[flags] = np.nan
    return value, given


def _text_number(text: str) -> float:
    """``text`` read as the registry's file import reads a number (a decimal point or comma;
    :func:`innoweave.registry.numbers.parse_number`), NaN where it is none."""
    from innoweave.registry.numbers import NumberError, parse_number

    try:
        return parse_number(text)
    except NumberError:
        return np.nan


def score_answers(
    answers: pd.DataFrame, questionnaire: Questionnaire, *, on_invalid: str = "raise"
) -> pd.DataFrame:
    """One 0..1 score per organisation and factor: the mean of its answered items.

    Reverse-worded items are flipped first. Answers off the scale raise :class:`InvalidAnswer`
    listing them all (up to :data:`MAX_LISTED_INVALID`), unless ``on_invalid="missing"``.
    A factor with no answered item is NaN; an
    organisation whose every answer was invalid (with ``on_invalid="missing"``) stays, all NaN.
    Item ids are matched without regard to case. An answer repeated with the same value (same
    organisation and item) counts once; two different answers to one item raise
    ``ValueError`` naming both. ``attrs`` of the result: ``invalid_answers`` (how many were
    treated as unanswered) and ``duplicate_answers`` (how many repeats were dropped, with
    examples).
    """
    if on_invalid not in ("raise", "missing"):
        raise ValueError("on_invalid must be 'raise' or 'missing'")
    long = long_answers(answers)
    # plain object arrays: hashing Arrow-backed strings row by row is slow at 10^6 answers
    items = long["item_id"].to_numpy(dtype=object)
    item_pos = pd.Index(questionnaire.item_ids).get_indexer(items)
    if (item_pos < 0).any():
        upper = pd.Index([i.upper() for i in questionnaire.item_ids])
        if upper.is_unique:
            item_pos = np.where(item_pos < 0, upper.get_indexer(pd.Index(items).str.upper()), item_pos)
    if (item_pos < 0).any():
        unknown = sorted(set(items[item_pos < 0]))
        first = int(np.flatnonzero(item_pos < 0)[0])
        shown = unknown[:10] + (["…"] if len(unknown) > 10 else [])
        its = f"{questionnaire.item_ids[0]}…{questionnaire.item_ids[-1]}"
        if long.attrs.get("layout") == "wide":
            raise ValueError(f"{_source(long)}: columns {shown} are not items of questionnaire "
                             f"v{questionnaire.version}; a wide answers table has org_id and one column per "
                             f"item ({its}): remove the other columns")
        raise ValueError(f"{_where(long, first)}: answers name items {shown} that questionnaire "
                         f"v{questionnaire.version} does not have (its items: {its})")
    lo, hi = questionnaire.scale
    value, given = numeric_values(long["answer"])
    with np.errstate(invalid="ignore"):
        bad = given & (np.isnan(value) | (value < lo) | (value > hi) | (value != np.round(value)))
    if bad.any() and on_invalid == "raise":
        raise _invalid_answers(long, np.flatnonzero(bad), value, (lo, hi))
    value = np.where(bad, np.nan, value)
    factors = [f.value for f in RestrictingFactor]
    org_pos, orgs = pd.factorize(long["org_id"].to_numpy(dtype=object))
    keep, duplicates = _drop_duplicates(long, org_pos, item_pos, value, len(questionnaire.items))
    reverse = np.array([i.reverse for i in questionnaire.items])[item_pos]
    factor_pos = np.array([factors.index(i.factor) for i in questionnaire.items])[item_pos]
    score = (np.where(reverse, lo + hi - value, value) - lo) / (hi - lo)
    cell = org_pos * len(factors) + factor_pos
    ok = ~np.isnan(score) & keep
    size = len(orgs) * len(factors)
    total = np.bincount(cell[ok], weights=score[ok], minlength=size)
    count = np.bincount(cell[ok], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    out = pd.DataFrame(mean.reshape(len(orgs), len(factors)), index=pd.Index(orgs, name="org_id"), columns=factors)
    out.attrs = {"invalid_answers": int(bad.sum()), "duplicate_answers": duplicates}
    return out


def _invalid_answers(long: pd.DataFrame, positions: np.ndarray, value: np.ndarray,
                     scale: tuple[int, int]) -> InvalidAnswer:
    """The error for the invalid answers at ``positions`` of ``long``: each of the first
    :data:`MAX_LISTED_INVALID` named by file and line, organisation, item and value, the
    rest counted, so that one pass of corrections is enough."""
    lo, hi = scale
    problems = []
    for pos in positions[:MAX_LISTED_INVALID]:
        pos = int(pos)
        row, v = long.iloc[pos], value[pos]
        what = ("is not a number on" if np.isnan(v) else
                "is outside" if not lo <= v <= hi else "is not a whole number on")
        problems.append(f"{_where(long, pos)}: answer {str(row['answer']).strip()!r} of organisation "
                        f"{row['org_id']!r} to item {row['item_id']!r} {what} the scale {lo}..{hi}")
    n = len(positions)
    if n == 1:
        return InvalidAnswer(problems[0], problems, 1)
    rest = n - len(problems)
    where = f" in {_source(long)}" if "source" in long.attrs else ""
    lines = [f"{n} invalid answers{where}:", *(f"  {p}" for p in problems)]
    if rest:
        lines.append(f"  … and {rest} more (the first {len(problems)} are listed)")
    lines.append(f"each answer listed must be a whole number on the scale {lo}..{hi}, or empty")
    return InvalidAnswer("\n".join(lines), problems, n)


def _drop_duplicates(long: pd.DataFrame, org_pos: np.ndarray, item_pos: np.ndarray, value: np.ndarray,
                     n_items: int) -> tuple[np.ndarray, dict[str, object]]:
    """Which answers to keep: the first of answers repeated with the same value.

    Two different answers of one organisation to one item raise ``ValueError`` naming the
    organisation, the item, both values and where they are. Unanswered cells are ignored."""
    keep = np.ones(len(long), dtype=bool)
    answered = np.flatnonzero(~np.isnan(value))
    key = pd.Series(org_pos[answered].astype(np.int64) * n_items + item_pos[answered])
    repeated = key.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return keep, {"count": 0}
    rows = answered[repeated]
    groups = pd.DataFrame({"key": key.to_numpy()[repeated], "value": value[rows], "pos": rows})
    spread = groups.groupby("key")["value"].transform("nunique").to_numpy()
    if (spread > 1).any():
        first_key = groups["key"].to_numpy()[spread > 1][0]
        clash = groups[groups["key"] == first_key]
        a, b = clash.iloc[0], next(r for _, r in clash.iterrows() if r["value"] != clash.iloc[0]["value"])
        pa, pb = int(a["pos"]), int(b["pos"])
        n = int(pd.unique(groups["key"].to_numpy()[spread > 1]).size)
        raise ValueError(
            f"organisation {long['org_id'].iloc[pa]!r} answers item {long['item_id'].iloc[pa]!r} twice, differently: "
            f"{a['value']:g} ({_where(long, pa)}) and {b['value']:g} ({_where(long, pb)}); keep one answer per "
            f"organisation and item ({n} such conflict{'s' if n > 1 else ''})"
        )
    extra = groups["pos"].to_numpy()[groups["key"].duplicated().to_numpy()]
    keep[extra] = False
    examples = [f"{long['org_id'].iloc[p]!r} item {long['item_id'].iloc[p]!r} ({_where(long, int(p))})" for p in extra[:3]]
    return keep, {"count": int(len(extra)), "examples": examples}


def simulate_answers(
    latent: pd.DataFrame, questionnaire: Questionnaire, *, noise: float = 0.15,
    response_rate: float = 1.0, seed: SeedLike = None,
) -> pd.DataFrame:
    """Synthetic answers (long table) from a 0..1 latent level per organisation and factor.

    For demonstrations and benchmarks only: each answer is the latent (flipped for reverse
    items) plus Gaussian ``noise``, rounded onto the scale; an organisation answers with
    probability ``response_rate``. Whatever uses them must call them synthetic.
    """
    rng = make_rng(seed)
    lo, hi = questionnaire.scale
    orgs = latent.index.astype(str).to_numpy()
    responding = rng.random(len(orgs)) < response_rate
    frames = []
    for item in questionnaire.items:
        level = latent[item.factor].to_numpy(dtype=float)
        level = np.where(np.isnan(level), 0.5, level)
        level = 1 - level if item.reverse else level
        raw = lo + (hi - lo) * np.clip(level + rng.normal(0, noise, len(orgs)), 0, 1)
        frames.append(pd.DataFrame({"org_id": orgs, "item_id": item.id, "answer": np.round(raw)}))
    out = pd.concat(frames, ignore_index=True)
    return out[np.tile(responding, len(questionnaire.items))].reset_index(drop=True)


# --- the answer form ------------------------------------------------------------------------

#: Sheets of the answer form workbook; the first is the one :func:`read_answers` reads.
FORM_SHEETS = ("answers", "items", "scale")


def answer_form(questionnaire: Questionnaire, orgs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The blank wide answers table: ``org_id``, ``name`` and one empty column per item, a row
    per organisation of ``orgs`` (columns ``org_id``, ``name``; none without). Filled in, it
    is read back by :func:`read_answers` as it is."""
    rows = pd.DataFrame(columns=["org_id", "name"]) if orgs is None else orgs[["org_id", "name"]]
    form = pd.DataFrame({"org_id": rows["org_id"].astype(str).to_numpy(),
                         "name": rows["name"].fillna("").astype(str).to_numpy()})  # fmt: skip
    return pd.concat([form, pd.DataFrame(np.nan, index=form.index, columns=questionnaire.item_ids, dtype=object)],
                     axis=1)  # fmt: skip


def item_table(questionnaire: Questionnaire) -> pd.DataFrame:
    """The items as the respondent reads them: id, factor (both languages) and the statement
    in each language (which items are reverse-scored is not shown)."""
    labels = questionnaire.factor_labels
    return pd.DataFrame([
        {"item_id": i.id, "factor": i.factor,
         **{f"factor ({lang})": labels.get(i.factor, {}).get(lang, i.factor) for lang in LANGUAGES},
         **{f"statement ({lang})": i.text[lang] for lang in LANGUAGES}}
        for i in questionnaire.items
    ])  # fmt: skip


def scale_table(questionnaire: Questionnaire) -> pd.DataFrame:
    """One row per answer value of the scale with its label in each language."""
    lo, hi = questionnaire.scale
    labels = questionnaire.scale_labels
    return pd.DataFrame({"answer": range(lo, hi + 1),
                         **{f"label ({lang})": (labels.get(lang) or [""] * (hi - lo + 1)) for lang in LANGUAGES}})  # fmt: skip


def write_answer_form(questionnaire: Questionnaire, path: str | Path, orgs: pd.DataFrame | None = None) -> Path:
    """Write the answer form: ``.xlsx`` — sheet ``answers`` (:func:`answer_form`; each answer
    cell accepts only a whole number of the scale, the id and name columns stay in view),
    then the sheets ``items`` and ``scale`` to read the statements from; ``.csv`` — the
    answers table alone (UTF-8 with a byte-order mark, which Excel reads as UTF-8). Written
    whole or not at all. Returns the path."""
    from innoweave.writing import write_all

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"the answer form is written as .xlsx or .csv, got {path.name!r}")
    form = answer_form(questionnaire, orgs)

    def csv(target: Path) -> None:
        form.to_csv(target, index=False, encoding="utf-8-sig")

    def xlsx(target: Path) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.datavalidation import DataValidation

        book = Workbook()
        book.remove(book.active)
        lo, hi = questionnaire.scale
        for name, table in zip(FORM_SHEETS, (form, item_table(questionnaire), scale_table(questionnaire)), strict=True):
            sheet = book.create_sheet(name)
            sheet.append(list(table.columns))
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in table.itertuples(index=False):
                sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row])
        answers = book[FORM_SHEETS[0]]
        answers.freeze_panes = "C2"
        for k in range(1, answers.max_column + 1):
            answers.column_dimensions[get_column_letter(k)].width = 14 if k > 2 else 28
        first, last = get_column_letter(3), get_column_letter(answers.max_column)
        rule = DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi),
                              allow_blank=True, showErrorMessage=True, errorTitle="Answer",
                              error=f"A whole number from {lo} to {hi} (see the sheet 'scale'), or empty.")  # fmt: skip
        answers.add_data_validation(rule)
        rule.add(f"{first}2:{last}{max(len(form) + 1, 1000)}")
        items = book[FORM_SHEETS[1]]
        for letter, width in zip("ABCDEFG", (8, 16, 26, 14, 70, 40), strict=False):
            items.column_dimensions[letter].width = width
        book.save(target)

    write_all([(path, xlsx if suffix == ".xlsx" else csv)])
    return path
