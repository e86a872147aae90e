"""The device store: records sealed (AES-GCM) and written per second, and read back."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from offline_store.store import Store

SCRYPT_N = 2**10  # setup only: the PIN-derived key is not what is measured
PIN = "246810"
RECORDS_PER_TRANSACTION = 200  # one pull page, as the reference client applies it


def _visit(index: int) -> dict[str, Any]:
    """A record shaped like a visit the server sends (about 400 bytes of JSON)."""
    return {"id": str(uuid.uuid4()), "patient_id": str(uuid.uuid4()), "order_id": None,
            "nurse_id": str(uuid.uuid4()), "service_location_id": str(uuid.uuid4()),
            "scheduled_start": f"2026-11-{1 + index % 28:02d}T14:00:00+00:00",
            "scheduled_end": f"2026-11-{1 + index % 28:02d}T15:00:00+00:00",
            "status": "scheduled", "cancel_reason": None, "version": 1,
            "created_at": "2026-11-01T08:00:00+00:00", "updated_at": "2026-11-01T08:00:00+00:00"}


def run(records: int) -> dict[str, Any]:
    """Seal and write ``records`` records, a transaction per page; then read them all."""
    rows = [(str(uuid.uuid4()), _visit(i)) for i in range(records)]
    with tempfile.TemporaryDirectory(prefix="infusync-bench-store-") as folder:
        store = Store.create(Path(folder) / "device.sqlite3", PIN, scrypt_n=SCRYPT_N)
        try:
            start = time.perf_counter()
            for first in range(0, records, RECORDS_PER_TRANSACTION):
                with store.transaction():
                    for record_id, data in rows[first:first + RECORDS_PER_TRANSACTION]:
                        store.put("visit", record_id, data, version=1, synced=True)
            written = time.perf_counter() - start
            start = time.perf_counter()
            read = len(store.all("visit"))
            reading = time.perf_counter() - start
        finally:
            store.close()
    return {"records": records, "records_per_transaction": RECORDS_PER_TRANSACTION,
            "write_s": round(written, 3), "records_per_s": round(records / written, 1),
            "read_records_per_s": round(read / reading, 1)}
