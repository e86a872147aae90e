"""Pushed batches: the same batch sent again gets the same answer, a different one a 409."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.exc import IntegrityError
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


def plaintext_hash(plaintext: bytes) -> str:
    """What identifies a batch's content (re-sealing the same plaintext is the same batch)."""
    return hashlib.sha256(plaintext).hexdigest()


def claim(session: Session, batch: SyncBatch) -> None:
    """Insert ``batch`` or raise ``BatchReplayed`` / ``BatchIdReused``.

    On PostgreSQL a concurrent push of the same batch waits on the primary key until the
    first commits, then lands here and gets the first push's response.
    """
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:
        stored = session.scalars(select(SyncBatch).where(
            SyncBatch.device_id == batch.device_id, SyncBatch.batch_id == batch.batch_id)
        ).one()
        if stored.plaintext_hash != batch.plaintext_hash or stored.response is None:
            raise BatchIdReused(str(batch.batch_id)) from None
        raise BatchReplayed(stored.response) from None
