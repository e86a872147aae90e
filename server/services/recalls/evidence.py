"""Whom a pump served: the evidence a recall is traced with (ids and times, no clinical values)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.models import InfusionAdministration, Pump, PumpAssignment

# How far back a withdrawn pump is traced: the infusions and assignments of this window.
WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Administration:
    """One infusion documented with the pump: which record, visit and nurse, and when."""

    id: uuid.UUID
    visit_id: uuid.UUID
    nurse_id: uuid.UUID
    started_at: datetime


@dataclass(frozen=True)
class Assignment:
    """A period the pump was assigned to the patient (``unassigned_at`` None: still is)."""

    assigned_at: datetime
    unassigned_at: datetime | None


@dataclass
class Served:
    """What ties one patient to the pump."""

    assigned_when_withdrawn: bool = False
    assignments: list[Assignment] = field(default_factory=list)
    administrations: list[Administration] = field(default_factory=list)


def _administrations(session: Session, pump: Pump,
                     since: datetime) -> list[InfusionAdministration]:
    """Infusions documented with the pump (its id, or its serial when the registry did not
    know it yet) given or received since ``since``; a record ruled entered in error is not
    evidence. Received time too: a device clock set wrong must not hide an infusion."""
    return list(session.scalars(select(InfusionAdministration).where(
        or_(InfusionAdministration.pump_id == pump.id,
            InfusionAdministration.pump_serial == pump.serial),
        or_(InfusionAdministration.started_at >= since,
            InfusionAdministration.received_at >= since),
        InfusionAdministration.entered_in_error.is_(False))
        .order_by(InfusionAdministration.started_at, InfusionAdministration.id)))


def _assignments(session: Session, pump: Pump, since: datetime) -> list[PumpAssignment]:
    """Assignments that lasted into the window (a pump swapped out last week included)."""
    return list(session.scalars(select(PumpAssignment).where(
        PumpAssignment.pump_id == pump.id,
        or_(PumpAssignment.unassigned_at.is_(None), PumpAssignment.unassigned_at >= since))
        .order_by(PumpAssignment.assigned_at, PumpAssignment.id)))


def served(session: Session, pump: Pump, now: datetime,
           also_assigned: uuid.UUID | None = None) -> dict[uuid.UUID, Served]:
    """Every patient the pump served in the window, by patient id.

    ``also_assigned`` is a patient the pump was assigned to until this very change (a PATCH
    that returns a pump and recalls it at once): still its patient for the recall.
    """
    since = now - WINDOW
    patients: dict[uuid.UUID, Served] = {}
    for current in {pump.patient_id, also_assigned} - {None}:
        assert current is not None
        patients.setdefault(current, Served()).assigned_when_withdrawn = True
    for row in _assignments(session, pump, since):
        patients.setdefault(row.patient_id, Served()).assignments.append(
            Assignment(row.assigned_at, row.unassigned_at))
    for given in _administrations(session, pump, since):
        patients.setdefault(given.patient_id, Served()).administrations.append(Administration(
            given.id, given.visit_id, given.nurse_id, given.started_at))
    return patients
