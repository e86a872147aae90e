"""The admin's pages: users, devices, pumps and job runs, through their own forms."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Device, DeviceCommand, DeviceStatus, JobRun, Pump, ReviewItem, User
from server.passwords import verify_password
from tests.assertions import error_of
from tests.integration.console.browser import post_form, sign_in, text_of
from tests.integration.sync.device import TestDevice

USERS = "/console/admin/users"
DEVICES = "/console/admin/devices"
PUMPS = "/console/admin/pumps"
NEW_NURSE = {"name": "Cara New", "email": "Cara@Agency.test", "role": "nurse",
             "competencies": ["tpn", "ivig"], "password": "a long enough password"}


def _admin(app):
    client = app.test_client()
    sign_in(client, "admin")
    return client


def _user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_the_admin_creates_a_nurse_with_her_competencies(app, agency):
    client = _admin(app)
    response = post_form(client, USERS, NEW_NURSE)
    assert response.status_code == 302
    assert "The account is created." in text_of(client.get(response.headers["Location"]))
    cara = _user(app, "cara@agency.test")
    assert (cara.name, cara.role.value, cara.competencies) == ("Cara New", "nurse",
                                                               ["tpn", "ivig"])
    assert verify_password(NEW_NURSE["password"], cara.password_hash)


def test_a_refused_account_keeps_what_was_typed_and_names_the_field(app, agency):
    client = _admin(app)
    response = post_form(client, USERS, {**NEW_NURSE, "email": "ann@agency.test"})
    page, text = response.get_data(as_text=True), text_of(response)
    assert response.status_code == 409
    assert "There is a problem A user with this email exists." in text
    assert 'value="Cara New"' in page and 'value="tpn" checked' in page
    assert "a long enough password" not in page  # a password is never sent back
    short = post_form(client, USERS, {**NEW_NURSE, "role": "qc", "password": "short"})
    assert short.status_code == 422
    assert "Password: Length must be between 12 and 200." in text_of(short)
    assert _user(app, "cara@agency.test") is None


def test_competencies_belong_to_nurses_only(app, agency):
    response = post_form(_admin(app), USERS, {**NEW_NURSE, "role": "coordinator"})
    assert response.status_code == 422
    assert "Competencies: Only for nurses." in text_of(response)


def test_the_admin_changes_a_role_and_deactivates_an_account_which_ends_her_sessions(
        app, agency):
    client = _admin(app)
    nurse = app.test_client()
    sign_in(nurse, "coordinator")
    path = f"{USERS}/{agency['coordinator']}"
    response = post_form(client, path, {"name": "Coordinator", "email": "coord@agency.test",
                                        "role": "qc", "active": "no", "version": "1"})
    assert response.status_code == 302
    coordinator = _user(app, "coord@agency.test")
    assert (coordinator.role.value, coordinator.active) == ("qc", False)
    assert nurse.get("/console/board").status_code == 302  # her session has ended


def test_a_stale_account_form_is_refused_with_nothing_changed(app, agency):
    path = f"{USERS}/{agency['nurse_a']}"
    response = post_form(_admin(app), path, {"name": "Renamed", "email": "ann@agency.test",
                                             "role": "nurse", "active": "yes",
                                             "version": "7"})
    assert response.status_code == 409
    assert 'value="Renamed"' in response.get_data(as_text=True)
    assert _user(app, "ann@agency.test").name != "Renamed"


def test_the_admin_resets_a_password(app, agency):
    path = f"{USERS}/{agency['nurse_a']}/password"
    response = post_form(_admin(app), path, {"password": "a brand new password", "version": "1"},
                         form_page=f"{USERS}/{agency['nurse_a']}")
    assert response.status_code == 302
    assert verify_password("a brand new password", _user(app, "ann@agency.test").password_hash)


def _issue(client, agency):
    response = post_form(client, f"{DEVICES}/codes", {"user_id": str(agency["nurse_a"])},
                         form_page=DEVICES)
    assert response.status_code == 201, text_of(response)
    page = response.get_data(as_text=True)
    code = re.search(r'id="enrollment-code">([A-Z0-9-]+)<', page)
    assert code and "<svg" in page and "Enrollment code as a QR code" in page
    return code.group(1)


def test_an_issued_code_enrolls_the_nurses_device_once(app, agency):
    client = _admin(app)
    code = _issue(client, agency)
    device = TestDevice(app.test_client())
    assert device.enroll(code).status_code == 201
    assert TestDevice(app.test_client()).enroll(code).status_code == 401
    assert "Test phone" in text_of(client.get(DEVICES))


def test_a_code_needs_a_nurse(app, agency):
    client = _admin(app)
    response = post_form(client, f"{DEVICES}/codes", {"user_id": ""}, form_page=DEVICES)
    assert response.status_code == 422
    assert "Nurse: Choose the nurse whose device is enrolled." in text_of(response)
    refused = post_form(client, f"{DEVICES}/codes", {"user_id": str(agency["coordinator"])},
                        form_page=DEVICES)
    assert refused.status_code == 422
    assert "<svg" not in refused.get_data(as_text=True)


def test_revoke_with_wipe_refuses_the_devices_token_and_queues_the_wipe(app, agency):
    client = _admin(app)
    device = TestDevice(app.test_client())
    assert device.enroll(_issue(client, agency)).status_code == 201
    path = f"{DEVICES}/{device.device_id}/revoke"
    unconfirmed = post_form(client, path, {}, form_page=DEVICES)
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm" in text_of(unconfirmed)
    response = post_form(client, path, {"confirm": "yes"}, form_page=DEVICES)
    assert response.status_code == 302
    refused = error_of(device.pull(), 403, "device_revoked")
    assert refused["details"] == {"command": {"type": "wipe"}}
    listed = text_of(client.get(DEVICES))  # sent, which is all the server knows
    assert "revoked wipe order sent" in listed and "(not confirmed by the device)" in listed
    assert "wipe delivered" not in listed
    with app.app_context():
        row = db.session.scalar(select(Device))
        assert row.status is DeviceStatus.REVOKED
        assert db.session.scalar(select(DeviceCommand.kind)) == "wipe"
    again = post_form(client, path, {"confirm": "yes"}, form_page=DEVICES)
    assert again.status_code == 409 and "already revoked" in text_of(again)


def test_marking_a_pump_recalled_opens_its_patients_critical_review_items(app, agency):
    response = post_form(_admin(app), f"{PUMPS}/{agency['pump_a']}/recall", {"version": "1"},
                         form_page=PUMPS)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Pump, agency["pump_a"]).status.value == "recalled"
        items = db.session.scalars(select(ReviewItem).where(
            ReviewItem.kind == "pump_recalled")).all()
        assert [(i.patient_id, i.severity.value) for i in items] == [
            (agency["patient_a"], "critical")]


def test_maintenance_dates_are_stored_and_a_bad_date_is_refused_as_typed(app, agency):
    client = _admin(app)
    path = f"{PUMPS}/{agency['pump_b']}"
    refused = post_form(client, path, {"status": "in_service", "last_pm_on": "2026-13-01",
                                       "next_pm_due_on": "", "version": "1"}, form_page=PUMPS)
    assert refused.status_code == 422
    assert "Last maintenance: Not a valid date." in text_of(refused)
    assert 'value="2026-13-01"' in refused.get_data(as_text=True)
    response = post_form(client, path, {"status": "maintenance_due",
                                        "last_pm_on": "2026-05-01",
                                        "next_pm_due_on": "2026-11-01", "version": "1"},
                         form_page=PUMPS)
    assert response.status_code == 302
    with app.app_context():
        pump = db.session.get(Pump, agency["pump_b"])
        assert (pump.status.value, str(pump.last_pm_on), str(pump.next_pm_due_on)) == (
            "maintenance_due", "2026-05-01", "2026-11-01")


def test_job_runs_are_listed_newest_first_and_filtered_by_outcome(app, agency, clock):
    now = clock()
    with app.app_context():
        for hours, outcome, error in ((2, "succeeded", None), (1, "failed", "TimeoutError")):
            at = now - timedelta(hours=hours)
            db.session.add(JobRun(job_id="generate_visits", scheduled_for=at, started_at=at,
                                  finished_at=at, outcome=outcome, counts={"created": 3},
                                  error=error, runner="test"))
        db.session.commit()
    client = _admin(app)
    text = text_of(client.get("/console/admin/jobs"))
    assert "2 runs" in text
    assert text.index("TimeoutError") < text.index("succeeded created: 3")
    failed = text_of(client.get("/console/admin/jobs?outcome=failed"))
    assert "1 run," in failed and "succeeded created" not in failed
