"""A request cannot forge or break a line of the server's logs (issue 10, defect 7)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Server

FORGED = '{"level":"ERROR","forged":true}'


def send_raw(base: str, target: str, method: str = "GET") -> bytes:
    """Send one request line exactly as written (percent escapes untouched); the answer."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                     .encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server tests share: the assertions read only the log written after this test began."""
    return shared_served


def log_after(path: Path, start: int, marker: bytes) -> bytes:
    """The server's log from byte ``start`` on (this test's part of a log tests share), once
    ``marker`` appears in it (the access log is written after the response is sent)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with path.open("rb") as log:
            log.seek(start)
            data = log.read()
        if marker in data:
            return data
        time.sleep(0.1)
    raise AssertionError(f"{marker!r} never reached the log")


def test_a_path_cannot_forge_a_log_line_nor_write_control_bytes(served):
    path = served.folder / "serve.log"
    start = path.stat().st_size  # earlier tests' lines (tests in one process run in turn)
    marker = served.unique("end-marker")
    for target in ("/api/v1/x%0A" + FORGED.replace('"', "%22"), "/api/v1/x%0D%0A" + FORGED,
                   "/api/v1/nul%00byte", "/api/v1/esc%1B[2Jansi", "/api/v1/" + marker):
        answer = send_raw(served.base, target)
        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
    log = log_after(path, start, marker.encode())
    lines = log.split(b"\n")
    assert not [line for line in lines if line.strip().startswith(b'{"level":"ERROR"')]
    assert all(b"forged" not in line or b"/api/v1/x" in line for line in lines)
    assert b"\x00" not in log and b"\x1b" not in log and b"\r" not in log
    assert b"nul\\x00byte" in log and b"esc\\x1b[2Jansi" in log
