"""Security headers on every response: what a browser may do with what the server sends.

- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` everywhere: a
  JSON body is never run as a script or page, and no URL (ids in a path) leaks onwards.
- ``Cache-Control: no-store`` on every /api/ response but the docs' static files: the
  simplest rule that is sure to cover everything holding patient data or a token. A view
  that sets its own ``Cache-Control`` keeps it (the content-addressed training attachments
  devices download: no patient data, and downloaded once).
- ``Strict-Transport-Security`` when the request came over HTTPS (``request.is_secure``;
  behind a proxy, ProxyFix makes that the client's scheme): never sent over plain HTTP,
  where a browser ignores it anyway and a development server must stay reachable.
- ``Content-Security-Policy``: nothing may frame any response (``frame-ancestors``); an
  HTML page (Swagger UI at /api/docs) may load only its own files, with no inline script
  or style; any other response may load nothing at all. A console page (/console/) gets
  ``CONSOLE_CSP``: its own scripts, styles and fetches only, never inline, and forms that
  post only to this server.
- Console pages are ``no-store`` too (they show patient data), bar their static files.
"""

from __future__ import annotations

from flask import Flask, Response, request

from server.docs_assets import ASSETS_URL, START_URL

HSTS = "max-age=31536000; includeSubDomains"
PAGE_CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
CONSOLE = "/console/"
CONSOLE_STATIC = "/console/static/"


DOCS_FILES = (ASSETS_URL + "/", START_URL + "/")


def _holds_data(path: str) -> bool:
    """True for what may hold patient data or a token: the API, bar the docs' files, and
    the console, bar its static files."""
    if path.startswith(CONSOLE):
        return not path.startswith(CONSOLE_STATIC)
    return path.startswith("/api/") and not path.startswith(DOCS_FILES)


def add_security_headers(response: Response) -> Response:
    """Set the headers above on ``response`` (every response, errors included)."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    if _holds_data(request.path) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    if "Content-Security-Policy" not in headers:
        is_page = response.mimetype == "text/html"
        if is_page and request.path.startswith(CONSOLE):
            headers["Content-Security-Policy"] = CONSOLE_CSP
        else:
            headers["Content-Security-Policy"] = PAGE_CSP if is_page else DATA_CSP
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response the app gives."""
    app.after_request(add_security_headers)
