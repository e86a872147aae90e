"""The staff console: server-rendered pages at /console/ for the office.

Each page is a module here that adds routes to ``blueprint.bp`` and, when it belongs in the
header, a ``navigation.add`` entry; its templates are in templates/console/. How to add a
page: docs/console.md.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from server import config


def init_app(app: Flask) -> None:
    """Mount the console at /console/ (and send / there), with CSRF checks on its forms."""
    # The page modules add their routes and header links as they are imported.
    from server.console import (  # noqa: F401
        account,
        audit,
        board,
        directory,
        enrollment,
        errors,
        filters,
        home,
        locations,
        login,
        nurse_home,
        orders,
        patients,
        physician_home,
        review,
        visit,
    )
    from server.console.admin import devices, job_runs, pumps, users  # noqa: F401
    from server.console.blueprint import bp
    from server.console.training import modules, standing  # noqa: F401
    from server.extensions import csrf

    # The API authenticates by header, never by cookie: only console forms need the check
    # (server.console.blueprint.check_csrf).
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=config.is_production(app.config))
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", _to_console)


def _to_console() -> Response:
    return redirect(url_for("console.home"))
