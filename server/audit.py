"""Writing the audit trail: one event per access to patient data, in the same transaction.

Events name ids only; the trail must never become a second copy of the patient's record.
They are chained by hashes when the transaction commits (``server.audit_chain``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server import audit_chain
from server.models import AuditEvent


class Actor:
    """Who is acting: a staff user (and later a device), and from which address."""

    def __init__(
        self,
        user_id: uuid.UUID | None,
        remote_addr: str | None = None,
        request_id: str | None = None,
        device_id: uuid.UUID | None = None,
    ) -> None:
        self.user_id = user_id
        self.remote_addr = remote_addr
        self.request_id = request_id
        self.device_id = device_id


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    *,
    at: datetime,
    entity_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Stage one audit event on ``session``; it commits, chained, with the work it describes."""
    event = AuditEvent(
        at=at,
        actor_user_id=actor.user_id,
        actor_device_id=actor.device_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        patient_id=patient_id,
        outcome=outcome,
        remote_addr=actor.remote_addr,
        request_id=actor.request_id,
        details=details or {},
    )
    audit_chain.stage(session, event)
    return event
