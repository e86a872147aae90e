"""gzip of sync responses, for devices on slow links (``Accept-Encoding: gzip``).

Only the sync endpoints compress: their bodies are large and JSON (a pull snapshot, the
results of 500 mutations); the rest of the API is small and is left to a reverse proxy.
Every answer is signed over the bytes before compression, so the client verifies what it
decoded: a pull's view signs then compresses; a push answer, signed in an after-request
hook, is compressed by ``gzip_push_answers``, registered to run after that hook.
"""

from __future__ import annotations

import gzip

from flask import Response, request

PUSH_PATH_SUFFIX = "/sync/push"

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5  # about as small as 9 for JSON, at a fraction of the CPU


def gzipped_if_accepted(response: Response) -> Response:
    """Compress the body in place when the client accepts gzip and it is worth it."""
    response.vary.add("Accept-Encoding")
    # werkzeug's Accept holds (value, quality) pairs, but its ``in`` takes a value's name.
    accepts_gzip = "gzip" in request.accept_encodings  # type: ignore[comparison-overlap]
    body = response.get_data()
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip:
        response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL))
        response.headers["Content-Encoding"] = "gzip"
    return response


def gzip_push_answers(response: Response) -> Response:
    """After-request hook: a push's ``200`` compressed like a pull page (once signed); so
    is the same answer asked for again (``GET /sync/push/{batch_id}``)."""
    if response.status_code == 200 and (
            request.path.endswith(PUSH_PATH_SUFFIX) or PUSH_PATH_SUFFIX + "/" in request.path):
        return gzipped_if_accepted(response)
    return response
