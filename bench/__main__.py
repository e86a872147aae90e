"""``python -m bench [--quick]``: run every benchmark, write JSON and Markdown, print both."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import (
    console,
    machine,
    metrics_scrape,
    network,
    pull,
    push,
    report,
    rush,
    store,
    wire_bytes,
)
from bench.databases import ADMIN_URL, shared_by_the_run
from bench.settings import FULL, QUICK, Sizes

RESULTS = Path(__file__).parent / "results"


def _step(label: str, start: float) -> None:
    print(f"bench: {time.perf_counter() - start:5.1f} s  {label}", file=sys.stderr, flush=True)


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _benchmarks(sizes: Sizes, start: float) -> dict[str, Any]:
    """Every benchmark but the bad network (which makes its own server and database)."""
    results: dict[str, Any] = {"mode": sizes.name,
                               "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine.describe(ADMIN_URL), "load_before": _load(),
                               "sizes": vars(sizes), "push": {}}
    for backend in report.BACKENDS:
        _step(f"push on {backend}", start)
        results["push"][backend] = push.run(backend, sizes)
    _step(f"pull with {sizes.visits_small:,} and {sizes.visits_large:,} visits", start)
    results["pull"] = pull.run(sizes)
    _step("device store", start)
    results["store"] = store.run(sizes.store_records)
    _step(f"metrics scrape with {sizes.job_runs:,} job runs", start)
    results["metrics"] = metrics_scrape.run(sizes)
    _step(f"morning rush of {sizes.rush_devices} devices", start)
    results["rush"] = rush.run(sizes.rush_devices, sizes.rush_workers)
    _step(f"console with {sizes.console_visits:,} visits, {sizes.console_review_items:,} "
          "review items", start)
    results["console"] = console.run(sizes, lambda label: _step(label, start))
    _step("bytes on the wire per mutation type", start)
    results["wire"] = wire_bytes.run()
    results["network"] = None
    return results


def run(sizes: Sizes) -> dict[str, Any]:
    """Every benchmark at ``sizes``; the results with their summary."""
    start = time.perf_counter()
    with shared_by_the_run():
        results = _benchmarks(sizes, start)
    if sizes.name != "quick":  # minutes at 32 kbit/s: the full run only
        _step("bad network: 540 mutations over degraded links", start)
        results["network"] = network.run()
    _step("done", start)
    results["load_after"] = _load()
    results["duration_s"] = round(time.perf_counter() - start, 1)
    results["summary"] = report.summary(results)
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, write ``latest`` (or ``quick``) files, print the table and JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    results = run(QUICK if args.quick else FULL)
    data, markdown = report.write(args.out, "quick" if args.quick else "latest", results)
    print(report.table(results))
    print(f"wrote {data} and {markdown}")
    print(json.dumps(results["summary"]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
