"""The visit's state derived from its events (server/reconcile/visit_state.py), directly.

Each arrival is one batch: the handler stores the event or document, then ``recompute``
re-derives the visit as the push settles it. The status a coordinator sees and the items
in the QC queue must depend on the events' ``seq`` order only, never on the order they
arrived in. The push tier (tests/integration/reconcile/test_visit_state.py) checks what the
device is told.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import review_items
from server.models import (
    ReviewItem,
    ReviewStatus,
    Severity,
    Visit,
    VisitEvent,
    VisitNote,
    VisitStatus,
    VitalSign,
)
from server.reconcile import HANDLERS, MutationContext
from server.reconcile.visit_state import recompute
from sync.ledger import Outcome
from tests.integration.reconcile.conftest import CHECK_IN_AT, CHECK_OUT_AT, HOME, SIGN_AT
from tests.integration.reconcile.rules.conftest import Context

WIRE: dict[str, dict[str, Any]] = {
    "visit.check_in": {"at": "2026-11-23T09:55:00-05:00", "location": HOME},
    "visit.check_out": {"at": "2026-11-23T11:10:00-05:00", "location": HOME},
    "visit.sign": {"at": "2026-11-23T11:15:00-05:00"},
    "visit.missed": {"at": "2026-11-23T10:20:00-05:00", "reason": "patient_not_home",
                     "note": "No answer at the door"},
    "visit.note": {"category": "assessment", "text": "Site clean, no redness."},
    "vitals.record": {"code": "8867-4", "value": 72, "unit": "/min",
                      "taken_at": "2026-11-23T10:10:00-05:00"},
}
Arrive = Callable[..., None]
Queue = list[tuple[str, Severity, str, ReviewStatus]]


def documented(context: Context, *kinds: str) -> list[MutationContext]:
    """One mutation of each kind from nurse_a's phone, in this ``seq`` order."""
    return [context(kind, WIRE[kind]) for kind in kinds]


@pytest.fixture
def arrive(session: Session, visit: Visit, clock: Callable[[], datetime]) -> Arrive:
    """``arrive(ctx, ...)``: each mutation applied as its own batch, then the visit
    re-derived from all its events."""

    def run(*contexts: MutationContext) -> None:
        for ctx in contexts:
            assert HANDLERS[ctx.mutation["type"]](ctx).outcome is Outcome.APPLIED
            ctx.cache.insert_pending()
            recompute(session, visit, clock())

    return run


def queue(session: Session, visit: Visit) -> Queue:
    """The visit's entries in the QC queue: kind, severity, message and status."""
    return sorted((item.kind, item.severity, item.summary, item.status)
                  for item in session.scalars(select(ReviewItem).where(
                      ReviewItem.visit_id == visit.id)))


def _times(visit: Visit) -> tuple[Any, ...]:
    return (visit.status, visit.checked_in_at, visit.checked_out_at, visit.signed_at)


# Status from check-in, check-out and signature --------------------------------------------

def test_check_in_starts_the_visit_check_out_completes_it_the_signature_signs_it(
        session: Session, context: Context, arrive: Arrive, visit: Visit) -> None:
    check_in, check_out, sign = documented(context, "visit.check_in", "visit.check_out",
                                           "visit.sign")
    arrive(check_in)
    assert _times(visit) == (VisitStatus.IN_PROGRESS, CHECK_IN_AT, None, None)
    arrive(check_out)
    assert _times(visit) == (VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT, None)
    arrive(sign)
    assert _times(visit) == (VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT, SIGN_AT)
    assert queue(session, visit) == []


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_visit_ends_the_same_whatever_order_its_events_arrive_in(
        session: Session, context: Context, arrive: Arrive, visit: Visit,
        order: tuple[int, ...]) -> None:
    events = documented(context, "visit.check_in", "visit.check_out", "visit.sign")
    arrive(*(events[i] for i in order))
    assert _times(visit) == (VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT, SIGN_AT)
    assert queue(session, visit) == []


def test_a_signature_before_the_check_out_signs_the_visit_only_once_checked_out(
        context: Context, arrive: Arrive, visit: Visit) -> None:
    check_in, sign, check_out = documented(context, "visit.check_in", "visit.sign",
                                           "visit.check_out")
    arrive(check_in, sign)
    assert _times(visit) == (VisitStatus.IN_PROGRESS, CHECK_IN_AT, None, None)
    arrive(check_out)
    assert _times(visit) == (VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT, SIGN_AT)


def test_a_check_in_entered_in_error_puts_the_visit_back_as_scheduled(
        session: Session, context: Context, arrive: Arrive, visit: Visit,
        clock: Callable[[], datetime]) -> None:
    arrive(*documented(context, "visit.check_in"))
    session.scalars(select(VisitEvent)).one().entered_in_error = True
    recompute(session, visit, clock())
    assert _times(visit) == (VisitStatus.SCHEDULED, None, None, None)


# Documentation after the signature ----------------------------------------------------------

@pytest.mark.parametrize(("kind", "model", "message"), [
    ("visit.note", VisitNote, "A visit note was documented after the visit was signed."),
    ("vitals.record", VitalSign, "A vital sign was documented after the visit was signed."),
])
def test_documentation_after_the_signature_is_kept_flagged_and_queued(
        session: Session, context: Context, arrive: Arrive, visit: Visit, kind: str,
        model: Any, message: str) -> None:
    arrive(*documented(context, "visit.check_in", "visit.check_out", "visit.sign", kind))
    assert session.scalars(select(model)).one().flags == ["after_signature"]
    assert queue(session, visit) == [("documentation_after_signature", Severity.WARNING,
                                      message, ReviewStatus.OPEN)]


