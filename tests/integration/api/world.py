"""A small agency with a bit of everything the API answers about, for tests that read the
OpenAPI document and call every operation in it.

``tests.factories.build_agency`` gives the people, patients, orders, visits and pumps; this
adds what only the API or a device makes: enrolled devices, documentation pushed from a
nurse's phone (a check-in without a GPS fix, so an EVV review item opens, and a heart
rate), and a draft training module. ``known_ids`` says, by the collection a path parameter
follows (``/visits/{visit_id}/evv`` → ``visits``), which record a test may ask for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from tests.integration.sync.device import TestDevice

CHECK_IN_WITHOUT_FIX = {"at": "2026-11-23T09:05:00-05:00", "location": None}
HEART_RATE = {"code": "8867-4", "value": 72, "unit": "/min",
              "taken_at": "2026-11-23T09:10:00-05:00"}
_PARAMETER = re.compile(r"/([^/{}]+)/\{([^}]+)\}")


@dataclass(frozen=True)
class World:
    """What the API can be asked about: ids by collection, and the nurse's device."""

    ids: dict[str, str]
    device: TestDevice

    def known_path_parameters(self, path: str) -> dict[str, str]:
        """The known record for each path parameter of ``path`` (a templated path)."""
        return {name: self.ids[collection] for collection, name in _PARAMETER.findall(path)
                if collection in self.ids}

    def knows_every_parameter(self, path: str) -> bool:
        """True when every path parameter of ``path`` has a known record."""
        return len(self.known_path_parameters(path)) == path.count("{")


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def build_world(client: FlaskClient, agency: Any, as_user: Callable[[str], dict[str, str]],
                enroll: Callable[[str], TestDevice]) -> World:
    """Add devices, nurse_a's documentation of visit_a, a review item and a draft module."""
    device = enroll("nurse_a")
    other_device = enroll("nurse_b")
    visit = agency["visit_a"]
    pushed = _ok(device.push([
        device.mutation("visit.check_in", visit, CHECK_IN_WITHOUT_FIX),
        device.mutation("vitals.record", visit, HEART_RATE, entity_id=uuid.uuid4())]))
    assert [result["status"] for result in pushed["results"]] == ["applied", "applied"]
    admin = as_user("admin")
    items = _ok(client.get("/api/v1/review-items", headers=admin))
    assert items, "the check-in without a fix opens an EVV review item"
    module = _ok(client.post("/api/v1/training/modules", headers=admin,
                             json={"title": "Hand hygiene"}), 201)
    ids = {
        # Not the admin nor nurse_a: a generated PATCH may disable the user it names.
        "users": str(agency["nurse_b"]),
        "patients": str(agency["patient_a"]),
        "orders": str(agency["order_a"]),
        "pumps": str(agency["pump_a"]),
        "visits": str(visit),
        "devices": other_device.device_id,
        "review-items": items[0]["id"],
        "modules": module["id"],
    }
    return World(ids, device)
