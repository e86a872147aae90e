"""Fixtures of the device-side tests: a fast store, a fake server, an enrolled client.

Named ``device*`` so they never shadow the app's ``client`` and ``clock`` fixtures, which
integration tests against the real server will use next to these.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from offline_store.client import SyncClient
from offline_store.store import Store
from tests.offline_store.fake_server import FakeServer

PIN = "135790"
FAST_N = 2**10
SERVER_URL = "https://infusync.test"
EASTERN = timezone(timedelta(hours=-5))


class DeviceClock:
    """The device's clock: local time at -05:00, standing still until moved."""

    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 8, 0, tzinfo=EASTERN)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.current += timedelta(**delta)


@pytest.fixture
def device_clock() -> DeviceClock:
    """A device clock on a Monday morning in US Eastern time."""
    return DeviceClock()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where the device store lives for this test."""
    return tmp_path / "device" / "store.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    """A new, unlocked store (scrypt n lowered for speed)."""
    opened = Store.create(store_path, PIN, scrypt_n=FAST_N)
    yield opened
    opened.close()


@pytest.fixture
def server() -> FakeServer:
    """A fake server with default policy."""
    return FakeServer()


@pytest.fixture
def device(store: Store, server: FakeServer, device_clock: DeviceClock) -> SyncClient:
    """A client enrolled with the fake server."""
    sync_client = SyncClient(store, server, clock=device_clock, app_version="9.9.9")
    sync_client.enroll(SERVER_URL, server.issue_code(), "test tablet")
    return sync_client
