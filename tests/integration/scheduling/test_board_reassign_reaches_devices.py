"""A reassignment made from the board reaches the old and the new nurse's devices."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.scheduling.conftest import add_nurse
from tests.integration.sync.device import TestDevice


def _enroll(client: Any, as_user: Any, nurse_id: uuid.UUID) -> TestDevice:
    code = client.post(f"/api/v1/users/{nurse_id}/enrollment-codes",
                       headers=as_user("coordinator"))
    assert code.status_code == 201, code.get_json()
    device = TestDevice(client)
    assert device.enroll(code.get_json()["code"]).status_code == 201
    return device


def _board_visit(client: Any, headers: dict[str, str], visit_id: uuid.UUID) -> dict[str, Any]:
    board = client.get("/api/v1/board", headers=headers,
                       query_string={"date": "2026-11-23"}).get_json()
    visits = board["unassigned"] + [v for row in board["nurses"] for v in row["visits"]]
    return next(v for v in visits if v["id"] == str(visit_id))


def _assign(client: Any, headers: dict[str, str], visit_id: uuid.UUID,
            nurse_id: uuid.UUID) -> None:
    version = _board_visit(client, headers, visit_id)["version"]
    response = client.post(f"/api/v1/visits/{visit_id}/assign",
                           headers={**headers, "If-Match": f'"{version}"'},
                           json={"nurse_id": str(nurse_id)})
    assert response.status_code == 200, response.get_json()


def test_reassignment_on_the_board_reaches_both_devices(client, as_user, agency, app,
                                                         tpn_visits):
    headers = as_user("coordinator")
    visit_id, patient_id = tpn_visits[0], agency["patient_a"]
    cam = add_nurse(app, "cam@agency.test", name="Cam", competencies=["tpn"])
    bea_device, cam_device = _enroll(client, as_user, agency["nurse_b"]), _enroll(
        client, as_user, cam)

    _assign(client, headers, visit_id, agency["nurse_b"])
    bea_held, bea_cursor = bea_device.pull_all()
    cam_held, cam_cursor = cam_device.pull_all()
    assert ("visit", str(visit_id)) in bea_held
    assert ("patient", str(patient_id)) in bea_held
    assert ("visit", str(visit_id)) not in cam_held

    _assign(client, headers, visit_id, cam)
    board_row = _board_visit(client, headers, visit_id)
    assert board_row["status"] == "scheduled"

    bea_changes = bea_device.pull(bea_cursor).get_json()["changes"]
    removed = {(c["type"], c["id"]) for c in bea_changes if c["op"] == "remove"}
    assert ("visit", str(visit_id)) in removed
    # Bea has no other visit of patient A, so the patient leaves her device too.
    assert ("patient", str(patient_id)) in removed
    bea_after, _ = bea_device.pull_all(bea_cursor)
    assert ("visit", str(agency["visit_b"])) not in removed

    cam_changes, _ = cam_device.pull_all(cam_cursor)
    assert cam_changes[("visit", str(visit_id))]["nurse_id"] == str(cam)
    assert ("patient", str(patient_id)) in cam_changes
    assert bea_after == {}
