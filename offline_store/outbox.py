"""The outbox: documentation is durable before anything else happens, and is sent exactly once.

State of a mutation (one row in ``outbox`` until its result arrives):

    add() ──► PENDING (batch_id NULL) ──form_batch()──► IN BATCH (batch_id set)
                  ▲                                         │ response with results
                  └── no result for it / batch refused 413 ─┤
                                                            ▼
                        row deleted from outbox, result row in ``results`` (kept)

A batch is persisted — id, member mutations, exact plaintext — before its first send, and
at most one batch is open. Until the server answers it, every attempt (after a crash, a
new server key) resends that batch id with that plaintext; the server recognises it and
answers with the results it committed the first time. After a lost response the client
first asks for those results by batch id (``offline_store.push``) and resends only when
the server does not know the batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from offline_store import flags, sent
from offline_store.clock import local_rfc3339, utc_rfc3339
from offline_store.errors import ProtocolViolation
from offline_store.store import Store, dumps

BATCH_SCHEMA_VERSION = 1
RESULT_STATUSES = ("applied", "duplicate", "conflict", "rejected")
PROBLEMS = ("conflict", "rejected")
# Everything in a push body besides the sealed text: field names, ids, key id (at most
# 128), signature (86). Generous, so an estimate never undershoots the real body.
_PUSH_BODY_OVERHEAD = 600
_SEAL_OVERHEAD = 48


@dataclass(frozen=True)
class Mutation:
    """One change documented on the device, in its wire shape."""

    id: str
    seq: int
    type: str
    entity_id: str
    visit_id: str | None
    base_version: int | None
    occurred_at: str
    data: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The mutation as it appears in a batch plaintext (field order is fixed)."""
        return {
            "id": self.id, "seq": self.seq, "type": self.type, "entity_id": self.entity_id,
            "visit_id": self.visit_id, "base_version": self.base_version,
            "occurred_at": self.occurred_at, "data": self.data,
        }


@dataclass(frozen=True)
class Batch:
    """A persisted batch: what is sent, byte for byte, until the server answers it."""

    id: str
    plaintext: bytes
    mutation_ids: tuple[str, ...]


@dataclass(frozen=True)
class Result:
    """The server's answer for one mutation, kept for ``status``."""

    id: str
    seq: int
    type: str
    entity_id: str
    status: str
    version: int | None  # of the record entity_id names (1 for a new one)
    review_item_id: str | None
    errors: Any
    answered_at: str
    outcome: str | None = None  # for a duplicate: what became of the original
    # What the server flagged about it, worded for the nurse (kept until acknowledged:
    # ``offline_store.flags``).
    flags: list[dict[str, str]] = field(default_factory=list)
    # The visit's version once the server applied the batch (protocol v1.1): the base of
    # her next edit of that visit. None in results kept before v1.1.
    visit_version: int | None = None

    @property
    def needs_attention(self) -> bool:
        """A conflict or rejection, also when reported again as a duplicate's outcome."""
        return self.status in PROBLEMS or (
            self.status == "duplicate" and self.outcome in PROBLEMS)


