"""Exceptions named by outcome, and the one handler that turns any error into JSON.

Every error leaves the server as ``{"error": {"code", "message", "details"}}``; services
raise the exceptions below and never think about HTTP.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, jsonify
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from schemas.errors import RefusedInput
from server import rate_limits

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error the caller can act on: a status, a stable code and a clear message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None, code: str = ""):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code

    def headers(self) -> dict[str, str]:
        """Response headers that go with this error (none by default)."""
        return {}


class Unauthorized(AppError):
    """No valid credentials: log in (again)."""

    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    """Authenticated, but this role may not do this."""

    status = 403
    code = "forbidden"


class NotFound(AppError):
    """No such record, or none this user may know exists."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    """The request contradicts the stored state (duplicate key, wrong state)."""

    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    """An edit based on an outdated version; ``details.current`` holds the record now."""

    code = "stale_version"


class PreconditionRequired(AppError):
    """An edit that did not say which version it was based on."""

    status = 428
    code = "version_required"


class Invalid(AppError):
    """Well-formed input that breaks a rule; ``details`` maps fields to messages."""

    status = 422
    code = "validation_failed"


class Throttled(AppError):
    """Too many attempts; ``details.retry_after_s`` (and ``Retry-After``) says how long to wait."""

    status = 429
    code = "too_many_requests"

    def headers(self) -> dict[str, str]:
        """The wait in seconds, as HTTP clients and proxies read it."""
        return {"Retry-After": str(self.details["retry_after_s"])}


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "version_required",
    429: "too_many_requests",
}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """Build the one error shape."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _validation_details(messages: dict[str, Any]) -> dict[str, Any]:
    """Flatten webargs' ``{"json": {field: [...]}}`` to ``{field: [...]}`` for body errors."""
    if set(messages) == {"json"} and isinstance(messages["json"], dict):
        return messages["json"]
    return messages


def handle_app_error(error: AppError) -> Response:
    """Domain errors raised by services."""
    response = error_response(error.status, error.code, error.message, error.details)
    response.headers.update(error.headers())
    return response


def handle_http_exception(error: HTTPException) -> Response:
    """Werkzeug and webargs errors, including validation failures and 404 routes."""
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    code = HTTP_CODES.get(status, "error")
    message = data.get("message") or error.description or error.name
    details: Any = {}
    if messages:
        details = _validation_details(messages)
        refused = getattr(error, "exc", None)
        if isinstance(refused, RefusedInput):  # a refusal with its own code (webargs' exc)
            code, message = refused.code, refused.reason
        elif status == 400 and "Invalid JSON body." in str(messages):
            code, message = "malformed_json", "The request body is not valid JSON."
        elif status == 422:
            message = "Some fields are invalid; see details."
    response = error_response(status, code, message, details)
    for name, value in error.get_headers():  # Allow on a 405, WWW-Authenticate, ...
        if name.lower() != "content-type":  # werkzeug's would be its HTML page's
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def handle_rate_limited(error: RateLimitExceeded) -> Response:
    """A rate limit reached (``server.rate_limits``): when to try again, in the header too."""
    seconds = rate_limits.retry_after(error)
    response = error_response(
        429, "too_many_requests", f"Too many requests; try again in {seconds} seconds.",
        {"limit": str(error.limit.limit), "retry_after": seconds})
    response.headers["Retry-After"] = str(seconds)
    return response


def handle_unexpected(error: Exception) -> Response:
    """A bug. Log the type and where it happened, never its message (a database error's
    message may quote the patient's values) nor the request body, and say sorry."""
    log.error("unhandled error", extra={
        "error_type": type(error).__name__,
        "traceback": "".join(traceback.format_tb(error.__traceback__)),
    })
    return error_response(500, "internal_error", "An unexpected error occurred; it was logged.")


def register_errorhandlers(app: Flask) -> None:
    """Route every error through the handlers above."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    app.register_error_handler(Exception, handle_unexpected)
