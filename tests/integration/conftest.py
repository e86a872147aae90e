"""Fixtures shared by the integration tiers: enrolled devices and rows read back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from tests.integration.sync.device import TestDevice


@pytest.fixture
def enroll(client: FlaskClient, as_user: Any, agency: Any) -> Callable[..., TestDevice]:
    """``enroll("nurse_a")`` → an enrolled (v1) TestDevice of that nurse; ``sealed=True``
    enrolls an X25519 key too (v1.1)."""

    def make(nurse: str, *, sealed: bool = False) -> TestDevice:
        code = client.post(f"/api/v1/users/{agency[nurse]}/enrollment-codes",
                           headers=as_user("coordinator"))
        assert code.status_code == 201, code.get_json()
        device = TestDevice(client, sealed=sealed)
        response = device.enroll(code.get_json()["code"])
        assert response.status_code == 201, response.get_json()
        return device

    return make


@pytest.fixture
def rows(app: Flask) -> Callable[..., list[Any]]:
    """``rows(Model, *conditions)`` → the matching rows, loaded and detached."""

    def query(model: Any, *conditions: Any) -> list[Any]:
        with app.app_context():
            return list(db.session.scalars(select(model).where(*conditions)))

    return query


@pytest.fixture
def row(app: Flask) -> Callable[[Any, Any], Any]:
    """``row(Model, id)`` → that row (or None), loaded and detached."""

    def get(model: Any, ident: Any) -> Any:
        with app.app_context():
            return db.session.get(model, uuid.UUID(str(ident)))

    return get
