"""The restore drill: devices push while ``infusync backup`` copies the live SQLite database;
the backup is restored into a new instance served at the same address; every mutation
acknowledged before the backup began is in it, and the devices resend what it missed —
what they documented offline from their outboxes, what the old server acknowledged after
the backup from what they keep of it (``offline_store.sent``) — ending with nothing lost.

Real processes: gunicorn serving, the ``infusync`` CLI backing up and restoring; the
devices are the reference client (``offline_store``) in threads, over HTTP.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offline_store.client import SyncClient
from offline_store.documentation import add_note, check_in
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.conftest import app_on
from tests.e2e.conftest import BIN, PASSWORD, free_port, serve
from tests.e2e.test_device_sync import _patient, _visit

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"],
                                                       indirect=True)]

PIN = "246813"
PASSPHRASE = "the drill's long passphrase"
NURSES = ("anna", "bea", "cleo")


class Device:
    """One nurse's device: documents a note and syncs, round after round, in its thread."""

    def __init__(self, path: Path, visit_id: str) -> None:
        self.path, self.visit_id = path, visit_id
        self.created: list[str] = []
        self.acked: dict[str, float] = {}  # mutation id → when its result arrived

    def enroll(self, base: str, code: str) -> None:
        store = Store.create(self.path, PIN, scrypt_n=2**10)
        with store:
            client = SyncClient(store)
            client.enroll(base, code, self.path.stem)
            client.sync()
            self.created.append(check_in(store, self.visit_id, datetime.now(UTC)).id)
            self._sync(client)

    def _sync(self, client: SyncClient) -> None:
        for result in client.sync().push.results:
            self.acked.setdefault(result.id, time.monotonic())

    def acked_since(self, moment: float) -> set[str]:
        """The mutations acknowledged after ``moment`` (safe while the thread works: the
        copy of the dict is one step for the interpreter)."""
        return {m for m, at in dict(self.acked).items() if at > moment}

    def note(self, store: Store, text: str) -> None:
        self.created.append(add_note(store, self.visit_id, "assessment", text,
                                     datetime.now(UTC)).id)

    def work(self, stop: threading.Event) -> None:
        with Store.open(self.path, PIN) as store:
            client, round_ = SyncClient(store), 0
            while not stop.is_set():
                round_ += 1
                self.note(store, f"round {round_}")
                self._sync(client)

    def offline_then(self, text: str) -> None:
        with Store.open(self.path, PIN) as store:
            self.note(store, text)

    def resync(self) -> int:
        """Sync against the restored server; what is left in the outbox."""
        with Store.open(self.path, PIN) as store:
            client = SyncClient(store)
            self._sync(client)
            self._sync(client)
            return Outbox(store).pending_count()


def ledger(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT mutation_id FROM sync_ledger").fetchall()
    return {str(uuid.UUID(str(row[0]))) for row in rows}


def _add_staff(url: str, folder: Path) -> dict[str, str]:
    """The coordinator and the nurses, by ``infusync users create`` run in this process
    before the server starts (the drill is about backing up and restoring: a process per
    account would start Python and the app again, ~2.7 s of CPU each); their ids by name."""
    ids = {}
    with app_on(url, folder, lambda: datetime.now(UTC)) as app:
        for name, role in (("coord", "coordinator"), *((nurse, "nurse") for nurse in NURSES)):
            result = app.test_cli_runner().invoke(args=[
                "users", "create", "--email", f"{name}@e2e.test", "--name", name,
                "--role", role, "--password-stdin"], input=PASSWORD + "\n")
            assert result.exit_code == 0, result.output
            ids[name] = result.output.split("(")[-1].rstrip(")\n")
    return ids


def _setup(server, staff: dict[str, str], tmp_path: Path) -> list[Device]:
    coordinator = server.login("coord@e2e.test")
    devices = []
    for n, name in enumerate(NURSES):
        patient = _patient(server, coordinator, f"MRN-D{n}", name.title(), "Drill")
        visit = _visit(server, coordinator, patient, staff[name], hours_ahead=0)
        status, code = server.request("POST", f"/api/v1/users/{staff[name]}/enrollment-codes",
                                      token=coordinator)
        assert status == 201, code
        device = Device(tmp_path / f"{name}.sqlite3", visit["id"])
        device.enroll(server.base, code["code"])
        devices.append(device)
    return devices


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` (the devices' threads make it true) for up to a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within a minute"
        time.sleep(0.05)


def _push_while_backing_up(server, devices: list[Device], backup: Path) -> tuple[float, float]:
    """Devices push throughout; the backup runs in the middle. (began, ended) monotonic.

    It begins once every device has had a round acknowledged by the working server, and
    the devices stop once the old server has acknowledged a mutation the backup lacks."""
    stop = threading.Event()
    threads = [threading.Thread(target=device.work, args=(stop,)) for device in devices]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: all(d.acked_since(started) for d in devices),
                  "round acknowledged on every device")
        began = time.monotonic()
        result = server.cli("backup", "--to", str(backup))
        ended = time.monotonic()
        assert result.returncode == 0, result.stderr
        saved = ledger(backup)
        _wait_for(lambda: any(d.acked_since(began) - saved for d in devices),
                  "acknowledgement the backup lacks")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return began, ended


def test_restore_drill_loses_nothing(database_url, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    url = database_url
    port = free_port()
    backup = tmp_path / "vault" / "drill.sqlite3"
    staff = _add_staff(url, tmp_path / "setup")
    with serve(url, old, port=port, INFUSYNC_BACKUP_PASSPHRASE=PASSPHRASE) as server:
        devices = _setup(server, staff, tmp_path)
        began, _ended = _push_while_backing_up(server, devices, backup)
        for device in devices:  # documented after the last contact with the old server
            device.offline_then("written offline")

    saved = ledger(backup)
    acked_before = {m for d in devices for m, at in d.acked.items() if at < began}
    acked_after = {m for d in devices for m, at in d.acked.items() if at > began}
    assert acked_before and acked_before <= saved
    assert acked_after - saved, "the drill must have acknowledgements the backup lacks"

    restored = subprocess.run(
        [str(BIN / "infusync"), "restore", "--from", str(backup), "--keys", f"{backup}.keys"],
        env={"PATH": str(BIN), "INFUSYNC_INSTANCE_PATH": str(new),
             "INFUSYNC_BACKUP_PASSPHRASE": PASSPHRASE},
        capture_output=True, text=True, timeout=120, check=False)
    assert restored.returncode == 0, restored.stderr
    new_db = new / "infusync.sqlite3"
    with serve(f"sqlite:///{new_db}", new, port=port):
        left = [device.resync() for device in devices]

    everything = {m for device in devices for m in device.created}
    assert left == [0, 0, 0]
    assert everything - ledger(new_db) == set(), "mutations lost in the restore"
