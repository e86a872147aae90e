"""Review items: every kind the system raises, and the one writer that opens and closes them.

Reconciliation (a push contradicts the record) and the scheduled jobs (a window passed
with no check-in) both put doubts in front of a person. The table of kinds and the writer
live here, below both layers — this module imports models (and ``review_delivery``, which
tells the nurse's devices of a new item, and the notification writer, which tells the
physicians of a critical one; both models only), never flask, ``reconcile`` or
``scheduler`` — so that QC reads in one place what the system flags, how each flag may be
resolved, and when two findings are the same fact.

Deduplication is the database's: ``review_items.dedupe_key`` is unique, and an item is
opened with ``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING`` (PostgreSQL and SQLite), so
two transactions finding the same fact at once store one item and neither fails. The key
is ``kind:subject[:qualifier]`` (``fact_key``); the kind is its first part, so two kinds
never share a key:

- reconciliation findings: ``{kind}:{visit_id}:{record_id}`` — once per kind, visit and
  record (the document, event or administration the doubt is about); ``{kind}:{visit_id}``
  for a finding about no record;
- ``visit_missed``, ``visit_missed_unassigned``, ``visit_late_unknown``: ``{kind}:{visit_id}``
  — once per visit, ever;
- ``silent_device``: ``silent_device:{nurse_id}:{local date}`` — once per nurse and
  agency-local day: the date is the period (the earlier code's "created since the day
  began" filter);
- ``pump_pm_due``: ``pump_pm_due:{pump_id}:{due date}`` — once per pump and due date,
  whichever patient has the pump (the earlier read-back also matched the patient, so a pump
  moved to another patient before the same due date was flagged again);
- ``documented_visit_kept``: ``documented_visit_kept:{visit_id}:{change}`` — once per
  visit and automatic change held back (``order_discontinued``, ``patient_discharged``,
  ``schedule_changed``, ...), however often generation runs again;
- ``documented_visit_cancelled`` (a coordinator cancelled a documented visit by hand):
  ``{kind}:{visit_id}`` — once per visit;
- ``audit_chain_broken``: ``audit_chain_broken:{seq}:{problem}`` — once per break, by the
  chain's first broken link;
- ``pump_recalled``, ``pump_out_of_service`` (a pump withdrawn, traced to the patients it
  served): ``{kind}:{pump_id}:{patient_id}:{recall_id}`` — once per pump, patient and
  withdrawal (a ``pump_recalls`` row), so a recall list imported twice opens nothing new;
- ``news2_warning``, ``news2_critical``: ``{kind}:{visit_id}:{taken_at}`` (UTC, ISO 8601)
  — once per level and set of vital signs (a visit's readings taken at one time); a set
  that rises from warning to critical gets both;
- no key (``None``): never deduplicated, e.g. ``seq_gap``, whose check keeps one open item
  per device under the device's lock.

The status is not part of the key: a resolved item still stands for its fact, so
re-deriving a visit or re-running a job does not reopen what a person already resolved.

Every kind has an owner role (``Finding.owner``): QC for clinical documentation, the
coordinator for scheduling, EVV, devices and pump logistics. A critical item is everybody's
business at once: when ``open_item`` stores one about a patient, the physicians treating
that patient are notified (``services.notifications.tell_physicians``) — here, in the one
writer, so that no rule that opens a critical item has to remember it; and if nobody
acknowledges it in time, the coordinators are (``server.scheduler.escalation``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server import review_delivery
from server.models import ReviewItem, ReviewStatus, Role, Severity
from server.services.notifications import tell_physicians

ACCEPT, AMEND, REASSIGN, IN_ERROR = "accept", "amend", "reassign_documentation", "entered_in_error"
KEY_LENGTH = 200  # review_items.dedupe_key


QC, COORD = Role.QC, Role.COORDINATOR
# Who may acknowledge an item, lowest first: its owner role and every role after it (a QC
# item escalates to the coordinators, who must be able to take it; admins take anything).
ACKNOWLEDGE_CHAIN = (Role.QC, Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True)
class Finding:
    """A kind of doubt: how serious, what a person may do about it, and whose it is."""

    severity: Severity
    resolutions: tuple[str, ...]
    owner: Role  # QC or COORD (ADMIN for the audit trail): whose queue it is in (``?owner=``)


_DOC = (ACCEPT, AMEND, REASSIGN, IN_ERROR)
FINDINGS: dict[str, Finding] = {
    # the visit left the nurse while she documented it offline
    "documentation_on_reassigned_visit": Finding(Severity.WARNING, _DOC, QC),
    "documentation_on_rescheduled_visit": Finding(Severity.WARNING, _DOC, QC),
    "documentation_on_cancelled_visit": Finding(Severity.WARNING, _DOC, QC),
    # visit state machine
    "check_in_on_closed_visit": Finding(Severity.WARNING, _DOC, QC),
    "documentation_after_signature": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR), QC),
    "missed_but_documented": Finding(Severity.WARNING, _DOC, QC),
    # EVV
    "evv_exception": Finding(Severity.WARNING, (ACCEPT, IN_ERROR), COORD),
    # infusion against the order
    "no_active_order": Finding(Severity.WARNING, _DOC, QC),
    "medication_mismatch": Finding(Severity.CRITICAL, (ACCEPT, AMEND, IN_ERROR), QC),
    "dose_outside_order": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR), QC),
    "rate_differs_from_order": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR), QC),
    "drug_expired": Finding(Severity.CRITICAL, (ACCEPT, AMEND, IN_ERROR), QC),
    "possible_duplicate_administration": Finding(Severity.WARNING, (ACCEPT, IN_ERROR), QC),
    "adverse_reaction": Finding(Severity.CRITICAL, (ACCEPT, AMEND), QC),
    # pump verification
    "pump_unknown": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR), COORD),
    "pump_assigned_elsewhere": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR), COORD),
    "pump_maintenance_overdue": Finding(Severity.WARNING, (ACCEPT, AMEND), COORD),
    "pump_not_in_service": Finding(Severity.CRITICAL, (ACCEPT, AMEND), COORD),
    # sync
    "seq_gap": Finding(Severity.WARNING, (ACCEPT,), COORD),
    # scheduled jobs (server/scheduler): acknowledged, or closed by the system when
    # documentation arrives
    "visit_missed": Finding(Severity.WARNING, (ACCEPT,), COORD),
    "visit_missed_unassigned": Finding(Severity.CRITICAL, (ACCEPT,), COORD),
    "visit_late_unknown": Finding(Severity.INFO, (ACCEPT,), COORD),
    "silent_device": Finding(Severity.WARNING, (ACCEPT,), COORD),
    "pump_pm_due": Finding(Severity.INFO, (ACCEPT,), COORD),
    # scheduling (services/visit_generation, services/visits): a documented visit the
    # system kept instead of cancelling or moving it, or that a coordinator cancelled
    "documented_visit_kept": Finding(Severity.WARNING, (ACCEPT,), COORD),
    "documented_visit_cancelled": Finding(Severity.WARNING, (ACCEPT,), COORD),
    # the nightly audit-chain check: someone changed the audit trail outside the app; only an
    # admin can take that in hand (the coordinators still hear of it if nobody does)
    "audit_chain_broken": Finding(Severity.CRITICAL, (ACCEPT,), Role.ADMIN),
    # recall and pump traceability (issue 11, item 1; services/recalls): a pump became
    # recalled or out of service; one item per patient it served in the last 90 days
    "pump_recalled": Finding(Severity.CRITICAL, (ACCEPT,), COORD),
    "pump_out_of_service": Finding(Severity.CRITICAL, (ACCEPT,), COORD),
    # issue 11 item 3 (safety-flags): NEWS2 early-warning score of a set of vital signs
    # (server/reconcile/early_warning.py); the level decides the kind, the thresholds are
    # configuration. Accepted once the response is under way; a wrong reading is amended
    # or voided on the vital sign itself.
    "news2_warning": Finding(Severity.WARNING, (ACCEPT,), QC),
    "news2_critical": Finding(Severity.CRITICAL, (ACCEPT,), QC),
}
# The missed-visits job's alerts: what they warned of is over once documentation arrives.
CLOSED_BY_DOCUMENTATION = ("visit_missed", "visit_missed_unassigned", "visit_late_unknown")


class Opened(NamedTuple):
    """The stored item for a fact, and whether this call stored it."""

    item: ReviewItem
    new: bool


def owner_of(kind: str) -> Role | None:
    """The role whose queue ``kind`` is in (None: a kind this table no longer knows)."""
    finding = FINDINGS.get(kind)
    return finding.owner if finding else None


def may_acknowledge(kind: str, role: Role) -> bool:
    """Whether ``role`` may acknowledge an item of ``kind``: its owner or a role above."""
    owner = owner_of(kind) or Role.QC
    return role in ACKNOWLEDGE_CHAIN[ACKNOWLEDGE_CHAIN.index(owner):]


def fact_key(kind: str, subject: Any, qualifier: Any = None) -> str:
    """The ``dedupe_key`` of one fact: ``kind:subject[:qualifier]`` (see the module doc)."""
    key = f"{kind}:{subject}" if qualifier is None else f"{kind}:{subject}:{qualifier}"
    if len(key) > KEY_LENGTH:  # cut short, two facts would share a key
        raise ValueError(f"dedupe key longer than {KEY_LENGTH} characters: {key!r}")
    return key


def _insert(session: Session) -> Callable[..., Any]:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def open_item(session: Session, kind: str, summary: str, *, dedupe_key: str | None,
              now: datetime, patient_id: uuid.UUID | None = None,
              visit_id: uuid.UUID | None = None, device_id: uuid.UUID | None = None,
              mutation_id: uuid.UUID | None = None, details: dict[str, Any] | None = None,
              known: Mapping[str, ReviewItem] | None = None) -> Opened:
    """Store an item of ``kind`` unless one with ``dedupe_key`` is stored (then that one);
    a new critical item about a patient notifies her physicians in the same transaction.

    One statement when the item is new, two when it exists, none when ``known`` (from
    ``keyed_items``) holds it; either way the item is an ORM object of ``session``. On
    PostgreSQL an insert that meets another transaction's uncommitted key waits for it,
    then finds its item.
    """
    if known is not None and dedupe_key is not None and dedupe_key in known:
        return Opened(known[dedupe_key], False)
    finding = FINDINGS[kind]
    values = {
        "id": uuid.uuid4(), "kind": kind, "severity": finding.severity,
        "status": ReviewStatus.OPEN, "summary": summary[:300], "patient_id": patient_id,
        "visit_id": visit_id, "device_id": device_id, "mutation_id": mutation_id,
        "created_at": now, "dedupe_key": dedupe_key,
        "details": {**(details or {}), "allowed_resolutions": list(finding.resolutions)}}
    statement = (_insert(session)(ReviewItem).values(values)
                 .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(ReviewItem))
    item = session.scalars(statement).first()
    if item is not None:
        review_delivery.announce(session, item, now)  # the nurse's devices (item 4)
        if finding.severity is Severity.CRITICAL:
            tell_physicians(session, item, now)  # her physicians (item 5)
        return Opened(item, True)
    stored = session.scalars(select(ReviewItem).where(ReviewItem.dedupe_key == dedupe_key))
    return Opened(stored.one(), False)


def keyed_items(session: Session, visit_id: uuid.UUID) -> dict[str, ReviewItem]:
    """The visit's stored items by key, read once for a re-derivation that re-opens many.

    Only a shortcut: an item it holds is stored for good (items are never deleted), and a
    key it misses still goes through the insert, where the unique key decides.
    """
    return {item.dedupe_key: item for item in session.scalars(select(ReviewItem).where(
        ReviewItem.visit_id == visit_id, ReviewItem.dedupe_key.is_not(None)))
        if item.dedupe_key is not None}


def close_items(session: Session, visit_id: uuid.UUID, kinds: tuple[str, ...],
                resolution: str, now: datetime) -> int:
    """The system resolves the open items of ``kinds`` on a visit (what they warned of is
    over); how many it closed."""
    items = session.scalars(select(ReviewItem).where(
        ReviewItem.visit_id == visit_id, ReviewItem.kind.in_(kinds),
        ReviewItem.status == ReviewStatus.OPEN)).all()
    for item in items:
        item.status, item.resolved_at = ReviewStatus.RESOLVED, now
        item.resolution = resolution
        item.details = {**item.details, "resolved_with": {"resolution": resolution,
                                                          "by": "system"}}
    return len(items)
