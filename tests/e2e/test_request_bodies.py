"""Request bodies through a real gunicorn: chunked bodies over the limit, and a push
refused on its token before its body is read (issue 10, defect 8)."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Server

MIB = 1024 * 1024


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (the refused bodies store nothing)."""
    return shared_served


def test_a_chunked_body_over_the_limit_is_413(served):
    served.create_user(served.email("coord"), "coordinator")
    token = served.login(served.email("coord"))
    body = json.dumps({"mrn": served.unique("MRN-BIG"), "first_name": "x" * (3 * MIB)}).encode()
    connection = http.client.HTTPConnection(*_address(served.base), timeout=30)
    try:
        connection.request("POST", "/api/v1/patients", body=_chunks(body), encode_chunked=True,
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 413, answer
    assert answer["error"]["code"] == "body_too_large"


def test_a_push_with_a_bad_token_is_refused_before_its_body_arrives(served):
    """Seven MiB announced, one KiB sent: the 401 comes while the rest never does."""
    head = ("POST /api/v1/sync/push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            "Authorization: Bearer bogus\r\nContent-Type: application/json\r\n"
            f"Content-Length: {7 * MIB}\r\n\r\n").encode()
    with socket.create_connection(_address(served.base), timeout=10) as sock:
        sock.sendall(head + b'{"protocol": 1, "padding": "' + b"x" * 1024)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "unauthorized"
