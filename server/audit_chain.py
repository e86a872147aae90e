"""Chaining audit events by hashes, at commit, into one sequence however many writers.

Each event gets ``seq`` (1, 2, 3, … with no gap), ``prev_hash`` (the hash of event
``seq - 1``; 64 zeros for the first) and ``hash``: SHA-256 over the canonical JSON of every
column (``canonical``), ``prev_hash`` included. Editing, deleting or inserting a row
breaks the chain where it happened (``server.audit_verify`` finds it).

One chain needs one writer at a time, but only for an instant. Events are staged on the
session (``stage``), never flushed with the work, and chained in ``before_commit`` after the
work is flushed: the transaction then locks the one row of ``audit_chain_head`` (PostgreSQL:
``SELECT … FOR UPDATE``; SQLite: an UPDATE first, so the lock is the database's write lock
even on a connection that did not begin IMMEDIATE), numbers its events after the head,
inserts them and moves the head (on PostgreSQL in one statement). The lock is the
transaction's last one and is held only through its commit, so it cannot deadlock with row
locks taken by the work, and a writer
waits for another's commit, not for its work. Events added to the session directly
(``session.add(AuditEvent(...))``) are taken off the flush and staged the same way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from server.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
HEAD_ID = 1
# The hashed content, in the order the documentation lists it (JSON keys are sorted anyway).
FIELDS = ("seq", "id", "at", "actor_user_id", "actor_device_id", "action", "entity_type",
          "entity_id", "patient_id", "outcome", "remote_addr", "request_id", "details",
          "prev_hash")
_STAGED = "audit_chain_staged"


def _encode(value: Any) -> Any:
    """A column value as it is hashed: UUIDs lowercase, times UTC with microseconds."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit times are timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: its columns (``FIELDS``) as JSON with sorted
    keys, no whitespace, ASCII only (other characters as \\u escapes), null for None."""
    content = {name: _encode(values[name]) for name in FIELDS}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def event_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``canonical(values)``."""
    return hashlib.sha256(canonical(values)).hexdigest()


def values_of(row: AuditEvent) -> dict[str, Any]:
    """The hashed columns of an event object."""
    return {name: getattr(row, name) for name in FIELDS}


def stage(session: Session, audit_event: AuditEvent) -> None:
    """Hold ``audit_event`` until the session commits, when it is chained and inserted."""
    install()
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement drops it too
    session.info.setdefault(_STAGED, []).append(audit_event)


def _lock_head(session: Session) -> tuple[int, str]:
    """Lock the chain's head row (created on an empty database) and read it."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                        .values(seq=AuditChainHead.seq))
    read = select(AuditChainHead.seq, AuditChainHead.hash).where(
        AuditChainHead.id == HEAD_ID).with_for_update()
    row = session.execute(read).first()
    if row is None:  # a database whose head row was never written (or truncated)
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(AuditChainHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
                        .on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(read).one()
    return int(row.seq), str(row.hash)


def _chain(session: Session, events: list[AuditEvent]) -> None:
    """Number and hash ``events`` after the head, add them, and move the head."""
    seq, prev_hash = _lock_head(session)
    for audit_event in events:
        seq += 1
        audit_event.seq, audit_event.prev_hash = seq, prev_hash
        audit_event.at = audit_event.at or datetime.now(UTC)
        # What the JSON column gives back when read (tuples become lists, …) is what is hashed.
        audit_event.details = json.loads(json.dumps(audit_event.details or {}))
        audit_event.hash = prev_hash = event_hash(values_of(audit_event))
    _write(session, events, seq, prev_hash)


def _write(session: Session, events: list[AuditEvent], seq: int, head_hash: str) -> None:
    """Insert the chained events and move the head to (``seq``, ``head_hash``).

    The head's lock is held from its read to the commit, and every other audited commit of
    the agency waits for it: on PostgreSQL the events' INSERT carries the head's UPDATE as a
    data-modifying WITH, one round trip instead of two while the lock is held (SQLite has no
    such WITH, and there the lock is the database's write lock anyway). Written with Core,
    the events stay plain objects with their numbers set (``seq`` readable after commit
    without another read); the ORM never holds them.
    """
    table = AuditEvent.__table__
    assert isinstance(table, Table)
    rows = [{column.key: getattr(event_, column.key) for column in table.columns}
            for event_ in events]
    move = (update(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
            .values(seq=seq, hash=head_hash))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        moved = move.returning(AuditChainHead.id).cte("moved_head")
        # One event (a push's, most commits') as a plain VALUES: SQLAlchemy caches that
        # statement's compiled form, never a multi-row VALUES list's, and compiling it anew
        # on every commit cost more CPU than the rest of the chain (a few ms per push).
        values = rows[0] if len(rows) == 1 else rows
        connection.execute(insert(table).values(values).add_cte(moved))
    else:
        connection.execute(insert(table), rows)
        connection.execute(move)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Unchained events added to the session wait for the commit; chained rows never change."""
    for obj in list(session.new):
        if isinstance(obj, AuditEvent) and obj.seq is None:
            session.expunge(obj)
            session.info.setdefault(_STAGED, []).append(obj)
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise RuntimeError("audit events are append-only")


def _before_commit(session: Session) -> None:
    """Flush the work, then chain the staged events: the head's lock is taken last."""
    session.flush()
    events: list[AuditEvent] = session.info.pop(_STAGED, [])
    if events:
        _chain(session, events)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """Events of a transaction that did not commit are dropped with it."""
    if transaction.parent is None:
        session.info.pop(_STAGED, None)


def _refuse_inserts(state: ORMExecuteState) -> None:
    """An INSERT statement into audit_events would bypass the chain: say so, clearly."""
    if not state.is_insert:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise RuntimeError("audit events are written only through server.audit.record")


_HOOKS = (("before_flush", _before_flush), ("before_commit", _before_commit),
          ("after_transaction_end", _after_transaction_end),
          ("do_orm_execute", _refuse_inserts))


def install() -> None:
    """Install the hooks once per process (they apply to every SQLAlchemy session)."""
    for name, hook in _HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
