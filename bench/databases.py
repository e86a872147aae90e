"""Throw-away databases for a run: a fresh PostgreSQL database or SQLite file, migrated."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

ADMIN_URL = os.environ.get("INFUSYNC_BENCH_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``infusync_bench_<random>`` on the admin server; drop it afterwards."""
    name = f"infusync_bench_{secrets.token_hex(6)}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_url(folder: Path) -> str:
    """A SQLite file in ``folder``."""
    return f"sqlite:///{folder / 'infusync.sqlite3'}"


def bench_app(url: str, instance: Path) -> Flask:
    """The application on ``url``; keys live in ``instance`` (shared with the served one)."""
    from server import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INFUSYNC_INSTANCE_PATH": str(instance),
                       "LOG_LEVEL": "ERROR",  # not the dev-key notices
                       # A puller timing hundreds of pages a minute is the benchmark, not a
                       # device to slow down (server/rate_limits.py; README, Benchmarks).
                       "RATE_LIMIT_ENABLED": False})


def migrate(app: Flask) -> None:
    """Build the schema through the Alembic migrations, as ``infusync db upgrade`` does."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (before the database is dropped)."""
    from server.extensions import db

    with app.app_context():
        db.engine.dispose()


def vacuum_analyze(url: str, tables: Sequence[str]) -> None:
    """Give the planner statistics after a bulk load (what autovacuum does in time)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for table in tables:
            connection.execute(sa.text(f'VACUUM (ANALYZE) "{table}"'))
    engine.dispose()
