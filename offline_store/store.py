"""The encrypted local store: one SQLite file whose clinical content opens only with the PIN.

Layout (schema version 1). Only ``meta`` is plaintext; every ``sealed`` column is
``nonce(12) || AES-256-GCM(data key, JSON, AD = table + 0x00 + row id)``, so a ciphertext
copied into another row or table does not open:

- ``meta(name, value)`` — schema version, the PIN-wrapped data key with its scrypt
  parameters, device id, server URL, server key ids. No secret and no clinical content.
- ``records(kind, id, synced, snapshot_seen, sealed)`` — visits, patients, orders… The AD
  table is ``records/<kind>``. ``synced`` marks rows the server sent (a snapshot may purge
  them); ``snapshot_seen`` marks rows received during the snapshot in progress.
- ``secrets(name, sealed)`` — device token, device Ed25519 key, server keys, policy.
- ``sync_state(name, sealed)`` — pull cursor, last sync time, last mutation seq.
- ``outbox(seq, id, batch_id, sealed)``, ``batches(id, sealed)``, ``results(id, seq,
  status, sealed)`` — see ``offline_store.outbox``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline_store.crypto import (
    DEFAULT_SCRYPT_N,
    WrappedKey,
    new_data_key,
    open_record,
    seal_record,
    unwrap_data_key,
    wrap_data_key,
)
from offline_store.errors import OfflineStoreError, StoreCorrupt, StoreExists, StoreNotFound

SCHEMA_VERSION = 1
MIN_PIN_LENGTH = 6
_KIND = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_KV_TABLES = ("secrets", "sync_state")
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    kind TEXT NOT NULL, id TEXT NOT NULL, synced INTEGER NOT NULL,
    snapshot_seen INTEGER NOT NULL DEFAULT 0, sealed BLOB NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE secrets (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE sync_state (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE batches (id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    batch_id TEXT REFERENCES batches (id), sealed BLOB NOT NULL);
CREATE TABLE results (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, status TEXT NOT NULL, sealed BLOB NOT NULL);
"""
_WIPED = "wiped"


