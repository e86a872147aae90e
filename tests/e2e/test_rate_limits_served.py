"""Rate limits in a real ``infusync serve`` with two gunicorn workers.

With Redis storage the workers share one count per token: requests spread over both reach
the limit together. The same requests against ``memory://`` (the default) show that they
did spread: each worker counts its own, so more get through than the limit.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from server.rate_limits import Keys
from tests.e2e.conftest import Server, serve

pytestmark = pytest.mark.e2e

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
LIMIT = 20
REQUESTS = 3 * LIMIT
# An hour's window: a run never straddles a window edge, where a sliding count lets one more.
LIMITS = {"INFUSYNC_RATE_LIMIT_PER_TOKEN": f"{LIMIT}/hour"}


def redis_url_or_skip() -> str:
    """The test Redis; skip when it does not answer, except under CI, where it fails."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            answered = sock.recv(16).startswith(b"+PONG")
    except OSError:
        answered = False
    if not answered:
        message = f"Redis does not answer on {REDIS_HOST}:{REDIS_PORT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI requires the multi-worker rate-limit test")
        pytest.skip(message)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


def get(server: Server, path: str, token: str) -> tuple[int, dict[str, str], Any]:
    """GET with the token; the status, headers and decoded JSON body."""
    request = urllib.request.Request(server.base + path,
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def burst(server: Server, token: str) -> list[tuple[int, dict[str, str], Any]]:
    """``REQUESTS`` reads at once from six threads, so both workers answer some."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda _: get(server, "/api/v1/patients", token), range(REQUESTS)))


def logged_in_coordinator(server: Server) -> str:
    """A fresh coordinator's token (the database is the same for both servers of a test; a
    coordinator logs in without a second factor)."""
    email = f"coordinator-{secrets.token_hex(3)}@e2e.test"
    server.create_user(email, "coordinator")
    return server.login(email)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database: the counts live in the workers or Redis, not in it, so a
    second run on PostgreSQL would start two more servers to check nothing more."""
    path = tmp_path / "infusync.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def test_two_workers_with_redis_share_one_count_per_token(sqlite_url: str,
                                                          tmp_path: Path) -> None:
    redis_url = redis_url_or_skip()
    database_url = sqlite_url
    secret = secrets.token_hex(32)
    with serve(database_url, tmp_path, INFUSYNC_SECRET_KEY=secret, **LIMITS) as server:
        per_worker = [status for status, _, _ in burst(server, logged_in_coordinator(server))]
    # Each worker counted its own: the burst did reach both.
    assert LIMIT < per_worker.count(200) <= 2 * LIMIT

    with serve(database_url, tmp_path, INFUSYNC_SECRET_KEY=secret,
               INFUSYNC_RATE_LIMIT_STORAGE_URL=redis_url, **LIMITS) as server:
        token = logged_in_coordinator(server)
        answers = burst(server, token)
        assert [status for status, _, _ in answers].count(200) == LIMIT
        refused = [(headers, body) for status, headers, body in answers if status == 429]
        assert len(refused) == REQUESTS - LIMIT
        headers, body = refused[0]
        assert body["error"]["code"] == "too_many_requests"
        assert 1 <= int(headers["Retry-After"]) <= 3600
        # Another token has its own count, on either worker.
        assert get(server, "/api/v1/patients", logged_in_coordinator(server))[0] == 200

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT)
    ours = f"token:{Keys(secret).digest(token)}"
    keys = [key.decode() for key in client.scan_iter(match="*infusync*", count=1000)]
    assert any(ours in key for key in keys)
    assert not any(token in key or "127.0.0.1" in key for key in keys)
    client.close()
