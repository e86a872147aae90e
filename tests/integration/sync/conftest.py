"""Fixtures for the sync tier: an enrolled device for each of the agency's nurses."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.sync.device import TestDevice


@pytest.fixture
def enroll(client: FlaskClient, as_user: Any, agency: Any) -> Any:
    """``enroll("nurse_a")`` → an enrolled TestDevice of that nurse."""

    def make(nurse: str) -> TestDevice:
        code = client.post(f"/api/v1/users/{agency[nurse]}/enrollment-codes",
                           headers=as_user("coordinator"))
        assert code.status_code == 201, code.get_json()
        device = TestDevice(client)
        response = device.enroll(code.get_json()["code"])
        assert response.status_code == 201, response.get_json()
        return device

    return make
