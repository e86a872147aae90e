"""QC's review pages: the queue's filters and counts, an item beside its evidence, and each
resolution stored exactly as the API stores it (fed by a real push from a nurse's device)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Amendment, AuditEvent, Patient, ReviewItem, ReviewStatus, VitalSign
from server.review_items import open_item
from tests.factories import make_visit
from tests.integration.api.test_review_queue import conflicting_vitals
from tests.integration.console.browser import dashed_text_of, post_form, sign_in, text_of

QUEUE = "/console/review"


def _console(app: Flask, who: str = "qc") -> FlaskClient:
    browser = app.test_client()
    sign_in(browser, who)
    return browser


def _alert(app: Flask, agency: Any, kind: str, patient: str, visit: str, at: Any) -> uuid.UUID:
    """An item of ``kind`` about ``patient``'s ``visit`` raised at ``at``."""
    with app.app_context():
        opened = open_item(db.session, kind, f"{kind} found.", dedupe_key=None, now=at,
                           patient_id=agency[patient], visit_id=agency[visit])
        db.session.commit()
        return opened.item.id


def _stored(app: Flask, item_id: Any) -> ReviewItem:
    with app.app_context():
        item = db.session.get(ReviewItem, uuid.UUID(str(item_id)))
        assert item is not None
        db.session.expunge(item)
        return item


def _rows(text: str) -> int:
    return text.count('href="/console/review/')


def _choices(html: str, select_id: str) -> list[str]:
    """The option texts of the page's drop-down ``select_id``, blank choice left out."""
    found = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
    assert found, f"no {select_id} drop-down"
    return [text for value, text in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<',
                                               found.group(0)) if value]


def _events(app: Flask, action: str, entity_type: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).filter_by(
            action=action, entity_type=entity_type).order_by(AuditEvent.seq)))


def test_filter_choices_are_the_kinds_raised_and_the_patient_is_searched_for(app, agency,
                                                                             clock):
    _alert(app, agency, "visit_missed", "patient_a", "visit_a", clock())
    _alert(app, agency, "visit_missed", "patient_a", "visit_a", clock())
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    _alert(app, agency, "pump_pm_due", "patient_a", "visit_a", clock())
    html = _console(app).get(QUEUE).get_data(as_text=True)
    # Each kind once, in order, whether open or not.
    assert _choices(html, "kind") == ["drug expired", "pump pm due", "visit missed"]
    # The patient is a search field, not a drop-down of every patient.
    assert '<select id="patient' not in html
    assert re.search(r'<label for="patient_search">Patient</label>', html)
    assert "The MRN, or the start of a first or last name." in html


def test_the_page_lists_and_audits_only_the_patients_it_shows(app, agency, clock):
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    page = _console(app).get(QUEUE)
    assert "Test PatientMRN-A" in text_of(page)
    assert "PatientMRN-B" not in text_of(page)  # no item about her: not on the page
    assert _events(app, "list", "patients") == []
    [listed] = _events(app, "list", "review_items")
    assert listed.details["patient_ids"] == [str(agency["patient_a"])]


def test_a_search_that_finds_one_patient_filters_the_queue_by_her(app, agency, clock):
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    _alert(app, agency, "visit_missed", "patient_b", "visit_b", clock())
    _alert(app, agency, "pump_pm_due", "patient_b", "visit_b", clock())
    browser = _console(app)
    for typed in ("PatientMRN-B", "patientmrn-b", "MRN-B"):  # a last name's start, or the MRN
        found = browser.get(QUEUE, query_string={"patient_search": typed})
        assert found.status_code == 200
        assert _rows(found.get_data(as_text=True)) == 2
        assert "Patient: Test PatientMRN-B (MRN-B) Any patient" in text_of(found)
        assert "2 items match" in text_of(found)
    # The filter now carries her id, as a bookmark would.
    assert f'name="patient" value="{agency["patient_b"]}"' in found.get_data(as_text=True)
    bookmarked = browser.get(QUEUE, query_string={"patient": str(agency["patient_b"])})
    assert _rows(bookmarked.get_data(as_text=True)) == 2
    assert "Patient: Test PatientMRN-B (MRN-B)" in text_of(bookmarked)
    [read] = _events(app, "read", "patients")  # her name on the page, read once
    assert read.patient_id == agency["patient_b"]


def test_a_search_that_finds_several_patients_asks_which(app, agency, clock):
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    _alert(app, agency, "visit_missed", "patient_b", "visit_b", clock())
    browser = _console(app)
    several = browser.get(QUEUE, query_string={"patient_search": "Test", "kind": "visit_missed"})
    assert several.status_code == 200
    text = text_of(several)
    assert "2 patients match “Test”: choose one" in text
    assert "Test PatientMRN-A (MRN-A)" in text and "Test PatientMRN-B (MRN-B)" in text
    html = several.get_data(as_text=True)
    link = re.search(r'<a href="(/console/review\?[^"]*)">Test PatientMRN-B', html)
    assert link, html
    chosen = browser.get(link.group(1).replace("&amp;", "&"))
    assert "Patient: Test PatientMRN-B (MRN-B)" in text_of(chosen)
    assert "1 item matches" in text_of(chosen)  # the kind chosen before is kept
    assert _rows(chosen.get_data(as_text=True)) == 1


