"""Writing a batch's ledger rows (with their outcomes) and inbox rows, in one statement each.

On PostgreSQL the rows go as one JSON array (``json_to_recordset`` keeps their order, so
the first row with an id or seq lands, as in an executemany): an executemany of 200 rows
cost 200 statements on the server and as many in the driver's pipeline, and arrays of text
cost the driver a regex per element. JSON columns travel nested in the array: a ``json``
field keeps the text it is given, the text ``json.dumps`` makes of the value, as SQLAlchemy's
JSON type sends it (dumping each value to a string first, then escaping that string in the
array, cost a fifth of building the rows); payloads as base64. On SQLite the rows go
straight to the driver's executemany (``sync.bulk.sqlite_insert``).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sync.batches import SyncBatch
from sync.bulk import is_postgresql, sqlite_insert
from sync.claims import Claims, LedgerRace, race_state
from sync.ledger import InboxEntry, LedgerEntry, Outcome
from sync.orm import UTCDateTime

_LEDGER: Table = LedgerEntry.__table__  # type: ignore[assignment]
_INBOX: Table = InboxEntry.__table__  # type: ignore[assignment]

_PG_LEDGER = text("""
INSERT INTO sync_ledger (mutation_id, device_id, seq, batch_id, type, content_hash, inbox_id,
                         outcome, result, received_at)
SELECT u.id, :device_id, u.seq, :batch_id, u.type, u.hash, u.inbox_id, u.outcome,
       u.result, :received_at
FROM json_to_recordset(CAST(:rows AS json))
     AS u(id uuid, seq integer, type varchar, hash varchar, inbox_id uuid, outcome varchar,
          result json)""").bindparams(bindparam("received_at", type_=UTCDateTime()))
_PG_INBOX = text("""
INSERT INTO sync_inbox (id, mutation_id, device_id, batch_id, received_at, outcome, reasons,
                        payload)
SELECT u.id, u.mutation_id, :device_id, :batch_id, :received_at, u.outcome,
       u.reasons, decode(u.payload, 'base64')
FROM json_to_recordset(CAST(:rows AS json))
     AS u(id uuid, mutation_id uuid, outcome varchar, reasons json, payload text)
""").bindparams(bindparam("received_at", type_=UTCDateTime()))


@dataclass(frozen=True, slots=True)
class Settled:
    """What became of a claimed mutation, as the ledger keeps it."""

    outcome: Outcome | None
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One mutation as sent (sealed), and what became of it."""

    id: uuid.UUID
    mutation_id: uuid.UUID | None
    outcome: Outcome | None
    reasons: dict[str, Any]
    payload: bytes


def _shared(batch: SyncBatch) -> dict[str, Any]:
    return {"device_id": batch.device_id, "batch_id": batch.batch_id,
            "received_at": batch.received_at}


def _text(outcome: Outcome | None) -> str | None:
    return None if outcome is None else outcome.value


def write_ledger(session: Session, batch: SyncBatch, claims: Claims,
                 settled: Mapping[uuid.UUID, Settled]) -> None:
    """Insert the claimed rows with their outcomes; ``LedgerRace`` when a concurrent push
    took one of the keys since ``claim`` read the ledger (PostgreSQL)."""
    if not claims.claimed:
        return
    if not is_postgresql(session):
        sqlite_insert(session, _LEDGER, _shared(batch),
                      ("mutation_id", "seq", "type", "content_hash", "inbox_id", "outcome",
                       "result"),
                      [(key, c.seq, c.type, c.content_hash, c.inbox_id, settled[key].outcome,
                        settled[key].result) for key, c in claims.claimed.items()])
        return
    # In mutation id order, so that two pushes with overlapping ids wait on each other
    # rather than deadlock (ids are unique: the sort never compares the rest).
    rows = json.dumps([
        {"id": text_id, "seq": c.seq, "type": c.type, "hash": c.content_hash,
         "inbox_id": str(c.inbox_id), "outcome": _text(settled[key].outcome),
         "result": settled[key].result}
        for text_id, key, c in sorted((str(k), k, c) for k, c in claims.claimed.items())])
    try:
        session.execute(_PG_LEDGER, {"rows": rows, **_shared(batch)})
    except DBAPIError as exc:
        if race_state(exc):
            raise LedgerRace(str(batch.batch_id)) from exc
        raise


def write_inbox(session: Session, batch: SyncBatch, rows: Sequence[InboxRow]) -> None:
    """Keep every mutation of the batch in the encrypted inbox."""
    if not rows:
        return
    if not is_postgresql(session):
        sqlite_insert(session, _INBOX, _shared(batch),
                      ("id", "mutation_id", "outcome", "reasons", "payload"),
                      [(r.id, r.mutation_id, r.outcome, r.reasons, r.payload) for r in rows])
        return
    session.execute(_PG_INBOX, {"rows": json.dumps([
        {"id": str(r.id), "mutation_id": None if r.mutation_id is None else str(r.mutation_id),
         "outcome": _text(r.outcome), "reasons": r.reasons,
         "payload": base64.b64encode(r.payload).decode()} for r in rows]), **_shared(batch)})
