"""HTTP for the sync client, behind one small interface tests can replace with faults.

A ``Transport`` sends one request and returns the response exactly as received (body bytes
still content-encoded), or raises ``TransportError`` when no response arrived. It never
retries: whether a retry is safe is the client's decision, not the wire's.

The timeout bounds silence, not the transfer: a socket timeout bounds one ``sendall``
as a whole (Python >= 3.5), so a 232 KB body handed over at once could never finish at
32 kbit/s within 30 s. The body goes out in small chunks, each its own ``sendall``, so
only a link that moves nothing for ``timeout`` seconds fails; receiving was already
bounded per read. A failure before the whole body was handed to the kernel raises
``UploadIncomplete``: the server cannot have acted on a body it never got whole.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from offline_store.errors import TransportError, UploadIncomplete

# Longest silence (nothing sent, nothing received) before a request is given up.
DEFAULT_TIMEOUT_SECONDS = 30.0
# Small enough to fit a socket buffer at once: one chunk waits for room, not for the link.
UPLOAD_CHUNK_BYTES = 4096
# The kernel's send buffer is autotuned up to megabytes: a whole batch "sent" at once, then
# a minute of silence at 32 kbit/s while it drains, which the timeout would take for a
# dead server. Linux doubles the value set: 32 KB drain in 8 s at 32 kbit/s and still
# allow ~100 KB/s at 300 ms round trip (a 2 MB batch in 20 s).
SEND_BUFFER_BYTES = 16 * 1024


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


class _Upload:
    """The request body as chunks, noting whether the last one was handed to the socket."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.complete = False

    def chunks(self) -> Iterator[bytes]:
        """Each chunk is sent (its own ``sendall``) before the next is asked for."""
        view = memoryview(self.body)
        for start in range(0, len(view), UPLOAD_CHUNK_BYTES):
            yield bytes(view[start:start + UPLOAD_CHUNK_BYTES])
        self.complete = True


class _SmallSendBuffer(http.client.HTTPConnection):
    """A connection whose kernel send buffer holds seconds of a slow link, not minutes."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


class _SmallSendBufferTLS(http.client.HTTPSConnection):
    """The same over TLS (the option is set on the TCP socket before the handshake)."""

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            self.sock, server_hostname=self.host)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_SmallSendBuffer, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_SmallSendBufferTLS, req,
                            context=self._context)  # type: ignore[attr-defined]


class UrllibTransport:
    """The real transport: the standard library's urllib, no retries, redirects or decoding."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects(), _HTTPHandler(),
                                                   _HTTPSHandler())

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        """Send with urllib; HTTP error statuses are responses, network failures are not."""
        if not url.startswith(("https://", "http://")):
            raise TransportError(f"unsupported URL scheme in {url!r}")
        upload = _Upload(body or b"")
        data, sent_headers = None, dict(headers)
        if body is not None:
            data = upload.chunks()
            sent_headers["Content-Length"] = str(len(body))
        req = urllib.request.Request(url, data=data, headers=sent_headers, method=method)  # noqa: S310 - scheme checked above
        try:
            with self._opener.open(req, timeout=self.timeout) as reply:
                return Response(reply.status, reply.read(), dict(reply.headers.items()))
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, exc.read(), dict(exc.headers.items()))
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = _reason(exc)
            if body and not upload.complete:
                raise UploadIncomplete(f"the upload was cut off ({reason})") from exc
            raise TransportError(f"no response from the server ({reason})") from exc


def _reason(exc: BaseException) -> str:
    """A short cause without urllib's wrapping ("<urlopen error ...>")."""
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
                          http.client.RemoteDisconnected)):
        return "connection lost"
    return type(cause).__name__ if not str(cause) else str(cause)
