"""GET /sync/push/{batch_id}: a device whose push answer was lost asks for it by batch id.

The answer is the batch's stored response, exactly what sending the batch again would get,
signed for the request; only to the device that pushed it. Any other batch id is unknown,
whether another device used it or nobody did (no one learns another device's batches).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import AuditEvent, VitalSign
from tests.assertions import error_of
from tests.integration.sync.test_signed_answers import check_signed, revoke, signed_headers

URL = "/api/v1/sync/push"


def _hr(device, visit_id, value=72):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _ask(client, device, batch_id):
    return client.get(f"{URL}/{batch_id}", headers=signed_headers(device))


def test_a_pushed_batch_is_answered_again_by_its_id_signed_for_the_request(
        client, enroll, agency, app):
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    pushed = device.push([_hr(device, agency["visit_a"]),
                          _hr(device, agency["visit_a"], 400)], batch_id=batch_id)
    assert pushed.status_code == 200
    answer = _ask(client, device, batch_id)
    assert answer.status_code == 200
    assert answer.get_json() == pushed.get_json()
    assert [r["status"] for r in answer.get_json()["results"]] == ["applied", "rejected"]
    check_signed(answer, device.enrollment, device.device_id,
                 signed_headers(device)["Infusync-Nonce"])
    # Either case of the id, as everywhere in the protocol; asking applies nothing again.
    assert _ask(client, device, batch_id.upper()).get_json() == pushed.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VitalSign)) == 1
        audited = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sync.push_outcome")).all()
        assert [(e.entity_id, e.details) for e in audited] == [
            (uuid.UUID(batch_id), {"mutations": 2})] * 2


def test_another_devices_batch_and_one_never_received_are_both_unknown(
        client, enroll, agency):
    device, other = enroll("nurse_a"), enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    assert device.push([_hr(device, agency["visit_a"])], batch_id=batch_id).status_code == 200
    theirs = _ask(client, other, batch_id)
    never = _ask(client, other, str(uuid.uuid4()))
    for response in (theirs, never):
        error = error_of(response, 404, "batch_unknown")
        assert error["message"].endswith("send the batch again.")
        check_signed(response, other.enrollment, other.device_id,
                     signed_headers(other)["Infusync-Nonce"])
    assert theirs.data == never.data  # nothing tells the two apart
    error_of(_ask(client, other, "not-a-batch-id"), 404, "batch_unknown")


def test_the_answer_needs_the_devices_token_and_a_revoked_device_is_told_to_wipe(
        client, enroll, agency, as_user):
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    assert device.push([_hr(device, agency["visit_a"])], batch_id=batch_id).status_code == 200
    error_of(client.get(f"{URL}/{batch_id}"), 401, "unauthorized")
    error_of(client.get(f"{URL}/{batch_id}", headers={"Authorization": "Bearer nope"}),
             401, "unauthorized")
    revoke(client, as_user, device.device_id)
    wipe = _ask(client, device, batch_id)
    assert error_of(wipe, 403, "device_revoked")["details"] == {"command": {"type": "wipe"}}


def test_a_retired_device_still_hears_what_became_of_its_last_push(
        client, enroll, agency, as_user):
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    assert device.push([_hr(device, agency["visit_a"])], batch_id=batch_id).status_code == 200
    retired = client.post(f"/api/v1/devices/{device.device_id}/retire",
                          headers=as_user("coordinator"))
    assert retired.status_code == 200
    assert _ask(client, device, batch_id).status_code == 200


ONLY_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ONLY_POSTGRES
def test_a_batch_being_applied_is_in_progress_until_it_commits(
        app, client, enroll, agency, database_url):
    """A push holds its batch's lock from its claim to its commit; an ask meanwhile is told
    to come back, and afterwards gets the committed answer."""
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    body = device.body(device.plaintext([_hr(device, agency["visit_a"])]), batch_id=batch_id)
    pushed: list = []
    with app.app_context():
        # The push waits for the visit's row (it locks the visits it documents) while it
        # holds its batch's lock: "being applied" for as long as the holder likes.
        holder = db.engine.connect()
        holder.execute(text("SELECT id FROM visits WHERE id = :id FOR UPDATE"),
                       {"id": agency["visit_a"]})
        thread = threading.Thread(target=lambda: pushed.append(app.test_client().post(
            URL, headers=device.headers, json=body)))
        thread.start()
        try:
            _wait_for_lock_wait(app)
            busy = _ask(client, device, batch_id)
        finally:
            holder.rollback()
            holder.close()
        thread.join(60)
    error = error_of(busy, 409, "batch_in_progress")
    assert "ask again" in error["message"]
    assert pushed[0].status_code == 200
    assert _ask(client, device, batch_id).get_json() == pushed[0].get_json()


def _wait_for_lock_wait(app) -> None:
    """Until a connection of this database waits for a lock (the push, on the visit)."""
    import time  # a bounded wait for the other thread, not an assertion on time
    deadline = time.monotonic() + 20
    with app.app_context():
        while time.monotonic() < deadline:
            waiting = db.session.scalar(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"))
            db.session.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the push never waited for the visit")
