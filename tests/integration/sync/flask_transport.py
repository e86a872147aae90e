"""The device's transport over the Flask test client, and a wire that loses, doubles and delays.

``FlaskTransport`` lets a real ``offline_store.SyncClient`` talk to the app in-process: the
response comes back exactly as the server sent it (gzip still on, headers kept), so the
client verifies signatures over the very bytes it would get over HTTP.

``FaultyWire`` sits between the two and applies one scripted fault per request, the way a
flaky mobile network does. The faults that matter for exactly-once delivery are the ones
the client cannot tell apart: a request lost on the way and a response lost after the
server committed both surface as ``TransportError``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask.testing import FlaskClient

from offline_store.errors import TransportError
from offline_store.transport import Response, Transport

OK = "ok"
LOSE_REQUEST = "lose_request"
LOSE_RESPONSE = "lose_response"
DELIVER_TWICE = "deliver_twice"
REORDER = "reorder"
FAULTS = (OK, LOSE_REQUEST, LOSE_RESPONSE, DELIVER_TWICE, REORDER)
# A held request reaches the server after this many later requests did: past its own retry
# and, when the push goes on, past the next batch too.
REORDER_DELAY = 2


@dataclass(frozen=True)
class Request:
    """One request as the client sent it, kept byte for byte for a late delivery."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None


class FlaskTransport:
    """Sends a request through the Flask test client; the URL's scheme and host are ignored."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Return the status, the raw (still content-encoded) body and the headers."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        reply = self.client.open(path, method=method, headers=dict(headers), data=body)
        try:
            return Response(reply.status_code, reply.get_data(), dict(reply.headers.items()))
        finally:
            reply.close()


@dataclass
class FaultyWire:
    """Applies scripted faults, one per request (``ok`` once they run out), to ``inner``.

    ``lose_request``: the server never sees it. ``lose_response``: the server handles it,
    the client hears nothing. ``deliver_twice``: the server gets it twice, the client the
    second answer. ``reorder``: the client hears nothing; the exact request reaches the
    server later, after ``REORDER_DELAY`` newer ones (or at ``deliver_held``).
    """

    inner: Transport
    faults: dict[str, list[str]] = field(default_factory=dict)  # method → its next faults
    held: list[tuple[int, Request]] = field(default_factory=list)
    late: list[tuple[Request, Response]] = field(default_factory=list)

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Send one request through the next scripted fault."""
        queue = self.faults.get(method)
        fault = queue.pop(0) if queue else OK
        if fault == REORDER:
            self.held.append((REORDER_DELAY, Request(method, url, dict(headers), body)))
            raise TransportError("request delayed in the network; the client gives up on it")
        if fault == LOSE_REQUEST:
            raise TransportError("connection reset before the request arrived")
        response = self.inner.request(method, url, headers, body)
        if fault == DELIVER_TWICE:
            response = self.inner.request(method, url, headers, body)
        self._age_held()
        if fault == LOSE_RESPONSE:
            raise TransportError("connection reset after the server answered")
        return response

    def script(self, *, push: list[str] | None = None, pull: list[str] | None = None) -> None:
        """Fault the next pushes (POST) and pulls (GET) in order; no script: a clean wire."""
        self.faults = {"POST": list(push or []), "GET": list(pull or [])}

    def _age_held(self) -> None:
        """A newer request got through: deliver the held ones whose delay has run out."""
        aged = [(delay - 1, request) for delay, request in self.held]
        self.held = [(delay, request) for delay, request in aged if delay > 0]
        for delay, request in aged:
            if delay <= 0:
                self._deliver_late(request)

    def _deliver_late(self, request: Request) -> None:
        """The stale copy arrives; nobody listens for its answer but the test."""
        response = self.inner.request(request.method, request.url, request.headers,
                                      request.body)
        self.late.append((request, response))

    def deliver_held(self) -> int:
        """Deliver every request still held in the network; return how many there were."""
        held, self.held = self.held, []
        for _delay, request in held:
            self._deliver_late(request)
        return len(held)
