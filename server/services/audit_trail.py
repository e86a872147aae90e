"""Reading the audit trail: the privacy officer's filters, pages and CSV export.

Reading it is itself audited (``audit_read``, the filters in its details: ids, times and
codes only), before any row is returned. Events are given in ``seq`` order, which is
commit order (numbers are handed out under the chain head's lock), so an export holds
exactly the events committed before its own ``audit_read`` and later events never slip
between its batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server import audit
from server.csv_cells import cell
from server.errors import Invalid
from server.models import AuditEvent, Patient, User
from server.services.records import MAX_PAGE, Access, Page

EXPORT_BATCH = 1000
EVENT_COLUMNS = ("seq", "id", "at", "actor_user_id", "actor_device_id", "action", "entity_type",
                 "entity_id", "patient_id", "outcome", "remote_addr", "request_id", "details",
                 "prev_hash", "hash")
CSV_COLUMNS = ("seq", "at", "actor_user_id", "actor_name", "actor_role", "actor_device_id",
               "action", "entity_type", "entity_id", "patient_id", "outcome", "remote_addr",
               "request_id", "details", "id", "hash")


def _query(filters: dict[str, Any], newest_first: bool = False) -> Select[Any]:
    """Events matching ``filters``, with the actor's name and role and the patient's MRN,
    in chain order (or its reverse, as the console's page reads the latest first)."""
    stmt = (select(*(getattr(AuditEvent, name) for name in EVENT_COLUMNS),
                   User.name.label("actor_name"), User.role.label("actor_role"),
                   Patient.mrn.label("patient_mrn"))
            .outerjoin(User, User.id == AuditEvent.actor_user_id)
            .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
            .order_by(AuditEvent.seq.desc() if newest_first else AuditEvent.seq))
    conditions = {
        "patient_id": lambda v: AuditEvent.patient_id == v,
        "user_id": lambda v: AuditEvent.actor_user_id == v,
        "since": lambda v: AuditEvent.at >= v,
        "until": lambda v: AuditEvent.at < v,
        "action": lambda v: AuditEvent.action == v,
        "outcome": lambda v: AuditEvent.outcome == v,
    }
    for name, value in filters.items():
        stmt = stmt.where(conditions[name](value))
    return stmt


def _row(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    role = values["actor_role"]
    values["actor_role"] = role.value if role is not None else None
    return values


def _audit_read(session: Session, access: Access, filters: dict[str, Any], form: str,
                count: int | None = None) -> AuditEvent:
    """The event of this reading of the trail, committed."""
    details: dict[str, Any] = {"format": form, "filters": {
        name: value.isoformat() if hasattr(value, "isoformat") else str(value)
        for name, value in sorted(filters.items())}}
    if count is not None:
        details["count"] = count
    event = audit.record(session, access.actor, "audit_read", "audit_events", at=access.now,
                         patient_id=filters.get("patient_id"), details=details)
    session.commit()
    return event


def list_events(session: Session, filters: dict[str, Any], access: Access, page: int,
                page_size: int, newest_first: bool = False) -> Page:
    """One page of the matching events, oldest first (the API) or newest first; audited."""
    if page > MAX_PAGE:
        raise Invalid("The page number is too large.",
                      {"query": {"page": [f"Must be at most {MAX_PAGE}."]}})
    stmt = _query(filters, newest_first)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = [_row(row) for row in session.execute(
        stmt.limit(page_size).offset((page - 1) * page_size))]
    _audit_read(session, access, filters, "json", len(items))
    return Page(items=items, total=total or 0)


def export(session: Session, filters: dict[str, Any], access: Access) -> Iterator[dict[str, Any]]:
    """Every matching event committed before this export, audited first, read in batches."""
    marker = _audit_read(session, access, filters, "csv")
    return _batches(session, _query(filters).where(AuditEvent.seq < marker.seq))


def _batches(session: Session, stmt: Select[Any]) -> Iterator[dict[str, Any]]:
    """``stmt`` by keyset on seq, each batch its own short read transaction (on SQLite a
    transaction holds the write lock: never while a slow client downloads)."""
    last = 0
    while True:
        rows = [_row(row) for row in session.execute(
            stmt.where(AuditEvent.seq > last).limit(EXPORT_BATCH))]
        session.commit()
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header line, then one line per event (CRLF, RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([cell(row[name]) for name in CSV_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()
