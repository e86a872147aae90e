"""The endpoints of protocol v1.1 as requests, and the one error shape they answer with.

Every request after enrolment carries a fresh ``Infusync-Nonce``: the server signs its
answer over it, so the caller keeps the nonce to verify that answer and no other.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
import zlib
from dataclasses import dataclass
from typing import Any

from offline_store.errors import ProtocolViolation, ServerError, Unauthorized
from offline_store.store import dumps
from offline_store.transport import Response, Transport
from sync.response_signature import NONCE_HEADER

ENROLL_PATH = "/api/v1/devices/enroll"
PUSH_PATH = "/api/v1/sync/push"
PULL_PATH = "/api/v1/sync/pull"
KEYS_PATH = "/api/v1/sync/keys"
PROTOCOL_VERSION = 1
# A gzip bomb is refused rather than inflated without bound.
MAX_DECODED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ApiError:
    """The server's ``{"error": {"code", "message", "details"}}``, tolerant of other bodies."""

    status: int
    code: str
    message: str
    details: dict[str, Any]

    def to_exception(self, kind: type[ServerError] = ServerError) -> ServerError:
        """The exception a caller raises for this error."""
        return kind(self.status, self.code, self.message)


class ServerApi:
    """Builds the requests of protocol v1 for one server and (after enrolment) one token."""

    def __init__(self, transport: Transport, server_url: str, token: str | None = None) -> None:
        self.transport = transport
        self.base = server_url.rstrip("/")
        self.token = token

    def _headers(self, *, json_body: bool, nonce: str | None = None) -> dict[str, str]:
        """Common headers; gzip is accepted because pull snapshots compress well."""
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
        if nonce is not None:
            headers[NONCE_HEADER] = nonce
        if json_body:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def enroll(self, body: dict[str, Any]) -> Response:
        """POST the enrolment request (no token yet)."""
        return self.transport.request(
            "POST", self.base + ENROLL_PATH, self._headers(json_body=True), dumps(body))

    def push(self, body: dict[str, Any], nonce: str) -> Response:
        """POST one sealed, signed batch."""
        return self.transport.request(
            "POST", self.base + PUSH_PATH, self._headers(json_body=True, nonce=nonce),
            dumps(body))

    def push_outcome(self, batch_id: str, nonce: str) -> Response:
        """GET the answer a pushed batch was given (v1.1), instead of sending it again."""
        return self.transport.request("GET", f"{self.base}{PUSH_PATH}/{batch_id}",
                                      self._headers(json_body=False, nonce=nonce), None)

    def pull(self, cursor: str | None, limit: int, nonce: str) -> Response:
        """GET one page of changes after ``cursor`` (none: start a snapshot)."""
        query: dict[str, str | int] = {"limit": limit}
        if cursor:
            query = {"cursor": cursor, **query}
        url = f"{self.base}{PULL_PATH}?{urllib.parse.urlencode(query)}"
        return self.transport.request("GET", url, self._headers(json_body=False, nonce=nonce),
                                      None)

    def keys(self, nonce: str) -> Response:
        """GET the server's public keys now (rotations announced ahead)."""
        return self.transport.request("GET", self.base + KEYS_PATH,
                                      self._headers(json_body=False, nonce=nonce), None)


def new_nonce() -> str:
    """A fresh request nonce: 24 random bytes, base64url (32 characters)."""
    return secrets.token_urlsafe(24)


def decoded_body(response: Response) -> bytes:
    """The body with any gzip Content-Encoding removed: the bytes the server signed."""
    encoding = (response.header("Content-Encoding") or "identity").strip().lower()
    if encoding == "identity":
        return response.body
    if encoding != "gzip":
        raise ProtocolViolation(f"unsupported Content-Encoding {encoding!r}")
    try:
        inflater = zlib.decompressobj(wbits=31)
        body = inflater.decompress(response.body, MAX_DECODED_BYTES)
    except zlib.error as exc:
        raise ProtocolViolation("the gzip body does not decode") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise ProtocolViolation("the gzip body is truncated or too large")
    return body


def json_of(body: bytes) -> Any:
    """Parse a JSON body, naming a malformed one as a protocol violation."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ProtocolViolation("the response is not JSON") from exc


def error_of(response: Response) -> ApiError:
    """Read the error shape out of a 4xx/5xx response, whatever the body holds."""
    try:
        error = json.loads(decoded_body(response)).get("error") or {}
    except (ValueError, AttributeError, ProtocolViolation):
        error = {}
    if not isinstance(error, dict):
        error = {}
    details = error.get("details")
    return ApiError(
        status=response.status,
        code=str(error.get("code") or f"http_{response.status}"),
        message=str(error.get("message") or "no message"),
        details=details if isinstance(details, dict) else {},
    )


def raise_unauthorized(error: ApiError) -> None:
    """A 401 means the token is unknown: only a new enrolment helps."""
    if error.status == 401:
        raise error.to_exception(Unauthorized)
