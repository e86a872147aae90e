"""Assertions every API test shares: the one error shape, and counting stored rows."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from server.extensions import db


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error body, after checking the status, the code and the one error shape."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def count_rows(app: Flask, model: Any, *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0
