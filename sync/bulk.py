"""Bulk statements tuned per database, for the hot paths that write or look up hundreds of
rows at once (the ledger and inbox of a push, the documents of a batch).

They live here, below ``server``, because the ledger's own protocol (``sync.claims``,
``sync.ledger_writes``) needs them and ``sync`` never imports ``server``.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, Uuid, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause


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


def _json_scalar(value: Any) -> str:
    """What ``json.dumps`` cannot write itself, as the text PostgreSQL reads each type
    from (uuid, numeric, timestamptz)."""
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not sent as JSON")


def _scalars_once() -> Callable[[Any], str]:
    """``_json_scalar`` for ``json.dumps``'s ``default``, once per object: a batch's rows
    share their visit, nurse, device, batch and time objects, and ``str`` of a UUID is
    Python code (a fifth of the dump's time, measured on 200 vital-sign rows)."""
    written: dict[int, str] = {}

    def default(value: Any) -> str:
        found = written.get(id(value))  # the rows hold every value while the dump runs
        if found is None:
            found = written[id(value)] = _json_scalar(value)
        return found

    return default


def _is_json(column: Any) -> bool:
    return isinstance(column.type, JSON)


@functools.cache
def _recordset_insert(table: Table, dialect: Any) -> TextClause:
    """``INSERT ... SELECT`` from one JSON array of row objects, a field per column typed as
    the column is."""
    quote = dialect.identifier_preparer.quote
    names = [quote(column.key) for column in table.columns]
    typed = [f"{name} {'json' if _is_json(column) else column.type.compile(dialect)}"
             for name, column in zip(names, table.columns, strict=True)]
    # Only the table's own names and types go into the text; the rows are bound.
    return text(f"INSERT INTO {quote(table.name)} ({', '.join(names)}) "  # noqa: S608
                f"SELECT {', '.join(f'u.{name}' for name in names)} "
                f"FROM json_to_recordset(CAST(:rows AS json)) AS u({', '.join(typed)})")


def postgresql_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> bool:
    """``session.execute(insert(table), rows)`` on PostgreSQL, for rows that set every
    column, as one statement whose one parameter is the rows as a JSON array (the ledger's
    way, ``sync.ledger_writes``): an executemany built a parameter dict per row in
    SQLAlchemy and dumped every value in psycopg, a pipelined statement per row.

    The columns' own bind processors run as SQLAlchemy's would, but for JSON columns: their
    values go nested in the array, and a ``json`` column keeps the text it is given, which
    is the ``json.dumps`` text psycopg would have sent. False (nothing sent) for what this
    does not write the same way — a None in a JSON column (SQLAlchemy stores JSON null), a
    value with no JSON form (a float that is not finite): the caller inserts those as usual.
    """
    dialect = session.get_bind().dialect
    json_keys = [column.key for column in table.columns if _is_json(column)]
    if any(row[key] is None for row in rows for key in json_keys):
        return False
    processors = [(column.key, process) for column in table.columns if not _is_json(column)
                  and (process := column.type.dialect_impl(dialect).bind_processor(dialect))
                  is not None]
    sent = []
    for row in rows:
        values = dict(row)
        for key, process in processors:
            values[key] = process(values[key])
        sent.append(values)
    try:
        text_rows = json.dumps(sent, default=_scalars_once(), allow_nan=False)
    except (TypeError, ValueError):
        return False
    session.connection().execute(_recordset_insert(table, dialect), {"rows": text_rows})
    return True


@functools.cache
def _recordset_update(table: Table, names: tuple[str, ...], version: str,
                      dialect: Any) -> TextClause:
    """``UPDATE ... FROM`` one JSON array of rows: ``names`` set from each row, the row
    found by its ``id`` and the ``version`` it was read at (``expected``), which moves on to
    the row's ``version``."""
    quote = dialect.identifier_preparer.quote
    columns = {column.key: column for column in table.columns}
    fields = ("id", *names, version)
    typed = [f"{quote(name)} {columns[name].type.compile(dialect)}" for name in fields]
    typed.append(f"expected {columns[version].type.compile(dialect)}")
    assignments = [f"{quote(name)} = u.{quote(name)}" for name in (*names, version)]
    target = quote(table.name)
    # Only the table's own names and types go into the text; the rows are bound.
    return text(f"UPDATE {target} SET {', '.join(assignments)} "  # noqa: S608
                f"FROM json_to_recordset(CAST(:rows AS json)) AS u({', '.join(typed)}) "
                f"WHERE {target}.{quote('id')} = u.{quote('id')} "
                f"AND {target}.{quote(version)} = u.expected")


def postgresql_versioned_update(session: Session, table: Table, names: tuple[str, ...],
                                rows: list[dict[str, Any]], version: str = "version") -> int:
    """Update many rows of a version-checked table in one statement on PostgreSQL; returns
    how many rows it found (fewer than ``rows``: one was changed since it was read).

    Each row holds ``id``, ``names``, its new ``version`` and ``expected``, the version it
    was read at. The ORM sends a version-checked UPDATE per row (it needs each one's
    rowcount); here the database checks every version and the count is checked once. The
    columns' own bind processors run as SQLAlchemy's would (no JSON columns here).
    """
    dialect = session.get_bind().dialect
    columns = {column.key: column for column in table.columns}
    processors = [(name, process) for name in (*names, version)
                  if (process := columns[name].type.dialect_impl(dialect)
                      .bind_processor(dialect)) is not None]
    sent = []
    for row in rows:
        values = dict(row)
        for key, process in processors:
            values[key] = process(values[key])
        sent.append(values)
    statement = _recordset_update(table, names, version, dialect)
    result = session.connection().execute(
        statement, {"rows": json.dumps(sent, default=_scalars_once())})
    return int(result.rowcount)
