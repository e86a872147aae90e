"""Each review kind has an owner role; the owner (or a role above) acknowledges an item."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, ReviewItem, Role
from server.review_items import FINDINGS, fact_key, open_item
from tests.assertions import error_of

URL = "/api/v1/review-items"


def _open(app: Flask, clock: Any, kind: str, patient_id: Any = None) -> str:
    with app.app_context():
        opened = open_item(db.session, kind, f"{kind} found.", now=clock(),
                           dedupe_key=fact_key(kind, uuid.uuid4()), patient_id=patient_id)
        db.session.commit()
        return str(opened.item.id)


def _ack(client: Any, headers: dict[str, str], item_id: str) -> Any:
    return client.post(f"{URL}/{item_id}/acknowledge", headers=headers)


def test_every_kind_is_owned_by_qc_or_the_coordinator_but_the_audit_trail():
    assert {finding.owner for finding in FINDINGS.values()} == {Role.QC, Role.COORDINATOR,
                                                                Role.ADMIN}
    assert [k for k, f in FINDINGS.items() if f.owner is Role.ADMIN] == ["audit_chain_broken"]
    assert FINDINGS["pump_recalled"].owner is Role.COORDINATOR
    assert FINDINGS["adverse_reaction"].owner is Role.QC
    assert FINDINGS["evv_exception"].owner is Role.COORDINATOR
    assert FINDINGS["pump_not_in_service"].owner is Role.COORDINATOR


def test_the_queue_shows_and_filters_by_owner(app, client, agency, clock, as_user):
    clinical = _open(app, clock, "adverse_reaction", agency["patient_a"])
    logistics = _open(app, clock, "silent_device")
    items = client.get(URL, headers=as_user("qc")).get_json()
    assert {(i["id"], i["owner"]) for i in items} == {(clinical, "qc"),
                                                      (logistics, "coordinator")}
    assert all(i["acknowledged_at"] is None and i["escalated_at"] is None for i in items)
    for owner, expected in (("qc", [clinical]), ("coordinator", [logistics])):
        found = client.get(URL, headers=as_user("qc"), query_string={"owner": owner})
        assert [i["id"] for i in found.get_json()] == expected
    error_of(client.get(URL, headers=as_user("qc"), query_string={"owner": "nurse"}), 422)
    assert client.get(URL, headers=as_user("qc"), query_string={"owner": "admin"}).get_json() == []


def test_the_owner_acknowledges_once(app, client, agency, clock, as_user):
    item = _open(app, clock, "adverse_reaction", agency["patient_a"])
    taken = _ack(client, as_user("qc"), item)
    assert taken.status_code == 200, taken.get_json()
    assert (taken.get_json()["acknowledged_at"], taken.get_json()["acknowledged_by"]) == (
        clock().isoformat(), str(agency["qc"]))
    clock.advance(minutes=1)
    second = error_of(_ack(client, as_user("coordinator"), item), 409, "already_acknowledged")
    assert second["details"]["acknowledged_by"] == str(agency["qc"])
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "acknowledge")).all()
        assert (event.actor_user_id, event.entity_id, event.patient_id) == (
            agency["qc"], uuid.UUID(item), agency["patient_a"])


@pytest.mark.parametrize(("kind", "who", "status"), [
    ("adverse_reaction", "coordinator", 200),  # above QC: escalations reach coordinators
    ("adverse_reaction", "admin", 200),
    ("silent_device", "coordinator", 200),
    ("silent_device", "qc", 403),  # a coordinator's item is not QC's to take
    ("silent_device", "nurse_a", 403),
    ("audit_chain_broken", "coordinator", 403),  # only an admin can take the audit trail
    ("audit_chain_broken", "admin", 200),
    ("adverse_reaction", "physician_a", 403),
])
def test_who_may_acknowledge(app, client, agency, clock, as_user, kind, who, status):
    item = _open(app, clock, kind, agency["patient_a"])
    response = _ack(client, as_user(who), item)
    assert response.status_code == status, response.get_json()
    if status == 403:
        error_of(response, 403, "forbidden")
        with app.app_context():
            assert db.session.get(ReviewItem, uuid.UUID(item)).acknowledged_at is None


def test_a_resolved_item_needs_no_acknowledgement(app, client, agency, clock, as_user):
    item = _open(app, clock, "adverse_reaction", agency["patient_a"])
    resolved = client.post(f"{URL}/{item}/resolve", headers=as_user("qc"),
                           json={"resolution": "accept", "comment": "Physician informed."})
    assert resolved.status_code == 200, resolved.get_json()
    error_of(_ack(client, as_user("qc"), item), 409, "already_resolved")
    error_of(_ack(client, as_user("qc"), str(uuid.uuid4())), 404)
    with app.app_context():
        assert db.session.get(ReviewItem, uuid.UUID(item)).acknowledged_at is None
