"""The board's view of recalls: each withdrawn pump with the patients still to be handled."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Patient, Pump, ReviewItem, ReviewStatus
from server.services.recalls.trace import KINDS

MAX_ITEMS = 500  # open recall items read for one board


def recalled_pumps(session: Session) -> list[dict[str, Any]]:
    """Pumps with open recall items, by serial, each with its patients (name and item).

    A patient leaves the list when her item is resolved; a pump when all of its are.
    """
    items = list(session.scalars(select(ReviewItem).where(
        ReviewItem.status == ReviewStatus.OPEN, ReviewItem.kind.in_(list(KINDS.values())),
        ReviewItem.patient_id.is_not(None)).order_by(ReviewItem.created_at, ReviewItem.id)
        .limit(MAX_ITEMS)))
    if not items:  # the usual board: no recall open, so no pump or patient to read
        return []
    pump_ids = {uuid.UUID(str(item.details["pump_id"])) for item in items}
    pumps = {p.id: p for p in session.scalars(select(Pump).where(Pump.id.in_(pump_ids)))}
    patients = {p.id: p for p in session.scalars(select(Patient).where(
        Patient.id.in_({item.patient_id for item in items})))}
    rows: dict[uuid.UUID, dict[uuid.UUID, dict[str, Any]]] = {}
    for item in items:  # oldest first: a later withdrawal's item replaces an earlier one
        assert item.patient_id is not None
        patient = patients[item.patient_id]
        rows.setdefault(uuid.UUID(str(item.details["pump_id"])), {})[patient.id] = {
            "id": patient.id, "name": f"{patient.first_name} {patient.last_name}",
            "review_item_id": item.id, "kind": item.kind}
    return [{"pump": {"id": pump.id, "serial": pump.serial, "status": pump.status.value},
             "patients": sorted(rows[pump.id].values(), key=lambda p: (p["name"], str(p["id"])))}
            for pump in sorted((pumps[i] for i in rows), key=lambda p: p.serial)]
