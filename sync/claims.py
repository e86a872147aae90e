"""The ledger's protocol for one batch: claim every mutation id at once, answer the rest.

The ledger is read once for the batch's ids and seqs; what an ``INSERT ... ON CONFLICT DO
NOTHING`` of every row would have claimed is decided from that read, in batch order, and
the claimed rows are inserted once, outcomes included, when the batch is applied
(``sync.ledger_writes``): no second statement per row.

The unique constraints stay the last word. On SQLite the push's write transaction holds
the database's only write lock (it began IMMEDIATE), so no other writer can take a key
between the read and the insert. On PostgreSQL a concurrent push can: the insert then waits
for it and fails on the unique key (or on a deadlock), ``LedgerRace`` is raised, the whole
transaction rolls back (nothing the batch applied stays) and the push runs again, finding
those ids taken. So nothing is ever applied twice, and the loser answers ``duplicate`` with
the original outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from schemas.result_shapes import upgraded
from sync.bulk import in_ids
from sync.ledger import LedgerEntry, Outcome

ID_REUSED = "This mutation id was already used for different content."
SEQ_REUSED = "This seq was already used by another mutation of this device."
# What a duplicate repeats of the original answer, beside its outcome (and its flags).
KEPT = ("version", "visit_version", "review_item_id", "errors")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A valid mutation of the batch, as the ledger sees it (``index``: its place in the
    batch)."""

    index: int
    mutation_id: uuid.UUID
    seq: int
    type: str
    content_hash: str
    inbox_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Replay:
    """A mutation the ledger already holds with the same content: a ``duplicate``."""

    outcome: Outcome | None
    # What the original answer said that the device may need again.
    result: dict[str, Any]


@dataclass(frozen=True)
class Claims:
    """What the ledger answered for one batch: the ids it claimed, each with the candidate
    that claimed it first, and what already held the others."""

    claimed: dict[uuid.UUID, Candidate]
    by_id: dict[uuid.UUID, LedgerEntry] = field(default_factory=dict)
    by_seq: dict[int, LedgerEntry | Candidate] = field(default_factory=dict)

    def replay(self, candidate: Candidate) -> Replay | str:
        """The original answer of a mutation seen in an earlier batch, or why it is refused
        (its id, or its seq, was taken by other content)."""
        existing = self.by_id.get(candidate.mutation_id) or self.by_seq.get(candidate.seq)
        if isinstance(existing, LedgerEntry) and existing.mutation_id == candidate.mutation_id \
                and existing.content_hash == candidate.content_hash:
            kept: dict[str, Any] = {key: existing.result[key] for key in KEPT
                                    if key in existing.result}
            outcome = existing.outcome.value if existing.outcome else None
            return Replay(existing.outcome, {**upgraded(kept, existing.type, outcome),
                                             "flags": _flags(existing.result)})
        if existing is not None and existing.mutation_id == candidate.mutation_id:
            return ID_REUSED
        return SEQ_REUSED


def _flags(result: dict[str, Any]) -> list[Any]:
    """The original answer's flags, word for word. Ledger rows written before flags were
    answered kept the records' provenance flags (strings) under that key: not flags."""
    return [one for one in result.get("flags") or () if isinstance(one, dict)]


def _seq_range(seqs: list[int]) -> ColumnElement[bool]:
    """A device's seqs are consecutive: a range (two parameters) through the (device, seq)
    unique index usually covers them instead of a list of hundreds."""
    low, high = min(seqs), max(seqs)
    return LedgerEntry.seq.between(low, high) if high - low < 2 * len(seqs) \
        else LedgerEntry.seq.in_(seqs)


def claim(session: Session, device_id: uuid.UUID, candidates: Sequence[Candidate]) -> Claims:
    """Read what holds these ids and seqs, and decide in batch order which this batch
    claims (see the module docstring for why the read is enough)."""
    if not candidates:
        return Claims({})
    held = list(session.scalars(select(LedgerEntry).where(in_ids(
        session, LedgerEntry.mutation_id, [c.mutation_id for c in candidates],
        or_where=(LedgerEntry.device_id == device_id)
        & _seq_range([c.seq for c in candidates])))))
    by_id = {row.mutation_id: row for row in held}
    by_seq: dict[int, LedgerEntry | Candidate] = {
        row.seq: row for row in held if row.device_id == device_id}
    claimed: dict[uuid.UUID, Candidate] = {}
    for candidate in candidates:
        if candidate.mutation_id in by_id or candidate.mutation_id in claimed \
                or candidate.seq in by_seq:
            continue  # what ON CONFLICT DO NOTHING would have skipped
        claimed[candidate.mutation_id] = by_seq[candidate.seq] = candidate
    return Claims(claimed, by_id, by_seq)


class LedgerRace(Exception):
    """Another push took one of this batch's ledger keys after the batch read the ledger
    (PostgreSQL): the batch's transaction is void; roll back and push it again, and the
    ledger then answers those mutations as duplicates, with their original outcomes."""


# SQLSTATEs of a ledger key taken by a concurrent push (unique_violation), and of a
# deadlock between two pushes inserting overlapping keys.
_RACE_STATES = frozenset({"23505", "40P01"})


def race_state(exc: BaseException) -> bool:
    """True for the database errors a concurrent push causes (pushing again answers it)."""
    return isinstance(exc, LedgerRace) or (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RACE_STATES)