def test_documentation_written_before_the_signature_but_arriving_after_it_is_not_flagged(
        session: Session, context: Context, arrive: Arrive, visit: Visit) -> None:
    check_in, note, check_out, sign = documented(
        context, "visit.check_in", "visit.note", "visit.check_out", "visit.sign")
    arrive(check_in, check_out, sign, note)
    assert session.scalars(select(VisitNote)).one().flags == []
    assert queue(session, visit) == []


def test_a_note_after_the_signature_is_flagged_once_the_late_check_out_completes_the_visit(
        session: Session, context: Context, arrive: Arrive, visit: Visit) -> None:
    check_in, check_out, sign, note = documented(
        context, "visit.check_in", "visit.check_out", "visit.sign", "visit.note")
    arrive(check_in, sign, note)
    assert queue(session, visit) == []  # an open visit has no signature yet
    arrive(check_out)
    assert [kind for kind, *_ in queue(session, visit)] == ["documentation_after_signature"]


# Missed --------------------------------------------------------------------------------

def test_a_visit_reported_missed_is_missed_with_her_reason(
        session: Session, context: Context, arrive: Arrive, visit: Visit) -> None:
    arrive(*documented(context, "visit.missed"))
    assert (visit.status, visit.missed_reason, visit.checked_in_at) == (
        VisitStatus.MISSED, "patient_not_home", None)
    assert queue(session, visit) == []


@pytest.mark.parametrize("missed_first", [True, False])
def test_missed_and_checked_in_queues_both_sides_and_the_check_in_stands(
        session: Session, context: Context, arrive: Arrive, visit: Visit,
        missed_first: bool) -> None:
    missed, check_in = documented(context, "visit.missed", "visit.check_in")
    arrive(*((missed, check_in) if missed_first else (check_in, missed)))
    assert (visit.status, visit.missed_reason) == (VisitStatus.IN_PROGRESS, None)
    assert queue(session, visit) == [
        ("check_in_on_closed_visit", Severity.WARNING,
         "A check-in was documented on a visit reported missed.", ReviewStatus.OPEN),
        ("missed_but_documented", Severity.WARNING,
         "The visit was reported missed and also checked in.", ReviewStatus.OPEN)]


def test_re_deriving_the_visit_again_queues_nothing_twice_nor_reopens_a_resolved_item(
        session: Session, context: Context, arrive: Arrive, visit: Visit,
        clock: Callable[[], datetime]) -> None:
    arrive(*documented(context, "visit.missed", "visit.check_in"))
    session.scalars(select(ReviewItem).where(
        ReviewItem.kind == "missed_but_documented")).one().status = ReviewStatus.RESOLVED
    recompute(session, visit, clock())
    assert [(kind, status) for kind, _severity, _message, status in queue(session, visit)] == [
        ("check_in_on_closed_visit", ReviewStatus.OPEN),
        ("missed_but_documented", ReviewStatus.RESOLVED)]


# The missed-visits job's verdict, and documentation that arrives after it -----------------

@pytest.fixture
def job_marked(session: Session, visit: Visit,
               clock: Callable[[], datetime]) -> Callable[..., ReviewItem]:
    """``job_marked(status, reason, alert)``: the visit as the missed-visits job left it,
    with its open alert."""

    def mark(status: VisitStatus, reason: str | None, alert: str) -> ReviewItem:
        visit.status, visit.missed_reason = status, reason
        session.flush()
        return review_items.open_item(
            session, alert, "The visit window passed without a check-in.",
            dedupe_key=review_items.fact_key(alert, visit.id), now=clock(),
            patient_id=visit.patient_id, visit_id=visit.id).item

    return mark


JOB_VERDICTS = [(VisitStatus.MISSED, "no_documentation", "visit_missed"),
                (VisitStatus.LATE_UNKNOWN, None, "visit_late_unknown")]


@pytest.mark.parametrize(("status", "reason", "alert"), JOB_VERDICTS)
def test_a_check_in_arriving_after_the_jobs_verdict_closes_its_alert(
        context: Context, arrive: Arrive, visit: Visit, job_marked: Callable[..., ReviewItem],
        status: VisitStatus, reason: str | None, alert: str) -> None:
    item = job_marked(status, reason, alert)
    arrive(*documented(context, "visit.check_in"))
    assert (visit.status, visit.missed_reason) == (VisitStatus.IN_PROGRESS, None)
    assert (item.status, item.resolution) == (ReviewStatus.RESOLVED, "documentation_arrived")


def test_her_own_missed_report_replaces_the_jobs_and_closes_its_alert(
        context: Context, arrive: Arrive, visit: Visit,
        job_marked: Callable[..., ReviewItem]) -> None:
    item = job_marked(*JOB_VERDICTS[0])
    arrive(*documented(context, "visit.missed"))
    assert (visit.status, visit.missed_reason) == (VisitStatus.MISSED, "patient_not_home")
    assert (item.status, item.resolution) == (ReviewStatus.RESOLVED, "documentation_arrived")


def test_a_note_alone_does_not_undo_the_jobs_verdict(
        context: Context, arrive: Arrive, visit: Visit,
        job_marked: Callable[..., ReviewItem]) -> None:
    item = job_marked(*JOB_VERDICTS[0])
    arrive(*documented(context, "visit.note"))
    assert (visit.status, visit.missed_reason) == (VisitStatus.MISSED, "no_documentation")
    assert item.status is ReviewStatus.OPEN
