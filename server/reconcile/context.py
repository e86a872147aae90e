"""What a handler is given about one mutation, and what it answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.models import Device, ReviewItem, Visit, VisitEvent
from server.reconcile.batch_cache import BatchCache
from sync.ledger import Outcome


@dataclass(slots=True)
class MutationContext:
    """One validated mutation from one device, with the session to apply it in and what
    its batch loaded (``cache``): handlers only ever run inside a batch."""

    session: Session
    device: Device
    mutation: dict[str, Any]
    data: dict[str, Any]
    raw_data: dict[str, Any]
    raw_occurred_at: str
    batch_id: uuid.UUID
    now: datetime
    zone: ZoneInfo  # the agency's: local dates (training due dates) are its dates
    cache: BatchCache
    flags: list[str] = field(default_factory=list)  # stored on each record (provenance)
    # The review items this mutation opened or found about its records: its result's flags.
    raised: list[ReviewItem] = field(default_factory=list)

    @property
    def nurse_id(self) -> uuid.UUID:
        """The nurse the device belongs to."""
        return self.device.user_id

    def provenance(self, visit_id: uuid.UUID, conflict: bool = False) -> dict[str, Any]:
        """The provenance columns every document stores."""
        return {"visit_id": visit_id, "nurse_id": self.nurse_id, "device_id": self.device.id,
                "mutation_id": self.mutation_id, "batch_id": self.batch_id,
                "seq": self.mutation["seq"], "occurred_at_text": self.raw_occurred_at,
                "received_at": self.now, "flags": list(self.flags), "conflict": conflict}

    def store_new(self, document: Any) -> bool:
        """Add a new document; False when a record already has its (device-chosen) id."""
        if not self.cache.claim_document_id(type(document), document.id):
            return False
        if isinstance(document, VisitEvent):
            self.cache.store_event(document)
        else:
            self.session.add(document)
        return True

    def store_row(self, model: Any, values: dict[str, Any]) -> bool:
        """Like ``store_new`` for the hot path: rows are inserted in bulk (Core) with the
        batch."""
        if not self.cache.claim_document_id(model, values["id"]):
            return False
        self.cache.store_row(model, values)
        return True

    def rederive(self, visit: Visit) -> None:
        """Have the visit re-derived once, at the end of the batch: the review items that
        finds reach the answers through the ``record_id`` of their ``Result``."""
        self.cache.touch(visit)

    @property
    def mutation_id(self) -> uuid.UUID:
        """The mutation's id (its idempotency key)."""
        mutation_id: uuid.UUID = self.mutation["id"]
        return mutation_id


@dataclass
class Result:
    """The outcome of one mutation, as reported back to the device."""

    outcome: Outcome
    version: int | None = None
    review_item_id: uuid.UUID | None = None
    errors: dict[str, Any] = field(default_factory=dict)
    patient_id: uuid.UUID | None = None
    # The visit documented: its version once the batch is settled is the result's
    # ``visit_version`` (and its ``version`` when ``version`` is None: the entity is the visit).
    visit: Visit | None = None
    # The record this mutation stored: review items found at the end of the batch name it.
    record_id: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready result fields (without the mutation id)."""
        result: dict[str, Any] = {"status": self.outcome.value}
        if self.version is not None:
            result["version"] = self.version
        if self.review_item_id is not None:
            result["review_item_id"] = str(self.review_item_id)
        if self.errors:
            result["errors"] = self.errors
        return result


def rejected(field_name: str, message: str, patient_id: uuid.UUID | None = None) -> Result:
    """A refusal naming the field and the reason."""
    return Result(Outcome.REJECTED, errors={field_name: [message]}, patient_id=patient_id)
