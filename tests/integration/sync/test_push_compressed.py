"""Compressed pushes (v1.1): negotiated, the same batch as plain JSON, bounded when inflated."""

import json
import uuid
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from offline_store.outbox import Outbox
from schemas.sync import PUSH_ENCODINGS
from server.extensions import db
from server.models import VitalSign
from sync import compression
from sync.batches import SyncBatch
from sync.ledger import InboxEntry
from tests.integration.sync.reference_device import enroll_reference_device

OCCURRED_AT = datetime(2026, 11, 23, 9, 5, tzinfo=timezone(timedelta(hours=-5)))


def _hr(device, visit_id, value=72):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _post(device, body):
    return device.client.post("/api/v1/sync/push", headers=device.headers, json=body)


def test_server_advertises_zlib_at_enrollment_and_with_its_keys(enroll):
    device = enroll("nurse_a")
    assert device.enrollment["server"]["push_encodings"] == ["zlib"]
    keys = device.client.get("/api/v1/sync/keys", headers=device.headers)
    assert keys.status_code == 200
    assert keys.get_json()["push_encodings"] == ["zlib"]


def test_schema_and_engine_name_the_same_encodings():
    assert PUSH_ENCODINGS == compression.ENCODINGS


def test_compressed_batch_is_applied_like_a_plain_one(app, enroll, agency):
    device = enroll("nurse_a")
    mutations = [_hr(device, agency["visit_a"], 60 + i) for i in range(20)]
    plaintext = device.plaintext(mutations)
    response = _post(device, device.body(zlib.compress(plaintext), encoding="zlib"))
    assert response.status_code == 200, response.get_json()
    assert [r["status"] for r in response.get_json()["results"]] == ["applied"] * 20
    with app.app_context():
        values = sorted(float(v) for v in db.session.scalars(select(VitalSign.value)))
    assert values == [60.0 + i for i in range(20)]


def test_same_batch_compressed_then_plain_is_the_same_batch(app, enroll, agency):
    device = enroll("nurse_a")
    plaintext = device.plaintext([_hr(device, agency["visit_a"])])
    batch_id = str(uuid.uuid4())
    first = _post(device, device.body(zlib.compress(plaintext), batch_id, encoding="zlib"))
    again = _post(device, device.body(plaintext, batch_id))
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _count(app, VitalSign) == 1


def test_decompression_bomb_is_413_and_stores_nothing(app, enroll, agency):
    app.config["SYNC_MAX_BODY_BYTES"] = 64 * 1024
    device = enroll("nurse_a")
    bomb = zlib.compress(b" " * (16 * 1024 * 1024), 9)  # 16 MB of spaces in ~16 kB
    assert len(bomb) < 64 * 1024
    response = _post(device, device.body(bomb, encoding="zlib"))
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "inflated_too_large"
    assert error["details"] == {"max_body_bytes": 64 * 1024}
    assert "split it" in error["message"]
    assert _count(app, InboxEntry) == _count(app, SyncBatch) == 0


def test_declared_zlib_but_sent_plain_is_422_and_stores_nothing(app, enroll, agency):
    device = enroll("nurse_a")
    plaintext = device.plaintext([_hr(device, agency["visit_a"])])
    response = _post(device, device.body(plaintext, encoding="zlib"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_batch"
    assert "zlib" in error["message"]
    assert _count(app, InboxEntry) == _count(app, VitalSign) == 0


def test_unknown_encoding_is_a_malformed_envelope(app, enroll, agency):
    device = enroll("nurse_a")
    plaintext = device.plaintext([_hr(device, agency["visit_a"])])
    response = _post(device, device.body(plaintext, encoding="gzip"))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "malformed_envelope"
    assert error["details"]["encoding"] == ["This server reads plaintexts compressed as: zlib."]
    assert _count(app, SyncBatch) == 0


def test_the_reference_client_pushes_compressed_to_this_server(client, as_user, agency,
                                                               app, tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    note = {"category": "assessment", "text": "Line flushed."}
    Outbox(phone.store).add("visit.note", str(uuid.uuid4()), note, occurred_at=OCCURRED_AT,
                            visit_id=str(agency["visit_a"]))
    assert phone.sync.push().count("applied") == 1
    (push,) = phone.wire.to("/sync/push")
    assert json.loads(push.body or b"")["encoding"] == "zlib"
    assert _count(app, InboxEntry) == 1
