"""Request rate and latency by route, for every request the app answers.

The route label is the URL rule (``/api/v1/patients/<uuid:patient_id>``), never the path
asked for: no record id reaches a label, and the number of series stays that of the routes.
A URL no rule matches is ``unmatched``; a method outside HTTP's own is ``other``.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from server.metrics.instruments import http_duration, http_requests

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def start_timer() -> None:
    """Note when the request arrived."""
    g.metrics_started = time.perf_counter()


def count_request(response: Response) -> Response:
    """Count the answered request and its time under its route's rule."""
    started = g.pop("metrics_started", None)
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    http_requests.labels(route, method, str(response.status_code)).inc()
    if started is not None:
        http_duration.labels(route, method).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Install the hooks: first before every request, so the time includes the others."""
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
    app.after_request(count_request)
