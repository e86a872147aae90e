"""First light of the sync protocol: enroll, push a check-in and vitals, pull the scope."""

import uuid

from server.extensions import db
from server.models import Visit, VitalSign


def test_check_in_and_vitals_are_applied_and_pulled(app, enroll, agency):
    device = enroll("nurse_a")
    visit_id = agency["visit_a"]
    check_in = device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})
    vitals = device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min", "taken_at": "2026-11-23T09:10:00-05:00"},
        entity_id="0193a3b4-0000-7000-8000-0000000000a1")
    response = device.push([check_in, vitals])
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "applied"]
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.status.value == "in_progress"
        assert db.session.get(VitalSign, uuid.UUID(vitals["entity_id"])) is not None

    held, _cursor = device.pull_all()
    assert ("visit", str(visit_id)) in held
    assert held[("visit", str(visit_id))]["status"] == "in_progress"
    assert ("patient", str(agency["patient_a"])) in held
    assert ("patient", str(agency["patient_b"])) not in held
