"""The encrypted store: only the PIN opens it, and nothing clinical is readable without it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from offline_store.crypto import unwrap_data_key, wrap_data_key
from offline_store.errors import (
    OfflineStoreError,
    StoreCorrupt,
    StoreExists,
    StoreNotFound,
    WrongPin,
)
from offline_store.identity import load_identity
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.offline_store.conftest import FAST_N, PIN, DeviceClock

PATIENT = {"mrn": "MRN-4471-XQ", "first_name": "Philippa", "last_name": "Quackenbush",
           "allergies": ["penicillin"]}


def test_a_record_round_trips_through_close_and_reopen(store: Store, store_path: Path) -> None:
    store.put("patient", "p1", PATIENT, version=3, synced=True)
    store.close()
    with Store.open(store_path, PIN) as reopened:
        record = reopened.get("patient", "p1")
    assert record is not None
    assert (record.data, record.version, record.synced) == (PATIENT, 3, True)


def test_a_wrong_pin_raises_wrong_pin(store: Store, store_path: Path) -> None:
    store.close()
    with pytest.raises(WrongPin):
        Store.open(store_path, "000000")


def test_unwrapping_with_a_wrong_pin_never_returns_a_key() -> None:
    wrapped = wrap_data_key(b"k" * 32, "246810", n=FAST_N)
    assert unwrap_data_key(wrapped, "246810") == b"k" * 32
    with pytest.raises(WrongPin):
        unwrap_data_key(wrapped, "246811")


def test_scrypt_parameters_are_stored_beside_the_wrapped_key(store: Store) -> None:
    wrapped = store.get_meta("wrapped_key")
    assert wrapped is not None
    assert f'"n":{FAST_N}' in wrapped and '"r":8' in wrapped and '"salt":' in wrapped


def test_the_raw_file_holds_no_clinical_content_or_secret(
        device: object, store: Store, store_path: Path, device_clock: DeviceClock) -> None:
    store.put("patient", "p1", PATIENT, version=1, synced=True)
    store.put("visit", "v1", {"patient_id": "p1", "status": "scheduled"}, version=1)
    Outbox(store).add("vitals.record", "e1", {"code": "8867-4", "value": 131, "note":
                      "Quackenbush tolerated infusion"}, occurred_at=device_clock(), visit_id="v1")
    identity = load_identity(store)
    store.close()
    raw = store_path.read_bytes()
    for needle in ("Quackenbush", "Philippa", "MRN-4471-XQ", "penicillin", "8867-4",
                   identity.token):
        assert needle.encode() not in raw, needle
    assert identity.signing_key.private_bytes_raw() not in raw
    assert identity.device_id.encode() in raw  # meta is plaintext by design


def test_a_ciphertext_swapped_into_another_row_does_not_open(
        store: Store, store_path: Path) -> None:
    store.put("patient", "p1", PATIENT)
    store.put("patient", "p2", {**PATIENT, "last_name": "Other"})
    store.close()
    with sqlite3.connect(store_path) as conn:
        rows = dict(conn.execute("SELECT id, sealed FROM records").fetchall())
        conn.execute("UPDATE records SET sealed = ? WHERE id = 'p1'", (rows["p2"],))
        conn.execute("UPDATE records SET sealed = ? WHERE id = 'p2'", (rows["p1"],))
    conn.close()
    with Store.open(store_path, PIN) as reopened:
        with pytest.raises(StoreCorrupt):
            reopened.get("patient", "p1")
        with pytest.raises(StoreCorrupt):
            reopened.get("patient", "p2")


def test_a_ciphertext_moved_to_another_kind_does_not_open(
        store: Store, store_path: Path) -> None:
    store.put("patient", "x", PATIENT)
    store.close()
    with sqlite3.connect(store_path) as conn:
        conn.execute("UPDATE records SET kind = 'visit' WHERE id = 'x'")
    conn.close()
    with Store.open(store_path, PIN) as reopened, pytest.raises(StoreCorrupt):
        reopened.get("visit", "x")


def test_wipe_deletes_the_file_and_nothing_opens_it_again(
        store: Store, store_path: Path) -> None:
    store.put("patient", "p1", PATIENT)
    store.wipe()
    assert not store_path.exists()
    assert list(store_path.parent.iterdir()) == []
    with pytest.raises(StoreNotFound):
        Store.open(store_path, PIN)
    with pytest.raises(StoreNotFound):
        store.get("patient", "p1")


def test_a_store_is_never_created_over_another(store: Store, store_path: Path) -> None:
    with pytest.raises(StoreExists):
        Store.create(store_path, PIN, scrypt_n=FAST_N)


def test_a_short_pin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OfflineStoreError, match="at least 6"):
        Store.create(tmp_path / "s.sqlite3", "1234", scrypt_n=FAST_N)
    assert not (tmp_path / "s.sqlite3").exists()


def test_opening_a_missing_store_does_not_create_one(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound):
        Store.open(tmp_path / "absent.sqlite3", PIN)
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_failed_transaction_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put("visit", "v1", {"status": "scheduled"})
        raise RuntimeError("crash")
    assert store.get("visit", "v1") is None


def test_all_and_delete(store: Store) -> None:
    store.put("visit", "b", {"n": 2})
    store.put("visit", "a", {"n": 1})
    store.put("patient", "c", {"n": 3})
    assert [r.id for r in store.all("visit")] == ["a", "b"]
    assert store.delete("visit", "a") is True
    assert store.delete("visit", "a") is False
    assert [r.id for r in store.all("visit")] == ["b"]