@dataclass(frozen=True)
class Record:
    """One local record as the rest of the app sees it, decrypted."""

    kind: str
    id: str
    data: dict[str, Any]
    version: int | None
    synced: bool


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, the one encoding of every sealed value and of batch plaintexts."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """Open SQLite without its implicit transactions; ``mode=rw`` never creates a file."""
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    # Freed pages are zeroed, so deleted ciphertext and old wrapped keys do not linger.
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Store:
    """An open, unlocked store: the data key is in memory until ``close`` or ``wipe``."""

    def __init__(self, path: Path, conn: sqlite3.Connection, data_key: bytes) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = conn
        self._key = data_key
        self._depth = 0

    @classmethod
    def create(cls, path: str | Path, pin: str, scrypt_n: int = DEFAULT_SCRYPT_N) -> Store:
        """Create a new store at ``path`` protected by ``pin``; refuse to overwrite one."""
        path = Path(path)
        if len(pin) < MIN_PIN_LENGTH:
            raise OfflineStoreError(f"the PIN must have at least {MIN_PIN_LENGTH} characters")
        if path.exists():
            raise StoreExists(f"a store already exists at {path}")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        data_key = new_data_key()
        conn = _connect(path, "rw")
        store = cls(path, conn, data_key)
        with store.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            store.set_meta("schema_version", str(SCHEMA_VERSION))
            store.set_meta("wrapped_key", wrap_data_key(data_key, pin, scrypt_n).to_json())
        return store

    @classmethod
    def open(cls, path: str | Path, pin: str) -> Store:
        """Unlock an existing store; a wrong PIN raises ``WrongPin`` and reads nothing else."""
        path = Path(path)
        if not path.is_file():
            raise StoreNotFound(f"no store at {path}")
        conn = _connect(path, "rw")
        try:
            _check_schema_version(conn)
            data_key = unwrap_data_key(_wrapped_key(conn), pin)
        except BaseException:
            conn.close()
            raise
        return cls(path, conn, data_key)

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for the modules that own the other tables."""
        if self._conn is None:
            raise StoreNotFound("the store is closed or wiped")
        return self._conn

    def close(self) -> None:
        """Close the file and forget the data key."""
        if self._conn is not None:
            self._conn.close()
        self._conn, self._key = None, b""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All-or-nothing unit of work; nested calls join the outer transaction."""
        conn = self.connection
        if self._depth:
            self._depth += 1
            try:
                yield conn
            finally:
                self._depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._depth = 0

    def seal(self, table: str, row_id: str, value: Any) -> bytes:
        """Seal a JSON value for one row of one table."""
        return seal_record(self._key, table, row_id, dumps(value))

    def unseal(self, table: str, row_id: str, sealed: bytes) -> Any:
        """Open a value sealed by ``seal`` for the same table and row."""
        return json.loads(open_record(self._key, table, row_id, sealed))

    def get_meta(self, name: str) -> str | None:
        """A plaintext meta value (never secret, never clinical)."""
        row = self.connection.execute("SELECT value FROM meta WHERE name = ?", (name,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def set_meta(self, name: str, value: str) -> None:
        """Set a plaintext meta value."""
        self.connection.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value))

    def get_value(self, table: str, name: str) -> Any:
        """A sealed value from ``secrets`` or ``sync_state``, or None."""
        _check_kv(table)
        found = self.connection.execute(
            f"SELECT sealed FROM {table} WHERE name = ?", (name,)).fetchone()  # noqa: S608 - table from a fixed list
        return None if found is None else self.unseal(table, name, found[0])

    def set_value(self, table: str, name: str, value: Any) -> None:
        """Seal and store a value in ``secrets`` or ``sync_state``; None deletes it."""
        _check_kv(table)
        if value is None:
            self.connection.execute(f"DELETE FROM {table} WHERE name = ?", (name,))  # noqa: S608
            return
        self.connection.execute(
            f"INSERT INTO {table} (name, sealed) VALUES (?, ?) "  # noqa: S608
            "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed",
            (name, self.seal(table, name, value)))

    def put(self, kind: str, record_id: str, data: dict[str, Any], *,
            version: int | None = None, synced: bool = False) -> None:
        """Seal and store a record, replacing any record of that kind and id."""
        table = _records_table(kind)
        sealed = self.seal(table, record_id, {"data": data, "version": version})
        self.connection.execute(
            "INSERT INTO records (kind, id, synced, snapshot_seen, sealed) VALUES (?, ?, ?, 1, ?)"
            " ON CONFLICT (kind, id) DO UPDATE SET synced = excluded.synced,"
            " snapshot_seen = 1, sealed = excluded.sealed",
            (kind, record_id, int(synced), sealed))

    def advance_version(self, kind: str, record_id: str, version: int) -> bool:
        """Raise a held record's version to ``version`` (never lower it), leaving its data
        and its sync marks as they are; True when it changed."""
        record = self.get(kind, record_id)
        if record is None or (record.version is not None and record.version >= version):
            return False
        table = _records_table(kind)
        self.connection.execute(
            "UPDATE records SET sealed = ? WHERE kind = ? AND id = ?",
            (self.seal(table, record_id, {"data": record.data, "version": version}), kind,
             record_id))
        return True

    def get(self, kind: str, record_id: str) -> Record | None:
        """The record of that kind and id, decrypted, or None."""
        found = self.connection.execute(
            "SELECT synced, sealed FROM records WHERE kind = ? AND id = ?",
            (kind, record_id)).fetchone()
        return None if found is None else self._record(kind, record_id, *found)

    def all(self, kind: str) -> list[Record]:
        """Every record of a kind, decrypted, in id order."""
        rows = self.connection.execute(
            "SELECT id, synced, sealed FROM records WHERE kind = ? ORDER BY id", (kind,))
        return [self._record(kind, *row) for row in rows.fetchall()]

    def delete(self, kind: str, record_id: str) -> bool:
        """Delete one record; True when there was one."""
        cursor = self.connection.execute(
            "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id))
        return cursor.rowcount > 0

    def begin_snapshot(self) -> None:
        """Forget which synced records were seen: a new snapshot is about to list them all."""
        self.connection.execute("UPDATE records SET snapshot_seen = 0 WHERE synced = 1")

    def end_snapshot(self) -> int:
        """Purge synced records the finished snapshot did not contain; return how many."""
        cursor = self.connection.execute(
            "DELETE FROM records WHERE synced = 1 AND snapshot_seen = 0")
        return cursor.rowcount

    def wipe(self) -> None:
        """Destroy the wrapped data key and every row, then delete the file."""
        conn = self.connection
        if self._depth:
            raise RuntimeError("wipe() cannot run inside a transaction")
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE meta SET value = ? WHERE name = 'wrapped_key'", (_WIPED,))
            for table in ("outbox", "batches", "results", "records", "secrets", "sync_state"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
            conn.execute("COMMIT")
        finally:
            self.close()
            _destroy_file(self.path)

    def _record(self, kind: str, record_id: str, synced: int, sealed: bytes) -> Record:
        """Decrypt one row of ``records``."""
        value = self.unseal(_records_table(kind), record_id, sealed)
        return Record(kind, record_id, value["data"], value["version"], bool(synced))


def _records_table(kind: str) -> str:
    """The AD table name of a kind; kinds are short lowercase identifiers."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"invalid record kind {kind!r}")
    return f"records/{kind}"


def _check_kv(table: str) -> None:
    """Only the two sealed key/value tables may be named by callers."""
    if table not in _KV_TABLES:
        raise ValueError(f"not a key/value table: {table!r}")


def _check_schema_version(conn: sqlite3.Connection) -> None:
    """Refuse a file that is not a store, or a store written by a newer client."""
    try:
        found = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupt("the file is not an infusync device store") from exc
    if found is None or found[0] != str(SCHEMA_VERSION):
        raise StoreCorrupt(f"unsupported store schema version {found and found[0]!r}")


def _wrapped_key(conn: sqlite3.Connection) -> WrappedKey:
    """Read the wrapped data key from meta; a wiped or foreign file is refused."""
    found = conn.execute("SELECT value FROM meta WHERE name = 'wrapped_key'").fetchone()
    if found is None or found[0] == _WIPED:
        raise StoreNotFound("the store has been wiped")
    return WrappedKey.from_json(found[0])


def _destroy_file(path: Path) -> None:
    """Overwrite the file with zeros (best effort on flash) and delete it and its journal."""
    for candidate in (path, Path(f"{path}-journal"), Path(f"{path}-wal")):
        if not candidate.exists():
            continue
        with candidate.open("r+b") as handle:
            handle.write(b"\x00" * candidate.stat().st_size)
            handle.flush()
            os.fsync(handle.fileno())
        candidate.unlink()
