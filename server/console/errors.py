"""Errors on console pages answered as pages, not as the API's JSON.

The blueprint's handlers take precedence over the app's (``server.errors``) for console
routes: a refusal keeps its status (403, 404, 409 ...) and its message, shown in the layout
with no patient data; an expired session goes back to the login page. The app's handler
still logs and answers anything unexpected.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from server import rate_limits
from server.console.blueprint import bp
from server.errors import AppError, Unauthorized

TITLES = {400: "The request was refused", 403: "Not open to your role",
          404: "Not found", 405: "Not allowed", 409: "Not possible now",
          422: "Check what you entered", 428: "Reload the page", 429: "Too many attempts"}
CSRF_MESSAGE = ("This form was not sent from an open console page, or the page is too old. "
                "Go back, reload the page and try again.")


def error_page(status: int, message: str) -> tuple[str, int]:
    """The error page for ``status`` with ``message`` (a refusal's own words)."""
    title = TITLES.get(status, "Something went wrong")
    return render_template("console/error.html", title=title, message=message), status


@bp.errorhandler(AppError)
def app_error(error: AppError) -> Response | tuple[str, int]:
    """A service's refusal: the page says what the API would have said."""
    if isinstance(error, Unauthorized):
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    return error_page(error.status, error.message)


@bp.errorhandler(CSRFError)
def csrf_error(_error: CSRFError) -> tuple[str, int]:
    """A POST without a valid CSRF token: refused before the view ran, nothing changed."""
    return error_page(400, CSRF_MESSAGE)


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """A rate limit reached (server.rate_limits): the page says when to try again."""
    seconds = rate_limits.retry_after(error)
    page, status = error_page(429, f"Too many requests; try again in {seconds} seconds.")
    return page, status, {"Retry-After": str(seconds)}


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    """Werkzeug's 4xx (a malformed form, a wrong method) as a page."""
    status = error.code or 500
    if status >= 500:
        return error
    return error_page(status, error.description or error.name)
