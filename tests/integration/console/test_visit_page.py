"""A visit's page and its actions, through the console's forms (test client)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, TherapyOrder, Visit, VisitStatus
from tests.integration.console.browser import post_form, sign_in, signed_in, text_of


def _coordinator(app):
    return signed_in(app, "coordinator")


def _needs_picc(app, agency):
    """visit_a's order needs picc-care: Bea (tpn only) is not eligible, Ann is."""
    with app.app_context():
        db.session.get(TherapyOrder, agency["order_a"]).required_competency = "picc-care"
        db.session.get(Visit, agency["visit_a"]).order_id = agency["order_a"]
        db.session.commit()


def _visit(app, agency, name="visit_a"):
    with app.app_context():
        return db.session.get(Visit, agency[name])


def _act(client, agency, action, data, name="visit_a"):
    page = f"/console/visits/{agency[name]}"
    version = str(_visit(client.application, agency, name).version)
    return post_form(client, f"{page}/{action}", {"version": version, **data}, form_page=page)


def test_the_page_shows_schedule_candidates_with_reasons_and_history(app, agency):
    _needs_picc(app, agency)
    text = text_of(_coordinator(app).get(f"/console/visits/{agency['visit_a']}"))
    assert "Test PatientMRN-A (MRN MRN-A)" in text
    assert "Nurse Ann" in text and "home: 1 Elm St, Springfield" in text
    assert "Ann (assigned) Yes" in text
    assert "1 nurse who may not take this visit is not listed" in text
    found = _coordinator(app).get(f"/console/visits/{agency['visit_a']}?nurse_q=bea")
    assert "Bea No: missing competency: picc-care" in text_of(found)
    history = text.split("History Version Changed Nurse Status Window ", 1)[1]
    assert history.startswith("2 Mon 23 Nov 08:00 Ann scheduled Mon 23 Nov 10:00")  # newest first


def test_assigning_an_ineligible_nurse_says_why_and_asks_for_the_override_reason(app, agency):
    _needs_picc(app, agency)
    client = _coordinator(app)
    response = _act(client, agency, "assign", {"nurse_id": str(agency["nurse_b"])})
    text = text_of(response)
    assert response.status_code == 409
    assert ("There is a problem The nurse may not take this visit: "
            "missing_competency: picc-care") in text
    assert "Error: To assign her anyway, say why you override the rules." in text
    assert f'<option value="{agency["nurse_b"]}" selected' in response.get_data(as_text=True)
    assert _visit(app, agency).nurse_id == agency["nurse_a"]