def test_a_search_that_finds_nobody_is_shown_beside_its_field(app, agency, clock):
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    browser = _console(app)
    response = browser.get(QUEUE, query_string={"patient_search": "Nobody"})
    assert response.status_code == 422
    text = text_of(response)
    assert "There is a problem" in text
    assert "Patient: No patient matches. Search by MRN, or by the first letters of a name." \
        in text
    assert 'value="Nobody"' in response.get_data(as_text=True)  # kept as typed
    unknown = browser.get(QUEUE, query_string={"patient": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert "There is no such patient that you may see." in text_of(unknown)


def test_filters_narrow_the_queue_and_its_counts(app, agency, clock):
    _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    _alert(app, agency, "visit_missed", "patient_b", "visit_b", clock() - timedelta(days=3))
    _alert(app, agency, "pump_pm_due", "patient_b", "visit_b", clock())
    browser = _console(app)
    everything = browser.get(QUEUE)
    assert everything.status_code == 200
    assert _rows(everything.get_data(as_text=True)) == 3
    assert "3 items match: 3 open, 0 resolved; 1 critical, 1 warning, 1 info." \
        in text_of(everything)
    critical = browser.get(QUEUE, query_string={"severity": "critical"})
    assert _rows(critical.get_data(as_text=True)) == 1
    assert "1 item matches: 1 open, 0 resolved; 1 critical, 0 warning, 0 info." \
        in text_of(critical)
    assert "drug_expired found." in text_of(critical)
    assert "pump_pm_due found." not in text_of(critical)
    by_kind = browser.get(QUEUE, query_string={"kind": "visit_missed"})
    assert _rows(by_kind.get_data(as_text=True)) == 1
    by_patient = browser.get(QUEUE, query_string={"patient": str(agency["patient_b"])})
    assert _rows(by_patient.get_data(as_text=True)) == 2
    by_nurse = browser.get(QUEUE, query_string={"nurse": str(agency["nurse_a"])})
    assert _rows(by_nurse.get_data(as_text=True)) == 1  # visit A is nurse A's
    today = clock().date().isoformat()
    recent = browser.get(QUEUE, query_string={"from": today, "to": today})
    assert _rows(recent.get_data(as_text=True)) == 2  # the missed visit was 3 days ago
    assert "2 items match" in text_of(recent)


def test_a_filter_that_is_not_right_is_shown_beside_its_field(app, agency, clock):
    browser = _console(app)
    response = browser.get(QUEUE, query_string={"severity": "urgent", "from": "yesterday"})
    assert response.status_code == 422
    text = text_of(response)
    assert "There is a problem" in text
    assert "Raised from: Enter a date like 2026-11-23." in text
    assert 'value="yesterday"' in response.get_data(as_text=True)  # kept as typed


def test_the_queue_pages_a_long_list(app, agency, clock):
    for minute in range(27):
        _alert(app, agency, "pump_pm_due", "patient_a", "visit_a",
               clock() + timedelta(minutes=minute))
    browser = _console(app)
    first = browser.get(QUEUE, query_string={"kind": "pump_pm_due"})
    assert _rows(first.get_data(as_text=True)) == 25
    assert "Showing 1-25 of 27 Next page" in dashed_text_of(first)
    assert 'href="/console/review?page=2&amp;kind=pump_pm_due"' in \
        first.get_data(as_text=True)  # the filters kept
    second = browser.get(QUEUE, query_string={"kind": "pump_pm_due", "page": "2"})
    assert _rows(second.get_data(as_text=True)) == 2
    assert "Previous page Showing 26-27 of 27" in dashed_text_of(second)
    assert "Next page" not in text_of(second)


def test_the_item_page_shows_the_evidence_and_the_records_concerned(client, as_user, enroll,
                                                                    agency, app):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    page = _console(app).get(f"{QUEUE}/{item['id']}")
    assert page.status_code == 200
    text = text_of(page)
    assert "What the device saw" in text and "The record now" in text
    assert f"now · nurse id {agency['nurse_b']}" in text  # the visit when the push arrived
    assert "Records concerned" in text and "PatientMRN-A" in text
    assert "8867-4" in text  # the heart rate's code, as the device sent it
    for resolution in ("Accept", "Amend", "Reassign documentation", "Entered in error"):
        assert resolution in text


def test_accept_stores_what_the_api_stores(client, as_user, enroll, agency, app):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    browser = _console(app)
    done = post_form(browser, f"{path}/resolve", {"resolution": "accept",
                                                  "comment": "Nurse confirmed by phone."}, path)
    assert done.status_code == 302
    assert "The item is resolved." in text_of(browser.get(done.headers["Location"]))
    read = client.get(f"/api/v1/review-items/{item['id']}", headers=as_user("qc")).get_json()
    assert (read["status"], read["resolution"], read["resolution_comment"]) == \
        ("resolved", "accept", "Nurse confirmed by phone.")
    assert read["resolved_by"] == str(agency["qc"])


def test_amend_stores_the_correction_beside_the_original(client, as_user, enroll, agency, app):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    browser = _console(app)
    done = post_form(browser, f"{path}/resolve", {
        "resolution": "amend", "comment": "Rate was 76, typo.", "change.value": "76",
        "change.unit": ""}, path)
    assert done.status_code == 302
    read = client.get(f"/api/v1/review-items/{item['id']}", headers=as_user("qc")).get_json()
    assert read["resolution"] == "amend"
    assert read["details"]["resolved_with"]["changes"] == {"value": "76"}
    with app.app_context():
        amendment = db.session.scalars(select(Amendment)).one()
        assert (amendment.changes, amendment.reason) == ({"value": "76"}, "Rate was 76, typo.")
        original = db.session.get(VitalSign, uuid.UUID(mutation["entity_id"]))
        assert original is not None and original.value == 72  # the original stands
    page = text_of(browser.get(path))
    assert "76 (changed)" in page


def test_reassign_moves_the_documentation_to_the_visit_named(client, as_user, enroll, agency,
                                                             app, clock):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        other = make_visit(patient, None, clock() + timedelta(days=1))
        db.session.commit()
        other_id = other.id
    path = f"{QUEUE}/{item['id']}"
    browser = _console(app)
    assert str(other_id) in browser.get(path).get_data(as_text=True)  # offered as a choice
    done = post_form(browser, f"{path}/resolve", {
        "resolution": "reassign_documentation", "comment": "Belongs to tomorrow's visit.",
        "target_visit_id": str(other_id)}, path)
    assert done.status_code == 302
    with app.app_context():
        vitals = db.session.get(VitalSign, uuid.UUID(mutation["entity_id"]))
        assert vitals is not None and vitals.visit_id == other_id
    read = client.get(f"/api/v1/review-items/{item['id']}", headers=as_user("qc")).get_json()
    assert read["details"]["resolved_with"]["target_visit_id"] == str(other_id)


def test_entered_in_error_marks_the_document_and_keeps_it(client, as_user, enroll, agency,
                                                          app):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    done = post_form(_console(app), f"{path}/resolve", {
        "resolution": "entered_in_error", "comment": "Wrong patient's reading."}, path)
    assert done.status_code == 302
    with app.app_context():
        vitals = db.session.get(VitalSign, uuid.UUID(mutation["entity_id"]))
        assert vitals is not None and vitals.entered_in_error is True
    assert _stored(app, item["id"]).status is ReviewStatus.RESOLVED


def test_a_missing_reason_is_refused_with_its_message_and_the_input_kept(
        client, as_user, enroll, agency, app):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    refused = post_form(_console(app), f"{path}/resolve", {
        "resolution": "amend", "comment": "", "change.value": "76"}, path)
    assert refused.status_code == 422
    html, text = refused.get_data(as_text=True), text_of(refused)
    assert "There is a problem" in text and "Reason: Say why, in words." in text
    assert 'value="amend" checked' in html and 'value="76"' in html
    assert _stored(app, item["id"]).status is ReviewStatus.OPEN
    with app.app_context():
        assert db.session.scalars(select(Amendment)).all() == []


def test_a_field_that_may_not_be_amended_is_refused_beside_the_corrections(
        client, as_user, enroll, agency, app):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    refused = post_form(_console(app), f"{path}/resolve", {
        "resolution": "amend", "comment": "Other nurse.", "change.nurse_id": "x"}, path)
    assert refused.status_code == 422
    text = text_of(refused)
    assert "Not correctable fields of a vitals record: nurse_id." in text
    assert "Corrections: Correctable:" in text
    assert _stored(app, item["id"]).status is ReviewStatus.OPEN


def test_a_form_for_an_item_resolved_meanwhile_is_refused_with_a_409(client, as_user, enroll,
                                                                      agency, app):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    path = f"{QUEUE}/{item['id']}"
    browser = _console(app)
    assert browser.get(path).status_code == 200  # the form is on her screen
    first = client.post(f"/api/v1/review-items/{item['id']}/resolve", headers=as_user("admin"),
                        json={"resolution": "accept", "comment": "Done by the admin."})
    assert first.status_code == 200
    refused = post_form(browser, f"{path}/resolve", {
        "resolution": "entered_in_error", "comment": "Mine."}, "/console/")
    assert refused.status_code == 409
    assert "This item is already resolved." in text_of(refused)
    assert _stored(app, item["id"]).resolution == "Done by the admin."


def test_acknowledge_records_who_has_it_in_hand(app, agency, clock):
    item_id = _alert(app, agency, "drug_expired", "patient_a", "visit_a", clock())
    path = f"{QUEUE}/{item_id}"
    browser = _console(app)
    done = post_form(browser, f"{path}/acknowledge", {}, path)
    assert done.status_code == 302
    assert "You have acknowledged the item." in text_of(browser.get(done.headers["Location"]))
    assert _stored(app, item_id).acknowledged_by == agency["qc"]
