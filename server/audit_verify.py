"""Walking the audit chain and naming its first broken link.

The walk reads every event in ``seq`` order (streamed, a constant amount of memory) and
checks, for each, in this order: that it is not past the head (an event inserted after
the chain's last link), that its ``seq`` follows the previous one (a gap: events
deleted; a repeat: an event inserted beside another), that its ``prev_hash`` is the
previous event's hash (an event before it replaced or removed), and that its hash is that
of its content (the row edited). At the end the head must be the last event (else the last
events were deleted). An anchor (``SEQ:HASH`` kept outside the database) must still be in
the chain: a chain rewritten and re-hashed from an earlier point verifies on its own, but
no longer holds the anchored hash.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Result, select
from sqlalchemy.orm import Session

from server.audit_chain import FIELDS, GENESIS_HASH, HEAD_ID, event_hash
from server.database import SNAPSHOT_READ
from server.models import AuditChainHead, AuditEvent

BATCH = 2000


@dataclass(frozen=True)
class Anchor:
    """A head seen earlier (``infusync audit head``) and kept outside the database."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``SEQ:HASH`` → an Anchor; ValueError for anything else."""
        seq, _, digest = text.strip().partition(":")
        digest = digest.lower()
        if not (seq.isascii() and seq.isdigit() and int(seq) > 0 and len(digest) == 64
                and all(c in "0123456789abcdef" for c in digest)):
            raise ValueError("an anchor is SEQ:HASH, e.g. 1234:<64 hex digits>")
        return cls(int(seq), digest)


@dataclass(frozen=True)
class Break:
    """The first broken link: where, what kind of damage, and in words."""

    problem: str  # edited | deleted | inserted | head | anchor
    message: str
    seq: int | None = None
    event_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Verified:
    """The outcome of a walk: how many events, the head, and the first break if any."""

    events: int
    head_seq: int
    head_hash: str
    broken: Break | None


def _rows(session: Session) -> Result[Any]:
    """Every event in chain order, streamed (a server-side cursor on PostgreSQL)."""
    columns = [getattr(AuditEvent, name) for name in FIELDS]
    stmt = (select(*columns, AuditEvent.hash).order_by(AuditEvent.seq, AuditEvent.id)
            .execution_options(yield_per=BATCH))
    return session.execute(stmt)


class _Walk:
    """The state of one walk: the link expected next."""

    def __init__(self, head_seq: int, anchor: Anchor | None) -> None:
        self.head_seq, self.anchor = head_seq, anchor
        self.expected, self.prev_hash = 1, GENESIS_HASH

    def check(self, row: Any) -> Break | None:
        """The break ``row`` shows, or None (then it becomes the previous link)."""
        where = f"seq {row.seq} (event {row.id})"
        if row.seq > self.head_seq:
            return Break("inserted", f"{where} is past the chain's head (seq {self.head_seq}): "
                         "inserted outside the chain", row.seq, row.id)
        if row.seq < self.expected:
            return Break("inserted", f"{where} repeats seq {row.seq}: one of the two was "
                         "inserted outside the chain", row.seq, row.id)
        if row.seq > self.expected:
            return Break("deleted", f"seq {self.expected} to {row.seq - 1} are missing before "
                         f"event {row.id}: deleted", self.expected, row.id)
        if row.prev_hash != self.prev_hash:
            return Break("deleted", f"{where} does not follow seq {row.seq - 1}: its prev_hash "
                         "differs (the event before it was replaced, removed or re-hashed)",
                         row.seq, row.id)
        if event_hash(row._mapping) != row.hash:
            return Break("edited", f"{where}: its content does not match its hash (edited)",
                         row.seq, row.id)
        if self.anchor is not None and row.seq == self.anchor.seq \
                and row.hash != self.anchor.hash:
            return Break("anchor", f"{where} does not hold the anchored hash: the chain was "
                         "rewritten up to here", row.seq, row.id)
        self.expected, self.prev_hash = row.seq + 1, row.hash
        return None

    def end(self, head_hash: str) -> Break | None:
        """The checks once every event was read."""
        last = self.expected - 1
        if self.head_seq > last:
            return Break("deleted", f"the head is seq {self.head_seq} but the chain ends at "
                         f"seq {last}: the last events were deleted", last + 1)
        if head_hash != self.prev_hash:
            return Break("head", f"the head's hash is not that of seq {last}", last)
        if self.anchor is not None and self.anchor.seq > last:
            return Break("anchor", f"the anchor's seq {self.anchor.seq} is past the chain's "
                         f"last event (seq {last}): events were deleted", last + 1)
        return None


def _head_row(session: Session) -> tuple[int, str] | None:
    row = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                          .where(AuditChainHead.id == HEAD_ID)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def head(session: Session) -> tuple[int, str]:
    """The head row's (seq, hash): (0, 64 zeros) before the first event."""
    return _head_row(session) or (0, GENESIS_HASH)


def verify(session: Session, anchor: Anchor | None = None) -> Verified:
    """Walk the whole chain and report its first break, if any.

    It reads in one snapshot of its own (``session`` must have no transaction open; it is
    ended after): the head and the events as one commit left them, so an event committed
    meanwhile is neither past the head nor missing. On PostgreSQL that is REPEATABLE READ;
    on SQLite a plain BEGIN, which in WAL mode does not hold writers back.
    """
    dialect = session.get_bind().dialect.name
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"}
                       if dialect == "postgresql" else {SNAPSHOT_READ: True})
    try:
        return _verify(session, anchor)
    finally:
        session.rollback()


def _verify(session: Session, anchor: Anchor | None) -> Verified:
    found = _head_row(session)
    head_seq, head_hash = found or (0, GENESIS_HASH)
    if found is None and session.scalar(select(AuditEvent.id).limit(1)) is not None:
        return Verified(0, 0, GENESIS_HASH, Break(
            "head", "the chain's head row (audit_chain_head) is missing: it was deleted"))
    walk, count = _Walk(head_seq, anchor), 0
    with _rows(session) as rows:
        for row in rows:
            count += 1
            broken = walk.check(row)
            if broken is not None:
                return Verified(count, head_seq, head_hash, broken)
    return Verified(count, head_seq, head_hash, walk.end(head_hash))
