"""The visit's state, derived from everything documented on it, in device ``seq`` order.

Check-in, check-out, signature and "missed" are events; the visit's status, times and lock
are a function of the set of events, never of the order batches arrived in. So a check-out
that arrives before its check-in, or a note that arrives after the signature it preceded,
ends in the same record as if everything had arrived in order.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, literal, select, union_all
from sqlalchemy.orm import Session

from server.models import (
    InfusionAdministration,
    ReviewItem,
    Visit,
    VisitEvent,
    VisitNote,
    VisitStatus,
    VitalSign,
)
from server.reconcile import visit_writes
from server.reconcile.findings import open_review
from server.review_items import CLOSED_BY_DOCUMENTATION, close_items, keyed_items

DOCUMENT_MODELS: tuple[Any, ...] = (VitalSign, InfusionAdministration, VisitNote)
AFTER_SIGNATURE = "after_signature"
# Statuses that only documentation sets, and that documentation can therefore undo.
DERIVED = frozenset({VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED, VisitStatus.MISSED})
# Reasons the missed-visits job gives: its verdict stands until documentation arrives.
JOB_MISSED_REASONS = frozenset({"no_documentation", "unassigned"})


def _events(session: Session, visit: Visit) -> list[VisitEvent]:
    return events_of(session, [visit.id])[visit.id]


@functools.cache
def _events_query() -> Any:
    """Built once per process, its visits a parameter: building it was a tenth of its
    cost (and the later documents' union, below, half of theirs)."""
    return select(VisitEvent).where(
        VisitEvent.visit_id.in_(bindparam("visit_ids", expanding=True)),
        VisitEvent.conflict.is_(False), VisitEvent.entered_in_error.is_(False),
    ).order_by(VisitEvent.device_id, VisitEvent.seq)


def events_of(session: Session, visit_ids: list[Any]) -> dict[Any, list[VisitEvent]]:
    """The events ``recompute`` derives each visit from, for many visits in one query."""
    found: dict[Any, list[VisitEvent]] = {visit_id: [] for visit_id in visit_ids}
    for event in session.scalars(_events_query(), {"visit_ids": visit_ids}):
        found[event.visit_id].append(event)
    return found


def _set(visit: Visit, **values: Any) -> None:
    """Assign only what changed, so re-deriving an unchanged state bumps no version."""
    for name, value in values.items():
        if getattr(visit, name) != value:
            setattr(visit, name, value)


def _derive(visit: Visit, events: list[VisitEvent]) -> None:
    by_kind: dict[str, list[VisitEvent]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    check_ins, check_outs = by_kind.get("check_in", []), by_kind.get("check_out", [])
    signs, missed = by_kind.get("sign", []), by_kind.get("missed", [])
    if check_ins:
        done = bool(check_outs)
        _set(visit, status=VisitStatus.COMPLETED if done else VisitStatus.IN_PROGRESS,
             checked_in_at=check_ins[0].at,
             checked_out_at=check_outs[-1].at if done else None,
             signed_at=signs[-1].at if done and signs else None, missed_reason=None)
    elif missed:
        _set(visit, status=VisitStatus.MISSED, missed_reason=missed[-1].details.get("reason"),
             checked_in_at=None, checked_out_at=None, signed_at=None)
    elif visit.status in DERIVED and not marked_by_job(visit):
        # Its only check-in was entered in error or moved away: back to where it started.
        _set(visit, status=VisitStatus.SCHEDULED, checked_in_at=None, checked_out_at=None,
             signed_at=None, missed_reason=None)


def marked_by_job(visit: Visit) -> bool:
    """Late or missed by the missed-visits job rather than by anything documented."""
    return visit.status is VisitStatus.LATE_UNKNOWN or (
        visit.status is VisitStatus.MISSED and visit.missed_reason in JOB_MISSED_REASONS)


@functools.cache
def _later_documents_query() -> Any:
    """``_later_documents``' UNION ALL, built once per process on parameters."""
    visit_ids: BindParameter[Any] = bindparam("visit_ids", expanding=True)
    devices: BindParameter[Any] = bindparam("devices", expanding=True)
    earliest: BindParameter[Any] = bindparam("earliest")
    return union_all(*(
        select(literal(index).label("kind"), model.id, model.visit_id, model.device_id,
               model.seq)
        .where(model.visit_id.in_(visit_ids), model.device_id.in_(devices),
               model.seq > earliest, model.conflict.is_(False),
               model.entered_in_error.is_(False))
        for index, model in enumerate(DOCUMENT_MODELS)))


def _later_documents(session: Session, visit_ids: list[Any], signs: list[VisitEvent]
                     ) -> dict[Any, list[Any]]:
    """The visits' documents by these signatures' devices after the earliest signature,
    as plain rows (id, visit_id, device_id, seq) by table, every table in one query (a
    UNION ALL: one per table was three of a push's round trips, whatever its size).

    Plain rows: in a batch of many visits most of these are later visits' documents, none
    of them late, not worth an entity each; the late ones (rare) are then taken from the
    session, where a push has usually just put them.
    """
    devices = sorted({sign.device_id for sign in signs}, key=str)
    earliest = min(sign.seq for sign in signs)
    rows = session.execute(_later_documents_query(), {
        "visit_ids": visit_ids, "devices": devices, "earliest": earliest}).all()
    found: dict[Any, list[Any]] = {model: [] for model in DOCUMENT_MODELS}
    for row in rows:
        found[DOCUMENT_MODELS[row.kind]].append(row)
    return found


def documents_after(session: Session, signed: dict[Any, list[VisitEvent]]
                    ) -> dict[Any, list[Any]]:
    """Each visit's documents that a signature of theirs preceded (same device, later seq),
    for many visits: one query for every document table, not one per visit and signature."""
    late: dict[Any, list[Any]] = {visit_id: [] for visit_id in signed}
    signs = [sign for visit_signs in signed.values() for sign in visit_signs]
    if not signs:
        return late
    found = _later_documents(session, list(signed), signs)
    for model in DOCUMENT_MODELS:
        for visit_id, visit_signs in signed.items():
            late[visit_id] += [(sign, session.get_one(model, row.id))
                               for sign in visit_signs for row in found[model]
                               if row.visit_id == visit_id
                               and row.device_id == sign.device_id
                               and row.seq > sign.seq]
    for visit_id, pairs in late.items():  # by signature, then table, as each was found
        order = {id(sign): n for n, sign in enumerate(signed[visit_id])}
        pairs.sort(key=lambda pair: order[id(pair[0])])
    return late


def _flag_after_signature(session: Session, visit: Visit, late: list[Any],
                          now: datetime) -> list[ReviewItem]:
    """``late``: (signature, document) pairs from ``documents_after``."""
    # Each re-derivation re-opens these: one read finds the stored ones, not one per item.
    known = keyed_items(session, visit.id) if late else {}
    items = []
    for sign, document in late:
        if AFTER_SIGNATURE not in document.flags:
            document.flags = [*document.flags, AFTER_SIGNATURE]
        what = document.__tablename__.rstrip("s").replace("_", " ")
        article = "An" if what[0] in "aeiou" else "A"
        items.append(open_review(
            session, visit, "documentation_after_signature",
            f"{article} {what} was documented after the visit was signed.",
            details={"signed_seq": sign.seq, "document_seq": document.seq},
            record_id=document.id, device_id=document.device_id,
            mutation_id=document.mutation_id, now=now, known=known))
    return items


def _flag_missed_but_documented(session: Session, visit: Visit, events: list[VisitEvent],
                                now: datetime) -> list[ReviewItem]:
    """Both sides of "missed" and "checked in": QC may void the report or the check-in."""
    missed = [e for e in events if e.kind == "missed"]
    check_ins = [e for e in events if e.kind == "check_in"]
    if not (missed and check_ins):
        return []
    reason = missed[-1].details.get("reason")
    known = keyed_items(session, visit.id)
    return [
        *(open_review(session, visit, "missed_but_documented",
                      "The visit was reported missed and also checked in.",
                      details={"missed_reason": e.details.get("reason")}, record_id=e.id,
                      device_id=e.device_id, mutation_id=e.mutation_id, now=now,
                      known=known)
          for e in missed),
        *(open_review(session, visit, "check_in_on_closed_visit",
                      "A check-in was documented on a visit reported missed.",
                      details={"status": "missed", "missed_reason": reason}, record_id=e.id,
                      device_id=e.device_id, mutation_id=e.mutation_id, now=now,
                      known=known)
          for e in check_ins)]


def _signed(visit: Visit, events: list[VisitEvent]) -> list[VisitEvent]:
    """The signatures that lock a visit's documentation: a completed visit's."""
    if visit.status is not VisitStatus.COMPLETED:
        return []
    return [e for e in events if e.kind == "sign"]


def _derive_and_close(session: Session, visit: Visit, events: list[VisitEvent],
                      now: datetime) -> None:
    was_marked = marked_by_job(visit)
    _derive(visit, events)
    if was_marked and not marked_by_job(visit):
        # The documentation (a check-in, or her own "missed" report) was on its way after
        # all: the alert is over, the documented record stands.
        close_items(session, visit.id, CLOSED_BY_DOCUMENTATION, "documentation_arrived", now)


def recompute_many(session: Session, visits: list[Visit], now: datetime,
                   events: dict[Any, list[VisitEvent]]) -> list[ReviewItem]:
    """``recompute`` for every visit a batch touched, with one flush for them all (their
    updates, revisions and feed entries then go out a statement per table, not per visit;
    on PostgreSQL the updates too, ``visit_writes``).

    ``events``: the visits' from ``events_of``, read after everything was flushed. Returns
    every review item the derivations opened or found.
    """
    for visit in visits:
        _derive_and_close(session, visit, events[visit.id], now)
    # One UPDATE for them all on PostgreSQL, not one per visit (reconcile.visit_writes).
    visit_writes.write_derived(session, visits)
    signed = {visit.id: signs for visit in visits if (signs := _signed(visit, events[visit.id]))}
    late = documents_after(session, signed) if signed else {}
    items: list[ReviewItem] = []
    for visit in visits:
        items += _flag_after_signature(session, visit, late.get(visit.id, []), now)
        items += _flag_missed_but_documented(session, visit, events[visit.id], now)
    session.flush()
    return items


def recompute(session: Session, visit: Visit, now: datetime, about: Any = None,
              events: list[VisitEvent] | None = None) -> list[ReviewItem]:
    """Re-derive the visit from its events and flag what contradicts them.

    Returns the review items about record ``about`` (all of them without it), so that a
    handler reports the item its own mutation caused, whichever mutation arrived first.
    ``events``: the visit's from ``events_of``, read after everything was flushed.
    """
    session.flush()
    events = _events(session, visit) if events is None else events
    items = recompute_many(session, [visit], now, {visit.id: events})
    if about is None:
        return items
    return [item for item in items if item.details.get("record_id") == str(about)]
