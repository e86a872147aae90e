"""Pushed batches: the same batch sent again gets the same answer, a different one a 409.

A batch's row keeps the response it was given for as long as the row lives (rows are never
pruned), so a device whose answer was lost can ask for it by batch id (``answer_of``)
instead of sending the batch again (protocol v1.1, docs/protocol.md "The outcome of a push").
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync.orm import Base


class BatchReplayed(Exception):
    """This batch id was seen before with the same plaintext: answer as before."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("batch already applied")
        self.response = response


class BatchIdReused(Exception):
    """This batch id was seen before with a different plaintext."""


class BatchInProgress(Exception):
    """A push of this batch is being applied now: its answer is not committed yet."""


class SyncBatch(Base):
    """One pushed batch, keyed by device and batch id, with the response it was given."""

    __tablename__ = "sync_batches"

    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    plaintext_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]
    device_clock: Mapped[str | None] = mapped_column(String(40))
    clock_skew_s: Mapped[float | None]
    clock_flagged: Mapped[bool] = mapped_column(default=False)
    mutation_count: Mapped[int] = mapped_column(default=0)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)


_TABLE: Table = SyncBatch.__table__  # type: ignore[assignment]


def plaintext_hash(plaintext: bytes) -> str:
    """What identifies a batch's content (re-sealing the same plaintext is the same batch)."""
    return hashlib.sha256(plaintext).hexdigest()


def claim(session: Session, batch: SyncBatch) -> None:
    """Insert ``batch`` or raise ``BatchReplayed`` / ``BatchIdReused``.

    One ``INSERT ... ON CONFLICT DO NOTHING`` on the primary key (no savepoint, no ORM
    flush): ``batch`` stays out of the session, and ``store_response`` writes its answer.
    On PostgreSQL a concurrent push of the same batch waits on the primary key until the
    first commits, inserts nothing, and lands here with the first push's response.
    """
    table = _TABLE
    _hold_batch_lock(session, batch.device_id, batch.batch_id)
    values = {column.key: getattr(batch, column.key) for column in table.columns}
    for key in ("clock_flagged", "mutation_count"):  # the columns' defaults, as a flush sets
        if values[key] is None:
            values[key] = table.columns[key].default.arg  # type: ignore[union-attr]
            setattr(batch, key, values[key])
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg reports -1 for it here.
    if session.execute(insert(table).values(values).on_conflict_do_nothing().returning(
            table.c.batch_id)).first() is not None:
        return
    stored = session.execute(select(SyncBatch.plaintext_hash, SyncBatch.response).where(
        SyncBatch.device_id == batch.device_id, SyncBatch.batch_id == batch.batch_id)).one()
    if stored.plaintext_hash != batch.plaintext_hash or stored.response is None:
        raise BatchIdReused(str(batch.batch_id))
    raise BatchReplayed(stored.response)


def store_response(session: Session, batch: SyncBatch, response: dict[str, Any]) -> None:
    """Keep the answer a claimed batch was given, for its retries."""
    batch.response = response
    session.execute(_TABLE.update().where(
        SyncBatch.device_id == batch.device_id, SyncBatch.batch_id == batch.batch_id).values(
        response=response))


# The first key of every batch's advisory lock: "infusync batch", so that no other lock of
# the two-key form (the scheduler's lease uses the one-key form) can meet these.
_LOCK_CLASS = struct.unpack(">i", hashlib.sha256(b"infusync batch").digest()[:4])[0]


def _lock_keys(device_id: uuid.UUID, batch_id: uuid.UUID) -> dict[str, int]:
    """The advisory lock's two 32-bit keys; a collision only makes an ask wait a retry."""
    digest = hashlib.sha256(device_id.bytes + batch_id.bytes).digest()
    return {"kind": _LOCK_CLASS, "batch": struct.unpack(">i", digest[:4])[0]}


def _hold_batch_lock(session: Session, device_id: uuid.UUID, batch_id: uuid.UUID) -> None:
    """PostgreSQL: mark the batch as being applied until this transaction ends.

    The claimed row is invisible to others until the batch commits; this lock is what
    ``answer_of`` sees meanwhile. SQLite needs none: a push holds the database's one write
    lock while it applies, and an ask waits for it, then reads the committed answer.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, :batch)"),
                        _lock_keys(device_id, batch_id))


def answer_of(session: Session, device_id: uuid.UUID,
              batch_id: uuid.UUID) -> dict[str, Any] | None:
    """The response this device's batch was given; None when it never arrived here.

    Raises ``BatchInProgress`` while a push of it is being applied (PostgreSQL). The lock
    is tried before the row is read: a push that commits in between is then seen.
    """
    if session.get_bind().dialect.name == "postgresql" and not session.execute(
            text("SELECT pg_try_advisory_xact_lock_shared(:kind, :batch)"),
            _lock_keys(device_id, batch_id)).scalar_one():
        raise BatchInProgress(str(batch_id))
    return session.execute(select(SyncBatch.response).where(
        SyncBatch.device_id == device_id, SyncBatch.batch_id == batch_id)).scalar_one_or_none()
