"""The review queue: listing what reconciliation flagged, and a person's resolution of it.

``amend`` writes the correction as an ``Amendment`` beside the original (which stays as it
was), authored by the reviewer; it has no device provenance, and none is invented.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server import audit
from server.errors import Conflict, Forbidden, Invalid
from server.models import (
    Amendment,
    Device,
    InfusionAdministration,
    ReviewItem,
    ReviewStatus,
    Role,
    Severity,
    Visit,
    VisitEvent,
    VisitNote,
    VisitStatus,
    VitalSign,
)
from server.reconcile.visit_state import recompute
from server.review_items import (
    ACCEPT,
    AMEND,
    FINDINGS,
    IN_ERROR,
    REASSIGN,
    may_acknowledge,
    owner_of,
)
from server.services.records import Access, Page, get_one, list_page, scoped

SEVERITY_RANK = case({Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2},
                     value=ReviewItem.severity, else_=3)
RECORD_TYPES: dict[str, Any] = {"event": VisitEvent, "vitals": VitalSign,
                                "infusion": InfusionAdministration, "note": VisitNote,
                                "amendment": Amendment}
# Provenance is what the device and server said happened; a correction never rewrites it.
NOT_AMENDABLE = frozenset({"id", "visit_id", "patient_id", "nurse_id", "device_id",
                           "mutation_id", "batch_id", "seq", "occurred_at_text", "received_at",
                           "flags", "conflict", "entered_in_error"})
CONFLICT_FLAG = "documentation_conflict"


def allowed_resolutions(item: ReviewItem) -> list[str]:
    """What a person may do with ``item``; the findings table when the item does not say."""
    allowed = item.details.get("allowed_resolutions")
    if allowed is None and item.kind in FINDINGS:
        allowed = list(FINDINGS[item.kind].resolutions)
    return list(allowed or [])


def view(item: ReviewItem) -> dict[str, Any]:
    """The item as the queue shows it: its columns plus what it points at and allows."""
    resolved_with = item.details.get("resolved_with") or {}
    return {
        "id": item.id, "kind": item.kind, "severity": item.severity.value,
        "status": item.status.value, "summary": item.summary, "patient_id": item.patient_id,
        "visit_id": item.visit_id, "device_id": item.device_id,
        "mutation_id": item.mutation_id, "record_id": item.details.get("record_id"),
        "details": item.details, "allowed_resolutions": allowed_resolutions(item),
        "created_at": item.created_at, "resolved_at": item.resolved_at,
        "resolved_by": item.resolved_by, "resolution": resolved_with.get("resolution"),
        "resolution_comment": item.resolution, **_ownership(item),
    }


def _ownership(item: ReviewItem) -> dict[str, Any]:
    """Whose item it is, whether someone has taken it, and whether it escalated."""
    owner = owner_of(item.kind)
    return {"owner": owner.value if owner else None, "acknowledged_at": item.acknowledged_at,
            "acknowledged_by": item.acknowledged_by, "escalated_at": item.escalated_at}


def queue_statement(filters: dict[str, Any]) -> Select[Any]:
    """The queue's query with ``filters`` applied (``ReviewItemQuerySchema``'s names), most
    severe and oldest first; shared by the listing and its counts."""
    stmt = select(ReviewItem).order_by(SEVERITY_RANK, ReviewItem.created_at, ReviewItem.id)
    if "status" in filters:
        stmt = stmt.where(ReviewItem.status == ReviewStatus(filters["status"]))
    if "severity" in filters:
        stmt = stmt.where(ReviewItem.severity == Severity(filters["severity"]))
    for name in ("kind", "patient_id", "visit_id"):
        if name in filters:
            stmt = stmt.where(getattr(ReviewItem, name) == filters[name])
    if "owner" in filters:
        stmt = stmt.where(ReviewItem.kind.in_(
            [kind for kind, finding in FINDINGS.items() if finding.owner == filters["owner"]]))
    if "nurse_id" in filters:
        stmt = stmt.where(_about_nurse(filters["nurse_id"]))
    if "created_from" in filters:
        stmt = stmt.where(ReviewItem.created_at >= filters["created_from"])
    if "created_before" in filters:
        stmt = stmt.where(ReviewItem.created_at < filters["created_before"])
    return stmt


def _about_nurse(nurse_id: uuid.UUID) -> ColumnElement[bool]:
    """Items about a nurse: sent by one of her devices, or on a visit she has now."""
    return or_(ReviewItem.device_id.in_(select(Device.id).where(Device.user_id == nurse_id)),
               ReviewItem.visit_id.in_(select(Visit.id).where(Visit.nurse_id == nurse_id)))


def list_items(session: Session, filters: dict[str, Any], access: Access, page: int,
               size: int) -> Page:
    """Review items, most severe and oldest first; one audit event naming the patients."""
    found = list_page(session, queue_statement(filters), access, "review_items", page, size,
                      lambda item: item.patient_id)
    return Page(items=[view(item) for item in found.items], total=found.total)


def queue_counts(session: Session, filters: dict[str, Any], access: Access) -> dict[str, Any]:
    """The filtered queue's items by status and severity (counts name no patient: not audited)."""
    matched = scoped(queue_statement(filters), access.condition).order_by(None).subquery()
    by_status = {status.value: 0 for status in ReviewStatus}
    by_severity = {severity.value: 0 for severity in Severity}
    rows = session.execute(select(matched.c.status, matched.c.severity, func.count())
                           .group_by(matched.c.status, matched.c.severity))
    for status, severity, count in rows:
        by_status[ReviewStatus(status).value] += count
        by_severity[Severity(severity).value] += count
    return {"total": sum(by_status.values()), "by_status": by_status,
            "by_severity": by_severity}


