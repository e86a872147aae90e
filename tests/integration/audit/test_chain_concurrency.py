"""Writers committing audit events at the same moment still make one unbroken chain.

PostgreSQL only: there, transactions run side by side and meet at the head's row lock. On
SQLite a transaction holds the database's write lock from its start (BEGIN IMMEDIATE), so
writers cannot even be in flight together; tests/integration/app/test_sqlite_locking.py
runs concurrent SQLite writers through the chain.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from server import audit
from server.audit_verify import verify
from server.database import configure_engine
from server.extensions import db
from server.models import AuditEvent, Patient

WRITERS = 12
ROUNDS = 3
EVENTS_PER_COMMIT = 2


# SQLite writers never overlap (see the module docstring): PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_writers_make_one_contiguous_chain(app):
    with app.app_context():
        url = db.engine.url
    engine = create_engine(url, pool_size=WRITERS, max_overflow=0)
    configure_engine(engine, busy_timeout_ms=30000)
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(ROUNDS):
                with Session(engine) as session:
                    session.scalar(select(func.count()).select_from(Patient))  # the "work"
                    for _ in range(EVENTS_PER_COMMIT):
                        audit.record(session, audit.Actor(uuid.uuid4()), "read", "patients",
                                     at=datetime.now(UTC), entity_id=uuid.uuid4())
                    barrier.wait(timeout=30)  # every writer commits at the same moment
                    session.commit()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session:
        verified = verify(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    engine.dispose()

    total = WRITERS * ROUNDS * EVENTS_PER_COMMIT
    assert errors == []
    assert seqs == list(range(1, total + 1))
    assert (verified.broken, verified.head_seq, verified.events) == (None, total, total)
