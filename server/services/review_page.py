"""What the console's review pages show: the queue with its counts and filter choices, and
one item beside its evidence.

Both read through ``services.review`` (the API's own listing, read and audit events); this
module only adds the names and records a person needs to judge an item: the patient, the
nurse, the document as the device sent it and as it stands now (with reviewers'
amendments applied), and the visits its documentation could move to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotFound
from server.models import Amendment, Device, Patient, ReviewItem, Role, User, Visit, VisitStatus
from server.services import patients, review
from server.services.records import Access, contains

# Bookkeeping of the item, not evidence of what happened.
EVIDENCE_DETAILS_HIDDEN = frozenset({"allowed_resolutions", "resolved_with", "record_id"})
MAX_MATCHES = 10  # patients a search offers to choose from; more: type more of the name


@dataclass(frozen=True)
class QueuePage:
    """One page of the filtered queue, its counts, and the choices of the filter form."""

    items: list[dict[str, Any]]
    total: int
    counts: dict[str, Any]
    patients: dict[uuid.UUID, str]  # the patients of the items on the page
    nurses: dict[uuid.UUID, str]
    kinds: list[str]


@dataclass(frozen=True)
class PatientFilter:
    """The patient filter: the chosen patient (id, "name (MRN)"), or the first matches of
    a search that found several, to choose from."""

    chosen: tuple[uuid.UUID, str] | None
    matches: list[tuple[uuid.UUID, str]]
    total: int  # patients the search found (1 when chosen, 0 when no patient filter)


@dataclass(frozen=True)
class ItemPage:
    """An item, the document it is about (as sent and as now), and its people and visits."""

    item: dict[str, Any]
    record_type: str | None
    evidence: dict[str, Any]  # what the system recorded when it raised the item
    sent: dict[str, Any]
    now: dict[str, Any]
    amendments: list[Amendment]
    visit: Visit | None
    patient: str | None
    staff: dict[uuid.UUID, str]
    sent_by: str | None
    amendable: list[str]
    other_visits: list[Visit]


def _names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _patient_names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(Patient.id, Patient.first_name, Patient.last_name)
                           .where(Patient.id.in_(wanted)))
    return {pid: f"{first} {last}" for pid, first, last in rows}


def _patient_label(patient: Patient) -> str:
    return f"{patient.first_name} {patient.last_name} ({patient.mrn})"


def patient_filter(session: Session, search: str | None, chosen: uuid.UUID | None,
                   access: Access) -> PatientFilter:
    """The queue's patient: found by a search (name or MRN, through the patients page's own
    service and its ``list`` event), else the one already chosen (one audited ``read``).

    A QC nurse cannot scroll a drop-down of every patient, and listing them all cost the
    page a read and an audit of two thousand names (bench/console.py). A search wins over
    a patient chosen before it; one that finds nobody is the field's error.
    """
    if search:
        found = patients.list_patients(session, {"q": search}, access, 1, MAX_MATCHES)
        if found.total == 0:
            raise Invalid("No patient matches the search.", {"patient_search": [
                "No patient matches. Search by MRN, or by the first letters of a name."]})
        options = [(p.id, _patient_label(p)) for p in found.items]
        if found.total == 1:
            return PatientFilter(options[0], [], 1)
        return PatientFilter(None, options, found.total)
    if chosen is None:
        return PatientFilter(None, [], 0)
    try:
        patient = patients.get_patient(session, chosen, access)
    except NotFound:
        raise Invalid("The chosen patient is not one you may see.", {"patient_search": [
            "There is no such patient that you may see. Search by name or MRN."]}) from None
    return PatientFilter((patient.id, _patient_label(patient)), [], 1)


def _kinds(session: Session) -> list[str]:
    """Every kind of item raised so far (the kind filter's choices), in order.

    A skip scan of the kind index: each step asks for the next kind above the last, a few
    dozen index probes where ``SELECT DISTINCT`` read all 100 k items (bench/console.py).
    """
    first = select(func.min(ReviewItem.kind).label("kind")).cte("kinds", recursive=True)
    above = select(func.min(ReviewItem.kind)).where(ReviewItem.kind > first.c.kind)
    steps = first.union_all(select(above.scalar_subquery()).where(first.c.kind.is_not(None)))
    return list(session.scalars(select(steps.c.kind).where(steps.c.kind.is_not(None))
                                .order_by(steps.c.kind)))


def _filter_nurses(session: Session, search: str,
                   chosen: uuid.UUID | None) -> dict[uuid.UUID, str]:
    """The nurse filter's choices: those ``search`` finds by name or e-mail (every nurse
    without one), and the one filtered on, so a narrower search never drops her."""
    stmt = select(User.id, User.name).where(User.role == Role.NURSE)
    if search:
        pattern = contains(search)
        found = or_(User.name.ilike(pattern, escape="\\"),
                    User.email.ilike(pattern, escape="\\"))
        stmt = stmt.where(or_(found, User.id == chosen) if chosen else found)
    return {user_id: name for user_id, name in session.execute(stmt.order_by(User.name))}


def queue_page(session: Session, filters: dict[str, Any], access: Access, page: int,
               size: int, nurse_search: str = "") -> QueuePage:
    """The queue as the API lists it (its ``list`` event, naming the patients on the page)
    with counts, the names of those patients, and the nurse and kind filters' choices;
    ``nurse_search`` narrows the nurse filter's choices to a name or e-mail."""
    found = review.list_items(session, filters, access, page, size)
    nurses = _filter_nurses(session, nurse_search, filters.get("nurse_id"))
    # The names of the patients on this page only, which list_items' event names.
    shown = _patient_names(session, {item["patient_id"] for item in found.items})
    return QueuePage(found.items, found.total, review.queue_counts(session, filters, access),
                     shown, nurses, _kinds(session))


