"""Fixtures for the training tier: the lead's API calls and enrolled nurse devices."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import login
from tests.integration.training.modules import module_body


@pytest.fixture
def lead(client: FlaskClient, agency: Any) -> Any:
    """The training lead's calls: ``lead.publish(**overrides)`` → the published module."""

    class Lead:
        @property
        def headers(self) -> dict[str, str]:
            """A fresh login each time: tests move the clock past the token's idle time."""
            return login(client, "training_lead")

        def draft(self, **overrides: Any) -> dict[str, Any]:
            response = client.post("/api/v1/training/modules", json=module_body(**overrides),
                                   headers=self.headers)
            assert response.status_code == 201, response.get_json()
            return dict(response.get_json())

        def publish(self, **overrides: Any) -> dict[str, Any]:
            module = self.draft(**overrides)
            response = client.post(f"/api/v1/training/modules/{module['id']}/publish",
                                   headers=self.headers)
            assert response.status_code == 200, response.get_json()
            return dict(response.get_json())

        def post(self, path: str, **kwargs: Any) -> Any:
            return client.post(f"/api/v1/training{path}", headers=self.headers, **kwargs)

        def status(self, **query: Any) -> list[dict[str, Any]]:
            response = client.get("/api/v1/training/status", headers=self.headers,
                                  query_string=query)
            assert response.status_code == 200, response.get_json()
            return list(response.get_json())

    return Lead()


def complete(device: Any, module: dict[str, Any], answers: dict[str, list[str]],
             **extra: Any) -> dict[str, Any]:
    """A ``training.complete`` mutation from ``device`` (visit_id null)."""
    import uuid

    device.seq += 1
    data = {"module_id": module["id"], "version": module["version"], "answers": answers,
            "started_at": "2026-11-23T09:00:00-05:00",
            "completed_at": "2026-11-23T09:12:00-05:00", **extra}
    return {"id": str(uuid.uuid4()), "seq": device.seq, "type": "training.complete",
            "entity_id": str(uuid.uuid4()), "visit_id": None, "base_version": None,
            "occurred_at": "2026-11-23T09:12:00-05:00", "data": data}
