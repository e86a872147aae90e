"""Metrics for the agency's IT, in Prometheus' format (docs/production.md, "Metrics").

- ``instruments`` — counters and histograms that events increment where they happen (the
  push and pull services, the login throttle), summed over gunicorn's workers.
- ``request_counts`` — request rate and latency by route rule.
- ``database`` — gauges read from the database at scrape time (review items, devices'
  last sync per nurse, feed size, job runs).
- ``scrape`` — one scrape: both, in the text format.
- ``endpoint`` — ``GET /metrics`` behind ``INFUSYNC_METRICS_TOKEN``.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Count every request; serve /metrics when a token is configured."""
    from server.metrics import endpoint, request_counts

    request_counts.init_app(app)
    endpoint.init_app(app)
