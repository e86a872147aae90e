"""``python -m bench.sync_cpu``: the server's CPU per pull and per push of the morning rush.

The rush (``bench/rush.py``) is bounded by CPU, most of it the server's; its figure comes
from ``/proc`` and covers gunicorn too. This one isolates our code: each device of a fresh
PostgreSQL database pulls the first page of its schedule and pushes the rush's batch (54
mutations) through the Flask test client, and the process's CPU time of each request is
read (``time.process_time``, so the machine's other load moves it much less than the wall
clock), with the statements each pull sends (counted as ``bench.push_profile`` counts a
push's). As a served worker does, the heap is frozen after the first device's push
(``server/cli/gunicorn_hooks.py``) and that device is not counted. ``--cprofile`` prints
where the CPU goes, pulls and pushes apart, by own and by cumulative time.

To compare two trees in one sitting, run this file (``python bench/sync_cpu.py``)
alternately with ``PYTHONPATH`` set to each tree: it measures the tree's own server.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import databases, rush
from bench.push_profile import _devices, counted


def _cpu(profiler: cProfile.Profile | None, call: Any) -> tuple[float, Any]:
    """The CPU seconds ``call()`` took in this process, and its answer."""
    start = time.process_time()
    if profiler:
        profiler.enable()
    answer = call()
    if profiler:
        profiler.disable()
    return time.process_time() - start, answer


def _ms(seconds: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(seconds) * 1000, 1),
            "mean": round(statistics.fmean(seconds) * 1000, 1)}


def _report(name: str, profiler: cProfile.Profile, lines: int) -> str:
    text = io.StringIO()
    for key in ("tottime", "cumulative"):
        text.write(f"==== {name}, by {key}\n")
        pstats.Stats(profiler, stream=text).sort_stats(key).print_stats(lines)
    return text.getvalue()


def measure(url: str, devices: int, use_cprofile: bool) -> dict[str, Any]:
    """Pull then push for each device; CPU milliseconds per pull and per push."""
    from server.extensions import db

    with tempfile.TemporaryDirectory(prefix="infusync-sync-cpu-") as folder:
        caseloads = rush._populate(url, Path(folder), devices + 1)
        app = databases.bench_app(url, Path(folder))
        prepared = _devices(app, caseloads, False)
        pulls, pushes, statements = [], [], []
        shapes: Counter[str] = Counter()
        with app.app_context():
            engine = db.engine
        profiles = (cProfile.Profile(time.process_time), cProfile.Profile(time.process_time)) \
            if use_cprofile else (None, None)
        for index, (device, body) in enumerate(prepared):
            with counted(engine) as seen:
                pulled, response = _cpu(profiles[0] if index else None, lambda d=device: (
                    d.client.get("/api/v1/sync/pull", headers=d.headers,
                                 query_string={"cursor": "", "limit": 200})))
            assert response.status_code == 200, response.data[:300]
            statements.append(sum(seen.values()))
            shapes = seen
            pushed, response = _cpu(profiles[1] if index else None, lambda d=device, b=body: (
                d.client.post("/api/v1/sync/push", data=b, headers=d.headers,
                              content_type="application/json")))
            assert response.status_code == 200, response.get_json()
            assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
            if index:
                pulls.append(pulled)
                pushes.append(pushed)
            else:  # as a served worker does after its first push
                gc.collect()
                gc.freeze()
        gc.unfreeze()
        databases.dispose(app)
    out: dict[str, Any] = {"devices": devices, "pull_cpu_ms": _ms(pulls),
                           "push_cpu_ms": _ms(pushes),
                           "statements_per_pull": statistics.median(statements[1:]),
                           "last_pull": dict(shapes.most_common())}
    if profiles[0] and profiles[1]:
        out["cprofile"] = _report("pull", profiles[0], 40) + _report("push", profiles[1], 40)
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure on a fresh PostgreSQL database; print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.sync_cpu", description=__doc__)
    parser.add_argument("--devices", type=int, default=30)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args(argv)
    with databases.postgres_database() as url:
        result = measure(url, args.devices, args.cprofile)
    report = result.pop("cprofile", None)
    print(json.dumps(result))
    if report:
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
