"""Reverse proxies in front of the app: which address a request really came from.

Behind ``INFUSYNC_TRUSTED_PROXIES`` = n proxies, werkzeug's ``ProxyFix`` takes the client
address (and scheme and host) from the n-th ``X-Forwarded-*`` value from the right, the one
the outermost trusted proxy wrote. With 0 (the default) nothing is wrapped: a client's own
``X-Forwarded-For`` is ignored, so it cannot pick the address the login throttle counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Any


def _addresses_only(wsgi_app: WSGIApp) -> WSGIApp:
    """Keep the socket address when the forwarded one is not an IP address: more proxies
    configured than there are lets the client write that value, and it feeds the throttle
    and the audit trail."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
        except ValueError:
            original = environ.get("werkzeug.proxy_fix.orig", {})
            environ["REMOTE_ADDR"] = original.get("REMOTE_ADDR")
        result: Iterable[bytes] = wsgi_app(environ, start_response)
        return result

    return app


def init_app(app: Flask) -> None:
    """Wrap the app in ``ProxyFix`` for the configured number of trusted proxies."""
    hops: int = app.config.get("TRUSTED_PROXIES", 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            _addresses_only(app.wsgi_app), x_for=hops, x_proto=hops, x_host=hops)