def _columns(row: Any) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}


def _flat(details: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested evidence as one row per value (``device saw · status``), to read side by side."""
    rows: dict[str, Any] = {}
    for key, value in details.items():
        name = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, dict) and value:
            rows.update(_flat(value, f"{name} · "))
        else:
            rows[name] = value
    return rows


def _now(document: Any, amendments: list[Amendment]) -> dict[str, Any]:
    """The document with every amendment's changes applied, oldest first."""
    current = _columns(document)
    for amendment in amendments:
        current.update(amendment.changes)
    return current


def _other_visits(session: Session, visit: Visit | None) -> list[Visit]:
    """Where documentation of ``visit`` could move: the patient's other, uncancelled visits."""
    if visit is None:
        return []
    return list(session.scalars(select(Visit).where(
        Visit.patient_id == visit.patient_id, Visit.id != visit.id,
        Visit.status != VisitStatus.CANCELLED).order_by(Visit.scheduled_start)))


def _visit_of(session: Session, item: dict[str, Any], document: Any) -> Visit | None:
    """The visit the document is on now (it may have moved), else the item's own."""
    visit_id = document.visit_id if document is not None else item["visit_id"]
    return session.get(Visit, visit_id) if visit_id else None


def item_page(session: Session, item_id: uuid.UUID, access: Access) -> ItemPage:
    """One item as the API reads it (its ``read`` event) with its evidence beside it."""
    item = review.get_item(session, item_id, access)
    record_type, row = review.document_of(session, item_id) or (None, None)
    amendments = list(session.scalars(select(Amendment).where(
        Amendment.target_id == row.id).order_by(Amendment.received_at))) if row else []
    visit = _visit_of(session, item, row)
    sender = session.scalar(select(Device.user_id).where(
        Device.id == item["device_id"])) if item["device_id"] else None
    staff = _names(session, {sender, item["resolved_by"], item["acknowledged_by"],
                             visit.nurse_id if visit else None,
                             *(a.nurse_id for a in amendments)})
    evidence = _flat({k: v for k, v in item["details"].items()
                      if k not in EVIDENCE_DETAILS_HIDDEN})
    return ItemPage(
        item=item, record_type=record_type, evidence=evidence,
        sent=_columns(row) if row else {}, now=_now(row, amendments) if row else {},
        amendments=amendments, visit=visit,
        patient=_patient_names(session, {item["patient_id"]}).get(item["patient_id"]),
        staff=staff, sent_by=staff.get(sender) if sender else None,
        amendable=review.amendable_fields(row) if row else [],
        other_visits=_other_visits(session, visit))
