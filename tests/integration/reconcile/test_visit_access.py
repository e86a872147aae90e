"""Offline timing: the visit changed while the nurse documented it with no signal.

She *was* assigned → her documentation is kept as a conflict for review, showing what her
device saw next to what the visit is now; she never was → it is refused.
"""

import uuid

import pytest

from server.models import (
    InfusionAdministration,
    ReviewItem,
    Severity,
    Visit,
    VisitEvent,
    VisitStatus,
    VitalSign,
)

ORIGINAL_START, ORIGINAL_END = "2026-11-23T15:00:00+00:00", "2026-11-23T16:00:00+00:00"
NEW_START, NEW_END = "2026-11-25T13:00:00+00:00", "2026-11-25T14:00:00+00:00"


@pytest.fixture
def edit_visit(client, as_user, agency):
    """``edit_visit(**changes)``: the coordinator PATCHes visit_a at version 1."""

    def patch(**changes):
        response = client.patch(f"/api/v1/visits/{agency['visit_a']}",
                                headers=as_user("coordinator"), json={"version": 1, **changes})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["version"] == 2

    return patch


@pytest.fixture
def reassigned(edit_visit, agency):
    """visit_a handed from nurse_a to nurse_b."""
    edit_visit(nurse_id=str(agency["nurse_b"]))


@pytest.fixture
def rescheduled(edit_visit):
    """visit_a moved to Wednesday."""
    edit_visit(scheduled_start=NEW_START, scheduled_end=NEW_END)


def _conflict(result, rows, kind):
    assert result["status"] == "conflict", result
    (item,) = rows(ReviewItem)
    assert (item.kind, item.severity) == (kind, Severity.WARNING)
    assert result["review_item_id"] == str(item.id)
    assert item.details["allowed_resolutions"] == [
        "accept", "amend", "reassign_documentation", "entered_in_error"]
    return item


def test_documentation_on_a_reassigned_visit_is_a_conflict_showing_both_sides(
        reassigned, phone, push, vitals, rows, row, agency):
    mutation = vitals(phone, base_version=1)
    item = _conflict(push(phone, mutation)[0], rows, "documentation_on_reassigned_visit")
    assert item.summary == ("Documentation (vitals.record) arrived for a visit that was "
                            "reassigned to another nurse while the nurse was offline.")
    assert item.details["device_saw"] == {
        "version": 1, "nurse_id": str(agency["nurse_a"]), "status": "scheduled",
        "scheduled_start": ORIGINAL_START, "scheduled_end": ORIGINAL_END}
    assert item.details["now"] == {
        "version": 2, "nurse_id": str(agency["nurse_b"]), "status": "scheduled",
        "scheduled_start": ORIGINAL_START, "scheduled_end": ORIGINAL_END}
    assert (item.details["type"], item.details["seq"]) == ("vitals.record", mutation["seq"])
    (stored,) = rows(VitalSign)
    assert (stored.conflict, stored.nurse_id) == (True, agency["nurse_a"])
    assert item.details["record_id"] == str(stored.id)
    visit = row(Visit, agency["visit_a"])
    assert visit.flags == ["documentation_conflict"]
    assert visit.nurse_id == agency["nurse_b"]


def test_reassigned_conflict_without_base_version_shows_the_visit_as_it_is(
        reassigned, phone, push, vitals, rows, agency):
    item = _conflict(push(phone, vitals(phone))[0], rows, "documentation_on_reassigned_visit")
    assert "device_saw" not in item.details
    assert item.details["now"]["nurse_id"] == str(agency["nurse_b"])


def test_check_in_on_a_reassigned_visit_leaves_the_visit_to_its_new_nurse(
        reassigned, phone, push, check, rows, row, agency):
    _conflict(push(phone, check(phone, base_version=1))[0], rows,
              "documentation_on_reassigned_visit")
    assert [e.conflict for e in rows(VisitEvent)] == [True]
    visit = row(Visit, agency["visit_a"])
    assert (visit.status, visit.checked_in_at) == (VisitStatus.SCHEDULED, None)


def test_infusion_on_a_reassigned_visit_keeps_its_clinical_findings_too(
        reassigned, phone, push, infusion, rows):
    result = push(phone, infusion(phone, medication="vancomycin"))[0]
    assert result["status"] == "conflict"
    items = {item.kind: item for item in rows(ReviewItem)}
    assert set(items) == {"medication_mismatch", "documentation_on_reassigned_visit"}
    assert result["review_item_id"] == str(items["medication_mismatch"].id)
    (stored,) = rows(InfusionAdministration)
    assert (stored.conflict, stored.flags) == (True, ["medication_mismatch"])


