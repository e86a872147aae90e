"""Candidates for a visit: eligible first, then nearest, then least loaded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from server.extensions import db
from server.models import Visit, VisitStatus
from tests.assertions import error_of
from tests.factories import make_patient
from tests.integration.scheduling.conftest import add_nurse, make_overdue

API = "/api/v1/visits"


def _earlier_visit(app, nurse_id, start, lat, lon, status=VisitStatus.SCHEDULED):
    """A visit for the nurse at a patient living at (lat, lon)."""
    with app.app_context():
        patient = make_patient(f"MRN-{uuid.uuid4().hex[:6]}")
        patient.locations[0].latitude, patient.locations[0].longitude = lat, lon
        db.session.flush()
        db.session.add(Visit(patient_id=patient.id, nurse_id=nurse_id, status=status,
                             service_location_id=patient.locations[0].id,
                             scheduled_start=start, scheduled_end=start + timedelta(hours=1)))
        db.session.commit()


def names(body):
    return [c["nurse"]["name"] for c in body["candidates"]]


def test_lists_eligible_nurses_with_load_and_distance(client, as_user, agency, app,
                                                      tpn_visits):
    # The TPN visit is at 10:00 New York on 23 Nov at 39.78, -89.65.
    near = add_nurse(app, "near@agency.test", name="Near", competencies=["tpn"])
    far = add_nurse(app, "far@agency.test", name="Far", competencies=["tpn"])
    add_nurse(app, "idle@agency.test", name="Idle", competencies=["tpn"])
    _earlier_visit(app, near, datetime(2026, 11, 23, 13, 30, tzinfo=UTC), 39.79, -89.65)
    _earlier_visit(app, far, datetime(2026, 11, 23, 12, 0, tzinfo=UTC), 40.11, -88.24)
    # Later the same day and cancelled ones do not count as "previous".
    _earlier_visit(app, far, datetime(2026, 11, 23, 20, 0, tzinfo=UTC), 39.78, -89.65)
    _earlier_visit(app, near, datetime(2026, 11, 23, 12, 0, tzinfo=UTC), 39.78, -89.65,
                   VisitStatus.CANCELLED)
    response = client.get(f"{API}/{tpn_visits[0]}/candidates", headers=as_user("coordinator"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["date"] == "2026-11-23"
    assert names(body) == ["Near", "Far", "Idle", "Bea"]  # no distance: least loaded first
    rows = {c["nurse"]["name"]: c for c in body["candidates"]}
    assert rows["Near"]["distance_km"] == 1.1 and rows["Near"]["load"] == 1
    assert 120 < rows["Far"]["distance_km"] < 140 and rows["Far"]["load"] == 2
    # Bea has agency visit_b (11:00 New York, after this one): load 1, nothing before.
    assert rows["Bea"]["distance_km"] is None and rows["Bea"]["load"] == 1
    assert rows["Idle"]["load"] == 0
    assert all(c["eligible"] and c["reasons"] == [] for c in body["candidates"])


def test_ineligible_nurses_only_on_request_and_after_the_eligible(client, as_user, agency, app,
                                                                  tpn_visits):
    make_overdue(app, agency["nurse_b"], "tpn", "TPN safety refresher")
    add_nurse(app, "ok@agency.test", name="Ok", competencies=["tpn"])
    add_nurse(app, "gone@agency.test", name="Gone", competencies=["tpn"], active=False)
    url = f"{API}/{tpn_visits[0]}/candidates"
    plain = client.get(url, headers=as_user("coordinator")).get_json()
    assert names(plain) == ["Ok"]
    full = client.get(url, headers=as_user("coordinator"),
                      query_string={"include_ineligible": "true"}).get_json()
    assert names(full) == ["Ok", "Ann", "Bea"]
    reasons = {c["nurse"]["name"]: c["reasons"] for c in full["candidates"]}
    assert reasons == {"Ok": [], "Ann": ["missing_competency: tpn"],
                       "Bea": ["training_overdue: TPN safety refresher"]}


def test_the_assigned_nurse_is_marked(client, as_user, agency, app):
    body = client.get(f"{API}/{agency['visit_a']}/candidates",
                      headers=as_user("coordinator")).get_json()
    assigned = [c["nurse"]["name"] for c in body["candidates"] if c["assigned"]]
    assert assigned == ["Ann"]


def test_candidates_is_for_coordinators_and_admins(client, as_user, agency, tpn_visits):
    for who in ("nurse_a", "qc", "physician_a"):
        response = client.get(f"{API}/{tpn_visits[0]}/candidates", headers=as_user(who))
        error_of(response, 403, "forbidden")
    assert client.get(f"{API}/{tpn_visits[0]}/candidates",
                      headers=as_user("admin")).status_code == 200


def test_unknown_visit_and_bad_flag(client, as_user, agency):
    headers = as_user("coordinator")
    error_of(client.get(f"{API}/{uuid.uuid4()}/candidates", headers=headers), 404, "not_found")
    response = client.get(f"{API}/{agency['visit_a']}/candidates", headers=headers,
                          query_string={"include_ineligible": "maybe"})
    assert "include_ineligible" in str(error_of(response, 422)["details"])
