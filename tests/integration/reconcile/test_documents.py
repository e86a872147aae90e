"""Notes and amendments: free text by category; corrections that leave the original alone."""

import uuid
from decimal import Decimal

import pytest

from server.models import Amendment, InfusionAdministration, ReviewItem, VisitNote, VitalSign


def _note(device, visit_id, category="assessment", text="PICC site clean, dressing dry."):
    return device.mutation("visit.note", visit_id, {"category": category, "text": text},
                           entity_id=uuid.uuid4())


@pytest.fixture
def amend(agency):
    """``amend(device, target_type, target_id, changes, reason=...)`` → a record.amend."""

    def build(device, target_type, target_id, changes, reason="Transcription error",
              visit_id=None):
        return device.mutation("record.amend", visit_id or agency["visit_a"], {
            "target_type": target_type, "target_id": str(target_id), "reason": reason,
            "changes": changes}, entity_id=uuid.uuid4())

    return build


@pytest.fixture
def signed_infusion(phone, push, check, infusion, agency):
    """nurse_a checks in, gives order_a, checks out and signs; returns the infusion's id."""
    given = infusion(phone)
    results = push(phone, check(phone), given,
                   check(phone, "check_out", at="2026-11-23T11:10:00-05:00"),
                   phone.mutation("visit.sign", agency["visit_a"],
                                  {"at": "2026-11-23T11:15:00-05:00"}))
    assert [r["status"] for r in results] == ["applied"] * 4
    return uuid.UUID(given["entity_id"])


@pytest.mark.parametrize("category", ["assessment", "teaching", "communication"])
def test_note_of_each_category_is_stored(phone, push, rows, agency, category):
    mutation = _note(phone, agency["visit_a"], category)
    result = push(phone, mutation)[0]
    assert result["status"] == "applied"
    (stored,) = rows(VisitNote)
    assert (stored.id, stored.category, stored.text, stored.patient_id, stored.flags) == (
        uuid.UUID(mutation["entity_id"]), category, "PICC site clean, dressing dry.",
        agency["patient_a"], [])


@pytest.mark.parametrize("category", ["gossip", "Assessment", ""])
def test_note_of_an_unknown_category_is_rejected(phone, push, rows, agency, category):
    result = push(phone, _note(phone, agency["visit_a"], category))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.category": [
        "Must be one of: assessment, teaching, communication."]}
    assert rows(VisitNote) == []


def test_note_without_text_is_rejected(phone, push, rows, agency):
    result = push(phone, _note(phone, agency["visit_a"], text=""))[0]
    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["data.text"]
    assert rows(VisitNote) == []


def test_a_note_of_only_spaces_from_a_device_is_kept_as_typed(phone, push, rows, agency):
    # The REST schemas refuse blank text (schemas.base.Trimmed); a device's note is what
    # the nurse recorded offline and is never dropped for it.
    result = push(phone, _note(phone, agency["visit_a"], text="   "))[0]
    assert result["status"] == "applied"
    (stored,) = rows(VisitNote)
    assert stored.text == "   "


def test_amending_an_infusion_after_signing_keeps_the_original(
        signed_infusion, phone, push, amend, rows, agency):
    mutation = amend(phone, "infusion", signed_infusion, {"dose": 1.5, "notes": "Half bag"},
                     reason="Bag was half empty on arrival")
    result = push(phone, mutation)[0]
    assert result["status"] == "applied"
    assert "review_item_id" not in result
    (original,) = rows(InfusionAdministration)
    assert (original.dose, original.notes, original.flags) == (Decimal("2"), None, [])
    (amendment,) = rows(Amendment)
    assert (amendment.id, amendment.target_type, amendment.target_id) == (
        uuid.UUID(mutation["entity_id"]), "infusion", signed_infusion)
    assert amendment.reason == "Bag was half empty on arrival"
    assert amendment.changes == {"dose": 1.5, "notes": "Half bag"}
    assert (amendment.visit_id, amendment.patient_id, amendment.nurse_id,
            str(amendment.mutation_id), amendment.conflict) == (
        agency["visit_a"], agency["patient_a"], agency["nurse_a"], mutation["id"], False)
    # An amendment is how a signed record is corrected: it is not late documentation.
    assert amendment.flags == []
    assert rows(ReviewItem) == []


