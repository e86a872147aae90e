"""The real urllib transport, against the fake server behind a loopback HTTP listener."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from offline_store.client import SyncClient
from offline_store.errors import ServerError, TransportError
from offline_store.outbox import Outbox
from offline_store.store import Store
from offline_store.transport import Response, UrllibTransport
from tests.offline_store.conftest import DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, upsert


def _handler(fake: FakeServer, seen: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.path)
            if self.path.startswith("/elsewhere"):
                raise AssertionError("a redirect was followed")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path.startswith("/moved"):
                reply = Response(302, b"", {"Location": "/elsewhere/api/v1/sync/push"})
            else:
                url = f"http://127.0.0.1{self.path}"
                reply = fake.request(self.command, url, dict(self.headers.items()), body)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _answer

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@pytest.fixture
def http_server(server: FakeServer) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server, seen))
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.server_address[1]}", seen
    listener.shutdown()
    listener.server_close()
    thread.join()


def test_a_full_sync_over_real_http_with_gzip_pulls(
        store: Store, server: FakeServer, device_clock: DeviceClock,
        http_server: tuple[str, list[str]]) -> None:
    url, _ = http_server
    server.gzip_pulls = True
    server.pages[None] = page([upsert("visit", "v1", 2)], "c1", snapshot=True)
    device = SyncClient(store, UrllibTransport(timeout=5), clock=device_clock, app_version="9.9.9")
    device.enroll(url, server.issue_code(), "tablet")
    Outbox(store).add("vitals.record", "e1", {"value": 1}, occurred_at=device_clock())
    report = device.sync()
    assert report.push.count("applied") == 1 and report.pull.upserts == 1
    assert store.get("visit", "v1") is not None


def test_error_statuses_are_responses_not_exceptions(
        http_server: tuple[str, list[str]]) -> None:
    url, _ = http_server
    reply = UrllibTransport(timeout=5).request("GET", f"{url}/api/v1/sync/pull", {}, None)
    assert reply.status == 401 and b"unauthorized" in reply.body


def test_redirects_are_not_followed(http_server: tuple[str, list[str]]) -> None:
    url, seen = http_server
    reply = UrllibTransport(timeout=5).request(
        "POST", f"{url}/moved", {"Authorization": "Bearer secret"}, b"{}")
    assert reply.status == 302 and seen == ["/moved"]


def test_no_listener_is_a_transport_error(store: Store, device_clock: DeviceClock) -> None:
    device = SyncClient(store, UrllibTransport(timeout=2), clock=device_clock)
    with pytest.raises(TransportError):
        device.enroll("http://127.0.0.1:9", "code", "tablet")


def test_an_unexpected_status_names_the_server_error(
        device: SyncClient, server: FakeServer) -> None:
    server.fail_next("/pull", Response(503, b"busy"))
    with pytest.raises(ServerError, match="503 http_503"):
        device.pull()
