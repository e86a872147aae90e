"""The console at agency scale: the board of a busy day and the review queue's first page.

Issue 14's goal: p95 < 150 ms for ``GET /console/board?date=…`` (60 nurses x 8 visits, in a
database of about a million visits over three years) and for ``GET /console/review`` (the
first page of the open queue, 100 k items in all). Each page is timed in-process through
the Flask test client, as a coordinator and a QC nurse signed in through the console's own
login form (cookie, CSRF token): the server's time, rendering included, no network. One
more request per page records its SQL statements' times (text only, never parameters), so
a page that misses the goal names the query to look at.
"""

from __future__ import annotations

import gc
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench import console_data, databases
from bench.report import BACKENDS
from bench.settings import Sizes
from bench.stats import latency_ms

GOAL_P95_MS = 150.0
WARM_UP = 5
SLOWEST = 3  # statements named per page
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TABLES = ("users", "patients", "service_locations", "therapy_orders", "pumps", "devices",
          "visits", "review_items")


def sign_in(client: FlaskClient, email: str) -> None:
    """Sign in through the console's login form, as a browser does; the cookie stays."""
    page = client.get("/console/login").get_data(as_text=True)
    token = CSRF.search(page)
    if token is None:
        raise RuntimeError("the login page has no CSRF field")
    answer = client.post("/console/login", data={"email": email, "password":
                                                 console_data.PASSWORD,
                                                 "csrf_token": token.group(1)})
    if answer.status_code != 302 or "/console/login" in answer.headers["Location"]:
        raise RuntimeError(f"console sign-in refused ({answer.status_code})")


def _timed(client: FlaskClient, path: str, count: int) -> list[float]:
    """Seconds for each of ``count`` GETs of ``path`` (each must be a 200)."""
    took = []
    for _ in range(count):
        start = time.perf_counter()
        answer = client.get(path)
        took.append(time.perf_counter() - start)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code}")
    return took


@contextmanager
def _statements(app: Flask) -> Iterator[list[tuple[float, str]]]:
    """(seconds, SQL text) of each statement run inside the block."""
    from server.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[float, str]] = []

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((time.perf_counter() - conn.info.pop("bench_started"), statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _slowest(app: Flask, client: FlaskClient, path: str) -> dict[str, Any]:
    """One request's statement count, SQL time, and its slowest statements."""
    with _statements(app) as seen:
        _timed(client, path, 1)
    ranked = sorted(seen, reverse=True)[:SLOWEST]
    return {"statements": len(seen), "sql_ms": round(sum(s for s, _ in seen) * 1000, 1),
            "slowest": [{"ms": round(s * 1000, 1), "sql": " ".join(text.split())[:160]}
                        for s, text in ranked]}


def _page(app: Flask, email: str, path: str, requests: int) -> dict[str, Any]:
    """Warm up, then time ``requests`` GETs of ``path`` as ``email``; goal met or not."""
    client = app.test_client()
    sign_in(client, email)
    _timed(client, path, WARM_UP)
    # As a served worker does after its first push (server/cli/gunicorn_hooks.py): the
    # long-lived heap (app, mappers, compiled statements) leaves the collector's full passes.
    gc.collect()
    gc.freeze()
    took = latency_ms(_timed(client, path, requests))
    return {"path": path, **took, "goal_ms": GOAL_P95_MS,
            "goal_met": took["p95_ms"] < GOAL_P95_MS, "load_after": _load(),
            "profile": _slowest(app, client, path)}


def _load() -> list[float]:
    """The load average when the page's timing ended (the machine is shared)."""
    return [round(value, 2) for value in os.getloadavg()]


def _build(url: str, folder: Path, sizes: Sizes) -> tuple[Flask, console_data.ConsoleAgency,
                                                          float]:
    """A migrated app on ``url`` holding the agency; seconds the load took."""
    from server import clock
    from server.extensions import db

    app = databases.bench_app(url, folder)
    databases.migrate(app)
    start = time.perf_counter()
    with app.app_context():
        zone, now = clock.agency_zone(), clock.now()
        with db.engine.begin() as connection:
            loaded = console_data.load(connection, sizes.console_visits,
                                       sizes.console_review_items, now.astimezone(zone).date(),
                                       zone, now)
    if url.startswith("postgresql"):  # statistics after the bulk load, as autovacuum would
        databases.vacuum_analyze(url, TABLES)
    return app, loaded, time.perf_counter() - start


def _one(backend: str, sizes: Sizes, stack: ExitStack,
         progress: Callable[[str], None]) -> dict[str, Any]:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="infusync-bench-")))
    url = (stack.enter_context(databases.postgres_database()) if backend == "postgresql"
           else databases.sqlite_url(folder))
    progress(f"console on {backend}: loading {sizes.console_visits:,} visits")
    app, loaded, load_s = _build(url, folder, sizes)
    try:
        progress(f"console on {backend}: timing the board and the review queue")
        board = _page(app, loaded.coordinator_email, f"/console/board?date={loaded.day}",
                      sizes.console_requests)
        review = _page(app, loaded.qc_email, "/console/review", sizes.console_requests)
        return {"rows": {**asdict(loaded), "day": loaded.day.isoformat()},
                "load_s": round(load_s, 1), "board": board, "review": review}
    finally:
        databases.dispose(app)


def run(sizes: Sizes, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Both pages timed on each backend (SQLite only when ``sizes`` says so)."""
    backends = BACKENDS if sizes.console_sqlite else ("postgresql",)
    with ExitStack() as stack:
        return {backend: _one(backend, sizes, stack, progress) for backend in backends}


def main() -> None:
    """``python -m bench.console [--quick] [--no-sqlite]``: this benchmark alone, its JSON
    printed."""
    import json
    import sys
    from dataclasses import replace

    from bench.settings import FULL, QUICK

    def progress(label: str) -> None:
        print(f"bench: {label}", file=sys.stderr, flush=True)

    sizes = QUICK if "--quick" in sys.argv else FULL
    if "--no-sqlite" in sys.argv:
        sizes = replace(sizes, console_sqlite=False)
    print(json.dumps({"load_before": _load(), **run(sizes, progress), "load_after": _load()},
                     indent=2))


if __name__ == "__main__":
    main()
