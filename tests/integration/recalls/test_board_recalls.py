"""The coordinator's board shows a withdrawn pump and the patients it served."""

from __future__ import annotations

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.integration.recalls.helpers import (
    QUEUE,
    documented_with,
    patch_pump,
    recall_items,
    staff,
)

BOARD = "/api/v1/board"


def _board(client, **query):
    response = client.get(BOARD, headers=staff(client, "coordinator"), query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_board_lists_the_recalled_pump_with_its_patients_until_each_is_handled(
        client, enroll, agency, clock):
    documented_with(enroll("nurse_a"), agency["visit_a"], agency["order_a"], "PMP-A")
    patch_pump(client, agency["pump_a"], patient_id=str(agency["patient_b"]))
    patch_pump(client, agency["pump_a"], status="recalled")
    items = recall_items(client)

    board = _board(client)
    assert board["recalled_pumps"] == [{
        "pump": {"id": str(agency["pump_a"]), "serial": "PMP-A", "status": "recalled"},
        "patients": [
            {"id": str(agency["patient_a"]), "name": "Test PatientMRN-A", "kind": "pump_recalled",
             "review_item_id": items[str(agency["patient_a"])]["id"]},
            {"id": str(agency["patient_b"]), "name": "Test PatientMRN-B", "kind": "pump_recalled",
             "review_item_id": items[str(agency["patient_b"])]["id"]}]}]
    recall_alerts = [a for a in board["alerts"] if a["kind"] == "pump_recalled"]
    assert len(recall_alerts) == 2
    assert board["alerts"][0]["severity"] == "critical"
    assert board["review_counts"]["critical"] == 2

    qc = staff(client, "qc")
    for patient, left in (("patient_a", ["Test PatientMRN-B"]), ("patient_b", None)):
        resolved = client.post(f"{QUEUE}/{items[str(agency[patient])]['id']}/resolve",
                               headers=qc, json={"resolution": "accept",
                                                 "comment": "Pump swapped; patient called."})
        assert resolved.status_code == 200, resolved.get_json()
        pumps = _board(client)["recalled_pumps"]
        assert ([p["name"] for p in pumps[0]["patients"]] if pumps else None) == left


def test_board_audit_names_the_recall_patients_it_shows(app, client, agency):
    patch_pump(client, agency["pump_b"], status="out_of_service")
    # a day without visits: the only patient the board names is the recall's
    board = _board(client, date="2026-12-07")
    assert board["nurses"] == [] and len(board["recalled_pumps"]) == 1
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "list", AuditEvent.entity_type == "visits")).all()[-1]
    assert event.details["patient_ids"] == [str(agency["patient_b"])]
