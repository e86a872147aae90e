"""Throw-away databases for a run: a fresh PostgreSQL database or SQLite file, migrated.

Within ``shared_by_the_run()`` (the whole of ``python -m bench``) the migrations run once
per backend: each benchmark's database is a copy of a migrated one (``CREATE DATABASE ...
TEMPLATE``, a file copy), as the test suite does, instead of running every migration again
for each benchmark; the ``migrate`` that follows then finds it at head. And PostgreSQL
databases are dropped together when the run ends, by a process of their own that the run
does not wait for: ``DROP DATABASE`` forces an immediate checkpoint (PostgreSQL 15), which
after a bulk load writes out everything left dirty, and each benchmark waited for one
(15 s on a loaded machine); together, only the first has much to write, and the results
do not wait for that cleanup. ``python -m bench.databases --drop NAME...`` is that process.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

ADMIN_URL = os.environ.get("INFUSYNC_BENCH_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


SQLITE_FILE = "infusync.sqlite3"
# The migrated databases of this run, copied by every benchmark's: a PostgreSQL database
# name and a SQLite file, while ``shared_by_the_run`` runs.
_templates: dict[str, str] = {}
# The PostgreSQL databases to drop when the run ends (None: drop each when it is done).
_drop_at_end: list[str] | None = None


def _drop(names: Sequence[str]) -> None:
    """Drop these databases, whoever is still connected."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create ``infusync_bench_<random>`` on the admin server; drop it afterwards.

    A copy of the run's migrated template when there is one (no other connection may
    use the template meanwhile: it is only ever copied).
    """
    name = f"infusync_bench_{secrets.token_hex(6)}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    template = _templates.get("postgresql")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"' + (
            f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    try:
        yield sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        if _drop_at_end is not None:
            _drop_at_end.append(name)
        else:
            _drop([name])


def sqlite_url(folder: Path) -> str:
    """A SQLite file in ``folder``: a copy of the run's migrated template when there is one."""
    path = folder / SQLITE_FILE
    template = _templates.get("sqlite")
    if template and not path.exists():
        shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@contextmanager
def shared_by_the_run() -> Iterator[None]:
    """Migrate one PostgreSQL database and one SQLite file for every benchmark to copy;
    drop every PostgreSQL database of the run at its end."""
    global _drop_at_end
    _drop_at_end = []
    try:
        with tempfile.TemporaryDirectory(prefix="infusync-bench-template-") as folder, \
                postgres_database() as url:
            for target in (url, sqlite_url(Path(folder))):
                app = bench_app(target, Path(folder))
                migrate(app)
                dispose(app)
            _templates.update(postgresql=sa.make_url(url).database or "",
                              sqlite=str(Path(folder) / SQLITE_FILE))
            try:
                yield
            finally:
                _templates.clear()
    finally:
        names, _drop_at_end = _drop_at_end, None
        _drop_later(names)


def _drop_later(names: Sequence[str]) -> None:
    """Drop ``names`` in a detached process: a cleanup the run's results need not wait for."""
    if names:
        subprocess.Popen(  # noqa: S603 - our own interpreter and module, generated names
            [sys.executable, "-m", "bench.databases", "--drop", *names],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--drop"]:
        _drop([name for name in sys.argv[2:] if name.startswith("infusync_bench_")])


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
