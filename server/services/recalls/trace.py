"""A withdrawn pump traced: a critical item per patient it served, a note to each nurse.

Physicians are not notified here: every critical item opened about a patient reaches the
patient's physicians through ``review_items.open_item`` (issue 11, item 5).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.models import Pump, PumpRecall, PumpStatus, Visit, VisitStatus
from server.review_items import fact_key, open_item
from server.services.notifications import notify
from server.services.recalls.evidence import WINDOW, Served, served
from server.services.records import Access

KINDS = {PumpStatus.RECALLED: "pump_recalled", PumpStatus.OUT_OF_SERVICE: "pump_out_of_service"}
# Visits still ahead (or under way) whose nurse must hear of it before she gets there.
UPCOMING = (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Traced:
    """What one withdrawal reached: patients, items opened now, nurses notified now."""

    recall_id: uuid.UUID
    patient_ids: list[uuid.UUID]
    items_opened: int
    nurses_notified: int


def _state(status: PumpStatus) -> str:
    return status.value.replace("_", " ")


def nurse_message(pump: Pump, event: PumpRecall) -> str:
    """Worded for a nurse at the patient's door: what to do, no patient data."""
    text = f"Pump {pump.serial} is {_state(event.status)}: stop using it and call the pharmacy."
    return f"{text} Recall {event.recall_number}." if event.recall_number else text


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _details(pump: Pump, event: PumpRecall, evidence: Served) -> dict[str, Any]:
    """The evidence for one patient: ids and times, never a clinical value."""
    return {
        "pump_id": str(pump.id), "serial": pump.serial, "udi_di": pump.udi_di,
        "status": event.status.value, "recall_id": str(event.id),
        "recall_number": event.recall_number, "reason": event.reason,
        "window_days": WINDOW.days,
        "assigned_when_withdrawn": evidence.assigned_when_withdrawn,
        "assignments": [{"assigned_at": _when(a.assigned_at),
                         "unassigned_at": _when(a.unassigned_at)}
                        for a in evidence.assignments],
        "administrations": [{"id": str(a.id), "visit_id": str(a.visit_id),
                             "nurse_id": str(a.nurse_id), "started_at": _when(a.started_at)}
                            for a in evidence.administrations]}


def _summary(pump: Pump, event: PumpRecall, evidence: Served) -> str:
    count = len(evidence.administrations)
    where = "; it was assigned to this patient" if evidence.assigned_when_withdrawn else ""
    number = f" (recall {event.recall_number})" if event.recall_number else ""
    return (f"Pump {pump.serial} is {_state(event.status)}{number}: {count} infusion(s) with "
            f"it for this patient in the last {WINDOW.days} days{where}.")


def _open_items(session: Session, pump: Pump, event: PumpRecall,
                patients: dict[uuid.UUID, Served], now: datetime) -> int:
    kind = KINDS[event.status]
    opened = 0
    for patient_id in sorted(patients, key=str):
        evidence = patients[patient_id]
        opened += open_item(
            session, kind, _summary(pump, event, evidence), now=now, patient_id=patient_id,
            dedupe_key=fact_key(kind, pump.id, f"{patient_id}:{event.id}"),
            details=_details(pump, event, evidence)).new
    return opened


def _nurses(session: Session, patients: dict[uuid.UUID, Served],
            now: datetime) -> set[uuid.UUID]:
    """Who documented with the pump, and who has a visit ahead with one of its patients."""
    documented = {a.nurse_id for s in patients.values() for a in s.administrations}
    if not patients:
        return documented
    upcoming = session.scalars(select(Visit.nurse_id).distinct().where(
        Visit.patient_id.in_(list(patients)), Visit.nurse_id.is_not(None),
        Visit.status.in_(UPCOMING), Visit.scheduled_end >= now))
    return documented | {nurse for nurse in upcoming if nurse is not None}


def _notify(session: Session, pump: Pump, event: PumpRecall, nurses: set[uuid.UUID],
            now: datetime) -> list[uuid.UUID]:
    kind = KINDS[event.status]
    title = f"Pump {_state(event.status)}"
    return [nurse for nurse in sorted(nurses, key=str) if notify(
        session, nurse, kind, title, nurse_message(pump, event), now=now, pump_id=pump.id,
        dedupe_key=f"{kind}:{pump.id}:{event.id}:{nurse}") is not None]


def trace(session: Session, pump: Pump, event: PumpRecall, access: Access,
          previous_patient: uuid.UUID | None = None) -> Traced:
    """Open the items, notify the nurses and audit the withdrawal (ids only); no commit."""
    patients = served(session, pump, access.now, previous_patient)
    opened = _open_items(session, pump, event, patients, access.now)
    notified = _notify(session, pump, event, _nurses(session, patients, access.now),
                       access.now)
    audit.record(session, access.actor, "recall", "pumps", at=access.now, entity_id=pump.id,
                 patient_id=pump.patient_id or previous_patient, details={
                     "status": event.status.value, "recall_id": str(event.id),
                     "source": event.source, "patient_ids": sorted(map(str, patients)),
                     "administration_ids": sorted(str(a.id) for s in patients.values()
                                                  for a in s.administrations),
                     "notified_user_ids": [str(nurse) for nurse in notified]})
    return Traced(event.id, sorted(patients, key=str), opened, len(notified))
