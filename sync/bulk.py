"""Bulk statements tuned per database, for the hot paths that write or look up hundreds of
rows at once (the ledger and inbox of a push, the documents of a batch).

They live here, below ``server``, because the ledger's own protocol (``sync.claims``,
``sync.ledger_writes``) needs them and ``sync`` never imports ``server``.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Table,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import TextClause


def is_postgresql(session: Session) -> bool:
    """True when the session's database is PostgreSQL (the bulk paths differ)."""
    return bool(session.get_bind().dialect.name == "postgresql")


def in_ids(session: Session, column: Any, ids: Iterable[uuid.UUID],
           or_where: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """``column IN ids``, or (``or_where``) ``column IN ids OR or_where``, where ``or_where``
    is a condition on ``column``'s own table.

    On PostgreSQL ``column IN (SELECT unnest(:ids))``, one uuid[] parameter sent as its text
    (``{hex,hex,...}``): an IN of 200 ids was 200 parameters, each cast and dumped, and
    psycopg's list dumper took four times as long as the text. Not ``column = ANY(:ids)``:
    on a table the planner has no statistics for yet (a new database, autovacuum's first
    minute) it chose a sequential scan comparing every row with all 200 ids one by one,
    which grew with the table (a served push's vital-sign and ledger reads 2,000 rows in:
    over 200 ms of the database's CPU each); a semi-join hashes the ids at worst, and takes
    the index on a large table. ``or_where`` becomes a second branch of that list
    (``UNION ALL SELECT column WHERE or_where``; ``column`` must be unique), not an ``OR``
    beside a sub-select, which would take neither index.
    """
    ids = list(ids)
    if is_postgresql(session):
        listed: Select[Any] = select(func.unnest(cast(bindparam(
            None, "{" + ",".join([value.hex for value in ids]) + "}", type_=String()),
            ARRAY(Uuid()))))
        either = listed if or_where is None else union_all(
            listed, select(column).where(or_where))
        result: ColumnElement[bool] = column.in_(either)
        return result
    if _hex_stored(session, column):
        # SQLite: one JSON array of the hex texts the column holds, read by json_each,
        # rather than an IN of 200 parameters that SQLAlchemy renders and binds one by one.
        listed_json = json.dumps([value.hex for value in ids])
        found: ColumnElement[bool] = column.in_(
            select(literal_column("value")).select_from(func.json_each(listed_json)))
    else:
        found = column.in_(ids)
    return found if or_where is None else or_(found, or_where)


def _hex_stored(session: Session, column: Any) -> bool:
    """True when the column holds a UUID as the 32 hex digits ``UUID.hex`` gives (SQLite's
    form of SQLAlchemy's Uuid; checked through the type's own bind processor)."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite" or not isinstance(column.type, Uuid):
        return False
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process is not None and process(_PROBE) == _PROBE.hex


_PROBE = uuid.UUID("12345678-9abc-4def-8123-456789abcdef")


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
    per_row = [(i, _row_processor(process, rows[0][i] is rows[-1][i]))
               for i, key in enumerate(names) if (process := processors[key]) is not None]
    params = []
    for row in rows:
        values = list(row)
        for i, once in per_row:
            values[i] = once(values[i])
        params.append((*values, *shared))
    quote = dialect.identifier_preparer.quote
    # Only the table's own names (checked above) go into the text; the values are bound.
    sql = (f"INSERT INTO {quote(table.name)} "  # noqa: S608
           f"({', '.join(quote(name) for name in (*names, *constants))}) "
           f"VALUES ({', '.join('?' * (len(names) + len(constants)))})")
    session.connection().exec_driver_sql(sql, params)


def _row_processor(process: Callable[[Any], Any], shared: bool) -> Callable[[Any], Any]:
    """A column's bind processor for a bulk insert's rows: once per object where the first
    and last rows hold the same object (``shared``: the batch's nurse, device, batch and
    time); otherwise as it is, but for an empty list or object (most vital signs' flags and
    components), whose processed value is worked out once when the processor is a JSON
    column's (a dump per row was a third of the rows' processing on SQLite)."""
    if shared:
        return _once_per_object(process)
    empty_list, empty_object = _processed_empty(process, []), _processed_empty(process, {})
    if empty_list is None or empty_object is None:
        return process

    def processed(value: Any) -> Any:
        if not value and type(value) in (list, dict):
            return empty_list if type(value) is list else empty_object
        return process(value)

    return processed


def _processed_empty(process: Callable[[Any], Any], empty: Any) -> str | None:
    """What ``process`` makes of an empty list or object when that is its JSON text (a JSON
    column's processor); None for any other processor, or any other text."""
    try:
        found = process(empty)
    except Exception:  # not a processor of containers (a UUID's, a time's): no shortcut
        return None
    return found if isinstance(found, str) and found == json.dumps(empty) else None


def _once_per_object(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` (a column's bind processor, a pure function of its value) run once per
    object: a batch's rows share their visit, nurse, device, batch and time objects, and a
    processor is Python code (a UUID's hex, a JSON column's dump, a time made UTC). Only for
    the length of one statement's rows, which hold every value meanwhile (ids stay theirs).
    """
    done: dict[int, Any] = {}

    def once(value: Any) -> Any:
        key = id(value)
        if key in done:
            return done[key]
        found = done[key] = process(value)
        return found

    return once


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


def _python_type(column: Any) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


@functools.cache
def _orjson_safe(table: Table) -> bool:
    """True when orjson writes the table's rows as ``json.dumps`` would for PostgreSQL to
    read: no float column, whose NaN orjson would write as null where ``json.dumps``
    refuses it (``allow_nan=False``). JSON columns are dumped apart, by ``json.dumps``."""
    return not any(_python_type(column) is float for column in table.columns
                   if not _is_json(column))


def _json_text(value: Any) -> str:
    """A JSON column's value as the text SQLAlchemy's JSON type sends (``json.dumps``); an
    empty list or object (most rows' flags and components) without the call."""
    if not value and type(value) in (list, dict):
        return "[]" if type(value) is list else "{}"
    return json.dumps(value, allow_nan=False)


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


@functools.cache
def _recordset_insert_texts(table: Table, dialect: Any) -> TextClause:
    """``_recordset_insert`` whose JSON columns arrive as their text (a JSON string), cast
    to json: a ``json`` value keeps the text it is given, here the ``json.dumps`` text."""
    quote = dialect.identifier_preparer.quote
    names = [quote(column.key) for column in table.columns]
    typed = [f"{name} {'text' if _is_json(column) else column.type.compile(dialect)}"
             for name, column in zip(names, table.columns, strict=True)]
    picked = [f"CAST(u.{name} AS json)" if _is_json(column) else f"u.{name}"
              for name, column in zip(names, table.columns, strict=True)]
    # Only the table's own names and types go into the text; the rows are bound.
    return text(f"INSERT INTO {quote(table.name)} ({', '.join(names)}) "  # noqa: S608
                f"SELECT {', '.join(picked)} "
                f"FROM json_to_recordset(CAST(:rows AS json)) AS u({', '.join(typed)})")


def _orjson_rows(table: Table, sent: list[dict[str, Any]]) -> str | None:
    """The rows as one JSON array by orjson, their JSON columns as ``json.dumps`` text;
    None when orjson cannot write them as ``json.dumps`` would for PostgreSQL (the caller
    then dumps them itself).

    orjson writes a UUID as ``str`` does and, natively, everything else JSON has, in C: the
    standard library's dump of 200 vital-sign rows cost 6 ms of a push's CPU, orjson's
    0.2 ms. Times, decimals and dates still go through ``_json_scalar`` (the same text as
    before); text is written as UTF-8 rather than escaped, which PostgreSQL reads the same.
    It refuses (TypeError) a lone surrogate or an integer beyond 64 bits.
    """
    json_keys = [column.key for column in table.columns if _is_json(column)]
    try:
        for values in sent:
            for key in json_keys:
                values[key] = _json_text(values[key])
        return orjson.dumps(sent, default=_scalars_once(),
                            option=orjson.OPT_PASSTHROUGH_DATETIME
                            | orjson.OPT_PASSTHROUGH_DATACLASS).decode()
    except (TypeError, ValueError):
        return None


def _processed(table: Table, dialect: Any, rows: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """Copies of the rows with the columns' own bind processors run, as SQLAlchemy's would
    (but for JSON columns, dumped apart). Once per object: a processed value shared by the
    rows (the batch's received_at made UTC) then stays one object, dumped once too."""
    processors = [(column.key, _row_processor(process, rows[0][column.key]
                                              is rows[-1][column.key]))
                  for column in table.columns if not _is_json(column)
                  and (process := column.type.dialect_impl(dialect).bind_processor(dialect))
                  is not None]
    return _through(rows, processors)


def _through(rows: Sequence[Mapping[str, Any]],
             processors: Sequence[tuple[str, Callable[[Any], Any]]]) -> list[dict[str, Any]]:
    """Copies of ``rows`` with each named column's value through its processor."""
    sent = []
    for row in rows:
        values = dict(row)
        for key, process in processors:
            values[key] = process(values[key])
        sent.append(values)
    return sent


def postgresql_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> bool:
    """``session.execute(insert(table), rows)`` on PostgreSQL, for rows that set every
    column, as one statement whose one parameter is the rows as a JSON array (the ledger's
    way, ``sync.ledger_writes``): an executemany built a parameter dict per row in
    SQLAlchemy and dumped every value in psycopg, a pipelined statement per row.

    The columns' own bind processors run as SQLAlchemy's would, but for JSON columns: their
    values go nested in the array, and a ``json`` column keeps the text it is given, which
    is the ``json.dumps`` text psycopg would have sent. The array is orjson's where it writes
    what ``json.dumps`` would (``_orjson_rows``). False (nothing sent) for what this
    does not write the same way — a None in a JSON column (SQLAlchemy stores JSON null), a
    value with no JSON form (a float that is not finite): the caller inserts those as usual.
    """
    dialect = session.get_bind().dialect
    json_keys = [column.key for column in table.columns if _is_json(column)]
    if any(row[key] is None for row in rows for key in json_keys):
        return False
    if _orjson_safe(table):
        fast = _orjson_rows(table, _processed(table, dialect, rows))
        if fast is not None:
            session.connection().execute(_recordset_insert_texts(table, dialect),
                                         {"rows": fast})
            return True
    try:
        text_rows = json.dumps(_processed(table, dialect, rows), default=_scalars_once(),
                               allow_nan=False)
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
    sent = _through(rows, processors)
    statement = _recordset_update(table, names, version, dialect)
    result = session.connection().execute(
        statement, {"rows": json.dumps(sent, default=_scalars_once())})
    return int(result.rowcount)
