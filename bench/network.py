"""A bad network: the reference client pushes 540 mutations over degraded links (full run).

The issue's links, played by ``tests.impaired_link`` (a user-space proxy; no netem here)
between the reference client (``SyncClient`` over ``UrllibTransport``, the CLI's retry
policy) and a real ``infusync serve`` on SQLite: 300 ms each way at 256 and 32 kbit/s,
2 % and 30 % segment loss (each lost segment a 0.5 s retransmission stall), cuts of
5 s and 45 s during the upload, and the push's answer cut on its way back (the client asks
for the batch's results by id instead of uploading it again). Each case is one nurse's
device with 540 pending readings, synced once to the end; reported: wall time, bytes each
way, connections, whether all 540 were applied once. Slow by nature (minutes), so
``--quick`` skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.served import BIN, serve
from offline_store.client import SyncClient
from offline_store.documentation import Vitals, record_vitals
from offline_store.outbox import Outbox
from offline_store.retry import RetryPolicy
from offline_store.store import Store
from offline_store.transport import UrllibTransport
from tests.impaired_link import CutAnswer, LinkProfile, Stall, impaired_link

MUTATIONS = 540
READING = Vitals(heart_rate=72, blood_pressure=(120, 80), temperature_c=37.1, spo2=98,
                 respiratory_rate=16)  # five readings: five mutations
PASSWORD = "a long enough bench password"  # noqa: S105 - a throwaway bench database
PIN = "135790"


@dataclass(frozen=True)
class Case:
    """One link to push through."""

    name: str
    profile: LinkProfile


CASES = (
    Case("256 kbit/s, 300 ms", LinkProfile.kbit(256, delay_s=0.3)),
    Case("256 kbit/s, 300 ms, 2 % loss", LinkProfile.kbit(256, delay_s=0.3, loss=0.02)),
    Case("256 kbit/s, 300 ms, 30 % loss", LinkProfile.kbit(256, delay_s=0.3, loss=0.3)),
    Case("256 kbit/s, 300 ms, cut 5 s", LinkProfile.kbit(
        256, delay_s=0.3, events=(Stall(60_000, 5.0),))),
    Case("256 kbit/s, 300 ms, cut 45 s", LinkProfile.kbit(
        256, delay_s=0.3, events=(Stall(60_000, 45.0),))),
    Case("32 kbit/s, 300 ms", LinkProfile.kbit(32, delay_s=0.3)),
    Case("32 kbit/s, 300 ms, 2 % loss", LinkProfile.kbit(32, delay_s=0.3, loss=0.02)),
    # Armed mid-upload of the first batch: its answer, once the server sends it, is cut.
    Case("32 kbit/s, 300 ms, answer cut", LinkProfile.kbit(
        32, delay_s=0.3, events=(CutAnswer(10_000),))),
)


def _run(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """An ``infusync`` command; its output."""
    done = subprocess.run([str(BIN / "infusync"), *args], env=env, input=stdin, text=True,  # noqa: S603 - our own executable
                          capture_output=True, timeout=300, check=True)
    return done.stdout


def _post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    """A JSON POST to the server under test (loopback only)."""
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),  # noqa: S310 - loopback
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


@contextmanager
def _agency(folder: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """A migrated SQLite agency with a coordinator, a nurse, one visit; base URL, env, visit."""
    url = f"sqlite:///{folder / 'network.sqlite3'}"
    env = {**os.environ, "INFUSYNC_DATABASE_URL": url, "INFUSYNC_INSTANCE_PATH": str(folder)}
    _run(env, "db", "upgrade")
    users = {email: _run(env, "users", "create", "--email", email, "--name", role, "--role",
                         role, "--password-stdin", stdin=PASSWORD + "\n"
                         ).split("(")[-1].rstrip(")\n")
             for email, role in (("coord@bench.test", "coordinator"),
                                 ("nurse@bench.test", "nurse"))}
    with serve(url, folder, workers=2) as base:
        token = _post(base, "/api/v1/auth/login",
                      {"email": "coord@bench.test", "password": PASSWORD})["token"]
        patient = _post(base, "/api/v1/patients", {
            "mrn": "NET-1", "first_name": "Pat", "last_name": "Bench", "birth_date": "1970-01-02",
            "locations": [{"kind": "home", "address": "1 Road", "latitude": 40.0,
                           "longitude": -75.0}]}, token)
        start = time.strftime("%Y-%m-%dT%H:00:00+00:00", time.gmtime(time.time() + 3600))
        end = time.strftime("%Y-%m-%dT%H:00:00+00:00", time.gmtime(time.time() + 7200))
        visit = _post(base, "/api/v1/visits", {
            "patient_id": patient["id"], "nurse_id": users["nurse@bench.test"],
            "service_location_id": patient["locations"][0]["id"],
            "scheduled_start": start, "scheduled_end": end}, token)
        yield base, env, str(visit["id"])


def _case(case: Case, base: str, env: dict[str, str], visit: str, folder: Path) -> dict[str, Any]:
    """Enrol a fresh device on a clean link, document 540 readings, sync over ``case``."""
    code = _run(env, "devices", "enrollment-code", "--email", "nurse@bench.test").strip()
    store = Store.create(folder / f"{case.name.replace(' ', '_')}.sqlite3", PIN, scrypt_n=2**10)
    client = SyncClient(store, UrllibTransport(), app_version="1.0.0", retry=RetryPolicy())
    client.enroll(base, code, "bench tablet")
    client.sync()
    for _ in range(MUTATIONS // 5):
        record_vitals(store, visit, READING, client.clock())
    port = int(base.rsplit(":", 1)[1])
    with impaired_link(port, case.profile) as link:
        store.set_meta("server_url", link.url)
        started = time.perf_counter()
        report = client.sync()
        seconds = time.perf_counter() - started
        stats = link.stats
    pending = Outbox(store).pending_count()
    store.close()
    return {"link": case.name, "seconds": round(seconds, 1), "up_bytes": stats.up_bytes,
            "down_bytes": stats.down_bytes, "connections": stats.connections,
            "batches": report.push.batches, "applied": report.push.count("applied"),
            "duplicates": report.push.count("duplicate"), "asked": report.push.asked,
            "pending_after": pending}


def run() -> list[dict[str, Any]]:
    """Every case, in order, on one server."""
    with tempfile.TemporaryDirectory(prefix="infusync-bench-net-") as tmp:
        folder = Path(tmp)
        with _agency(folder) as (base, env, visit):
            return [_case(case, base, env, visit, folder) for case in CASES]


def rows(results: list[dict[str, Any]] | None) -> list[str]:
    """Markdown table lines for the report."""
    if not results:
        return ["", "Bad network: not measured in the quick run (`make bench`)."]
    lines = ["", f"## Bad network: {MUTATIONS} mutations pushed by the reference client", "",
             "| link | s | bytes up | bytes down | connections | batches | applied | "
             "duplicate | left |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['link']} | {r['seconds']} | {r['up_bytes']:,} | {r['down_bytes']:,} | "
              f"{r['connections']} | {r['batches']} | {r['applied']} | {r['duplicates']} | "
              f"{r['pending_after']} |" for r in results]
    return lines
