"""Which SQL statements a piece of work spends its database time in."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event


class Recorded:
    """Statement text (whitespace folded) → calls and seconds."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def totals(self, runs: int) -> dict[str, float]:
        """Statements and database milliseconds per run, over ``runs`` runs."""
        return {"statements": round(sum(self.calls.values()) / runs, 1),
                "sql_ms": round(sum(self.seconds.values()) * 1000 / runs, 2)}

    def top(self, count: int) -> list[dict[str, Any]]:
        """The ``count`` statements with the most total time."""
        return [{"sql": sql[:200], "calls": self.calls[sql],
                 "total_ms": round(seconds * 1000, 2)}
                for sql, seconds in self.seconds.most_common(count)]


@contextmanager
def recording(app: Flask) -> Iterator[Recorded]:
    """Time every statement the app's engine runs inside the block."""
    from server.extensions import db

    with app.app_context():
        engine = db.engine
    recorded = Recorded()

    def before(conn: Any, _cursor: Any, _sql: str, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        key = " ".join(sql.split())
        recorded.calls[key] += 1
        recorded.seconds[key] += time.perf_counter() - conn.info.pop("bench_started")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
