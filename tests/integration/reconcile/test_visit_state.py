"""The visit's state machine: derived from its events in ``seq`` order, not arrival order."""


import pytest

from server.models import (
    InfusionAdministration,
    ReviewItem,
    ReviewStatus,
    Severity,
    Visit,
    VisitEvent,
    VisitNote,
    VisitStatus,
    VitalSign,
)
from tests.integration.reconcile.conftest import CHECK_IN_AT, CHECK_OUT_AT, SIGN_AT


@pytest.fixture
def visit(row, agency):
    """``visit()`` → visit_a as it is stored now."""
    return lambda: row(Visit, agency["visit_a"])


@pytest.fixture
def out(check):
    """``out(device)`` → a check-out at 11:10 local time."""
    return lambda device: check(device, "check_out", at="2026-11-23T11:10:00-05:00")


@pytest.fixture
def sign(agency):
    """``sign(device)`` → the nurse's signature at 11:15 local time."""
    return lambda device: device.mutation("visit.sign", agency["visit_a"],
                                          {"at": "2026-11-23T11:15:00-05:00"})


@pytest.fixture
def missed(agency):
    """``missed(device)`` → the visit reported missed (patient not home)."""
    return lambda device: device.mutation("visit.missed", agency["visit_a"], {
        "at": "2026-11-23T10:20:00-05:00", "reason": "patient_not_home",
        "note": "No answer at the door"})


def _only_the_healed_gap(rows, *kinds):
    """Pushing a later seq first opens a seq_gap item, resolved when the gap fills."""
    found = sorted((i.kind, i.status) for i in rows(ReviewItem))
    return found == sorted([("seq_gap", ReviewStatus.RESOLVED),
                            *((kind, ReviewStatus.OPEN) for kind in kinds)])


def test_check_in_puts_the_visit_in_progress(phone, push, check, visit):
    result = push(phone, check(phone))[0]
    stored = visit()
    assert (stored.status, stored.checked_in_at, stored.checked_out_at) == (
        VisitStatus.IN_PROGRESS, CHECK_IN_AT, None)
    # The check-in's entity is the visit: both versions are the visit's after the batch.
    assert result == {"id": result["id"], "status": "applied", "version": stored.version,
                      "visit_version": stored.version, "flags": []}
    assert stored.version == 2


def test_check_out_completes_the_visit(phone, push, check, out, visit):
    push(phone, check(phone))
    push(phone, out(phone))
    stored = visit()
    assert (stored.status, stored.checked_in_at, stored.checked_out_at, stored.signed_at) == (
        VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT, None)


def test_sign_after_check_out_sets_signed_at(phone, push, check, out, sign, visit, rows):
    results = push(phone, check(phone), out(phone), sign(phone))
    assert [r["status"] for r in results] == ["applied"] * 3
    stored = visit()
    assert (stored.status, stored.signed_at) == (VisitStatus.COMPLETED, SIGN_AT)
    (event,) = rows(VisitEvent, VisitEvent.kind == "sign")
    assert event.details == {"attestation": "I attest that this documentation is accurate."}
    assert rows(ReviewItem) == []


def test_sign_before_check_out_does_not_sign_an_open_visit(phone, push, check, sign, visit):
    push(phone, check(phone), sign(phone))
    stored = visit()
    assert (stored.status, stored.signed_at) == (VisitStatus.IN_PROGRESS, None)


def test_vitals_after_the_signature_are_applied_flagged_and_reviewed(
        phone, push, check, out, sign, vitals, rows, agency):
    push(phone, check(phone), out(phone), sign(phone))
    late = vitals(phone, value=80)
    result = push(phone, late)[0]
    assert result["status"] == "applied"
    (stored,) = rows(VitalSign)
    assert stored.flags == ["after_signature"]
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert (item.kind, item.severity, item.visit_id) == (
        "documentation_after_signature", Severity.WARNING, agency["visit_a"])
    assert item.summary == "A vital sign was documented after the visit was signed."
    assert (item.details["signed_seq"], item.details["document_seq"]) == (3, late["seq"])
    assert item.details["record_id"] == str(stored.id)
    assert str(item.mutation_id) == late["id"]
    assert item.details["allowed_resolutions"] == ["accept", "amend", "entered_in_error"]


def test_abnormal_vitals_after_the_signature_keep_both_flags(
        phone, push, check, out, sign, vitals, rows):
    push(phone, check(phone), out(phone), sign(phone))
    push(phone, vitals(phone, value=130))
    assert [s.flags for s in rows(VitalSign)] == [["abnormal", "after_signature"]]


