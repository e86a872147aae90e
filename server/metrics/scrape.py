"""One scrape: the events' instruments (summed over every worker) and the database's gauges.

Under ``infusync serve`` each gunicorn worker keeps its values in its own files in
PROMETHEUS_MULTIPROC_DIR (``server.cli.serve`` makes the directory, empty, for each run);
whichever worker answers the scrape reads all of them, the dead workers' included, so a
counter never goes back when a worker is replaced. Without that directory (the development
server, tests) the values are this process's own.
"""

from __future__ import annotations

import os
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session

from server.metrics.database import DatabaseCollector
from server.metrics.instruments import INSTRUMENTS

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory() -> str | None:
    """Where the workers keep their values; None when values live in this process.

    prometheus-client reads the same variable when it is first imported, to choose where
    values live: this must agree with it, so it is read here and nowhere else of ours.
    """
    return os.environ.get(MULTIPROC_VARIABLE) or None


def exposition(session: Session, now: datetime) -> bytes:
    """The scrape in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_directory()
    if directory:
        # prometheus-client leaves this constructor unannotated.
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(INSTRUMENTS)
    registry.register(DatabaseCollector(session, now))
    return generate_latest(registry)