def get_item(session: Session, item_id: uuid.UUID, access: Access) -> dict[str, Any]:
    """One review item, audited as a read of its patient's data."""
    return view(get_one(session, ReviewItem, item_id, access, lambda item: item.patient_id))


def open_counts(session: Session) -> dict[str, Any]:
    """Open items by severity and by kind (counts name no patient, so they are not audited)."""
    is_open = ReviewItem.status == ReviewStatus.OPEN
    by_severity = {severity.value: 0 for severity in Severity}
    for severity, count in session.execute(select(ReviewItem.severity, func.count()).where(
            is_open).group_by(ReviewItem.severity)):
        by_severity[Severity(severity).value] = count
    by_kind = {kind: count for kind, count in session.execute(select(
        ReviewItem.kind, func.count()).where(is_open).group_by(ReviewItem.kind))}
    return {"open": sum(by_severity.values()), "by_severity": by_severity,
            "by_kind": dict(sorted(by_kind.items()))}


def acknowledge_item(session: Session, item_id: uuid.UUID, role: Role,
                     access: Access) -> dict[str, Any]:
    """Record that the owner (or a role above) has taken the item; audited, committed.

    Stops its escalation. The first acknowledgement stands: a second is a 409 naming it.
    """
    item = get_one(session, ReviewItem, item_id, access, lambda i: i.patient_id,
                   "acknowledge")
    session.refresh(item, with_for_update=True)  # two at once: one acknowledges, one 409s
    if not may_acknowledge(item.kind, role):
        owner = owner_of(item.kind)
        raise Forbidden(f"A {item.kind.replace('_', ' ')} item is for "
                        f"{owner.value if owner else 'its owner'} to acknowledge.")
    if item.status is ReviewStatus.RESOLVED:
        raise Conflict("This item is resolved, which acknowledges it.",
                       {"resolved_at": item.resolved_at.isoformat() if item.resolved_at
                        else None}, code="already_resolved")
    if item.acknowledged_at is not None:
        raise Conflict("Someone has acknowledged this item already.",
                       {"acknowledged_at": item.acknowledged_at.isoformat(),
                        "acknowledged_by": str(item.acknowledged_by)},
                       code="already_acknowledged")
    item.acknowledged_at, item.acknowledged_by = access.now, access.actor.user_id
    audit.record(session, access.actor, "acknowledge", "review_items", at=access.now,
                 entity_id=item.id, patient_id=item.patient_id)
    session.commit()
    return view(item)


