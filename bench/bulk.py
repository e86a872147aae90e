"""Bulk loading: PostgreSQL ``COPY`` there, SQLAlchemy Core ``executemany`` elsewhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from enum import Enum
from itertools import islice
from typing import Any, cast

from sqlalchemy import Connection, Table, insert

CHUNK = 20_000


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


# The common types by their exact type, one dictionary lookup each: a load formats millions
# of values, and the chain of isinstance checks below was a third of its own CPU.
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    type(None): lambda _value: r"\N", bool: lambda value: "t" if value else "f",
    str: _escaped, int: str, float: str, uuid.UUID: str,
    datetime: datetime.isoformat, date: date.isoformat,
}


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    convert = _BY_TYPE.get(type(value))
    return convert(value) if convert is not None else _other_text(value)


def _other_text(value: Any) -> str:
    """A value of a type ``_BY_TYPE`` does not list (an Enum, a list, a dict, ...)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copy(connection: Connection, table: Table, chunk: list[dict[str, Any]]) -> None:
    columns = list(chunk[0])
    names = ", ".join(f'"{name}"' for name in columns)
    text = "".join("\t".join(_text(row[name]) for name in columns) + "\n" for row in chunk)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        copy.write(text)


def table(model: type[Any]) -> Table:
    """The table a model is mapped to."""
    return cast(Table, model.__table__)


def load(connection: Connection, model: type[Any], rows: Iterable[dict[str, Any]]) -> int:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table; how many."""
    target, count = table(model), 0
    for chunk in _chunks(rows, CHUNK):
        if connection.dialect.name == "postgresql":
            _copy(connection, target, chunk)
        else:
            connection.execute(insert(target), chunk)
        count += len(chunk)
    return count
