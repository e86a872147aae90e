"""The privacy officer's audit trail page: her filters resolved to ids, a page of events
(newest first) and the hash chain's state.

The console's form names a patient by MRN and a staff member by e-mail or name, where the
API takes ids: each is resolved through the service the API lists with
(``patients.list_patients``, ``users.list_users``), so the lookup is audited as theirs
are. The chain's state only reads what is already kept (the head row, the nightly check's
last run, its open review items): walking the chain stays the nightly job's and
``infusync audit verify``'s work, never a page view's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit_verify import head
from server.errors import Invalid
from server.models import ReviewItem, ReviewStatus
from server.scheduler.audit_chain_check import KIND as CHAIN_BROKEN
from server.services import audit_trail, job_runs, patients, users
from server.services.records import Access, Page

CHAIN_JOB = "audit_chain"
USER_MATCHES = 5  # the names a too-broad user search quotes back


@dataclass(frozen=True)
class ChainState:
    """The chain as last seen: its head, the nightly check's last run, breaks still open."""

    head_seq: int
    head_hash: str
    checked_at: datetime | None
    check_outcome: str | None
    open_breaks: int


@dataclass(frozen=True)
class TrailPage:
    """What the audit page shows: one page of events and the chain's state."""

    events: Page
    chain: ChainState


def patient_id_by_mrn(session: Session, mrn: str, access: Access) -> uuid.UUID:
    """The patient with this MRN (exactly), or a refusal naming the ``patient`` field."""
    found = patients.list_patients(session, {"mrn": mrn}, access, 1, 1)
    if not found.items:
        raise Invalid(f"No patient has the MRN “{mrn}”.",
                      {"patient": ["No patient has this MRN. Enter it as on her chart."]})
    patient_id: uuid.UUID = found.items[0].id
    return patient_id


def user_id_by_name(session: Session, text: str, access: Access) -> uuid.UUID:
    """The one staff member whose e-mail is ``text``, or whose name or e-mail alone contains
    it; none or several is a refusal naming the ``user`` field (with a few of the names)."""
    found = users.list_users(session, {"q": text}, access, 1, USER_MATCHES)
    exact = [u for u in found.items if u.email.casefold() == text.casefold()]
    if exact:
        user_id: uuid.UUID = exact[0].id
        return user_id
    if found.total == 1:
        user_id = found.items[0].id
        return user_id
    if not found.items:
        raise Invalid(f"No staff member matches “{text}”.",
                      {"user": ["No staff member has this name or e-mail."]})
    names = ", ".join(u.name for u in found.items)
    raise Invalid(f"{found.total} staff members match “{text}”.",
                  {"user": [f"{found.total} staff members match ({names}"
                            f"{', …' if found.total > len(found.items) else ''}): "
                            "type more of the name, or the e-mail."]})


def chain_state(session: Session) -> ChainState:
    """The head row, the last run of the nightly check and the breaks it opened, unresolved."""
    seq, digest = head(session)
    runs = job_runs.list_runs(session, {"job_id": CHAIN_JOB}, 1, 1).items
    last = runs[0] if runs else None
    open_breaks = session.scalar(select(func.count()).select_from(ReviewItem).where(
        ReviewItem.kind == CHAIN_BROKEN, ReviewItem.status == ReviewStatus.OPEN)) or 0
    return ChainState(seq, digest, last.finished_at if last else None,
                      last.outcome if last else None, open_breaks)


def trail_page(session: Session, filters: dict[str, Any], access: Access, page: int,
               size: int) -> TrailPage:
    """A page of the matching events, newest first (one ``audit_read`` event), and the
    chain's state read before it (so the page's own read is not what it reports)."""
    chain = chain_state(session)
    events = audit_trail.list_events(session, filters, access, page, size, newest_first=True)
    return TrailPage(events, chain)
