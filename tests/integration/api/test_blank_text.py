"""Text of only whitespace through the API: a required name, title or reason of "   " is
refused naming its field (it used to be stored as blanks); an optional one counts as not
given; text is stored without its surrounding spaces."""

from __future__ import annotations

import uuid

from flask import Flask

from schemas.base import BLANK_MESSAGE
from server.extensions import db
from server.models import Patient, Pump, ServiceLocation, Visit, VisitStatus
from tests.assertions import count_rows, error_of
from tests.integration.api.test_patients import URL as PATIENTS
from tests.integration.api.test_patients import new_patient
from tests.integration.api.test_pumps import URL as PUMPS
from tests.integration.api.test_pumps import new_pump


def _patient(app: Flask, patient_id: object) -> Patient:
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        assert patient is not None
        return patient


def test_a_patient_named_only_spaces_is_refused_and_not_stored(client, as_user, agency, app):
    response = client.post(PATIENTS, headers=as_user("coordinator"),
                           json=new_patient(mrn="MRN-SP", first_name="   ", last_name="\t\n"))
    details = error_of(response, 422, "validation_failed")["details"]
    assert details["first_name"] == [BLANK_MESSAGE]
    assert details["last_name"] == [BLANK_MESSAGE]
    assert count_rows(app, Patient, Patient.mrn == "MRN-SP") == 0


def test_a_blank_address_or_allergy_is_refused_on_its_item(client, as_user, agency, app):
    body = new_patient(mrn="MRN-SP", allergies=["latex", "  "])
    body["locations"][0]["address"] = "  "
    details = error_of(client.post(PATIENTS, headers=as_user("coordinator"), json=body),
                       422, "validation_failed")["details"]
    assert details["allergies"] == {"1": [BLANK_MESSAGE]}
    assert details["locations"] == {"0": {"address": [BLANK_MESSAGE]}}
    assert count_rows(app, Patient, Patient.mrn == "MRN-SP") == 0


def test_names_are_stored_without_surrounding_spaces(client, as_user, agency, app):
    response = client.post(PATIENTS, headers=as_user("coordinator"),
                           json=new_patient(mrn=" MRN-SP ", first_name="  Grace "))
    assert response.status_code == 201, response.get_json()
    patient = _patient(app, uuid.UUID(response.get_json()["id"]))
    assert (patient.mrn, patient.first_name) == ("MRN-SP", "Grace")


def test_a_patch_to_a_blank_name_is_refused_and_changes_nothing(client, as_user, agency, app):
    response = client.patch(f"{PATIENTS}/{agency['patient_a']}", headers=as_user("coordinator"),
                            json={"last_name": "    ", "version": 1})
    assert error_of(response, 422, "validation_failed")["details"] == {
        "last_name": [BLANK_MESSAGE]}
    patient = _patient(app, agency["patient_a"])
    assert (patient.last_name, patient.version) == ("PatientMRN-A", 1)


def test_a_blank_optional_address_in_a_patch_leaves_the_address(client, as_user, agency, app):
    home = {"id": str(agency["location_a"]), "address": "   ", "evv_radius_m": 300}
    response = client.patch(f"{PATIENTS}/{agency['patient_a']}", headers=as_user("coordinator"),
                            json={"locations": [home], "version": 1})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        location = db.session.get(ServiceLocation, agency["location_a"])
        assert location is not None
        assert (location.address, location.evv_radius_m) == ("1 Elm St, Springfield", 300)


def test_a_pump_with_a_blank_serial_is_refused(client, as_user, agency, app):
    before = count_rows(app, Pump)
    response = client.post(PUMPS, headers=as_user("coordinator"),
                           json=new_pump(serial="  ", model=" "))
    details = error_of(response, 422, "validation_failed")["details"]
    assert details == {"serial": [BLANK_MESSAGE], "model": [BLANK_MESSAGE]}
    assert count_rows(app, Pump) == before


def test_cancelling_with_a_reason_of_spaces_is_refused(client, as_user, agency, app):
    response = client.patch(f"/api/v1/visits/{agency['visit_a']}",
                            headers=as_user("coordinator"),
                            json={"version": 1, "status": "cancelled", "cancel_reason": "   "})
    details = error_of(response, 422, "validation_failed")["details"]
    assert details == {"cancel_reason": ["Say why the visit is cancelled."]}
    with app.app_context():
        visit = db.session.get(Visit, agency["visit_a"])
        assert visit is not None
        assert (visit.status, visit.cancel_reason) == (VisitStatus.SCHEDULED, None)
