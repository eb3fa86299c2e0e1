"""The SME self-assessment questionnaire: a versioned instrument and its scoring.

The registry knows what an SME has done (projects, partners, funding); only the SME can say
how it sees its own awareness, funding, talent, innovation, IP work and the support around
it. The questionnaire asks that with 4–6 Likert items per restricting factor, worded in
English and Chinese, in a versioned file shipped with the package
(``questionnaire_v1.yaml``). :func:`score_answers` turns answers into one 0..1 score per
factor, which the SME diagnosis (:mod:`innoweave.diagnosis.sme`) uses as one indicator of
each factor beside the registry's.

Answers are a long table ``org_id, item_id, answer`` (or a wide one: ``org_id`` plus one
column per item). An answer outside the scale (or not a whole number) raises ``ValueError``
naming the organisation, the item and the value, unless ``on_invalid="missing"`` treats it
as unanswered; an unknown item id always raises; an empty answer is unanswered.
"""

from __future__ import annotations

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
        return [i.id for i in self.items]

    def items_of(self, factor: str) -> list[Item]:
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


def read_answers(path: str | Path) -> pd.DataFrame:
    """Answers from a CSV/XLSX/JSON file, long or wide, as a long table."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"answers file not found: {path}")
    if path.suffix == ".xlsx":
        df = pd.read_excel(path)
    elif path.suffix == ".json":
        df = pd.read_json(path)
    else:
        df = pd.read_csv(path)
    return long_answers(df)


def long_answers(df: pd.DataFrame) -> pd.DataFrame:
    if "org_id" not in df.columns:
        raise ValueError("answers need an 'org_id' column")
    if {"item_id", "answer"} <= set(df.columns):
        return df[["org_id", "item_id", "answer"]].copy()
    return df.melt(id_vars="org_id", var_name="item_id", value_name="answer")


def score_answers(
    answers: pd.DataFrame, questionnaire: Questionnaire, *, on_invalid: str = "raise"
) -> pd.DataFrame:
    """One 0..1 score per organisation and factor: the mean of its answered items.

    Reverse-worded items are flipped first. A factor with no answered item is NaN; an
    organisation whose every answer was invalid (with ``on_invalid="missing"``) stays, all NaN.
    """
    if on_invalid not in ("raise", "missing"):
        raise ValueError("on_invalid must be 'raise' or 'missing'")
    long = long_answers(answers)
    # plain object arrays: hashing Arrow-backed strings row by row is slow at 10^6 answers
    items = long["item_id"].astype(str).to_numpy(dtype=object)
    item_pos = pd.Index(questionnaire.item_ids).get_indexer(items)
    if (item_pos < 0).any():
        unknown = sorted(set(items[item_pos < 0]))
        raise ValueError(f"answers name items {unknown} that questionnaire v{questionnaire.version} does not have")
    lo, hi = questionnaire.scale
    raw = long["answer"]
    value = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    given = raw.notna().to_numpy()
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        given &= raw.astype(str).str.strip().to_numpy(dtype=object) != ""
    with np.errstate(invalid="ignore"):
        bad = given & (np.isnan(value) | (value < lo) | (value > hi) | (value != np.round(value)))
    if bad.any() and on_invalid == "raise":
        row = long[bad].iloc[0]
        raise ValueError(
            f"answer {str(row['answer'])!r} of organisation {row['org_id']!r} to item {row['item_id']!r} "
            f"is outside the scale {lo}..{hi} ({int(bad.sum())} such answers)"
        )
    value = np.where(bad, np.nan, value)
    factors = [f.value for f in RestrictingFactor]
    reverse = np.array([i.reverse for i in questionnaire.items])[item_pos]
    factor_pos = np.array([factors.index(i.factor) for i in questionnaire.items])[item_pos]
    score = (np.where(reverse, lo + hi - value, value) - lo) / (hi - lo)
    org_pos, orgs = pd.factorize(long["org_id"].astype(str).to_numpy(dtype=object))
    cell = org_pos * len(factors) + factor_pos
    ok = ~np.isnan(score)
    size = len(orgs) * len(factors)
    total = np.bincount(cell[ok], weights=score[ok], minlength=size)
    count = np.bincount(cell[ok], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return pd.DataFrame(mean.reshape(len(orgs), len(factors)), index=pd.Index(orgs, name="org_id"), columns=factors)


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
