"""Reading a request body: JSON only where JSON is parsed, and never cut short in silence."""

from __future__ import annotations

from flask import Request
from webargs.flaskparser import abort, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge

NOT_JSON_MESSAGE = "Send the body as JSON, with 'Content-Type: application/json'."


def has_body(req: Request) -> bool:
    """True when the request carries a body: a Content-Length above 0, or chunks."""
    chunked = "chunked" in req.headers.get("Transfer-Encoding", "").lower()
    return bool(req.content_length) or chunked


def refuse_unless_json(req: Request) -> None:
    """415 for a body that is not JSON where JSON is parsed: webargs reads such a body as
    absent, so a PATCH sent as a form or text/plain answered 200 having changed nothing."""
    if has_body(req) and not is_json_request(req):
        abort(415, message=NOT_JSON_MESSAGE)


def read_body(req: Request, *, cache: bool = True) -> bytes:
    """The body, or 413 when a body without Content-Length (chunked) is over the limit.

    werkzeug reads such a body up to ``max_content_length`` and returns what it read,
    without an error: JSON cut short answered 400 (not valid JSON), an upload was stored
    truncated. One more byte from the server's stream tells a body of exactly the limit
    (nothing left) from a longer one.
    """
    data = req.get_data(cache=cache)
    limit = req.max_content_length
    if req.content_length is None and limit is not None and len(data) >= limit \
            and req.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge(f"The body is over the limit of {limit} bytes.")
    return data