def test_documentation_before_the_signature_arriving_late_is_not_flagged(
        phone, push, check, out, sign, vitals, rows):
    earlier = [check(phone), vitals(phone), out(phone), sign(phone)]
    push(phone, earlier[0], earlier[2], earlier[3])
    push(phone, earlier[1])
    assert [s.flags for s in rows(VitalSign)] == [[]]
    assert _only_the_healed_gap(rows)


def test_documentation_from_another_device_is_not_after_this_signature(
        enroll, push, check, out, sign, vitals, rows):
    phone, tablet = enroll("nurse_a"), enroll("nurse_a")
    push(phone, check(phone), out(phone), sign(phone))
    # The tablet's seq counts from 1: it cannot be compared with the phone's signature.
    push(tablet, vitals(tablet), vitals(tablet), vitals(tablet), vitals(tablet))
    assert [s.flags for s in rows(VitalSign)] == [[]] * 4
    assert rows(ReviewItem) == []


def test_note_after_signature_arriving_before_the_check_out_is_flagged_once_completed(
        phone, push, check, out, sign, agency, rows, visit):
    made = [check(phone), out(phone), sign(phone),
            phone.mutation("visit.note", agency["visit_a"],
                           {"category": "communication", "text": "Called the physician."},
                           entity_id="5e7d2bb0-0d52-4d51-9f3b-7f8e8c1c5a11")]
    push(phone, made[0], made[2], made[3])
    assert [n.flags for n in rows(VisitNote)] == [[]]
    push(phone, made[1])
    assert visit().status is VisitStatus.COMPLETED
    assert [n.flags for n in rows(VisitNote)] == [["after_signature"]]
    assert _only_the_healed_gap(rows, "documentation_after_signature")
    (item,) = rows(ReviewItem, ReviewItem.kind == "documentation_after_signature")
    assert item.summary == "A visit note was documented after the visit was signed."


def test_check_out_pushed_before_its_check_in_still_completes(phone, push, check, out, visit):
    check_in, check_out = check(phone), out(phone)
    assert push(phone, check_out)[0]["status"] == "applied"
    assert visit().status is VisitStatus.SCHEDULED
    push(phone, check_in)
    stored = visit()
    assert (stored.status, stored.checked_in_at, stored.checked_out_at) == (
        VisitStatus.COMPLETED, CHECK_IN_AT, CHECK_OUT_AT)


def test_sign_arriving_before_the_check_out_signs_once_it_arrives(
        phone, push, check, out, sign, visit, rows):
    check_in, check_out, signature = check(phone), out(phone), sign(phone)
    push(phone, check_in)
    push(phone, signature)
    assert (visit().status, visit().signed_at) == (VisitStatus.IN_PROGRESS, None)
    push(phone, check_out)
    stored = visit()
    assert (stored.status, stored.checked_out_at, stored.signed_at) == (
        VisitStatus.COMPLETED, CHECK_OUT_AT, SIGN_AT)
    assert _only_the_healed_gap(rows)


def test_missed_visit_is_missed_with_its_reason(phone, push, missed, visit, rows):
    result = push(phone, missed(phone))[0]
    assert result["status"] == "applied"
    stored = visit()
    assert (stored.status, stored.missed_reason, stored.checked_in_at) == (
        VisitStatus.MISSED, "patient_not_home", None)
    (event,) = rows(VisitEvent)
    assert event.details == {"reason": "patient_not_home", "note": "No answer at the door"}
    assert rows(ReviewItem) == []


def test_missed_with_an_unknown_reason_is_rejected(phone, push, agency, visit):
    mutation = phone.mutation("visit.missed", agency["visit_a"],
                              {"at": "2026-11-23T10:20:00-05:00", "reason": "overslept"})
    result = push(phone, mutation)[0]
    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["data.reason"]
    assert visit().status is VisitStatus.SCHEDULED


def _missed_and_checked_in(rows, agency):
    """Both sides are reviewable: the "missed" report and the check-in that contradicts it."""
    items = {item.kind: item for item in rows(ReviewItem)}
    assert set(items) == {"missed_but_documented", "check_in_on_closed_visit"}
    assert {(i.severity, i.visit_id, i.patient_id) for i in items.values()} == {
        (Severity.WARNING, agency["visit_a"], agency["patient_a"])}
    (missed_event,) = rows(VisitEvent, VisitEvent.kind == "missed")
    (check_in_event,) = rows(VisitEvent, VisitEvent.kind == "check_in")
    report, check_in = items["missed_but_documented"], items["check_in_on_closed_visit"]
    assert report.summary == "The visit was reported missed and also checked in."
    assert (report.details["record_id"], report.details["missed_reason"]) == (
        str(missed_event.id), "patient_not_home")
    assert check_in.summary == "A check-in was documented on a visit reported missed."
    assert (check_in.details["record_id"], check_in.details["missed_reason"]) == (
        str(check_in_event.id), "patient_not_home")
    return items


