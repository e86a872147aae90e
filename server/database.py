"""Engine behaviour per database: SQLite pragmas and up-front write locks.

SQLite is the embedded default. Its defaults fail concurrent writers with "database is
locked"; WAL, a busy timeout and ``BEGIN IMMEDIATE`` make them wait their turn instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# Execution option of a read-only transaction that must not take SQLite's write lock.
SNAPSHOT_READ = "infusync_snapshot_read"


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Attach the per-connection settings this engine's dialect needs."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # Take the write lock when the transaction starts, so a writer waits (busy_timeout)
        # instead of failing when it upgrades a read lock mid-transaction. A long read that
        # never writes (verifying the audit chain) asks for a plain snapshot instead: in WAL
        # mode it lets writers go on.
        if connection.get_execution_options().get(SNAPSHOT_READ):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
