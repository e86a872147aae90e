"""``python -m bench.push_profile``: the statements one rush push sends, counted in-process.

The morning rush (``bench/rush.py``) is limited by round trips to the database, not by
Python: this pushes the rush's batch (a day of six visits, 54 mutations) of a few devices
through the Flask test client on a fresh PostgreSQL (or SQLite) database, and counts the
statements each push sends, by kind and table, with SQLAlchemy's ``before_cursor_execute``
event (``--cprofile`` adds where the time goes).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import databases, push, rush
from bench.stats import latency_ms
from tests.integration.sync.device import TestDevice

_TABLE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM|(?:SELECT|WITH)\s.*?\sFROM)"
                    r"\s+\"?(\w+)", re.IGNORECASE | re.DOTALL)


def _shape(statement: str, executemany: bool) -> str:
    """``INSERT visit_events`` and the like: the verb and the first table named."""
    verb = statement.split(None, 1)[0].upper()
    found = _TABLE.match(statement)
    many = " (many)" if executemany else ""
    return f"{verb} {found.group(1) if found else '?'}{many}"


@contextmanager
def counted(engine: Any) -> Iterator[Counter[str]]:
    """Count the statements sent on ``engine`` while inside, by ``_shape``."""
    seen: Counter[str] = Counter()

    def before(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
               executemany: bool) -> None:
        seen[_shape(statement, executemany)] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _mutations(device: TestDevice, caseload: dict[str, Any], vitals_only: bool
               ) -> list[dict[str, Any]]:
    """The rush's day of six visits, or (``vitals_only``) the push benchmark's batch: 200
    vital signs over the same visits."""
    if not vitals_only:
        return [m for visit in caseload["yesterday"] for m in rush._visit_mutations(device, visit)]
    visits, now = caseload["yesterday"], datetime.now(UTC)
    return [push._vitals(device, visits[i % len(visits)]["id"], now) for i in range(200)]


def _devices(app: Any, caseloads: list[dict[str, Any]], vitals_only: bool
             ) -> list[tuple[TestDevice, bytes]]:
    """Each nurse's device enrolled through the test client, its batch sealed."""
    from sync import compression

    out = []
    for caseload in caseloads:
        device = TestDevice(app.test_client())
        assert device.enroll(caseload["code"]).status_code == 201
        mutations = _mutations(device, caseload, vitals_only)
        plaintext = compression.compress(device.plaintext(mutations, clock=datetime.now(UTC)))
        out.append((device, json.dumps(device.body(plaintext,
                                                   encoding=compression.ZLIB)).encode()))
    return out


def profile(url: str, devices: int, use_cprofile: bool, vitals_only: bool = False
            ) -> dict[str, Any]:
    """Push each device's batch once; statements per push and the shapes of the last."""
    from server.extensions import db

    with tempfile.TemporaryDirectory(prefix="infusync-profile-") as folder:
        caseloads = rush._populate(url, Path(folder), devices)
        app = databases.bench_app(url, Path(folder))
        prepared = _devices(app, caseloads, vitals_only)
        counts, took, shapes = [], [], Counter[str]()
        profiler = cProfile.Profile() if use_cprofile else None
        with app.app_context():
            engine = db.engine
        for device, body in prepared:
            with counted(engine) as seen:
                start = time.perf_counter()
                if profiler:
                    profiler.enable()
                response = device.client.post("/api/v1/sync/push", data=body,
                                              headers=device.headers,
                                              content_type="application/json")
                if profiler:
                    profiler.disable()
                took.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_json()
            statuses = Counter(r["status"] for r in response.get_json()["results"])
            assert response.status_code == 200 and set(statuses) == {"applied"}, statuses
            counts.append(sum(seen.values()))
            shapes = seen
        databases.dispose(app)
    out: dict[str, Any] = {"pushes": len(counts),
                           "mutations_per_push": 200 if vitals_only else 54,
                           "statements_per_push": counts,
                           # In-process, through the test client: compare runs side by side.
                           "push_ms": latency_ms(took),
                           "last_push": dict(shapes.most_common())}
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        out["cprofile"] = text.getvalue()
    return out


def main(argv: list[str] | None = None) -> int:
    """Run on PostgreSQL (default) or SQLite; print the counts as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.push_profile", description=__doc__)
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--vitals", action="store_true",
                        help="the push benchmark's batch (200 vital signs) instead")
    args = parser.parse_args(argv)
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            result = profile(databases.sqlite_url(Path(folder)), args.devices, args.cprofile,
                             args.vitals)
    else:
        with databases.postgres_database() as url:
            result = profile(url, args.devices, args.cprofile,
                             args.vitals)
    report = result.pop("cprofile", None)
    print(json.dumps(result, indent=1))
    if report:
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
