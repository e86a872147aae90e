"""Shared steps of the recall tests: documenting with a pump, withdrawing it, reading back."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.factories import login
from tests.integration.api.test_review_queue import infusion, push
from tests.integration.sync.device import TestDevice

QUEUE = "/api/v1/review-items"
RECALL_KINDS = ("pump_recalled", "pump_out_of_service")


def documented_with(device: TestDevice, visit_id: Any, order_id: Any, serial: str,
                    hour: int = 9) -> str:
    """The nurse's device pushes an infusion through pump ``serial``; its record id."""
    sent = infusion(device, visit_id, order_id, serial, hour)
    assert push(device, sent)[0]["status"] == "applied"
    return str(sent["entity_id"])


def staff(client: FlaskClient, who: str) -> dict[str, str]:
    """A fresh login of ``who`` (the tests move the clock past a token's idle time)."""
    return login(client, who)


def patch_pump(client: FlaskClient, pump_id: Any, **fields: Any) -> dict[str, Any]:
    """The coordinator PATCHes the pump (at its current version); the pump after."""
    headers = staff(client, "coordinator")
    current = client.get(f"/api/v1/pumps/{pump_id}", headers=headers).get_json()
    response = client.patch(f"/api/v1/pumps/{pump_id}", headers=headers,
                            json={**fields, "version": current["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def recall_items(client: FlaskClient) -> dict[str, dict[str, Any]]:
    """The recall items in the review queue (as QC sees it), by patient id."""
    headers = staff(client, "qc")
    items: dict[str, dict[str, Any]] = {}
    for kind in RECALL_KINDS:
        response = client.get(QUEUE, headers=headers, query_string={"kind": kind})
        assert response.status_code == 200, response.get_json()
        for item in response.get_json():
            assert item["patient_id"] not in items, "two recall items for one patient"
            items[item["patient_id"]] = item
    return items


def device_notifications(device: TestDevice) -> list[dict[str, Any]]:
    """The notifications a full pull brings to the device."""
    held, _cursor = device.pull_all()
    return [data for (kind, _id), data in held.items() if kind == "notification"]
