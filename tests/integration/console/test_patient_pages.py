"""Patients in the console: search, a patient's page, and the chart and location forms
(test client, on SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent, Patient, ServiceLocation
from tests.integration.console.browser import dashed_text_of as text_of
from tests.integration.console.browser import post_form, signed_in

NEW = {"mrn": "MRN-N", "first_name": "Nora", "last_name": "Newcombe",
       "birth_date": "1970-01-02", "allergies": "penicillin, latex", "kind": "home",
       "address": "2 Oak St, Springfield", "latitude": "39.7", "longitude": "-89.6"}


def _coordinator(app):
    return signed_in(app, "coordinator")


def _patient(app, mrn):
    with app.app_context():
        return db.session.scalar(select(Patient).where(Patient.mrn == mrn))


def _events(app, **where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(**where))


def test_search_finds_a_patient_by_mrn_or_the_start_of_her_name(app, agency):
    client = _coordinator(app)
    by_mrn = text_of(client.get("/console/patients?q=MRN-B"))
    assert "1 found for “MRN-B”" in by_mrn and "PatientMRN-B, Test" in by_mrn
    assert "PatientMRN-A" not in by_mrn
    by_name = text_of(client.get("/console/patients?q=patientmrn-a"))
    assert "PatientMRN-A, Test" in by_name and "PatientMRN-B" not in by_name
    by_first = text_of(client.get("/console/patients?q=Tes"))
    assert "2 found" in by_first
    assert "No patient matches" in text_of(client.get("/console/patients?q=Zed"))


def test_a_search_too_long_is_refused_beside_the_box_and_kept(app, agency):
    response = _coordinator(app).get("/console/patients?q=" + "x" * 101)
    text = text_of(response)
    assert response.status_code == 422
    assert "Name or MRN: Length must be between 1 and 100." in text
    assert 'value="' + "x" * 101 + '"' in response.get_data(as_text=True)


def test_the_patient_page_shows_her_chart_orders_pumps_and_visits(app, agency):
    client = _coordinator(app)
    before = _events(app, action="read", entity_type="patients", patient_id=agency["patient_a"])
    text = text_of(client.get(f"/console/patients/{agency['patient_a']}"))
    assert "Test PatientMRN-A — MRN MRN-A" in text
    assert "home 1 Elm St, Springfield 39.78000, -89.65000 150 m" in text
    assert ("ceftriaxone 2 g IV at 100 mL/h daily at 09:00 2026-11-20 - open active "
            "Drx") in text
    assert "PMP-A — Moog CADD-Solis" in text
    assert ("Upcoming visits When Status Nurse Visit "
            "Mon 23 Nov 10:00 - 11:00 scheduled Ann") in text
    assert "PatientMRN-B" not in text
    after = _events(app, action="read", entity_type="patients", patient_id=agency["patient_a"])
    assert after == before + 1


def test_admitting_a_patient_stores_her_with_her_home(app, agency):
    response = post_form(_coordinator(app), "/console/patients/new", NEW)
    patient = _patient(app, "MRN-N")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/console/patients/{patient.id}?done=created"
    assert patient.allergies == ["penicillin", "latex"]
    with app.app_context():
        home = db.session.scalar(select(ServiceLocation).where(
            ServiceLocation.patient_id == patient.id))
        assert (home.address, home.evv_radius_m) == ("2 Oak St, Springfield", 150)
    assert _events(app, action="create", entity_type="patients", patient_id=patient.id) == 1


def test_a_refused_admission_names_each_field_and_keeps_what_was_typed(app, agency):
    form = {**NEW, "last_name": "   ", "latitude": "north", "evv_radius_m": "5",
            "access_type": "picc", "access_external_length_cm": "-3"}
    response = post_form(_coordinator(app), "/console/patients/new", form)
    text, html = text_of(response), response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem Some fields are not right; see below." in text
    assert "Latitude: Not a valid number." in text
    assert "EVV radius (metres): Must be greater than or equal to 10" in text
    assert "Last name: This field must not be blank." in text
    assert "External length (cm): Must be greater than or equal to 0" in text
    assert 'value="Nora"' in html and 'value="north"' in html
    assert _patient(app, "MRN-N") is None


def test_a_taken_mrn_is_refused_beside_the_mrn(app, agency):
    response = post_form(_coordinator(app), "/console/patients/new", {**NEW, "mrn": "MRN-A"})
    text = text_of(response)
    assert response.status_code == 409
    assert "MRN: A patient with this MRN exists." in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Patient)) == 2


def test_editing_the_chart_stores_the_access_device_and_a_stale_form_changes_nothing(
        app, agency):
    client = _coordinator(app)
    page = f"/console/patients/{agency['patient_a']}/edit"
    shown = client.get(page).get_data(as_text=True)
    assert 'value="MRN-A"' in shown and 'value="1960-05-01"' in shown
    assert f'<option value="{agency["physician_a"]}" selected>' in shown
    form = {"mrn": "MRN-A", "first_name": "Test", "last_name": "PatientMRN-A",
            "birth_date": "1960-05-01", "phone": "555-0100", "allergies": "",
            "primary_physician_id": str(agency["physician_a"]), "referral_source": "",
            "status": "active", "access_type": "picc", "access_placed_on": "2026-11-01",
            "access_side": "left", "access_external_length_cm": "2.5", "version": "1"}
    response = post_form(client, page, form)
    assert response.status_code == 302
    patient = _patient(app, "MRN-A")
    assert (patient.phone, patient.access_type, patient.access_side) == ("555-0100", "picc",
                                                                         "left")
    assert str(patient.access_external_length_cm) == "2.5" and patient.version == 2
    stale = post_form(client, page, {**form, "phone": "555-0199"})
    assert stale.status_code == 409
    assert "changed since version 1" in text_of(stale)
    assert 'value="555-0199"' in stale.get_data(as_text=True)
    assert _patient(app, "MRN-A").phone == "555-0100"


def test_adding_and_changing_a_location(app, agency):
    client = _coordinator(app)
    base = f"/console/patients/{agency['patient_a']}/locations"
    added = post_form(client, f"{base}/new", {"kind": "work", "address": "9 Mill Rd",
                                              "latitude": "39.8", "longitude": "-89.7",
                                              "evv_radius_m": "300", "version": "1"})
    assert added.status_code == 302
    edit = f"{base}/{agency['location_a']}/edit"
    refused = post_form(client, edit, {"kind": "home", "address": "1 Elm St, Springfield",
                                       "latitude": "39.78", "longitude": "-89.65",
                                       "evv_radius_m": "5", "version": "2"})
    assert refused.status_code == 422
    assert "EVV radius (metres): Must be greater than or equal to 10" in text_of(refused)
    assert 'value="5"' in refused.get_data(as_text=True)
    changed = post_form(client, edit, {"kind": "home", "address": "1 Elm St, Springfield",
                                       "latitude": "39.78", "longitude": "-89.65",
                                       "evv_radius_m": "250", "version": "2"})
    assert changed.status_code == 302
    with app.app_context():
        places = {loc.address: loc.evv_radius_m for loc in db.session.scalars(
            select(ServiceLocation).where(ServiceLocation.patient_id == agency["patient_a"]))}
    assert places == {"1 Elm St, Springfield": 250, "9 Mill Rd": 300}
