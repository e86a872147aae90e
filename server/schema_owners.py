"""Tables in infusync's database that the models do not describe, and who owns them.

Autogenerate (``server/migrations/env.py``) and the test that the migrations match the
models both leave these alone: APScheduler's job store creates its own table, and on
PostgreSQL the change feed's day partitions are made and dropped by the ``feed_partitions``
job (``sync/feed_partitions.py``) — the model describes their parent, ``sync_feed``.
"""

from __future__ import annotations

import re

from sqlalchemy.schema import SchemaItem

FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
FEED_PARTITION = re.compile(r"^sync_feed_(p\d{8}|default)$")


def owned_elsewhere(name: str | None) -> bool:
    """True for a table some other code creates and drops."""
    return name is not None and (name in FOREIGN_TABLES or bool(FEED_PARTITION.match(name)))


def include_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                   _compare_to: SchemaItem | None) -> bool:
    """Alembic's filter: compare only what the models own."""
    if type_ == "table" and reflected and owned_elsewhere(name):
        return False
    table = getattr(obj, "table", None)  # indexes and columns have one
    if type_ in {"index", "column"} and reflected and table is not None:
        return not owned_elsewhere(table.name)
    return True