def test_missed_then_checked_in_is_missed_but_documented(
        phone, push, missed, check, visit, rows, agency):
    assert "review_item_id" not in push(phone, missed(phone))[0]
    result = push(phone, check(phone))[0]
    assert result["status"] == "applied"
    items = _missed_and_checked_in(rows, agency)
    assert result["review_item_id"] == str(items["check_in_on_closed_visit"].id)
    stored = visit()
    assert (stored.status, stored.missed_reason) == (VisitStatus.IN_PROGRESS, None)


def test_checked_in_then_missed_is_missed_but_documented(
        phone, push, missed, check, visit, rows, agency):
    assert "review_item_id" not in push(phone, check(phone))[0]
    result = push(phone, missed(phone))[0]
    assert result["status"] == "applied"
    items = _missed_and_checked_in(rows, agency)
    assert result["review_item_id"] == str(items["missed_but_documented"].id)
    assert visit().status is VisitStatus.IN_PROGRESS


def test_check_in_on_a_cancelled_visit_is_a_conflict(
        phone, push, check, client, as_user, agency, visit, rows):
    cancel = client.patch(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("coordinator"),
                          json={"version": 1, "status": "cancelled",
                                "cancel_reason": "Admitted to hospital"})
    assert cancel.status_code == 200, cancel.get_json()
    result = push(phone, check(phone, base_version=1))[0]
    assert result["status"] == "conflict"
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert (item.kind, item.severity) == ("documentation_on_cancelled_visit", Severity.WARNING)
    assert item.summary == ("Documentation (visit.check_in) arrived for a visit that was "
                            "cancelled while the nurse was offline.")
    assert item.details["device_saw"]["status"] == "scheduled"
    assert item.details["now"]["status"] == "cancelled"
    (event,) = rows(VisitEvent)
    assert (event.conflict, event.evv_status) == (True, "verified")
    stored = visit()
    assert (stored.status, stored.checked_in_at) == (VisitStatus.CANCELLED, None)
    assert stored.flags == ["documentation_conflict"]


def test_infusion_after_the_signature_is_flagged_and_reviewed(
        phone, push, check, out, sign, infusion, rows):
    push(phone, check(phone), out(phone), sign(phone))
    result = push(phone, infusion(phone))[0]
    assert result["status"] == "applied"
    assert [i.flags for i in rows(InfusionAdministration)] == [["after_signature"]]
    (item,) = rows(ReviewItem)
    assert result["review_item_id"] == str(item.id)
    assert item.kind == "documentation_after_signature"
    assert item.summary == ("An infusion administration was documented after the visit was "
                            "signed.")


@pytest.fixture
def second_visit(app, agency):
    """Another of nurse_a's visits to patient_a today, two hours after visit_a."""
    from server.extensions import db
    from server.models import Patient, User
    from tests.factories import make_visit

    with app.app_context():
        first = db.session.get(Visit, agency["visit_a"])
        made = make_visit(db.session.get(Patient, agency["patient_a"]),
                          db.session.get(User, agency["nurse_a"]),
                          first.scheduled_start.replace(hour=first.scheduled_start.hour + 2))
        db.session.commit()
        return made.id


def test_visits_settled_together_each_flag_only_their_own_late_documentation(
        phone, push, check, out, vitals, agency, rows, second_visit):
    """One batch re-derives its visits together: a signature locks its own visit only."""
    def signed(visit_id):
        return phone.mutation("visit.sign", visit_id, {"at": "2026-11-23T11:15:00-05:00"})

    day = [check(phone), out(phone), signed(agency["visit_a"]),
           check(phone, visit_id=second_visit), vitals(phone, visit_id=second_visit),
           check(phone, "check_out", visit_id=second_visit, at="2026-11-23T11:10:00-05:00"),
           signed(second_visit),
           vitals(phone, value=80)]  # on visit_a, after its signature
    results = push(phone, *day)
    assert [r["status"] for r in results] == ["applied"] * len(day)
    flags = {(str(s.visit_id), str(s.value)): s.flags for s in rows(VitalSign)}
    assert flags == {(str(agency["visit_a"]), "80.000"): ["after_signature"],
                     (str(second_visit), "72.000"): []}
    (item,) = rows(ReviewItem)
    assert (item.kind, item.visit_id) == ("documentation_after_signature", agency["visit_a"])
    assert results[-1]["review_item_id"] == str(item.id)
    visits = {v.id: v for v in rows(Visit)}
    assert {visits[v].status for v in (agency["visit_a"], second_visit)} == {
        VisitStatus.COMPLETED}
    assert visits[second_visit].signed_at == SIGN_AT
