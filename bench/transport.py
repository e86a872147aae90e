"""The benchmark's HTTP client: the ``post``/``get`` shape of Flask's test client over a
real socket, so ``tests/integration/sync/device.py`` drives a served infusync unchanged."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode, urlsplit


class HttpResponse:
    """A response read whole: status, headers and body, JSON decoded on demand."""

    def __init__(self, status_code: int, headers: http.client.HTTPMessage, data: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.data = data

    def get_json(self) -> Any:
        """The decoded body, or None when it is empty."""
        return json.loads(self.data) if self.data else None


class HttpClient:
    """One keep-alive connection to ``base_url``; JSON bodies, werkzeug-style keywords."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        # The server may close the connection between requests; http.client reopens it.
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1",
                                                     parts.port, timeout=300)

    def post(self, path: str, *, json: Any = None, data: bytes | None = None,
             headers: dict[str, str] | None = None) -> HttpResponse:
        """POST ``data`` as it is (a body sealed ahead of a timed loop) or ``json`` encoded."""
        body = data if data is not None else _encode(json)
        return self._send("POST", path, body, headers)

    def get(self, path: str, *, headers: dict[str, str] | None = None,
            query_string: dict[str, Any] | None = None) -> HttpResponse:
        """GET ``path`` with ``query_string`` encoded onto it."""
        query = f"?{urlencode(query_string)}" if query_string else ""
        return self._send("GET", path + query, None, headers)

    def _send(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str] | None) -> HttpResponse:
        try:
            return self._exchange(method, path, body, headers)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # gthread workers keep a connection alive a few seconds, then close it: a
            # request on the closed socket never reached the server, so send it once more
            # on a new connection (pushes are idempotent by batch id anyway).
            self.connection.close()
            return self._exchange(method, path, body, headers)

    def _exchange(self, method: str, path: str, body: bytes | None,
                  headers: dict[str, str] | None) -> HttpResponse:
        self.connection.request(method, path, body=body,
                                headers={"Content-Type": "application/json", **(headers or {})})
        response = self.connection.getresponse()
        return HttpResponse(response.status, response.headers, response.read())

    def close(self) -> None:
        """Close the connection (a new request would open another)."""
        self.connection.close()


def _encode(value: Any) -> bytes | None:
    return None if value is None else json.dumps(value).encode()
