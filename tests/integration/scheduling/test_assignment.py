"""Assigning visits: eligibility with reasons, the audited override, bulk, roles, states."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, User, Visit, VisitStatus
from server.services import eligibility
from tests.assertions import error_of
from tests.integration.scheduling.conftest import add_nurse, make_overdue, order_of
from tests.integration.scheduling.helpers import visit_row

API = "/api/v1/visits"
OVERRIDE = "Only nurse in the area today; TPN lead on call."


def assign(client: Any, headers: dict[str, str], visit_id: Any, nurse_id: Any,
           **fields: Any) -> Any:
    body = {"nurse_id": str(nurse_id), **fields}
    if "version" not in body:
        current = client.get(f"{API}/{visit_id}", headers=headers).get_json()
        body["version"] = current["version"]
    return client.post(f"{API}/{visit_id}/assign", headers=headers, json=body)


def test_assigning_an_eligible_nurse(client, as_user, agency, app, tpn_visits):
    visit_id = tpn_visits[0]
    response = assign(client, as_user("coordinator"), visit_id, agency["nurse_b"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["nurse_id"] == str(agency["nurse_b"])
    assert body["assignment_override"] is None
    assert visit_row(app, visit_id)["nurse_id"] == agency["nurse_b"]


def test_missing_competency_is_refused_with_the_reason(client, as_user, agency, app,
                                                       tpn_visits):
    response = assign(client, as_user("coordinator"), tpn_visits[0], agency["nurse_a"])
    error = error_of(response, 409, "not_eligible")
    assert error["details"]["reasons"] == ["missing_competency: tpn"]
    assert "missing_competency: tpn" in error["message"]
    assert visit_row(app, tpn_visits[0])["nurse_id"] is None


def test_each_refusal_reason_is_exact(app, agency, tpn_visits):
    order = order_of(app, tpn_visits[0])
    inactive = add_nurse(app, "ivy@agency.test", competencies=["tpn"], active=False)
    overdue = add_nurse(app, "oli@agency.test", competencies=["tpn"])
    make_overdue(app, overdue, "tpn", "TPN safety refresher")
    other_module = add_nurse(app, "pat@agency.test", competencies=["tpn"])
    make_overdue(app, other_module, "picc-care", "PICC dressing")
    optional = add_nurse(app, "opt@agency.test", competencies=["tpn"])
    make_overdue(app, optional, "tpn", "TPN extras", required=False)
    with app.app_context():
        def reasons(user_id: uuid.UUID) -> list[str]:
            user = db.session.get(User, user_id)
            assert user is not None
            return eligibility.reasons(db.session, user, order)

        assert reasons(agency["nurse_b"]) == []
        assert reasons(agency["nurse_a"]) == ["missing_competency: tpn"]
        assert reasons(agency["physician_a"]) == ["not_a_nurse"]
        assert reasons(inactive) == ["inactive"]
        assert reasons(overdue) == ["training_overdue: TPN safety refresher"]
        assert reasons(other_module) == []
        assert reasons(optional) == []


def test_training_overdue_refusal_through_the_api(client, as_user, agency, tpn_visits):
    make_overdue(client.application, agency["nurse_b"], "tpn", "TPN safety refresher")
    response = assign(client, as_user("coordinator"), tpn_visits[0], agency["nurse_b"])
    assert error_of(response, 409, "not_eligible")["details"]["reasons"] == [
        "training_overdue: TPN safety refresher"]


def test_override_assigns_and_is_audited_with_the_reason(client, as_user, agency, app,
                                                         tpn_visits):
    visit_id = tpn_visits[0]
    response = assign(client, as_user("coordinator"), visit_id, agency["nurse_a"],
                      override_reason=OVERRIDE)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["assignment_override"] == OVERRIDE
    row = visit_row(app, visit_id)
    assert (row["nurse_id"], row["assignment_override"]) == (agency["nurse_a"], OVERRIDE)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "assign_override", AuditEvent.entity_id == visit_id)).one()
        assert event.actor_user_id == agency["coordinator"]
        assert event.details["overridden"] == ["missing_competency: tpn"]
        assert event.details["override_reason"] == OVERRIDE
        assert event.patient_id == agency["patient_a"]


def test_an_override_needs_a_real_reason(client, as_user, agency, tpn_visits):
    for reason in ("because", " " * 12):
        response = assign(client, as_user("coordinator"), tpn_visits[0], agency["nurse_a"],
                          override_reason=reason)
        assert "override_reason" in error_of(response, 422, "validation_failed")["details"]


def test_no_override_assigns_a_non_nurse_or_an_inactive_one(client, as_user, agency, app,
                                                            tpn_visits):
    inactive = add_nurse(app, "ivy@agency.test", competencies=["tpn"], active=False)
    for user_id, reason in ((agency["physician_a"], "not_a_nurse"), (inactive, "inactive")):
        response = assign(client, as_user("coordinator"), tpn_visits[0], user_id,
                          override_reason=OVERRIDE)
        error = error_of(response, 409, "not_eligible")
        assert error["details"]["reasons"] == [reason]
        assert error["details"]["overridable"] is False
    assert visit_row(app, tpn_visits[0])["nurse_id"] is None


def test_a_new_eligible_assignment_clears_the_override(client, as_user, agency, app,
                                                       tpn_visits):
    headers = as_user("coordinator")
    assign(client, headers, tpn_visits[0], agency["nurse_a"], override_reason=OVERRIDE)
    response = assign(client, headers, tpn_visits[0], agency["nurse_b"])
    assert response.status_code == 200
    assert visit_row(app, tpn_visits[0])["assignment_override"] is None


def test_closed_visits_cannot_be_assigned(client, as_user, agency, app, tpn_visits):
    for status in (VisitStatus.CANCELLED, VisitStatus.COMPLETED, VisitStatus.MISSED):
        with app.app_context():
            visit = db.session.get(Visit, tpn_visits[0])
            assert visit is not None
            visit.status = status
            db.session.commit()
        response = assign(client, as_user("coordinator"), tpn_visits[0], agency["nurse_b"])
        error = error_of(response, 409, "visit_not_assignable")
        assert status.value in error["message"]


def test_a_started_visit_moves_only_with_an_override(client, as_user, agency, app, tpn_visits):
    headers = as_user("coordinator")
    assign(client, headers, tpn_visits[0], agency["nurse_b"])
    second = add_nurse(app, "tia@agency.test", competencies=["tpn"])
    with app.app_context():
        visit = db.session.get(Visit, tpn_visits[0])
        assert visit is not None
        visit.status, visit.checked_in_at = VisitStatus.IN_PROGRESS, visit.scheduled_start
        db.session.commit()
    error = error_of(assign(client, headers, tpn_visits[0], second), 409, "not_eligible")
    assert error["details"]["reasons"] == ["documented"]
    assert "started" in error["message"]
    response = assign(client, headers, tpn_visits[0], second, override_reason=OVERRIDE)
    assert response.status_code == 200, response.get_json()
    assert visit_row(app, tpn_visits[0])["nurse_id"] == second


def test_assign_needs_the_version_and_refuses_a_stale_one(client, as_user, agency, tpn_visits):
    headers = as_user("coordinator")
    url = f"{API}/{tpn_visits[0]}/assign"
    missing = client.post(url, headers=headers, json={"nurse_id": str(agency["nurse_b"])})
    error_of(missing, 428, "version_required")
    stale = client.post(url, headers={**headers, "If-Match": '"7"'},
                        json={"nurse_id": str(agency["nurse_b"])})
    error_of(stale, 409, "stale_version")


def test_unknown_nurse_and_unknown_visit(client, as_user, agency, tpn_visits):
    headers = as_user("coordinator")
    response = assign(client, headers, tpn_visits[0], uuid.uuid4())
    assert "nurse_id" in error_of(response, 422, "validation_failed")["details"]
    response = client.post(f"{API}/{uuid.uuid4()}/assign", headers=headers,
                           json={"nurse_id": str(agency["nurse_b"]), "version": 1})
    error_of(response, 404, "not_found")


def test_only_coordinators_and_admins_assign(client, as_user, agency, tpn_visits):
    for who in ("nurse_a", "nurse_b", "qc", "physician_a", "training_lead"):
        response = client.post(f"{API}/{tpn_visits[0]}/assign", headers=as_user(who),
                               json={"nurse_id": str(agency["nurse_b"]), "version": 1})
        error_of(response, 403, "forbidden")
        bulk = client.post(f"{API}/assign", headers=as_user(who), json={"assignments": [
            {"visit_id": str(tpn_visits[0]), "nurse_id": str(agency["nurse_b"])}]})
        error_of(bulk, 403, "forbidden")
    response = assign(client, as_user("admin"), tpn_visits[0], agency["nurse_b"])
    assert response.status_code == 200


def test_unassign_returns_the_visit_to_the_unassigned_list(client, as_user, agency, app,
                                                           tpn_visits):
    headers = as_user("coordinator")
    version = assign(client, headers, tpn_visits[0], agency["nurse_b"]).get_json()["version"]
    response = client.post(f"{API}/{tpn_visits[0]}/unassign", headers=headers,
                           json={"version": version})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["nurse_id"] is None
    assert visit_row(app, tpn_visits[0])["nurse_id"] is None


def test_bulk_mixed_results_each_item_on_its_own(client, as_user, agency, app, tpn_visits):
    response = client.post(f"{API}/assign", headers=as_user("coordinator"), json={
        "assignments": [
            {"visit_id": str(tpn_visits[0]), "nurse_id": str(agency["nurse_b"])},
            {"visit_id": str(tpn_visits[1]), "nurse_id": str(agency["nurse_a"])},
            {"visit_id": str(uuid.uuid4()), "nurse_id": str(agency["nurse_b"])},
            {"visit_id": str(tpn_visits[2]), "nurse_id": str(agency["nurse_b"]),
             "version": 9},
        ]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["assigned"], body["refused"]) == (1, 3)
    outcomes = [(r["outcome"], r["error"] and r["error"]["code"]) for r in body["results"]]
    assert outcomes == [("assigned", None), ("refused", "not_eligible"),
                        ("refused", "not_found"), ("refused", "stale_version")]
    assert body["results"][1]["error"]["details"]["reasons"] == ["missing_competency: tpn"]
    assert body["results"][0]["visit"]["nurse_id"] == str(agency["nurse_b"])
    assert [visit_row(app, v)["nurse_id"] for v in tpn_visits] == [agency["nurse_b"], None, None]


def test_bulk_override_applies_to_the_items_that_need_it(client, as_user, agency, app,
                                                         tpn_visits):
    response = client.post(f"{API}/assign", headers=as_user("coordinator"), json={
        "override_reason": OVERRIDE, "assignments": [
            {"visit_id": str(tpn_visits[0]), "nurse_id": str(agency["nurse_b"])},
            {"visit_id": str(tpn_visits[1]), "nurse_id": str(agency["nurse_a"])}]})
    assert response.get_json()["assigned"] == 2
    assert visit_row(app, tpn_visits[0])["assignment_override"] is None
    assert visit_row(app, tpn_visits[1])["assignment_override"] == OVERRIDE


def test_bulk_input_is_checked(client, as_user, agency, tpn_visits):
    headers = as_user("coordinator")
    item = {"visit_id": str(tpn_visits[0]), "nurse_id": str(agency["nurse_b"])}
    for body in ({"assignments": []}, {"assignments": [item, item]},
                 {"assignments": [{"visit_id": "nope", "nurse_id": "x"}]},
                 {"assignments": [item] * 201}, {}):
        response = client.post(f"{API}/assign", headers=headers, json=body)
        assert "assignments" in error_of(response, 422, "validation_failed")["details"]


def test_unassign_takes_if_match_without_a_body(client, as_user, agency, app, tpn_visits):
    headers = as_user("coordinator")
    version = assign(client, headers, tpn_visits[0], agency["nurse_b"]).get_json()["version"]
    response = client.post(f"{API}/{tpn_visits[0]}/unassign",
                           headers={**headers, "If-Match": f'"{version}"'})
    assert response.status_code == 200, response.get_json()
    assert visit_row(app, tpn_visits[0])["nurse_id"] is None


def test_bad_assign_bodies_are_4xx_with_messages(client, as_user, agency, tpn_visits):
    headers = as_user("coordinator")
    url = f"{API}/{tpn_visits[0]}/assign"
    for body, field in (({"nurse_id": "abc", "version": 1}, "nurse_id"),
                        ({"version": 1}, "nurse_id"),
                        ({"nurse_id": str(agency["nurse_b"]), "version": "1"}, "version"),
                        ({"nurse_id": str(agency["nurse_b"]), "version": 1, "x": 1}, "x"),
                        ({"nurse_id": str(agency["nurse_b"]), "override_reason": 5,
                          "version": 1}, "override_reason")):
        response = client.post(url, headers=headers, json=body)
        assert field in error_of(response, 422, "validation_failed")["details"], body
    response = client.post(url, headers={**headers, "Content-Type": "application/json"},
                           data="{not json")
    assert response.status_code == 400
    response = client.post(url, headers={**headers, "If-Match": '"abc"'},
                           json={"nurse_id": str(agency["nurse_b"])})
    error_of(response, 422, "validation_failed")
