"""What travels through the phases of applying one batch: its mutations, as validated and
sealed before the write transaction (``Prepared``), what became of each (``Answer``), and
the batch-wide state every phase reads (``BatchRun``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server import audit
from server.models import Device, Visit
from server.reconcile.batch_cache import BatchCache
from server.reconcile.news2 import Thresholds
from server.services.push.validation import Refused, Valid
from sync.batches import SyncBatch
from sync.claims import Candidate
from sync.ledger import Outcome


@dataclass(frozen=True, slots=True)
class Prepared:
    """One mutation of the batch: as sent, validated once, and sealed for the inbox."""

    index: int
    raw: Any
    checked: Valid | Refused
    inbox_id: uuid.UUID
    payload: bytes

    @property
    def raw_id(self) -> Any:
        """The id as the device sent it (echoed back even when invalid); None when it sent
        no string, so that a result's ``id`` is always a string or null."""
        raw_id = self.raw.get("id") if isinstance(self.raw, dict) else None
        return raw_id if isinstance(raw_id, str) else None

    def candidate(self, valid: Valid) -> Candidate:
        """This mutation as the ledger sees it (``valid`` is its ``checked``)."""
        return Candidate(self.index, valid.id, valid.seq, valid.mutation["type"], valid.digest,
                         self.inbox_id)


# The result key of the flags stored on every record the mutation made (provenance, e.g.
# ``device_clock_skew``): the ledger keeps them with the outcome, the device never sees them.
RECORD_FLAGS = "record_flags"


@dataclass(frozen=True, slots=True)
class Answer:
    """What became of one mutation: the result the device gets (``result``, which also
    holds the ``RECORD_FLAGS`` the ledger keeps) and what the end of the batch still needs."""

    outcome: Outcome | None
    result: dict[str, Any]
    keep: bool = True  # into the inbox (a duplicate is already there)
    patient_id: uuid.UUID | None = None
    # The visit documented: the result reports its version once the batch is settled.
    visit: Visit | None = None
    # The record it stored (its id as the handler gave it): review items found when the
    # batch is settled name it.
    record_id: Any = None

    def with_result(self, result: dict[str, Any]) -> Answer:
        """This answer with another result (``dataclasses.replace`` cost as much as the
        rest of settling an answer)."""
        return Answer(self.outcome, result, self.keep, self.patient_id, self.visit,
                      self.record_id)


def refusal(errors: dict[str, Any]) -> Answer:
    """A refused mutation (it stays in the inbox with the reasons)."""
    return Answer(Outcome.REJECTED, {"status": Outcome.REJECTED.value, "errors": errors,
                                     "flags": []})


def duplicate(outcome: Outcome | None, original: dict[str, Any] | None = None) -> Answer:
    """A mutation already applied: the original outcome and flags, nothing stored again."""
    return Answer(Outcome.DUPLICATE, {"flags": [], **(original or {}),
                                      "status": Outcome.DUPLICATE.value,
                                      "outcome": outcome.value if outcome else None},
                  keep=False)


@dataclass
class BatchRun:
    """One batch being applied: who sent it, when, its mutations and their answers so far."""

    session: Session
    device: Device
    batch: SyncBatch
    actor: audit.Actor
    now: datetime
    zone: ZoneInfo
    items: list[Prepared]
    cache: BatchCache
    news2: Thresholds = field(default_factory=Thresholds)  # the agency's configuration
    answers: dict[int, Answer] = field(default_factory=dict)

    def audit_mutation(self, mutation_id: uuid.UUID, outcome: str, details: dict[str, Any],
                       patient_id: uuid.UUID | None = None) -> None:
        """The audit event of a mutation that was refused or looked suspicious."""
        audit.record(self.session, self.actor, "sync.mutation", "sync_ledger", at=self.now,
                     entity_id=mutation_id, patient_id=patient_id, outcome=outcome,
                     details=details)
