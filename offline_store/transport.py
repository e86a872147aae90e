"""HTTP for the sync client, behind one small interface tests can replace with faults.

A ``Transport`` sends one request and returns the response exactly as received (body bytes
still content-encoded), or raises ``TransportError`` when no response arrived. It never
retries: whether a retry is safe is the client's decision, not the wire's.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from offline_store.errors import TransportError

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Response:
    """An HTTP response; header names are looked up case-insensitively via ``header``."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of a header, whatever the case of its name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class Transport(Protocol):
    """Sends one HTTP request; raises ``TransportError`` if no response came back."""

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Send the request and return the response as received."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would replay the bearer token to wherever they point."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class UrllibTransport:
    """The real transport: the standard library's urllib, no retries, redirects or decoding."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects())

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Send with urllib; HTTP error statuses are responses, network failures are not."""
        if not url.startswith(("https://", "http://")):
            raise TransportError(f"unsupported URL scheme in {url!r}")
        req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 - scheme checked above
        try:
            with self._opener.open(req, timeout=self.timeout) as reply:
                return Response(reply.status, reply.read(), dict(reply.headers.items()))
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, exc.read(), dict(exc.headers.items()))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise TransportError(f"no response from the server: {exc}") from exc