def estimated_push_body_bytes(plaintext_bytes: int) -> int:
    """Upper bound of a push body's size for a plaintext of that size (base64url of seal)."""
    return -(-4 * (plaintext_bytes + _SEAL_OVERHEAD) // 3) + _PUSH_BODY_OVERHEAD


class Outbox:
    """The device's queue of mutations, their batches and their results."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, type_: str, entity_id: str, data: dict[str, Any], *, occurred_at: datetime,
            visit_id: str | None = None, base_version: int | None = None) -> Mutation:
        """Persist a new mutation with the next seq; it is durable when this returns."""
        with self.store.transaction() as conn:
            seq = int(self.store.get_value("sync_state", "last_seq") or 0) + 1
            self.store.set_value("sync_state", "last_seq", seq)
            mutation = Mutation(
                id=str(uuid.uuid4()), seq=seq, type=type_, entity_id=entity_id,
                visit_id=visit_id, base_version=base_version,
                occurred_at=local_rfc3339(occurred_at), data=data)
            conn.execute(
                "INSERT INTO outbox (seq, id, batch_id, sealed) VALUES (?, ?, NULL, ?)",
                (seq, mutation.id, self.store.seal("outbox", mutation.id, mutation.to_wire())))
        return mutation

    def pending(self) -> list[Mutation]:
        """Every mutation still waiting for a result, in seq order (batched or not)."""
        rows = self.store.connection.execute("SELECT id, sealed FROM outbox ORDER BY seq")
        return [_mutation(self.store.unseal("outbox", i, sealed)) for i, sealed in rows]

    def pending_count(self) -> int:
        """How many mutations have no result yet."""
        return int(self.store.connection.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def open_batch(self) -> Batch | None:
        """The batch persisted and not yet answered, if any."""
        conn = self.store.connection
        found = conn.execute("SELECT id, sealed FROM batches LIMIT 1").fetchone()
        if found is None:
            return None
        batch_id, sealed = found
        members = conn.execute(
            "SELECT id FROM outbox WHERE batch_id = ? ORDER BY seq", (batch_id,)).fetchall()
        plaintext = self.store.unseal("batches", batch_id, sealed)["plaintext"]
        return Batch(batch_id, plaintext.encode("utf-8"), tuple(row[0] for row in members))

    def next_batch(self, *, max_mutations: int, max_body_bytes: int, app_version: str,
                   now: datetime) -> Batch | None:
        """The open batch if there is one, else a new one formed and persisted, else None."""
        with self.store.transaction():
            existing = self.open_batch()
            if existing is not None:
                return existing
            return self._form_batch(max_mutations, max_body_bytes, app_version, now)

    def _form_batch(self, max_mutations: int, max_body_bytes: int, app_version: str,
                    now: datetime) -> Batch | None:
        """Take pending mutations in seq order while the batch stays under both limits."""
        head = {"schema_version": BATCH_SCHEMA_VERSION, "device_clock": utc_rfc3339(now),
                "app_version": app_version, "mutations": []}
        size = len(dumps(head))
        chosen: list[dict[str, Any]] = []
        for mutation in self.pending()[:max(1, max_mutations)]:
            wire = mutation.to_wire()
            grown = size + len(dumps(wire)) + (1 if chosen else 0)
            if chosen and estimated_push_body_bytes(grown) > max_body_bytes:
                break
            chosen.append(wire)
            size = grown
        if not chosen:
            return None
        plaintext = dumps({**head, "mutations": chosen})
        batch = Batch(str(uuid.uuid4()), plaintext, tuple(m["id"] for m in chosen))
        self._persist(batch)
        return batch

    def _persist(self, batch: Batch) -> None:
        """Write the batch and claim its mutations in one transaction."""
        conn = self.store.connection
        sealed = self.store.seal("batches", batch.id, {"plaintext": batch.plaintext.decode()})
        conn.execute("INSERT INTO batches (id, sealed) VALUES (?, ?)", (batch.id, sealed))
        conn.executemany("UPDATE outbox SET batch_id = ? WHERE id = ?",
                         [(batch.id, mutation_id) for mutation_id in batch.mutation_ids])

    def record_response(self, batch: Batch, results: list[dict[str, Any]],
                        answered_at: datetime) -> list[Result]:
        """Close an answered batch: answered mutations leave, the others become pending."""
        answered = {r.get("id"): r for r in results if isinstance(r, dict)}
        stored: list[Result] = []
        with self.store.transaction() as conn:
            for mutation in self.pending():
                if mutation.id in batch.mutation_ids and mutation.id in answered:
                    stored.append(self._store_result(
                        mutation, answered[mutation.id], utc_rfc3339(answered_at)))
            conn.execute("UPDATE outbox SET batch_id = NULL WHERE batch_id = ?", (batch.id,))
            conn.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
            sent.prune(self.store, answered_at)
        return stored

    def _store_result(self, mutation: Mutation, raw: dict[str, Any], at: str) -> Result:
        """Move one mutation from the outbox to the results table."""
        status = raw.get("status")
        if status not in RESULT_STATUSES:
            raise ProtocolViolation(f"unknown mutation status {status!r}")
        result = Result(
            id=mutation.id, seq=mutation.seq, type=mutation.type, entity_id=mutation.entity_id,
            status=str(status), version=raw.get("version"),
            review_item_id=raw.get("review_item_id"), errors=raw.get("errors"), answered_at=at,
            outcome=raw.get("outcome"), flags=flags.parse_flags(raw.get("flags")),
            visit_version=_version(raw.get("visit_version")))
        conn = self.store.connection
        answered_before = conn.execute(
            "SELECT 1 FROM results WHERE id = ?", (mutation.id,)).fetchone() is not None
        conn.execute("DELETE FROM outbox WHERE id = ?", (mutation.id,))
        if not (answered_before and status == "duplicate"):  # kept once, not per resend
            sent.keep(self.store, mutation.to_wire(), at)
        conn.execute(
            "INSERT INTO results (id, seq, status, sealed) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, sealed = excluded.sealed",
            (result.id, result.seq, result.status,
             self.store.seal("results", result.id, result.__dict__)))
        if not answered_before:  # sent again after a restore: its flags were shown already
            flags.keep(self.store, result.flags, seq=result.seq, type_=result.type,
                       visit_id=mutation.visit_id, answered_at=at)
        self._advance_visit(mutation, result)
        return result

    def _advance_visit(self, mutation: Mutation, result: Result) -> None:
        """The visit as the server holds it after her documentation was applied: her next
        mutation on it is based on that version. A conflict leaves the visit alone: it
        moved away from what she saw, and the next pull says how."""
        applied = result.status == "applied" or (
            result.status == "duplicate" and result.outcome == "applied")
        if applied and mutation.visit_id and result.visit_version is not None:
            self.store.advance_version("visit", mutation.visit_id, result.visit_version)

    def abandon_batch(self, batch: Batch) -> None:
        """Return a batch's mutations to pending; only for a batch the server refused unread."""
        with self.store.transaction() as conn:
            conn.execute("UPDATE outbox SET batch_id = NULL WHERE batch_id = ?", (batch.id,))
            conn.execute("DELETE FROM batches WHERE id = ?", (batch.id,))

    def results(self, statuses: tuple[str, ...] = RESULT_STATUSES) -> list[Result]:
        """Stored results with one of ``statuses``, in seq order."""
        marks = ",".join("?" * len(statuses))
        rows = self.store.connection.execute(
            f"SELECT id, sealed FROM results WHERE status IN ({marks}) ORDER BY seq",  # noqa: S608 - placeholders only
            statuses)
        return [Result(**self.store.unseal("results", i, sealed)) for i, sealed in rows]

    def problems(self) -> list[Result]:
        """Results a person must look at: conflicts and rejections, first-hand or repeated."""
        return [r for r in self.results(("duplicate", *PROBLEMS)) if r.needs_attention]


def _version(value: Any) -> int | None:
    """A version from the server's answer; anything but a positive integer is none."""
    return value if type(value) is int and value > 0 else None


def _mutation(wire: dict[str, Any]) -> Mutation:
    """Rebuild a mutation from its stored wire form."""
    return Mutation(**wire)
