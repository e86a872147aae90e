"""The staff inbox: /api/v1/notifications lists one's own, newest first, and marks read."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from server.services.notifications import notify
from tests.assertions import error_of

URL = "/api/v1/notifications"


def _notify(app: Flask, clock: Any, user_id: uuid.UUID, title: str,
            patient_id: uuid.UUID | None = None, minutes: int = 0) -> str:
    with app.app_context():
        note = notify(db.session, user_id, "critical_finding", title, "Open infusync.",
                      dedupe_key=f"test:{uuid.uuid4()}", now=clock() + timedelta(minutes=minutes),
                      patient_id=patient_id)
        assert note is not None
        db.session.commit()
        return str(note.id)


def _titles(client: Any, headers: dict[str, str], **query: Any) -> list[str]:
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [note["title"] for note in response.get_json()]


def test_each_user_lists_her_own_newest_first(app, client, agency, clock, as_user):
    _notify(app, clock, agency["physician_a"], "first", agency["patient_a"], minutes=1)
    _notify(app, clock, agency["physician_a"], "second", agency["patient_a"], minutes=2)
    _notify(app, clock, agency["physician_b"], "not hers", agency["patient_b"])
    assert _titles(client, as_user("physician_a")) == ["second", "first"]
    assert _titles(client, as_user("physician_b")) == ["not hers"]
    assert _titles(client, as_user("coordinator")) == []


def test_pages_say_how_many_there_are(app, client, agency, clock, as_user):
    for minute in range(3):
        _notify(app, clock, agency["coordinator"], f"n{minute}", minutes=minute)
    response = client.get(URL, headers=as_user("coordinator"),
                          query_string={"page": 2, "page_size": 2})
    assert [n["title"] for n in response.get_json()] == ["n0"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


def test_marking_read_and_the_unread_filter(app, client, agency, clock, as_user):
    doctor = as_user("physician_a")
    first = _notify(app, clock, agency["physician_a"], "first", agency["patient_a"])
    _notify(app, clock, agency["physician_a"], "second", agency["patient_a"], minutes=1)
    read = client.post(f"{URL}/{first}/read", headers=doctor)
    assert read.status_code == 200, read.get_json()
    assert read.get_json()["read_at"] == clock().isoformat()
    clock.advance(minutes=5)
    again = client.post(f"{URL}/{first}/read", headers=doctor)  # the first reading stands
    assert again.status_code == 200 and again.get_json()["read_at"] == read.get_json()["read_at"]
    assert _titles(client, doctor, unread="true") == ["second"]
    assert _titles(client, doctor, unread="false") == ["first"]
    assert _titles(client, doctor) == ["second", "first"]


def test_anothers_notification_is_unknown(app, client, agency, clock, as_user):
    hers = _notify(app, clock, agency["physician_b"], "hers", agency["patient_b"])
    error_of(client.post(f"{URL}/{hers}/read", headers=as_user("physician_a")), 404, "not_found")
    error_of(client.post(f"{URL}/{uuid.uuid4()}/read", headers=as_user("physician_a")), 404)
    assert _titles(client, as_user("physician_b"), unread="true") == ["hers"]


def test_sign_in_and_strict_queries(client, agency, as_user):
    error_of(client.get(URL), 401)
    error_of(client.post(f"{URL}/{uuid.uuid4()}/read"), 401)
    refused = error_of(client.get(URL, headers=as_user("qc"), query_string={"unread": "maybe"}),
                       422)
    assert "unread" in json.dumps(refused["details"])
    refused = error_of(client.get(URL, headers=as_user("qc"), query_string={"kind": "x"}), 422)
    assert "kind" in json.dumps(refused["details"])


def test_reads_naming_a_patient_are_audited(app, client, agency, clock, as_user):
    note = _notify(app, clock, agency["physician_a"], "about A", agency["patient_a"])
    doctor = as_user("physician_a")
    client.get(URL, headers=doctor)
    clock.advance(minutes=1)
    client.post(f"{URL}/{note}/read", headers=doctor)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "notifications").order_by(AuditEvent.at)).all()
        assert [(e.action, e.actor_user_id) for e in events] == [
            ("list", agency["physician_a"]), ("mark_read", agency["physician_a"])]
        assert events[0].details["patient_ids"] == [str(agency["patient_a"])]
        assert (events[1].entity_id, events[1].patient_id) == (uuid.UUID(note),
                                                               agency["patient_a"])
