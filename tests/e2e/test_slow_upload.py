"""``infusync serve``'s workers: a slow upload finishes, and it holds no other device back.

One worker process, a worker timeout of 4 s (the old sync workers killed any request
running longer: "WORKER TIMEOUT"), and a push trickled over about ten seconds through a
slow link. Meanwhile a second nurse's device pulls three times over a plain link: her
answers come while the slow push is still going, and the slow push is applied whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_store.client import SyncClient
from offline_store.documentation import Vitals, record_vitals
from offline_store.outbox import Outbox
from offline_store.store import Store
from offline_store.transport import UrllibTransport
from tests.e2e.conftest import Server, serve
from tests.e2e.test_device_sync import FAST_SCRYPT_N, _cli_code, _patient, _visit
from tests.impaired_link import LinkProfile, impaired_link

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

PIN = "246813"
OLD_TIMEOUT = 4  # seconds; the upload below takes more than twice as long
# 60 readings travel zlib-compressed in about 5.4 KB: at 500 B/s that is over 10 s.
SLOW = LinkProfile(up_bytes_per_s=500.0)
READINGS = 60


@pytest.fixture
def one_worker(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """``infusync serve`` as shipped, but one worker process and a short worker timeout."""
    with serve(database_url, tmp_path, "--workers", "1", "--timeout", str(OLD_TIMEOUT)) as server:
        yield server


def _device(server: Server, base: str, email: str, folder: Path) -> SyncClient:
    """An enrolled device of that nurse (through ``base``), schedule pulled."""
    store = Store.create(folder / f"{email}.sqlite3", PIN, scrypt_n=int(FAST_SCRYPT_N))
    client = SyncClient(store, UrllibTransport(timeout=30.0), app_version="1.0.0")
    client.enroll(base, _cli_code(server, email), email)
    client.sync()
    return client


def test_a_slow_upload_completes_while_another_device_is_served(
        one_worker: Server, tmp_path: Path) -> None:
    one_worker.create_user("coord@e2e.test", "coordinator")
    nurses = [one_worker.create_user(f"{n}@e2e.test", "nurse") for n in ("slow", "quick")]
    coordinator = one_worker.login("coord@e2e.test")
    patient = _patient(one_worker, coordinator, "SLOW-1", "Pat", "Trickle")
    visit = _visit(one_worker, coordinator, patient, nurses[0], 1)
    _visit(one_worker, coordinator, patient, nurses[1], 2)
    port = int(one_worker.base.rsplit(":", 1)[1])

    with impaired_link(port, SLOW) as link:
        slow = _device(one_worker, link.url, "slow@e2e.test", tmp_path)
        for _ in range(READINGS // 5):
            record_vitals(slow.store, visit["id"], Vitals(
                heart_rate=72, blood_pressure=(120, 80), temperature_c=37.1, spo2=98,
                respiratory_rate=16), slow.clock())
        finished: list[str] = []
        errors: list[BaseException] = []
        ready = threading.Event()
        before = link.stats.up_bytes

        def quick_nurse() -> None:
            """Her own device (SQLite stores stay in their thread), pulling during the push."""
            try:
                quick = _device(one_worker, one_worker.base, "quick@e2e.test", tmp_path)
                ready.set()
                for _ in range(600):  # until the slow body is under way (at most a minute)
                    if link.stats.up_bytes - before >= 1500 or finished:
                        break
                    time.sleep(0.1)
                for n in range(3):
                    quick.pull()
                    finished.append(f"quick pull {n}")
                quick.store.close()
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
                ready.set()

        other = threading.Thread(target=quick_nurse)
        other.start()
        ready.wait(timeout=60)
        report = slow.push()
        finished.append(f"slow push: {report.count('applied')} applied")
        other.join(timeout=120)

    assert not errors, errors
    assert finished == ["quick pull 0", "quick pull 1", "quick pull 2",
                        f"slow push: {READINGS} applied"]
    assert link.stats.up_bytes - before > SLOW.up_bytes_per_s * 2 * OLD_TIMEOUT
    assert Outbox(slow.store).pending_count() == 0
    slow.store.close()
