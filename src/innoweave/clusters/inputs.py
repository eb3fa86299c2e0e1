"""Input checks shared by the cluster analyses: what was wrong with the data, and how much.

Regional statistics arrive with gaps and repeats: regions with no employment, missing
establishment counts, industry codes a crosswalk does not know, the same region × cluster
row twice. The cluster analyses never drop such rows silently: each problem is counted in an
:class:`InputReport` that travels with the results (and is printed by the CLI), and problems
that make a result meaningless raise :class:`ClusterInputError` naming what and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

EXAMPLES = 5


class ClusterInputError(ValueError):
    """The input cannot be analysed as given (the message names the column and rows)."""


@dataclass
class InputReport:
    """Counts of input problems found, with a few examples each and free-text notes."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, problem: str, count: int, examples=(), note: str | None = None) -> None:
        """Record ``count`` occurrences of ``problem`` (nothing is recorded for zero)."""
        if count <= 0:
            return
        self.counts[problem] = self.counts.get(problem, 0) + int(count)
        found = self.examples.setdefault(problem, [])
        found.extend(_plain(e) for e in list(examples)[: EXAMPLES - len(found)])
        if note:
            self.notes.append(note)

    def merge(self, other: InputReport) -> InputReport:
        """Add the counts, examples and notes of ``other`` to this report (in place); returns
        ``self``."""
        for problem, count in other.counts.items():
            self.add(problem, count, other.examples.get(problem, ()))
        self.notes.extend(other.notes)
        return self

    def __bool__(self) -> bool:
        return bool(self.counts or self.notes)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain ``counts``, ``examples`` and ``notes``, for JSON and the CLI."""
        return {
            "counts": dict(self.counts),
            "examples": dict(self.examples),
            "notes": list(self.notes),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") else value


def require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise :class:`ClusterInputError` naming ``what``, the missing columns, the columns
    expected and the columns found, unless ``df`` has all of ``columns`` (names match
    exactly: case and spaces count)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        found = [c for c in map(str, df.columns) if c != "line"]
        raise ClusterInputError(
            f"{what}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)} "
            f"(names match exactly); found {', '.join(found) or 'none'}"
        )


def text_numbers(df: pd.DataFrame, columns: list[str], what: str, *, counts=()) -> pd.DataFrame:
    """``df`` with the text cells of ``columns`` (those present) read as numbers the way
    the registry's file import reads them (:mod:`innoweave.registry.numbers`): a decimal
    point or comma, and ``1.250`` by the decimal mark the table's number cells show. An
    ambiguous ``1.250`` in one of ``counts`` where no mark is shown raises naming the
    column, the file lines and how to write it; other text that is no number is left as it
    is, for :func:`numeric_column` to name."""
    from innoweave.registry.numbers import (
        NumberError,
        ambiguous_separator,
        decimal_marks,
        parse_number,
    )

    present = [c for c in columns if c in df.columns]
    if not present:
        return df
    lines = [int(x) for x in df["line"]] if "line" in df.columns else list(range(2, len(df) + 2))
    rows = df[present].to_dict("records")
    marks = decimal_marks(rows, present, lines)
    out = df.copy()
    for column in present:
        mark = marks[column].mark if marks[column] is not None else None
        values, ambiguous = [], []
        for value, line in zip(df[column].tolist(), lines, strict=True):
            if isinstance(value, str) and value.strip():
                if mark is None and column in counts and ambiguous_separator(value):
                    ambiguous.append((line, value))
                try:
                    value = parse_number(value, mark=mark)
                except NumberError:
                    pass
            values.append(value)
        if ambiguous:
            (line, value), n = ambiguous[0], len(ambiguous)
            try:
                parse_number(value, count=True)
            except NumberError as exc:
                shown = ", ".join(str(x) for x, _ in ambiguous[:EXAMPLES]) + (", ..." if n > EXAMPLES else "")
                raise ClusterInputError(f"{what}: column {column!r}, file line {line}: {exc} "
                                        f"({n} such value(s): file lines {shown})") from None  # fmt: skip
        out[column] = pd.Series(values, index=df.index, dtype=object)
    return out


def numeric_column(df: pd.DataFrame, column: str, what: str, *, allow_missing: bool) -> pd.Series:
    """``df[column]`` as floats; text, infinite or negative values (and missing ones unless
    allowed) raise.

    Row numbers in messages count the header as line 1, as in the source file.
    """
    raw = df[column]
    # true/false is no count: pandas would read it as 1/0
    flags = raw.map(lambda x: isinstance(x, (bool, np.bool_))).to_numpy(dtype=bool)
    values = pd.to_numeric(raw.mask(flags), errors="coerce").astype(float)
    bad_text = values.isna() & raw.notna() & ((raw.astype("string").str.strip() != "") | flags)
    problems = {
        "not a number": bad_text,
        "infinite": np.isinf(values),
        "negative": values < 0,
    }
    if not allow_missing:
        problems["missing"] = values.isna() & ~bad_text
    for label, mask in problems.items():
        if mask.any():
            lines = [int(i) + 2 for i in mask.to_numpy().nonzero()[0][:EXAMPLES]]
            raise ClusterInputError(
                f"{what}: column {column!r} has {int(mask.sum())} {label} value(s) "
                f"(file lines {', '.join(map(str, lines))}{', ...' if mask.sum() > EXAMPLES else ''})"
            )
    return values


def deduplicate(
    table: pd.DataFrame, keys: list[str], duplicates: str, report: InputReport, *, what: str
) -> pd.DataFrame:
    """Count identical repeated rows once; resolve keys repeated with different values.

    ``duplicates`` decides the latter: ``"error"`` raises naming the keys, the file lines and
    both ways out (``--duplicates sum`` or ``first`` on the command line, ``duplicates=`` in
    Python), ``"sum"`` adds up ``employment`` and ``establishments`` (undecided if any is
    missing), ``"first"`` keeps the first row. Every case is counted in ``report``. A ``line`` column,
    where present, holds file line numbers and is not compared.
    """
    if duplicates not in ("error", "sum", "first"):
        raise ValueError(f"duplicates must be 'error', 'sum' or 'first', not {duplicates!r}")
    content = [c for c in table.columns if c != "line"]
    identical = table.duplicated(subset=content)
    report.add(
        "duplicate_rows_identical",
        int(identical.sum()),
        table.loc[identical, keys].itertuples(index=False, name=None),
        note=f"{what}: {int(identical.sum())} identical duplicate row(s) counted once"
        if identical.any()
        else None,
    )
    table = table[~identical]
    clash = table.duplicated(subset=keys, keep=False)
    if not clash.any():
        return table
    clashing = table.loc[clash, keys].drop_duplicates()
    examples = list(clashing.itertuples(index=False, name=None))
    extra = int(clash.sum() - len(clashing))
    lines = table.loc[clash, "line"].tolist()[:EXAMPLES] if "line" in table.columns else []
    if duplicates == "error":
        raise ClusterInputError(
            f"{what}: {len(clashing)} key(s) ({' × '.join(keys)}) appear in several rows with different values "
            f"(e.g. {examples[:EXAMPLES]}; file lines {lines}); to add them up or keep the first "
            "row, use --duplicates sum or first on the command line (duplicates='sum' or "
            "'first' from Python)"
        )
    report.add(
        "duplicate_keys_summed" if duplicates == "sum" else "duplicate_keys_kept_first",
        extra,
        examples,
        note=f"{what}: {len(clashing)} key(s) repeated with different values; {extra} extra row(s) "
        + ("summed in" if duplicates == "sum" else "ignored (first row kept)"),
    )
    if duplicates == "first":
        return table.drop_duplicates(subset=keys, keep="first")
    grouped = table.groupby(keys, sort=False)
    combined = grouped.first().reset_index()
    for column in ("employment", "establishments"):
        if column in table.columns:
            total = grouped[column].sum().to_numpy()
            missing = grouped[column].apply(lambda s: s.isna().any()).to_numpy()
            combined[column] = np.where(missing, np.nan, total)
    return combined
