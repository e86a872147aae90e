"""``GET /metrics`` for the agency's Prometheus, behind a bearer token.

Only registered when ``INFUSYNC_METRICS_TOKEN`` is set: without it the URL is unknown (a
404 like any other), so a server nobody configured for metrics shows none. With it, a
request without that exact token gets a 401 and nothing is read.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from server import clock
from server.errors import error_response
from server.extensions import current_session
from server.metrics.scrape import exposition

blueprint = Blueprint("metrics", __name__)


def _presented_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@blueprint.get("/metrics")
def metrics() -> Response:
    """The scrape, for a request carrying the configured token."""
    expected = str(current_app.config["METRICS_TOKEN"])
    if not hmac.compare_digest(_presented_token().encode(), expected.encode()):
        response = error_response(401, "unauthorized",
                                  "Send the metrics token: Authorization: Bearer <token>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="infusync metrics"'
        return response
    return Response(exposition(current_session(), clock.now()),
                    content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Serve /metrics when a token is configured."""
    if app.config.get("METRICS_TOKEN"):
        app.register_blueprint(blueprint)
