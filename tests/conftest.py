"""Fixtures shared by every tier: a migrated database per backend, the app, its clients.

Every database test runs on SQLite, and on PostgreSQL when a server answers (CI requires
it). Each run migrates its own fresh database once; each test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from server import create_app, wire_check, wire_signals
from tests import routing_cache, spec_cache

routing_cache.install()
spec_cache.install()

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_PASSWORD = "correct horse battery staple"


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move time forward by ``timedelta(**delta)``."""
        self.current += timedelta(**delta)
        return self.current


def _base_config(tmp: Path, url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "INFUSYNC_INSTANCE_PATH": str(tmp),
        "SECRET_KEY": secrets.token_hex(16),
        "INFUSYNC_DATA_KEY": secrets.token_bytes(32),
    }


def migrate_database(url: str, tmp: Path) -> None:
    """Build the schema the way production does: through the Alembic migrations."""
    app = create_app(_base_config(tmp, url))
    with app.app_context():
        upgrade()
        app.extensions["sqlalchemy"].engine.dispose()


def _postgres_admin_url() -> str | None:
    url = os.environ.get("INFUSYNC_TEST_DATABASE_URL", DEFAULT_PG)
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError:
        return None
    return url


def postgres_admin_url_or_skip() -> str:
    """The PostgreSQL admin URL; skip without a server, except under CI, where it fails."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        message = "PostgreSQL does not answer (set INFUSYNC_TEST_DATABASE_URL or start it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI requires the PostgreSQL half of the suite")
        pytest.skip(message)
    return admin_url


@contextmanager
def empty_postgres_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database named ``<prefix>_<random>``, dropped afterwards: empty, or
    a copy of the database ``template`` (to which nobody may be connected)."""
    admin_url = postgres_admin_url_or_skip()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    copied = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"{copied}'))
        # A test database outlives no crash worth surviving: commits need not wait for the
        # WAL flush (about 3 ms each on this machine, 0.3 ms without), in every process
        # that connects to it, served ones included.
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_postgres_database(prefix: str, tmp: Path) -> Iterator[str]:
    """A new PostgreSQL database migrated to head (keys written to ``tmp``), then dropped."""
    with empty_postgres_database(prefix) as url:
        migrate_database(url, tmp)
        yield url


@pytest.fixture(scope="session", autouse=True)
def wire_shapes_checked() -> Iterator[None]:
    """Every push result and pull page any app of this run answers is validated against
    the shipped JSON Schemas (schemas/json), whichever client sent the request: a test that
    makes the server answer outside the documented contract fails with the mismatch.
    Served processes check themselves (INFUSYNC_WIRE_SCHEMA_CHECK, tests/e2e/conftest.py)."""
    wire_signals.push_answered.connect(wire_check.check_push, weak=False)
    wire_signals.pull_answered.connect(wire_check.check_pull, weak=False)
    yield
    wire_signals.push_answered.disconnect(wire_check.check_push)
    wire_signals.pull_answered.disconnect(wire_check.check_pull)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this run, dropped afterwards."""
    with fresh_postgres_database("infusync_test", tmp_path_factory.mktemp("pg-migrate")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """One engine on the run's PostgreSQL database, which empties it before each test."""
    # pre-ping: a test may end every session on the database (a restore, a forced drop)
    engine = sa.create_engine(postgres_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating per test)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    migrate_database(f"sqlite:///{path}", folder)
    return path


# Empties the run's PostgreSQL database in one statement, run by the server: the ~50
# DELETEs, the partition drops and the sequence resets one round trip, not ~55 (each a
# statement compiled by SQLAlchemy, sent, and waited for on a loaded machine).
#
# The change feed's day partitions a test (or the feed_partitions job) made would take the
# next test's rows out of the default partition: they are dropped (named as
# sync/feed_partitions.py names them). DELETE, not TRUNCATE:
# TRUNCATE gives each of the ~50 tables (and their indexes) new files at every commit, about
# 0.7 s a test on the 2-core machine; deleting the few rows a test wrote takes milliseconds.
# With ``session_replication_role = replica`` (superuser, as the suite's ``postgres`` is) no
# foreign key is checked, so the order does not matter; otherwise TRUNCATE ... CASCADE.
# Sequences restart as TRUNCATE's RESTART IDENTITY does.
_EMPTY_ALL = sa.text("""
DO $empty$
DECLARE
    day_partition text;
    tables text[];
    one text;
BEGIN
    FOR day_partition IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass('sync_feed')
        AND c.relname ~ '^sync_feed_p[0-9]{8}$'
    LOOP
        EXECUTE format('DROP TABLE %I', day_partition);
    END LOOP;
    SELECT array_agg(tablename::text) INTO tables FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> 'alembic_version';
    IF tables IS NULL THEN
        RETURN;
    END IF;
    IF current_setting('is_superuser') = 'on' THEN
        PERFORM set_config('session_replication_role', 'replica', true);
        FOREACH one IN ARRAY tables LOOP
            EXECUTE format('DELETE FROM %I', one);
        END LOOP;
        PERFORM setval(format('%I.%I', schemaname, sequencename), 1, false)
        FROM pg_sequences WHERE schemaname = 'public';
    ELSE
        EXECUTE 'TRUNCATE ' || (SELECT string_agg(format('%I', t), ', ') FROM unnest(tables) t)
            || ' RESTART IDENTITY CASCADE';
    END IF;
END
$empty$
""")


def _empty_all(engine: sa.Engine) -> None:
    """Empty every table of the run's PostgreSQL database for the next test (see
    ``_EMPTY_ALL``)."""
    with engine.begin() as connection:
        connection.execute(_EMPTY_ALL)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "infusync.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    _empty_all(request.getfixturevalue("postgres_engine"))
    yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database on each backend that one module's tests share (with xdist, each
    worker its own): for cases that only read and are refused, which cannot see each other.

    Not the run's PostgreSQL database: ``database_url`` empties that for every other test.
    """
    folder = tmp_path_factory.mktemp("module-db")
    if request.param == "sqlite":
        path = folder / "infusync.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with fresh_postgres_database("infusync_module", folder) as url:
        yield url


# A fixed Monday morning (08:00 in the agency's zone), where every test's clock starts.
CLOCK_START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock; starts at a fixed Monday morning."""
    return FakeClock(CLOCK_START)


@contextmanager
def app_on(database_url: str, tmp: Path, clock: FakeClock,
           **overrides: Any) -> Iterator[Flask]:
    """The application on ``database_url`` with ``clock`` (and ``overrides`` of its
    configuration); its engine disposed after."""
    config = _base_config(tmp, database_url)
    config["INFUSYNC_CLOCK"] = clock
    config.update(overrides)
    app = create_app(config)
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Flask]:
    """The application on a fresh database, with a controllable clock."""
    with app_on(database_url, tmp_path, clock) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


@pytest.fixture
def agency(app: Flask, clock: FakeClock) -> Any:
    """A small agency (see ``tests.factories.build_agency``)."""
    from tests.factories import build_agency

    return build_agency(app, clock())


@pytest.fixture
def as_user(client: FlaskClient, agency: Any) -> Any:
    """``as_user("nurse_a")`` → Authorization headers for that member of the agency."""
    from tests.factories import login

    cache: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in cache:
            cache[who] = login(client, who)
        return cache[who]

    return headers
