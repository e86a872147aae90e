"""The idempotency ledger and the inbox: every mutation applied once, nothing ever lost.

The ledger row's primary key is the mutation id, so "apply exactly once" rests on the
database's unique constraint, never on check-then-insert. The inbox keeps every distinct
mutation that opened, verbatim and encrypted, whatever became of it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sync import at_rest
from sync.orm import Base, UUIDPrimaryKey, str_enum


class Outcome(StrEnum):
    """What became of a mutation; ``duplicate`` is only ever said, never stored."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class InboxEntry(UUIDPrimaryKey, Base):
    """One mutation as the device sent it (encrypted), and what became of it."""

    __tablename__ = "sync_inbox"

    mutation_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(index=True)
    batch_id: Mapped[uuid.UUID]
    received_at: Mapped[datetime]
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "inbox_outcome"))
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerEntry(Base):
    """The idempotency record of one applied (or refused) mutation id."""

    __tablename__ = "sync_ledger"

    mutation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    device_id: Mapped[uuid.UUID]
    seq: Mapped[int]
    batch_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Not a foreign key: the ledger row is claimed first, the inbox row written at the end
    # of the same transaction.
    inbox_id: Mapped[uuid.UUID]
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome, "ledger_outcome"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_sync_ledger_device_seq"),
    )


def canonical_json(device_id: uuid.UUID | str, mutation: Any) -> str:
    """The mutation in canonical JSON (sorted keys, ASCII), bound to the device that sent it
    (its id, or that id's text: a batch writes it once for all its mutations).

    Being ASCII, the text holds ``\\u0000`` wherever any key or string in ``mutation``
    holds a NUL, so a caller may look for NULs here instead of walking the mutation again.
    """
    device = device_id if type(device_id) is str else str(device_id)
    return json.dumps([device, mutation], sort_keys=True, separators=(",", ":"))


def hash_canonical(canonical: str) -> str:
    """The content hash of a mutation from its ``canonical_json``."""
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(device_id: uuid.UUID | str, mutation: dict[str, Any]) -> str:
    """SHA-256 of the mutation in canonical JSON, bound to the device that sent it."""
    return hash_canonical(canonical_json(device_id, mutation))


def _associated(entry_id: uuid.UUID) -> bytes:
    return b"inbox\x00" + entry_id.bytes


def seal_payload(data_key: bytes, entry_id: uuid.UUID, raw: Any) -> bytes:
    """The mutation exactly as sent, encrypted and bound to its inbox entry's id."""
    # surrogatepass: a lone surrogate (refused as text, kept here as sent) has no UTF-8
    # form; json.loads of bytes reads it back the same way (``read_payload``).
    plaintext = json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass")
    return at_rest.encrypt(data_key, plaintext, _associated(entry_id))


def read_payload(entry: InboxEntry, data_key: bytes) -> Any:
    """The mutation exactly as the device sent it (for review and replay)."""
    return json.loads(at_rest.decrypt(data_key, entry.payload, _associated(entry.id)))
