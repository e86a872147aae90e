"""Concurrent SQLite writers wait their turn instead of failing with 'database is locked'."""

import threading
from datetime import UTC, datetime

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server import audit
from server.audit_verify import verify
from server.database import configure_engine
from server.models import AuditEvent


def test_sqlite_pragmas(app):
    from server.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        if db.engine.dialect.name != "sqlite":
            return
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_read_then_write_transactions_all_succeed(sqlite_template, tmp_path):
    """Each writer reads, then writes in one transaction: the classic lock-upgrade deadlock.
    The writes are audit events, so the writers also share one hash chain."""
    path = tmp_path / "locking.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    engine = create_engine(f"sqlite:///{path}")
    configure_engine(engine, busy_timeout_ms=30000)
    errors: list[Exception] = []

    def writer() -> None:
        try:
            for _ in range(20):
                with Session(engine) as session:
                    session.scalar(select(func.count()).select_from(AuditEvent))
                    audit.record(session, audit.Actor(None), "probe", "test",
                                 at=datetime.now(UTC))
                    session.commit()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        verified = verify(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    engine.dispose()
    assert errors == []
    assert seqs == list(range(1, 121))
    assert (verified.broken, verified.head_seq) == (None, 120)
