"""End to end: a device that writes its ids in upper case (as Swift's ``uuidString`` does)
and a v1 device (lowercase ids, plain pulls) both push and pull against a real server."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import pytest

from bench.transport import HttpClient
from tests.e2e.conftest import Server
from tests.e2e.test_device_sync import _cli_code, _two_nurses_two_visits
from tests.integration.sync.device import TestDevice

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served



class UppercaseDevice(TestDevice):
    """Keeps and sends its ids in upper case; the shared envelope code signs and seals
    their lowercase form, as the protocol says."""

    __test__ = False

    @property
    def device_id(self) -> str:
        return super().device_id.upper()

    def body(self, plaintext: bytes, batch_id: str | None = None,
             key_id: str | None = None) -> dict[str, Any]:
        return super().body(plaintext, batch_id or str(uuid.uuid4()).upper(), key_id)


def _vitals(device: TestDevice, visit_id: str) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min", "taken_at": now},
        entity_id=uuid.uuid4(), occurred_at=now)


def _push_and_pull(device: TestDevice, visit_id: str) -> None:
    body = device.body(device.plaintext([_vitals(device, visit_id)]))
    response = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["batch_id"] == body["batch_id"].lower()
    assert response.get_json()["results"][0]["status"] == "applied"
    held, _cursor = device.pull_all()  # verified, and (v1.1) opened, page by page
    assert ("visit", visit_id) in held


def test_uppercase_and_v1_devices_push_and_pull(served):
    _coordinator, _nurse_a, _nurse_b, visit_a, visit_b = _two_nurses_two_visits(served)
    with closing(HttpClient(served.base)) as swift_http, \
            closing(HttpClient(served.base)) as v1_http:
        swift = UppercaseDevice(swift_http, sealed=True)
        assert swift.enroll(_cli_code(served, served.email("anna"))).status_code == 201
        assert swift.device_id != swift.device_id.lower()
        v1 = TestDevice(v1_http)
        assert v1.enroll(_cli_code(served, served.email("ben"))).status_code == 201

        _push_and_pull(swift, visit_a["id"])
        _push_and_pull(v1, visit_b["id"])
