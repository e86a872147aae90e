"""How often PostgreSQL's backends of a benchmark's database wait on a lock, sampled.

Every push and every pull commits audit events, and each such commit takes the audit
chain's head row (``server/audit_chain.py``) until it commits: the agency's commits pass it
one at a time. Whether that costs the morning rush anything is read here: a thread samples
``pg_stat_activity`` every few milliseconds while the rush runs and counts the backends that
are running a statement and those of them waiting on a lock, by the statement they wait in
(the head's ``SELECT … FOR UPDATE`` names ``audit_chain_head``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from bench.databases import ADMIN_URL

INTERVAL_S = 0.02
_SAMPLE = sa.text(
    "SELECT wait_event_type, wait_event, query FROM pg_stat_activity "
    "WHERE datname = :database AND state = 'active' AND pid <> pg_backend_pid()")


def _waiting_in(query: str) -> str:
    """What a waiting statement is, in a word: the audit chain's head, or another lock."""
    return "audit_chain_head" if "audit_chain_head" in query else "other"


class Sampler:
    """Counts, over its samples, the active backends and those waiting on a lock."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.samples = 0
        self.active = 0
        self.waiting: Counter[str] = Counter()
        self._stop = threading.Event()

    def _sample(self, connection: sa.Connection) -> None:
        rows = connection.execute(_SAMPLE, {"database": self.database}).all()
        self.samples += 1
        self.active += len(rows)
        for row in rows:
            if row.wait_event_type == "Lock":
                self.waiting[_waiting_in(row.query or "")] += 1

    def run(self) -> None:
        """Sample until stopped (one connection of its own, outside the server's pools)."""
        engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            while not self._stop.wait(INTERVAL_S):
                self._sample(connection)
        engine.dispose()

    def stop(self) -> None:
        self._stop.set()

    def report(self) -> dict[str, Any]:
        """Mean backends active and waiting per sample; the share of active ones waiting."""
        samples = max(self.samples, 1)
        waiting = sum(self.waiting.values())
        return {"samples": self.samples,
                "active_backends_mean": round(self.active / samples, 2),
                "lock_waiting_mean": round(waiting / samples, 2),
                "lock_waiting_share": round(waiting / self.active, 3) if self.active else 0.0,
                "waiting_on_audit_chain_head_share": (
                    round(self.waiting["audit_chain_head"] / self.active, 3)
                    if self.active else 0.0)}


@contextmanager
def sampled(database: str) -> Iterator[Sampler]:
    """Sample ``database``'s backends while the block runs; read ``report()`` after."""
    sampler = Sampler(database)
    thread = threading.Thread(target=sampler.run, name="lock-waits", daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        sampler.stop()
        thread.join(timeout=5)
