"""Building a request's ``Access`` (actor, time, scope) and reading its version precondition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from sqlalchemy import ColumnElement

from server import clock
from server.api.guards import current_user, request_actor
from server.errors import Invalid
from server.models import User
from server.services.records import Access


def access_for(condition: Callable[[User], ColumnElement[bool] | None] | None = None) -> Access:
    """The current user's access, scoped by ``condition`` (no condition: agency-wide)."""
    user = current_user()
    return Access(
        actor=request_actor(user.id),
        now=clock.now(),
        condition=condition(user) if condition else None,
    )


def expected_version(data: dict[str, Any]) -> int | None:
    """The version an edit is based on: ``If-Match`` header or a ``version`` body field."""
    body_version: int | None = data.pop("version", None)
    header = request.headers.get("If-Match")
    if header is None:
        return body_version
    text = header.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()):  # isdigit alone takes "³", which int() refuses
        raise Invalid("If-Match must carry the record's version number.",
                      {"If-Match": ["Expected a version number like \"3\"."]})
    if body_version is not None and body_version != int(text):
        raise Invalid("If-Match and version disagree.", {"version": ["Differs from If-Match."]})
    return int(text)
