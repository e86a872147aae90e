"""The nurse's standing on a visit (server/reconcile/visit_access.py), called directly.

A coordinator changes the visit (in the session, as the API would: a new version and its
revision) while the nurse documents offline with the version her device saw; ``resolve``
decides whether her documentation is hers, a conflict to show both sides of, or refused.
The push tier (tests/integration/reconcile/test_visit_access.py) checks the stored results.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from server.models import ReviewItem, Severity, Visit, VisitStatus
from server.reconcile import documents
from server.reconcile.visit_access import Standing, resolve
from sync.ledger import Outcome
from tests.integration.reconcile.rules.conftest import Context

NOTE = {"category": "assessment", "text": "Site clean, no redness."}


def _standing(context: Context, nurse: str = "nurse_a", base_version: int | None = 1,
              visit: Any = "visit_a") -> Standing:
    return resolve(context("visit.note", NOTE, nurse=nurse, visit=visit,
                           base_version=base_version)).standing


def _change(session: Session, visit: Visit, **values: Any) -> None:
    """The coordinator's edit: one new version of the visit."""
    for name, value in values.items():
        setattr(visit, name, value)
    session.flush()


def test_the_assigned_nurse_documents_her_own_visit(context: Context) -> None:
    assert _standing(context) is Standing.ASSIGNED
    assert _standing(context, base_version=None) is Standing.ASSIGNED


def test_a_nurse_never_assigned_is_refused(context: Context) -> None:
    assert _standing(context, nurse="nurse_b") is Standing.NEVER
    result = documents.note(context("visit.note", NOTE, nurse="nurse_b"))
    assert (result.outcome, result.errors) == (
        Outcome.REJECTED, {"visit_id": ["This visit is not one you were assigned."]})


def test_a_visit_that_does_not_exist_is_refused_like_one_never_assigned(
        context: Context, agency: Any) -> None:
    access = resolve(context("visit.note", NOTE, visit=agency["patient_a"]))
    assert (access.visit, access.standing) == (None, Standing.NEVER)


def test_a_visit_handed_to_another_nurse_is_reassigned_for_the_first(
        session: Session, context: Context, visit: Visit, agency: Any) -> None:
    _change(session, visit, nurse_id=agency["nurse_b"])
    assert _standing(context) is Standing.REASSIGNED
    assert _standing(context, base_version=None) is Standing.REASSIGNED
    assert _standing(context, nurse="nurse_b", base_version=2) is Standing.ASSIGNED


def test_a_visit_handed_back_is_hers_again(session: Session, context: Context, visit: Visit,
                                           agency: Any) -> None:
    _change(session, visit, nurse_id=agency["nurse_b"])
    _change(session, visit, nurse_id=agency["nurse_a"])
    assert _standing(context) is Standing.ASSIGNED
    # nurse_b held it once: she is not a stranger to it, her notes are a conflict
    assert _standing(context, nurse="nurse_b", base_version=2) is Standing.REASSIGNED


def test_a_reschedule_she_had_not_seen_is_rescheduled(session: Session, context: Context,
                                                      visit: Visit) -> None:
    _change(session, visit, scheduled_start=visit.scheduled_start + timedelta(days=2),
            scheduled_end=visit.scheduled_end + timedelta(days=2))
    assert _standing(context, base_version=1) is Standing.RESCHEDULED
    assert _standing(context, base_version=2) is Standing.ASSIGNED
    # without the version she saw, nothing says she documented the old times
    assert _standing(context, base_version=None) is Standing.ASSIGNED


def test_a_change_that_kept_the_times_is_no_reschedule(session: Session, context: Context,
                                                       visit: Visit) -> None:
    _change(session, visit, assignment_override="Covering for a colleague on leave")
    assert _standing(context, base_version=1) is Standing.ASSIGNED


@pytest.mark.parametrize("also_reassigned", [False, True])
def test_a_cancelled_visit_is_cancelled_whoever_holds_it(
        session: Session, context: Context, visit: Visit, agency: Any,
        also_reassigned: bool) -> None:
    _change(session, visit, status=VisitStatus.CANCELLED, cancel_reason="Admitted to hospital",
            nurse_id=agency["nurse_b"] if also_reassigned else visit.nurse_id)
    assert _standing(context) is Standing.CANCELLED
    assert _standing(context, nurse="nurse_b") is (
        Standing.CANCELLED if also_reassigned else Standing.NEVER)


def test_documentation_on_a_reassigned_visit_is_a_conflict_showing_both_sides(
        session: Session, context: Context, visit: Visit, agency: Any) -> None:
    _change(session, visit, nurse_id=agency["nurse_b"])
    ctx = context("visit.note", NOTE, base_version=1)
    result = documents.note(ctx)
    assert result.outcome is Outcome.CONFLICT
    item = session.get(ReviewItem, result.review_item_id)
    assert item is not None
    assert (item.kind, item.severity, item.summary) == (
        "documentation_on_reassigned_visit", Severity.WARNING,
        "Documentation (visit.note) arrived for a visit that was reassigned to another "
        "nurse while the nurse was offline.")
    saw, now = item.details["device_saw"], item.details["now"]
    assert (saw["version"], saw["nurse_id"]) == (1, str(agency["nurse_a"]))
    assert (now["version"], now["nurse_id"]) == (2, str(agency["nurse_b"]))
    assert visit.flags == ["documentation_conflict"]
