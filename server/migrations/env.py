"""Alembic environment, run through Flask-Migrate (``infusync db ...``).

Logging is left to the app (no fileConfig: it would silence the app's loggers). SQLite
needs batch mode to alter tables; types are compared so autogenerate sees type changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from flask import current_app
from sqlalchemy.engine import Connection

from server.schema_owners import include_object

logger = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db


def process_revision_directives(_context: MigrationContext,
                                _revision: str | Iterable[str | None],
                                directives: list[MigrationScript]) -> None:
    """Write no empty revision when autogenerate finds nothing to do."""
    ops = directives[0].upgrade_ops
    if getattr(config.cmd_opts, "autogenerate", False) and ops is not None and ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render app column types as plain SQLAlchemy ones: migrations must not import the app."""
    if type_ == "type" and hasattr(obj, "impl") and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``infusync db upgrade --sql``)."""
    context.configure(
        url=target_db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the app's database over the app's engine."""
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.update(render_as_batch=True, compare_type=True, render_item=render_item,
                     include_object=include_object)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys_off(connection)
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata,
                              **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _check_foreign_keys(connection)
        finally:
            if sqlite:  # never back to the pool with foreign keys off: a new one has them on
                connection.invalidate()


def _sqlite_foreign_keys_off(connection: Connection) -> None:
    """Turn SQLite's foreign keys off while migrating, as its documentation requires for
    rebuilding a table (batch mode): with them on, dropping the old ``users`` would run its
    ON DELETE CASCADE (every login token gone). The pragma is a no-op inside a transaction,
    so it is set on the driver connection before the migrations' transaction begins."""
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")


def _check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit migrations that left a dangling reference (foreign keys were off)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migrations left {len(broken)} dangling references, e.g. {broken[0]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
