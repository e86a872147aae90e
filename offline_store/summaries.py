"""What the device shows its nurse: her visits, and where synchronisation stands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from offline_store.clock import parse_rfc3339
from offline_store.documentation import (
    AMEND,
    CHECK_IN,
    CHECK_OUT,
    INFUSION,
    MISSED,
    NOTE,
    SIGN,
    VITALS,
    local_documents,
)
from offline_store.identity import is_enrolled, load_identity
from offline_store.outbox import Outbox, Result
from offline_store.review_items import unresolved
from offline_store.store import Store
from offline_store.sync_attempts import FailedAttempt, last_failure

_PENDING_LABELS = {CHECK_IN: "check-in", CHECK_OUT: "check-out", VITALS: "vitals",
                   INFUSION: "infusion", NOTE: "note", SIGN: "signature", MISSED: "missed",
                   AMEND: "amendment"}
# Records an amendment can point at (its target_id is their entity_id).
_RECORD_TYPES = (VITALS, INFUSION, NOTE)
_VITAL_NAMES = {"8867-4": "heart rate", "85354-9": "blood pressure", "8310-5": "temperature",
                "2708-6": "SpO2", "9279-1": "respiratory rate", "3151-8": "oxygen",
                "67775-7": "consciousness"}


@dataclass(frozen=True)
class DocumentLine:
    """One thing documented on this device, and where it stands with the server."""

    mutation_id: str
    record_id: str | None  # what an amendment names; None for visit events
    label: str
    state: str  # unsent, applied, conflict or rejected


@dataclass(frozen=True)
class VisitLine:
    """One visit as listed: no more patient identity than initial and last name."""

    id: str
    start: datetime | None
    end: datetime | None
    status: str
    patient: str
    unsent: tuple[str, ...]
    documents: tuple[DocumentLine, ...] = ()


@dataclass(frozen=True)
class StatusSummary:
    """Where synchronisation stands."""

    enrolled: bool
    device_id: str | None
    server_url: str | None
    pending: int
    last_sync_at: str | None
    offline_hours_exceeded: bool
    retired: bool
    problems: tuple[Result, ...]
    labels: dict[str, str] = field(default_factory=dict)  # mutation id → what it documented
    last_failure: FailedAttempt | None = None  # since the last sync that went through


def short_name(patient: dict[str, Any] | None) -> str:
    """``J. Smith``: enough to recognise a patient on screen, no more."""
    if patient is None:
        return "(unknown patient)"
    first, last = str(patient.get("first_name") or ""), str(patient.get("last_name") or "")
    if first and last:
        return f"{first[0]}. {last}"
    return last or "(unnamed)"


def _moment(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """A stored timestamp in ``zone`` (default: the system's), or None if absent or bad."""
    try:
        return parse_rfc3339(str(value)).astimezone(zone) if value else None
    except ValueError:
        return None


def _unsent_by_visit(store: Store) -> dict[str, Counter[str]]:
    """Which documentation per visit has not been answered by the server yet."""
    unsent: dict[str, Counter[str]] = {}
    for mutation in Outbox(store).pending():
        if mutation.visit_id is not None:
            label = _PENDING_LABELS.get(mutation.type, mutation.type)
            unsent.setdefault(mutation.visit_id, Counter())[label] += 1
    return unsent


def document_label(wire: dict[str, Any]) -> str:
    """A few words that let the nurse recognise what she documented."""
    data, type_ = wire.get("data") or {}, wire.get("type")
    if type_ == VITALS:
        return f"vitals {_VITAL_NAMES.get(str(data.get('code')), data.get('code'))}"
    if type_ == INFUSION:
        return f"infusion {data.get('medication')} {data.get('dose')} {data.get('dose_unit')}"
    if type_ == NOTE:
        return f"note ({data.get('category')})"
    if type_ == MISSED:
        return f"missed ({data.get('reason')})"
    if type_ == AMEND:
        return f"amendment of {data.get('target_type')} {data.get('target_id')}"
    return _PENDING_LABELS.get(str(type_), str(type_))


def _state(result: Result | None) -> str:
    """``unsent`` until answered; a duplicate shows what became of the original."""
    if result is None:
        return "unsent"
    if result.status == "duplicate" and result.outcome:
        return result.outcome
    return result.status


def _documents_by_visit(store: Store) -> dict[str, list[DocumentLine]]:
    """Local documents per visit, each with its result (or ``unsent``)."""
    outbox = Outbox(store)
    pending = {mutation.id for mutation in outbox.pending()}
    answered = {result.id: result for result in outbox.results()}
    lines: dict[str, list[DocumentLine]] = {}
    for wire in local_documents(store):
        result = None if wire["id"] in pending else answered.get(wire["id"])
        lines.setdefault(str(wire["visit_id"]), []).append(DocumentLine(
            mutation_id=wire["id"], label=document_label(wire), state=_state(result),
            record_id=wire["entity_id"] if wire["type"] in _RECORD_TYPES else None))
    return lines


def list_visits(store: Store, zone: tzinfo | None = None) -> list[VisitLine]:
    """Visits in start order, times in ``zone``, with patient short name and unsent work."""
    unsent = _unsent_by_visit(store)
    documents = _documents_by_visit(store)
    lines = []
    for visit in store.all("visit"):
        patient = store.get("patient", str(visit.data.get("patient_id")))
        counts = unsent.get(visit.id, Counter())
        lines.append(VisitLine(
            id=visit.id, start=_moment(visit.data.get("scheduled_start"), zone),
            end=_moment(visit.data.get("scheduled_end"), zone),
            status=str(visit.data.get("status") or "?"),
            patient=short_name(None if patient is None else patient.data),
            unsent=tuple(f"{label} x{n}" if n > 1 else label for label, n in counts.items()),
            documents=tuple(documents.get(visit.id, ()))))
    return sorted(lines, key=lambda line: (line.start is None, line.start or 0, line.id))


def status_summary(store: Store, now: datetime) -> StatusSummary:
    """Pending count, last sync, policy breaches and the results a person must look at."""
    enrolled = is_enrolled(store)
    last_sync = store.get_value("sync_state", "last_sync_at")
    exceeded = False
    if enrolled:
        limit_hours = load_identity(store).policy.max_offline_hours
        last = _moment(last_sync)
        exceeded = last is not None and (now - last).total_seconds() > limit_hours * 3600
    outbox = Outbox(store)
    return StatusSummary(
        enrolled=enrolled, device_id=store.get_meta("device_id"),
        server_url=store.get_meta("server_url"), pending=outbox.pending_count(),
        last_sync_at=last_sync, offline_hours_exceeded=exceeded,
        retired=bool(store.get_value("sync_state", "retired")),
        problems=tuple(unresolved(store, outbox.problems())),  # resolved conflicts leave
        labels={wire["id"]: document_label(wire) for wire in local_documents(store)},
        last_failure=last_failure(store))
