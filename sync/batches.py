"""Pushed batches: the same batch sent again gets the same answer, a different one a 409."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, select
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