def test_a_too_short_override_reason_is_refused_beside_its_field_and_kept(app, agency):
    _needs_picc(app, agency)
    response = _act(_coordinator(app), agency, "assign",
                    {"nurse_id": str(agency["nurse_b"]), "override_reason": "ok"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="override_reason-error-1"' in page and ">ok</textarea>" in page
    assert _visit(app, agency).nurse_id == agency["nurse_a"]


def test_an_override_with_its_reason_assigns_and_is_audited(app, agency):
    _needs_picc(app, agency)
    client = _coordinator(app)
    reason = "Only nurse in the county today; picc-care refresher booked"
    response = _act(client, agency, "assign",
                    {"nurse_id": str(agency["nurse_b"]), "override_reason": reason})
    assert response.status_code == 302
    visit = _visit(app, agency)
    assert (visit.nurse_id, visit.assignment_override) == (agency["nurse_b"], reason)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assign_override"))
    assert event.actor_user_id == agency["coordinator"] and event.entity_id == visit.id
    text = text_of(client.get(response.headers["Location"]))
    assert "The visit is assigned." in text and f"Nurse Bea (override: {reason})" in text


def test_a_stale_form_is_refused_with_nothing_changed(app, agency):
    client = _coordinator(app)
    page = f"/console/visits/{agency['visit_a']}"
    response = post_form(client, f"{page}/unassign", {"version": "7"}, form_page=page)
    assert response.status_code == 409
    assert "There is a problem" in text_of(response)
    assert _visit(app, agency).nurse_id == agency["nurse_a"]


def test_unassign_puts_the_visit_back_on_the_unassigned_list(app, agency):
    client = _coordinator(app)
    assert _act(client, agency, "unassign", {}).status_code == 302
    assert _visit(app, agency).nurse_id is None
    board = text_of(client.get("/console/board"))
    assert "PatientMRN-A" in board.split("Unassigned visits", 1)[1]


def test_cancel_needs_a_reason_then_cancels(app, agency):
    client = _coordinator(app)
    refused = _act(client, agency, "cancel", {"cancel_reason": "  "})
    assert refused.status_code == 422
    assert "Reason: Say why the visit is cancelled." in text_of(refused)
    assert _visit(app, agency).status is VisitStatus.SCHEDULED
    assert _act(client, agency, "cancel", {"cancel_reason": "In hospital"}).status_code == 302
    visit = _visit(app, agency)
    assert (visit.status, visit.cancel_reason) == (VisitStatus.CANCELLED, "In hospital")


def test_reschedule_moves_the_window_in_local_time(app, agency):
    client = _coordinator(app)
    response = _act(client, agency, "reschedule",
                    {"day": "2026-11-24", "start": "14:30", "end": "15:15"})
    assert response.status_code == 302
    visit = _visit(app, agency)
    assert visit.scheduled_start == datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
    assert visit.scheduled_end == datetime(2026, 11, 24, 20, 15, tzinfo=UTC)


def test_a_window_ending_before_it_starts_is_refused_beside_the_end(app, agency):
    client = _coordinator(app)
    before = _visit(app, agency).scheduled_start
    response = _act(client, agency, "reschedule",
                    {"day": "2026-11-24", "start": "14:30", "end": "13:00"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="end-error-1"' in page and 'value="13:00"' in page
    assert _visit(app, agency).scheduled_start == before


def test_a_time_that_is_not_a_time_is_named(app, agency):
    response = _act(_coordinator(app), agency, "reschedule",
                    {"day": "tomorrow", "start": "9", "end": "10:00"})
    assert response.status_code == 422
    text = text_of(response)
    assert "Date: Enter a date like 2026-11-23." in text


def test_qc_reads_the_page_without_the_actions(app, agency):
    client = app.test_client()
    sign_in(client, "qc")
    text = text_of(client.get(f"/console/visits/{agency['visit_a']}"))
    assert "Documentation" in text and "Actions" not in text


def test_a_visit_out_of_reach_is_a_404_page(app, agency):
    response = _coordinator(app).get("/console/visits/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "Not found" in text_of(response)


def test_documentation_pushed_by_the_device_reads_as_a_chart(app, enroll, agency):
    device = enroll("nurse_a")
    visit_id = agency["visit_a"]
    check_in = device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T10:05:00-05:00",
        "location": {"latitude": 39.7801, "longitude": -89.65, "accuracy_m": 8}})
    bp = device.mutation("vitals.record", visit_id, {
        "code": "85354-9", "unit": "mm[Hg]", "taken_at": "2026-11-23T10:10:00-05:00",
        "components": [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"},
                       {"code": "8462-4", "value": 80, "unit": "mm[Hg]"}]},
        entity_id=uuid.uuid4())
    pulse = device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min",
        "taken_at": "2026-11-23T10:11:00-05:00"}, entity_id=uuid.uuid4())
    results = device.push([check_in, bp, pulse]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    text = text_of(_coordinator(app).get(f"/console/visits/{visit_id}"))
    assert ("check in 2026-11-23T10:05:00-05:00 Ann verified 11 m "
            "home: 1 Elm St, Springfield") in text
    assert "blood pressure 120/80 mm[Hg] 2026-11-23T10:10:00-05:00" in text
    assert "heart rate 72 /min" in text
