"""Numbers written as text: decimal marks and thousands separators.

Analysts' files write numbers as their spreadsheet does: ``48.5`` in English, ``48,5`` in
German Excel, and often with a thousands separator (``1.250`` or ``1,250`` for 1250). One
separator followed by exactly three digits (``1.250``) therefore means 1250 in one
convention and 1.25 in the other. This module decides a table's convention from the cells
that show it unambiguously, and reads each cell accordingly:

* a cell *shows* its decimal mark when only one reading is possible: ``3,5``, ``48,1372``,
  ``0,250`` (no thousands group starts with 0), ``1234,5`` (a group has three digits),
  ``1.250,5`` (dot = thousands, so comma = decimal), ``6.500.000`` (two dots: thousands);
* a column's mark is the one its own cells show, else the one the table's number cells
  show, else unknown (cells showing both marks leave it unknown);
* an ambiguous cell (``1.250``, ``1,250``) is read by the mark: as a decimal where its
  separator is the mark, as thousands where it is the other; with no mark known, a count
  (a column of whole numbers or head counts) refuses it, naming both readings and how to
  write each; any other number is read as a decimal, as it always was.

Grouped numbers with two or more separators are refused whatever the mark, with a hint to
leave the separators out. The registry's file import (:mod:`.files`), the questionnaire
answers (:mod:`innoweave.diagnosis.questionnaire`) and ``clusters lq --data`` all read
numbers with this code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DOT, COMMA = ".", ","

_PLAIN_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
#: 1.234,5 / 1,234.5 / 1 234 / 1'234: thousands grouped, which a number cell must not hold
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}([.,' \u00a0\u202f]\d{3})+([.,]\d+)?$")
#: one separator, then exactly three digits, after 1-3 digits not starting with 0
_AMBIGUOUS_RE = re.compile(r"^[+-]?([1-9]\d{0,2})([.,])(\d{3})$")
#: dot groups then a decimal comma (1.234,5), or two dot groups (6.500.000): comma is decimal
_COMMA_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+|(\.\d{3})+)$")
_DOT_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+|(,\d{3})+)$")
#: what float() would take for infinity or NaN: a number, but not a finite one
_NOT_FINITE = {"inf", "infinity", "nan"}


class NumberError(ValueError):
    """A text that is not a number, or not one that can be read without guessing."""


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= 60 else text[:57] + "...'"


def ambiguous_separator(text: str) -> str | None:
    """The separator of ``text`` if it is one separator followed by exactly three digits
    (``1.250``, ``-12,500``), which reads as thousands or as a decimal; else None."""
    match = _AMBIGUOUS_RE.match(text.strip())
    return match.group(2) if match else None


def mark_shown(text: str) -> str | None:
    """The decimal mark (:data:`DOT` or :data:`COMMA`) that number text ``text`` shows
    unambiguously, or None (no separator, an ambiguous one, or not a number)."""
    text = text.strip()
    if _PLAIN_RE.match(text):
        if _AMBIGUOUS_RE.match(text):
            return None
        separator = re.search("[.,]", text)
        return separator.group() if separator else None
    if _COMMA_GROUPED_RE.match(text):
        return COMMA
    if _DOT_GROUPED_RE.match(text):
        return DOT
    return None


@dataclass(frozen=True)
class DecimalMark:
    """A decided decimal mark and the cell that shows it (for messages)."""

    mark: str
    example: str
    row: int
    column: str

    def __str__(self) -> str:
        return f"'{self.mark}' (as {self.example!r} in row {self.row}, column {self.column} shows)"


def decimal_marks(
    rows: Sequence[Mapping[str, Any]], columns: Iterable[str], row_numbers: Sequence[int]
) -> dict[str, DecimalMark | None]:
    """The decimal mark of each of ``columns`` of ``rows`` (text cells only; typed numbers
    show none): the one the column's own cells show, else the one all of those columns'
    cells show, else None. ``row_numbers`` number the rows in the examples."""
    columns = list(columns)
    shown: dict[str, dict[str, DecimalMark]] = {c: {} for c in columns}
    for row, number in zip(rows, row_numbers, strict=True):
        for column in columns:
            value = row.get(column)
            if not isinstance(value, str):
                continue
            mark = mark_shown(value)
            if mark is not None and mark not in shown[column]:
                shown[column][mark] = DecimalMark(mark, value.strip(), number, column)
    table: dict[str, DecimalMark] = {}
    for column in columns:
        for mark, example in shown[column].items():
            table.setdefault(mark, example)
    table_mark = next(iter(table.values())) if len(table) == 1 else None
    out: dict[str, DecimalMark | None] = {}
    for column in columns:
        own = shown[column]
        out[column] = next(iter(own.values())) if len(own) == 1 else None if own else table_mark
    return out


def _decimal_reading(whole: str, fraction: str, separator: str) -> str:
    """How to write ``whole<separator>fraction`` as an unambiguous decimal (1.250 -> 1.25)."""
    fraction = fraction.rstrip("0")
    return f"{whole}{separator}{fraction}" if fraction else whole


def parse_number(value: Any, *, mark: str | None = None, count: bool = False) -> float:
    """The number a cell holds, or :class:`NumberError` saying what was expected.

    Text may use a decimal point or a decimal comma. An ambiguous text (``1.250``: see
    :func:`ambiguous_separator`) is read by ``mark`` (the decimal mark of its column, see
    :func:`decimal_marks`): a decimal when its separator is ``mark``, thousands when it is
    the other. With no ``mark`` it is read as a decimal, unless ``count``: a count refuses
    it, naming both readings. Numbers grouped by thousands with two or more separators
    are refused, as are booleans, infinities and NaN (``inf`` says "expected a finite number")."""
    if isinstance(value, bool):
        raise NumberError(f"expected a number, got {value!r}")
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = _parse_text(value, mark, count)
        else:
            raise NumberError(f"expected a number, got {type(value).__name__} {_show(value)}")
    except OverflowError:
        raise NumberError(f"number too large: {_show(value)}") from None
    if not math.isfinite(number):
        raise NumberError(f"expected a finite number, got {_show(value)}")
    return number


def _parse_text(value: str, mark: str | None, count: bool) -> float:
    text = value.strip()
    if text.lower().lstrip("+-") in _NOT_FINITE:
        raise NumberError(f"expected a finite number, got {_show(value)}")
    if not _PLAIN_RE.match(text):
        grouped = _GROUPED_RE.match(text) is not None
        raise NumberError(f"expected a number, got {_show(value)}"
                          + (" (digits grouped by thousands? write it without the "
                             "separators, e.g. 1234.5 or 1234,5)" if grouped else ""))  # fmt: skip
    ambiguous = _AMBIGUOUS_RE.match(text)
    if ambiguous is not None:
        whole, separator, fraction = ambiguous.groups()
        sign = "-" if text.startswith("-") else ""
        if mark is not None and separator != mark:
            return float(f"{sign}{whole}{fraction}")  # the file's thousands separator
        if mark is None and count:
            thousands = f"{sign}{whole}{fraction}"
            decimal = sign + _decimal_reading(whole, fraction, separator)
            raise NumberError(
                f"{_show(value)} is ambiguous: {thousands} if '{separator}' separates "
                f"thousands, {decimal.replace(',', '.')} if it is a decimal mark, and the "
                f"file's other numbers do not show which; write {thousands}, or {decimal} if "
                "you mean a decimal"
            )
    return float(text.replace(",", "."))


def resolved_by_mark(value: Any, mark: str | None) -> bool:
    """Whether reading ``value`` needed ``mark``: an ambiguous text read with a known mark."""
    return mark is not None and isinstance(value, str) and ambiguous_separator(value) is not None


def number_text(number: float) -> str:
    """``number`` as text that :func:`parse_number` reads back as it, without a mark: a
    whole number without decimals, else with a decimal point and never exactly three
    decimals (``12.345`` is written ``12.3450``)."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    return text + "0" if ambiguous_separator(text) else text
