"""The one place refusals are audited: every 403 and 404 answered by a route.

An after-request hook, so that whatever refused — a role check, a scope query, a service —
the response the user got is what is recorded (``outcome`` forbidden or not_found), with
the actor (staff user, or the device of a device token), address, request id, the route's
entity type and the id in its URL. Only matched routes: a 404 for a URL no route knows
refuses nothing and would let anyone fill the trail. Unauthenticated 401s are not audited
per request (no actor to account for; failed logins are audited by the login itself).
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from server import clock
from server.api.guards import request_actor
from server.extensions import current_session
from server.services.refusals import Refusal, record_refusal

log = logging.getLogger(__name__)

OUTCOMES = {403: "forbidden", 404: "not_found"}
API_PREFIX = "/api/v1/"
# URL segments whose records are stored under another name (the table's, as audited).
ENTITY_TYPES = {"orders": "therapy_orders", "review-items": "review_items",
                "modules": "training_modules", "assets": "training_assets",
                "audit-events.csv": "audit_events"}
ACTIONS = {"GET": "read", "HEAD": "read", "PATCH": "update", "PUT": "update",
           "DELETE": "delete"}


def _segments(rule: str) -> list[str]:
    return [part for part in rule.removeprefix(API_PREFIX).split("/") if part]


def _entity_segment(segments: list[str]) -> str:
    """The collection the route is about: the segment before its first id, else the last."""
    for index, part in enumerate(segments):
        if part.startswith("<") and index > 0:
            return segments[index - 1]
    literal = [part for part in segments if not part.startswith("<")]
    return literal[-1] if literal else ""


def _entity_id() -> uuid.UUID | None:
    """The first UUID in the URL's variables (the record the route is about)."""
    for value in (request.view_args or {}).values():
        if isinstance(value, uuid.UUID):
            return value
    return None


def refusal_of(response: Response) -> Refusal:
    """The refusal ``response`` answers, described from the route that refused."""
    rule = request.url_rule.rule if request.url_rule else request.path
    segments = _segments(rule)
    collection = _entity_segment(segments)
    entity_id = _entity_id()
    action = ACTIONS.get(request.method, "create")
    if request.method in ("GET", "HEAD") and entity_id is None:
        action = "list"
    elif request.method == "POST" and segments and segments[-1] != collection:
        action = segments[-1]  # /visits/<id>/assign → assign
    body = response.get_json(silent=True) if response.is_json else None
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    details = {"method": request.method, "route": rule, "status": response.status_code}
    if isinstance(code, str):
        details["code"] = code
    return Refusal(action, ENTITY_TYPES.get(collection, collection.replace("-", "_")),
                   entity_id, OUTCOMES[response.status_code], details)


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def audit_refusal(response: Response) -> Response:
    """After each request: a 403 or 404 of a matched route becomes one audit event."""
    if response.status_code not in OUTCOMES or request.url_rule is None:
        return response
    user = g.get("current_user")
    session = current_session()
    try:
        record_refusal(session, request_actor(user.id if user else None),
                       refusal_of(response), clock.now(), _bearer())
    except SQLAlchemyError as exc:  # the refusal stands; the failure to audit it is logged
        session.rollback()
        log.error("refusal not audited", extra={"error_type": type(exc).__name__})
    return response


def init_app(app: Flask) -> None:
    """Install the hook."""
    app.after_request(audit_refusal)
