"""Auditing a refused request (403, 404) in its own short transaction.

A refusal is raised, so the view's transaction is rolled back and whatever it staged is
gone; the API's after-request hook (``server.api.refusal_audit``) hands the refusal here. The
event names ids only: the id from the URL as ``entity_id`` and, when the refused record is
(or belongs to) a patient the server knows, that patient — so the refusal shows in the
patient's accounting — never whether the user may see it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from server import audit
from server.models import Device, Patient, Pump, ReviewItem, TherapyOrder, Visit
from server.tokens import token_hash

# Entity types whose records are, or belong to, one patient: the column naming her.
PATIENT_OF: dict[str, tuple[Any, InstrumentedAttribute[Any]]] = {
    "patients": (Patient, Patient.id),
    "therapy_orders": (TherapyOrder, TherapyOrder.patient_id),
    "visits": (Visit, Visit.patient_id),
    "pumps": (Pump, Pump.patient_id),
    "review_items": (ReviewItem, ReviewItem.patient_id),
}


@dataclass(frozen=True)
class Refusal:
    """What was refused: the action, the route's entity, the id in the URL, the outcome."""

    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    outcome: str  # forbidden | not_found
    details: dict[str, Any] = field(default_factory=dict)


def device_actor(session: Session, actor: audit.Actor, token: str | None) -> audit.Actor:
    """``actor`` as the device whose token the request carried, when it carried one."""
    if not token:
        return actor
    device = session.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    if device is None:
        return actor
    return audit.Actor(device.user_id, actor.remote_addr, actor.request_id, device.id)


def patient_of(session: Session, entity_type: str, entity_id: uuid.UUID | None
               ) -> uuid.UUID | None:
    """The patient the refused record is or belongs to; None for anything else."""
    if entity_id is None or entity_type not in PATIENT_OF:
        return None
    model, column = PATIENT_OF[entity_type]
    found: uuid.UUID | None = session.scalar(select(column).where(model.id == entity_id))
    return found


def record_refusal(session: Session, actor: audit.Actor, refusal: Refusal, now: datetime,
                   device_token: str | None = None) -> None:
    """Write one audit event for ``refusal`` and commit it (the view's work is gone). An
    actor without a user is looked up as the device ``device_token`` belongs to."""
    session.rollback()
    if actor.user_id is None:
        actor = device_actor(session, actor, device_token)
    audit.record(session, actor, refusal.action, refusal.entity_type, at=now,
                 entity_id=refusal.entity_id,
                 patient_id=patient_of(session, refusal.entity_type, refusal.entity_id),
                 outcome=refusal.outcome, details=refusal.details)
    session.commit()
