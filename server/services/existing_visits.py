"""What the generator does to the visits an order already has, and what it holds back.

An undocumented future visit is cancelled when its order stops or its patient is
discharged, dropped when a schedule change removes its occurrence, brought back when the
order resumes, and given a new window length or location when the order is reshaped. A
documented one (``services/documented``: anything stored against it, a check-in or a
signature) is left exactly as it is, and the change goes to a coordinator as a
``documented_visit_kept`` review item (``services/kept_visits``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server.models import OrderStatus, PatientStatus, TherapyOrder, Visit, VisitStatus
from server.services.kept_visits import CANCEL, REINSTATE, RESHAPE, Held

# Statuses of a visit nobody started: unless documented, the generator may cancel or
# reshape it.
UNTOUCHED = (VisitStatus.SCHEDULED, VisitStatus.LATE_UNKNOWN)
REASON_ORDER_INACTIVE = "Order is {status}; visits generated from it were cancelled."
REASON_DISCHARGED = "Patient discharged; future visits were cancelled."
REASON_SCHEDULE_CHANGED = "Order schedule changed; this occurrence no longer exists."


@dataclass(frozen=True)
class Stop:
    """Why the generator cancels visits: the review item's ``change`` and ``cause``, and
    the ``cancel_reason`` an undocumented visit gets."""

    change: str
    cause: str
    reason: str


DISCHARGED = Stop("patient_discharged", "the patient was discharged", REASON_DISCHARGED)
SCHEDULE_CHANGED = Stop("schedule_changed", "the order's schedule no longer has this "
                        "occurrence", REASON_SCHEDULE_CHANGED)


@dataclass
class Run:
    """One pass of the generator: its clock, the documentation on the future visits it
    read (``services/documented``), what it did and what it held back."""

    now: datetime
    documented: dict[uuid.UUID, set[str]]
    counts: dict[str, int] = field(default_factory=lambda: {
        "created": 0, "cancelled": 0, "updated": 0, "reinstated": 0, "kept": 0})
    held: list[Held] = field(default_factory=list)

    def documentation(self, visit: Visit) -> tuple[str, ...]:
        """What is documented on ``visit`` (empty: nothing)."""
        kinds = set(self.documented.get(visit.id, ()))
        kinds |= {"check_in"} if visit.checked_in_at is not None else set()
        kinds |= {"sign"} if visit.signed_at is not None else set()
        return tuple(sorted(kinds))

    def hold(self, visit: Visit, action: str, change: str, cause: str,
             would_set: dict[str, Any]) -> None:
        """Leave a documented future visit as it is, for a review item instead."""
        self.held.append(Held(visit, change, action, cause, self.documentation(visit),
                              would_set))
        self.counts["kept"] += 1


def generated_reason(reason: str | None) -> bool:
    """Whether the generator (not a person) cancelled a visit with this reason."""
    if reason is None:
        return False
    return reason in (REASON_DISCHARGED, REASON_SCHEDULE_CHANGED) or (
        reason.startswith("Order is ") and reason.endswith("generated from it were cancelled."))


def untouched(run: Run, visit: Visit) -> bool:
    """Future, not started, not documented: safe to cancel or reshape."""
    return (visit.status in UNTOUCHED and visit.scheduled_start > run.now
            and not run.documentation(visit))


def kept(run: Run, visit: Visit) -> bool:
    """Future, not cancelled, and documented: what an automatic change must hold back on."""
    return (visit.status is not VisitStatus.CANCELLED and visit.scheduled_start > run.now
            and bool(run.documentation(visit)))


def _cancel(visit: Visit, reason: str) -> None:
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = reason


def stop(run: Run, visits: Iterable[Visit], why: Stop) -> None:
    """Cancel the untouched visits; keep the documented ones, and say so."""
    for visit in visits:
        if untouched(run, visit):
            _cancel(visit, why.reason)
            run.counts["cancelled"] += 1
        elif kept(run, visit):
            run.hold(visit, CANCEL, why.change, why.cause,
                     {"status": VisitStatus.CANCELLED.value, "cancel_reason": why.reason})


def stop_for(order: TherapyOrder) -> Stop | None:
    """Why the order's visits stop (patient discharged, order not active), or None."""
    if order.patient.status is not PatientStatus.ACTIVE:
        return DISCHARGED
    if order.status is not OrderStatus.ACTIVE:
        words = order.status.value.replace("_", " ")
        return Stop(f"order_{order.status.value}", f"the order is {words}",
                    REASON_ORDER_INACTIVE.format(status=words))
    return None


def _reinstate(run: Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID) -> None:
    """Bring back an occurrence the generator cancelled (say, during a hold) — unless
    documentation arrived on it since: then it stays as it is, for a person."""
    assert visit.occurrence_at is not None
    end = visit.occurrence_at + timedelta(minutes=order.window_minutes)
    if run.documentation(visit):
        run.hold(visit, REINSTATE, "order_resumed", "the order has this occurrence again",
                 {"status": VisitStatus.SCHEDULED.value, "nurse_id": None,
                  "scheduled_start": visit.occurrence_at.isoformat(),
                  "scheduled_end": end.isoformat(), "service_location_id": str(location_id)})
        return
    visit.status, visit.cancel_reason, visit.nurse_id = VisitStatus.SCHEDULED, None, None
    visit.assignment_override = None
    visit.scheduled_start, visit.scheduled_end = visit.occurrence_at, end
    visit.service_location_id = location_id
    run.counts["reinstated"] += 1


def _reshape(run: Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID) -> None:
    """Give an untouched visit the order's new window length and location; a documented
    one keeps its own. A visit a person moved (start no longer its occurrence) keeps its
    times."""
    assert visit.occurrence_at is not None
    end = visit.occurrence_at + timedelta(minutes=order.window_minutes)
    changes: dict[str, Any] = {}
    if visit.scheduled_start == visit.occurrence_at and visit.scheduled_end != end:
        changes["scheduled_end"] = end
    if visit.service_location_id != location_id:
        changes["service_location_id"] = location_id
    if changes and untouched(run, visit):
        for name, value in changes.items():
            setattr(visit, name, value)
        run.counts["updated"] += 1
    elif changes and kept(run, visit):
        run.hold(visit, RESHAPE, "order_reshaped",
                 "the order's window length or location changed",
                 {name: value.isoformat() if isinstance(value, datetime) else str(value)
                  for name, value in changes.items()})


def follow(run: Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID,
           current: bool, reshape: bool) -> None:
    """One existing occurrence after an order change: stopped, brought back or reshaped."""
    if not current:
        stop(run, [visit], SCHEDULE_CHANGED)
    elif visit.status is VisitStatus.CANCELLED:
        if visit.scheduled_start > run.now and generated_reason(visit.cancel_reason):
            _reinstate(run, order, visit, location_id)
    elif reshape:
        _reshape(run, order, visit, location_id)
