"""The pump registry: serials, status, assignment to patients, maintenance dates."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.pumps import PumpSchema
from server import audit
from server.models import Pump, PumpStatus
from server.services import changes
from server.services.recalls.withdraw import Withdrawal, withdraw
from server.services.records import Access, Page, get_one, list_page
from server.services.references import require_patient

DUPLICATE_SERIAL = "A pump with this serial is registered."


def _dump(pump: Pump) -> Any:
    return PumpSchema().dump(pump)


def _prepare(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "status" in data:
        data["status"] = PumpStatus(data["status"])
    if data.get("patient_id") is not None:
        require_patient(session, data["patient_id"])
    return data


def create_pump(session: Session, data: dict[str, Any], access: Access) -> Pump:
    """Register a pump; a known serial is a 409."""
    pump = Pump(**_prepare(session, data))
    session.add(pump)
    audit.record(session, access.actor, "create", "pumps", at=access.now, entity_id=pump.id,
                 patient_id=pump.patient_id)
    changes.commit(session, DUPLICATE_SERIAL, pump, _dump)
    return pump


def list_pumps(session: Session, filters: dict[str, Any], access: Access, page: int,
               size: int) -> Page:
    """Pumps in the user's scope, by serial."""
    stmt = select(Pump).order_by(Pump.serial)
    for name in ("patient_id", "serial"):
        if name in filters:
            stmt = stmt.where(getattr(Pump, name) == filters[name])
    if "status" in filters:
        stmt = stmt.where(Pump.status == PumpStatus(filters["status"]))
    return list_page(session, stmt, access, "pumps", page, size, lambda p: p.patient_id)


def get_pump(session: Session, pump_id: uuid.UUID, access: Access) -> Pump:
    """One pump in the user's scope."""
    return get_one(session, Pump, pump_id, access, lambda p: p.patient_id)


def update_pump(session: Session, pump_id: uuid.UUID, data: dict[str, Any],
                expected_version: int | None, access: Access) -> Pump:
    """Assign, return or change the status and maintenance dates of a pump."""
    pump = get_one(session, Pump, pump_id, access, lambda p: p.patient_id, "update")
    changes.check_version(session, access, pump, expected_version, _dump, pump.patient_id)
    previous_patient, previous_status = pump.patient_id, pump.status
    changes.assign(pump, _prepare(session, data))
    audit.record(session, access.actor, "update", "pumps", at=access.now, entity_id=pump.id,
                 patient_id=pump.patient_id or previous_patient,
                 details={"fields": sorted(data)})
    changes.flush(session, pump, DUPLICATE_SERIAL)
    # recalled or out of service: traced to the patients it served, in this transaction
    withdraw(session, pump, previous_status, access, Withdrawal("pump_update"),
             previous_patient)
    changes.commit(session, DUPLICATE_SERIAL, pump, _dump)
    return pump
