"""Bulk statements tuned per database, for the hot paths that write or look up hundreds of
rows at once (the ledger and inbox of a push, the documents of a batch).

They live here, below ``server``, because the ledger's own protocol (``sync.claims``,
``sync.ledger_writes``) needs them and ``sync`` never imports ``server``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, Uuid, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def is_postgresql(session: Session) -> bool:
    """True when the session's database is PostgreSQL (the bulk paths differ)."""
    return bool(session.get_bind().dialect.name == "postgresql")


def in_ids(session: Session, column: Any, ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:ids)``, one uuid[] parameter: an IN of
    200 ids was 200 parameters, each cast and dumped, and a statement text psycopg had not
    seen (it parses each new one)."""
    ids = list(ids)
    if is_postgresql(session):
        result: ColumnElement[bool] = column == any_(bindparam(None, ids, type_=ARRAY(Uuid())))
        return result
    in_list: ColumnElement[bool] = column.in_(ids)
    return in_list


def sqlite_insert(session: Session, table: Table, constants: dict[str, Any],
                  names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """``session.execute(insert(table), rows)`` on SQLite, for rows that set every column:
    the columns' own bind processors (of the session's dialect) turn the values into what
    SQLAlchemy would send, but the values every row shares (``constants``) once, not once
    per row, and the rows go straight to the driver's executemany, without SQLAlchemy
    building a parameter dict per row (most of a bulk insert's CPU, spent under the
    database's one write lock).
    """
    columns = [column.key for column in table.columns]
    if sorted(columns) != sorted((*constants, *names)):
        raise ValueError(f"{table.name}: every column, once: {sorted((*constants, *names))}")
    dialect = session.get_bind().dialect
    # The public route to what SQLAlchemy binds with: the type as this dialect implements it
    # (a TypeDecorator's own processing included), built once per statement, not per row.
    processors = {column.key: column.type.dialect_impl(dialect).bind_processor(dialect)
                  for column in table.columns}
    shared = tuple(value if (process := processors[key]) is None else process(value)
                   for key, value in constants.items())
    per_row = [(i, process) for i, key in enumerate(names)
               if (process := processors[key]) is not None]
    params = []
    for row in rows:
        values = list(row)
        for i, process in per_row:
            values[i] = process(values[i])
        params.append((*values, *shared))
    quote = dialect.identifier_preparer.quote
    # Only the table's own names (checked above) go into the text; the values are bound.
    sql = (f"INSERT INTO {quote(table.name)} "  # noqa: S608
           f"({', '.join(quote(name) for name in (*names, *constants))}) "
           f"VALUES ({', '.join('?' * (len(names) + len(constants)))})")
    session.connection().exec_driver_sql(sql, params)