def _stored_document(session: Session, item: ReviewItem) -> tuple[str, Any] | None:
    """(record type, row) of the document ``details.record_id`` names, if one is stored."""
    try:
        record_id = uuid.UUID(str(item.details.get("record_id")))
    except ValueError:
        record_id = None
    found = [(name, row) for name, model in RECORD_TYPES.items()
             if record_id and (row := session.get(model, record_id)) is not None]
    # Ids of device documents are the device's: prefer the one on the item's own visit.
    found.sort(key=lambda pair: pair[1].visit_id != item.visit_id)
    return found[0] if found else None


def document_of(session: Session, item_id: uuid.UUID) -> tuple[str, Any] | None:
    """The document an item (already read through ``get_item``) is about, for its page."""
    item = session.get(ReviewItem, item_id)
    return _stored_document(session, item) if item is not None else None


def amendable_fields(document: Any) -> list[str]:
    """The fields of ``document`` a reviewer's amendment may correct."""
    return sorted(set(type(document).__table__.columns.keys()) - NOT_AMENDABLE)


def _document(session: Session, item: ReviewItem) -> tuple[str, Any]:
    """(record type, row) of the document ``details.record_id`` names, or 422."""
    found = _stored_document(session, item)
    if found is None:
        raise Invalid("This item is about no stored document; accept it instead.",
                      {"resolution": ["There is no document to act on."]})
    return found


def _lock(session: Session, *visit_ids: uuid.UUID) -> list[Visit | None]:
    """The visits, locked in id order (so two resolutions cannot deadlock)."""
    locked = {visit_id: session.get(Visit, visit_id, with_for_update=True)
              for visit_id in sorted(set(visit_ids))}
    return [locked[visit_id] for visit_id in visit_ids]


def _refresh_conflict_flag(session: Session, visit: Visit) -> None:
    """Drop the visit's conflict flag once no conflicting document is left on it."""
    if CONFLICT_FLAG not in visit.flags:
        return
    session.flush()
    for model in RECORD_TYPES.values():
        if session.scalar(select(model.id).where(
                model.visit_id == visit.id, model.conflict.is_(True),
                model.entered_in_error.is_(False)).limit(1)) is not None:
            return
    visit.flags = [flag for flag in visit.flags if flag != CONFLICT_FLAG]


def _in_error(session: Session, item: ReviewItem, data: dict[str, Any],
              now: datetime) -> dict[str, Any]:
    """Mark the document entered in error (never deleted); a visit event re-derives the visit."""
    name, document = _document(session, item)
    (visit,) = _lock(session, document.visit_id)
    assert visit is not None  # documents reference their visit by foreign key
    document.entered_in_error = True
    if name == "event":
        recompute(session, visit, now)
    _refresh_conflict_flag(session, visit)
    return {"record_type": name}


def _reassign(session: Session, item: ReviewItem, data: dict[str, Any],
              now: datetime) -> dict[str, Any]:
    """Move the document to the visit of the same patient it belongs to; re-derive both."""
    name, document = _document(session, item)
    target_id = data["target_visit_id"]
    if target_id == document.visit_id:
        raise Invalid("The documentation is already on that visit.",
                      {"target_visit_id": ["Name another visit."]})
    source, target = _lock(session, document.visit_id, target_id)
    assert source is not None
    if target is None or target.patient_id != source.patient_id:
        raise Invalid("Documentation can move only to another visit of the same patient.",
                      {"target_visit_id": ["Not a visit of this patient."]})
    if target.status is VisitStatus.CANCELLED:
        raise Invalid("That visit is cancelled.", {"target_visit_id": ["Cancelled."]})
    # A person placed it where it belongs: it no longer conflicts with its visit.
    document.visit_id, document.conflict = target.id, False
    recompute(session, source, now)
    recompute(session, target, now)
    _refresh_conflict_flag(session, source)
    return {"record_type": name, "from_visit_id": str(source.id),
            "target_visit_id": str(target.id)}


