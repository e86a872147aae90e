"""A pump's history: whom it was assigned to, and every infusion it gave."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import NotFound
from server.models import InfusionAdministration, Pump, PumpAssignment
from server.services.records import Access, scoped

PatientScope = Callable[[Any], ColumnElement[bool] | None]  # a patient-id column → condition


def _load(session: Session, pump_id: uuid.UUID, access: Access) -> Pump:
    stmt = scoped(select(Pump).where(Pump.id == pump_id), access.condition)
    pump: Pump | None = session.scalar(stmt)
    if pump is None:  # audited as a refusal by the API (server.api.refusal_audit)
        raise NotFound(f"There is no pump {pump_id} that you may see.")
    return pump


def get_history(session: Session, pump_id: uuid.UUID, access: Access,
                patients: PatientScope) -> dict[str, Any]:
    """The pump (in the user's scope), its assignments and administrations; one audit event.

    ``patients`` limits the history to patients the user may see: a nurse whose patient has
    the pump now does not learn who had it before.
    """
    pump = _load(session, pump_id, access)
    assignments = list(session.scalars(scoped(
        select(PumpAssignment).where(PumpAssignment.pump_id == pump.id),
        patients(PumpAssignment.patient_id)).order_by(
            # the open assignment last, even when it began the moment the other ended
            PumpAssignment.assigned_at, PumpAssignment.unassigned_at.is_(None),
            PumpAssignment.id)))
    administrations = list(session.scalars(scoped(
        select(InfusionAdministration).where(InfusionAdministration.pump_id == pump.id),
        patients(InfusionAdministration.patient_id)).order_by(
            InfusionAdministration.started_at, InfusionAdministration.id)))
    named = {row.patient_id for row in [*assignments, *administrations]}
    audit.record(session, access.actor, "read", "pumps", at=access.now, entity_id=pump.id,
                 patient_id=pump.patient_id,
                 details={"view": "history", "patient_ids": sorted(map(str, named))})
    session.commit()
    return {"pump": pump, "assignments": assignments, "administrations": administrations}