def test_amending_a_vital_sign_and_a_note(phone, push, vitals, amend, rows, agency):
    sign_id, note = vitals(phone), _note(phone, agency["visit_a"])
    push(phone, sign_id, note)
    results = push(phone, amend(phone, "vitals", sign_id["entity_id"], {"value": 76}),
                   amend(phone, "note", note["entity_id"], {"text": "Dressing changed."}))
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert sorted(a.target_type for a in rows(Amendment)) == ["note", "vitals"]
    assert [s.value for s in rows(VitalSign)] == [Decimal("72")]
    assert [n.text for n in rows(VisitNote)] == ["PICC site clean, dressing dry."]


def test_amending_an_unknown_record_is_rejected(phone, push, amend, rows):
    result = push(phone, amend(phone, "infusion", uuid.uuid4(), {"dose": 1}))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {
        "data.target_id": ["There is no such record on this visit to amend."]}
    assert rows(Amendment) == []


def test_amending_a_record_under_the_wrong_type_is_rejected(signed_infusion, phone, push,
                                                            amend, rows):
    result = push(phone, amend(phone, "vitals", signed_infusion, {"value": 1}))[0]
    assert result["errors"] == {
        "data.target_id": ["There is no such record on this visit to amend."]}
    assert rows(Amendment) == []


def test_amending_a_record_of_another_visit_is_rejected(enroll, push, vitals, amend, rows,
                                                        agency):
    phone, other = enroll("nurse_a"), enroll("nurse_b")
    theirs = vitals(other, visit_id=agency["visit_b"])
    assert push(other, theirs)[0]["status"] == "applied"
    result = push(phone, amend(phone, "vitals", theirs["entity_id"], {"value": 90}))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {
        "data.target_id": ["There is no such record on this visit to amend."]}
    assert rows(Amendment) == []


def test_amending_through_a_visit_never_assigned_is_rejected(enroll, push, vitals, amend,
                                                             rows, agency):
    phone, other = enroll("nurse_a"), enroll("nurse_b")
    theirs = vitals(other, visit_id=agency["visit_b"])
    push(other, theirs)
    result = push(phone, amend(phone, "vitals", theirs["entity_id"], {"value": 90},
                               visit_id=agency["visit_b"]))[0]
    assert result["errors"] == {"visit_id": ["This visit is not one you were assigned."]}
    assert rows(Amendment) == []


def test_unknown_field_in_changes_is_rejected(signed_infusion, phone, push, amend, rows):
    result = push(phone, amend(phone, "infusion", signed_infusion,
                               {"dose": 1.5, "colour": "blue", "bag": 1}))[0]
    assert result["status"] == "rejected"
    (message,) = result["errors"]["data.changes"]
    assert message.endswith("infusion record: bag, colour.")
    assert rows(Amendment) == []


@pytest.mark.parametrize("field", ["nurse_id", "device_id", "visit_id", "patient_id", "id",
                                   "seq", "received_at", "flags", "conflict",
                                   "entered_in_error", "mutation_id", "pump_id"])
def test_changes_to_provenance_or_server_owned_fields_are_rejected(
        signed_infusion, phone, push, amend, rows, agency, field):
    result = push(phone, amend(phone, "infusion", signed_infusion,
                               {field: str(agency["nurse_b"])}))[0]
    assert result["status"] == "rejected"
    assert result["errors"] == {"data.changes": [
        f"Not fields a nurse may amend on an infusion record: {field}."]}
    assert rows(Amendment) == []


def test_amendment_without_a_reason_or_changes_is_rejected(signed_infusion, phone, push,
                                                           amend, rows):
    results = push(phone, amend(phone, "infusion", signed_infusion, {"dose": 1}, reason=""),
                   amend(phone, "infusion", signed_infusion, {}))
    assert [sorted(r["errors"]) for r in results] == [["data.reason"], ["data.changes"]]
    assert rows(Amendment) == []