def _amend(session: Session, item: ReviewItem, data: dict[str, Any],
           now: datetime) -> dict[str, Any]:
    """Record the correction on the item (see the module docstring for why not a row)."""
    name, document = _document(session, item)
    amendable = amendable_fields(document)
    unknown = sorted(set(data["changes"]) - set(amendable))
    if unknown:
        raise Invalid(f"Not correctable fields of a {name} record: {', '.join(unknown)}.",
                      {"changes": [f"Correctable: {', '.join(amendable)}."]})
    return {"record_type": name, "changes": data["changes"]}


def _staff_amendment(session: Session, item: ReviewItem, data: dict[str, Any],
                     access: Access) -> uuid.UUID:
    """The reviewer's correction, stored beside the original and shown with it."""
    name, document = _document(session, item)
    amendment = Amendment(
        id=uuid.uuid4(), visit_id=document.visit_id, patient_id=item.patient_id,
        nurse_id=access.actor.user_id, device_id=None, mutation_id=None, batch_id=None,
        seq=None, occurred_at_text=access.now.isoformat(), received_at=access.now,
        target_type=name, target_id=document.id, reason=data["comment"],
        changes=data["changes"], flags=["reviewer_correction"])
    session.add(amendment)
    return amendment.id


def _accept(session: Session, item: ReviewItem, data: dict[str, Any],
            now: datetime) -> dict[str, Any]:
    """The data stands as it is."""
    return {}


Action = Callable[[Session, ReviewItem, dict[str, Any], datetime], dict[str, Any]]
ACTIONS: dict[str, Action] = {ACCEPT: _accept, AMEND: _amend, REASSIGN: _reassign,
                              IN_ERROR: _in_error}


def _check_resolvable(item: ReviewItem, resolution: str) -> None:
    if item.status is ReviewStatus.RESOLVED:
        raise Conflict("This item is already resolved.",
                       {"resolved_at": item.resolved_at.isoformat() if item.resolved_at
                        else None, "resolution": (item.details.get("resolved_with") or {})
                        .get("resolution")}, code="already_resolved")
    allowed = allowed_resolutions(item)
    if resolution not in allowed:
        raise Invalid(f"A {item.kind.replace('_', ' ')} item may be resolved only as: "
                      f"{', '.join(allowed) or 'nothing (the system closes it)'}.",
                      {"resolution": [f"Must be one of: {', '.join(allowed)}."]})


def resolve_item(session: Session, item_id: uuid.UUID, data: dict[str, Any],
                 access: Access) -> dict[str, Any]:
    """Resolve an open item as one of its allowed resolutions; audited, committed."""
    item = get_one(session, ReviewItem, item_id, access, lambda i: i.patient_id, "resolve")
    session.refresh(item, with_for_update=True)  # two reviewers at once: one wins, one 409s
    resolution = data["resolution"]
    _check_resolvable(item, resolution)
    outcome = ACTIONS[resolution](session, item, data, access.now)
    if resolution == AMEND:
        outcome["amendment_id"] = str(_staff_amendment(session, item, data, access))
    item.status, item.resolved_at = ReviewStatus.RESOLVED, access.now
    item.resolved_by, item.resolution = access.actor.user_id, data["comment"]
    item.details = {**item.details, "resolved_with": {"resolution": resolution, **outcome}}
    audit.record(session, access.actor, "resolve", "review_items", at=access.now,
                 entity_id=item.id, patient_id=item.patient_id,
                 details={"resolution": resolution, "record_id": item.details.get("record_id"),
                          **{k: v for k, v in outcome.items() if k.endswith("visit_id")}})
    try:
        session.commit()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("The visit changed while this was resolved (a sync arrived); "
                       "read the item again and retry.", code="stale_version") from exc
    return view(item)