def test_the_new_nurse_documents_the_reassigned_visit_normally(
        reassigned, enroll, push, vitals, rows, row, agency):
    tablet = enroll("nurse_b")
    result = push(tablet, vitals(tablet, base_version=2))[0]
    assert result["status"] == "applied"
    assert rows(ReviewItem) == []
    assert row(Visit, agency["visit_a"]).flags == []


def test_documentation_on_a_rescheduled_visit_is_a_conflict_showing_both_sides(
        rescheduled, phone, push, check, rows, row, agency):
    mutation = check(phone, base_version=1)
    item = _conflict(push(phone, mutation)[0], rows, "documentation_on_rescheduled_visit")
    assert item.summary == ("Documentation (visit.check_in) arrived for a visit that was "
                            "rescheduled while the nurse was offline.")
    saw, now = item.details["device_saw"], item.details["now"]
    assert (saw["version"], saw["scheduled_start"], saw["scheduled_end"]) == (
        1, ORIGINAL_START, ORIGINAL_END)
    assert (now["version"], now["scheduled_start"], now["scheduled_end"]) == (
        2, NEW_START, NEW_END)
    assert saw["nurse_id"] == now["nurse_id"] == str(agency["nurse_a"])
    visit = row(Visit, agency["visit_a"])
    assert visit.flags == ["documentation_conflict"]
    assert visit.status is VisitStatus.SCHEDULED


def test_documentation_that_saw_the_reschedule_is_applied(rescheduled, phone, push, check,
                                                          rows, row, agency):
    result = push(phone, check(phone, base_version=2))[0]
    assert result["status"] == "applied"
    assert rows(ReviewItem) == []
    assert row(Visit, agency["visit_a"]).status is VisitStatus.IN_PROGRESS


def test_documentation_with_the_current_base_version_is_applied(phone, push, vitals, rows):
    assert push(phone, vitals(phone, base_version=1))[0]["status"] == "applied"
    assert rows(ReviewItem) == []


def test_each_conflict_on_the_visit_gets_its_own_item_and_one_visit_flag(
        reassigned, phone, push, vitals, check, rows, row, agency):
    results = push(phone, check(phone, base_version=1), vitals(phone, base_version=1))
    assert [r["status"] for r in results] == ["conflict", "conflict"]
    items = rows(ReviewItem)
    assert len({i.details["record_id"] for i in items}) == 2
    assert {str(i.id) for i in items} == {r["review_item_id"] for r in results}
    assert row(Visit, agency["visit_a"]).flags == ["documentation_conflict"]


ALL_TYPES = [
    ("visit.check_in", {"at": "2026-11-23T09:55:00-05:00", "location": None}),
    ("visit.check_out", {"at": "2026-11-23T11:10:00-05:00", "location": None}),
    ("vitals.record", {"code": "8867-4", "value": 72, "unit": "/min",
                       "taken_at": "2026-11-23T10:10:00-05:00"}),
    ("visit.note", {"category": "assessment", "text": "Site clean."}),
    ("visit.sign", {"at": "2026-11-23T11:15:00-05:00"}),
    ("visit.missed", {"at": "2026-11-23T10:20:00-05:00", "reason": "other"}),
]


@pytest.mark.parametrize(("kind", "data"), ALL_TYPES)
def test_a_nurse_never_assigned_is_rejected(enroll, push, rows, agency, kind, data):
    stranger = enroll("nurse_b")
    result = push(stranger, stranger.mutation(kind, agency["visit_a"], data,
                                              entity_id=uuid.uuid4()))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"visit_id": ["This visit is not one you were assigned."]}
    assert rows(ReviewItem) == []
    assert rows(VisitEvent) == rows(VitalSign) == []


def test_infusion_by_a_nurse_never_assigned_is_rejected(enroll, push, infusion, rows):
    stranger = enroll("nurse_b")
    result = push(stranger, infusion(stranger))[0]
    assert result["errors"] == {"visit_id": ["This visit is not one you were assigned."]}
    assert rows(InfusionAdministration) == []


def test_documentation_on_an_unknown_visit_is_rejected(phone, push, check, rows):
    result = push(phone, check(phone, visit_id="00000000-0000-4000-8000-000000000000"))[0]
    assert result["errors"] == {"visit_id": ["This visit is not one you were assigned."]}
    assert rows(VisitEvent) == []
