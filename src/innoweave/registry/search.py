"""Finding organisations in the registry database by part of a name, city or keyword, or by
their exact name.

``innoweave orgs search`` and any other reader of the database use :func:`organisation_search`
so that the same text finds the same organisations on SQLite and PostgreSQL: a case-insensitive
substring match in which ``%`` and ``_`` stand for themselves. PostgreSQL's ``ILIKE`` folds
the case of every letter; SQLite's ``LIKE`` folds ASCII letters only, so on SQLite both sides
are folded first by the ``innoweave_fold`` function that :func:`~innoweave.registry.db.make_engine`
registers on each connection.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, func, or_, select

from innoweave.registry.models import Organisation

SQLITE_FOLD = "innoweave_fold"


def fold(text: str | None) -> str | None:
    """The case-folded text (what SQLite compares; None stays None)."""
    return None if text is None else text.casefold()


def _literal(text: str) -> str:
    r"""``text`` for LIKE with ``\`` as the escape: ``%`` and ``_`` match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    r"""``%text%`` for LIKE with ``\`` as the escape: ``%`` and ``_`` in ``text`` match
    themselves, not any characters."""
    return f"%{_literal(text)}%"


def _like(dialect: str, column, pattern: str):
    """``column`` LIKE ``pattern`` with every letter's case folded, on both back-ends."""
    if dialect == "sqlite":
        folder = getattr(func, SQLITE_FOLD)
        return folder(column).like(fold(pattern), escape="\\")
    return column.ilike(pattern, escape="\\")


def _keyword_match(dialect: str, pattern: str):
    """Organisations with a keyword that contains the pattern (keywords is a JSON list)."""
    if dialect == "postgresql":
        items = func.json_array_elements_text(Organisation.keywords).table_valued("value")
    else:  # SQLite's JSON1
        items = func.json_each(Organisation.keywords).table_valued("value")
    return exists(select(1).select_from(items).where(_like(dialect, items.c.value, pattern)))


def organisation_search(dialect: str, text: str) -> Select:
    """The organisations whose name, short name, city, capabilities or a keyword contains
    ``text`` in any case, ordered by name; ``dialect`` is the engine's (``engine.dialect.name``)."""
    pattern = like_pattern(text)
    columns = (Organisation.name, Organisation.short_name, Organisation.city, Organisation.capabilities)
    return (
        select(Organisation)
        .where(or_(*(_like(dialect, c, pattern) for c in columns), _keyword_match(dialect, pattern)))
        .order_by(Organisation.name)
    )


def organisation_named(dialect: str, name: str) -> Select:
    """The organisations whose name is ``name`` in any case (every letter, on both back-ends,
    folded as :func:`organisation_search` folds them: a LIKE without wildcards), ordered by
    external id."""
    return (select(Organisation).where(_like(dialect, Organisation.name, _literal(name)))
            .order_by(Organisation.external_id))  # fmt: skip
