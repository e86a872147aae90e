"""Push: exactly once, nothing lost, refusals that store nothing."""

import json
import uuid

from sqlalchemy import func, select

from schemas.base import CONTROL_MESSAGE, NUL_MESSAGE, SURROGATE_MESSAGE
from server.extensions import db
from server.models import AuditEvent, ReviewItem, Visit, VisitEvent, VitalSign
from sync import ledger
from sync.batches import SyncBatch
from sync.ledger import InboxEntry, LedgerEntry


def _check_in(device, visit_id):
    return device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})


def _hr(device, visit_id, value=72):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_same_batch_twice_returns_the_stored_response(app, enroll, agency):
    device = enroll("nurse_a")
    body = device.body(device.plaintext([_check_in(device, agency["visit_a"]),
                                         _hr(device, agency["visit_a"])]))
    first = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    again = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _count(app, VitalSign) == 1
    assert _count(app, VisitEvent) == 1


def test_same_batch_id_with_other_content_is_409(app, enroll, agency):
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    assert device.push([_hr(device, agency["visit_a"])], batch_id=batch_id).status_code == 200
    response = device.push([_hr(device, agency["visit_a"], 80)], batch_id=batch_id)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "batch_id_reused"
    assert _count(app, VitalSign) == 1


def test_resealed_same_plaintext_is_the_same_batch(app, enroll, agency):
    device = enroll("nurse_a")
    plaintext = device.plaintext([_hr(device, agency["visit_a"])])
    batch_id = str(uuid.uuid4())
    first = device.client.post("/api/v1/sync/push", headers=device.headers,
                               json=device.body(plaintext, batch_id=batch_id))
    second = device.client.post("/api/v1/sync/push", headers=device.headers,
                                json=device.body(plaintext, batch_id=batch_id))
    assert second.get_json() == first.get_json()
    assert _count(app, VitalSign) == 1


def test_mutation_in_a_new_batch_is_a_duplicate_with_its_original_outcome(app, enroll, agency):
    device = enroll("nurse_a")
    vitals = _hr(device, agency["visit_a"])
    first = device.push([vitals]).get_json()["results"][0]
    second = device.push([vitals]).get_json()["results"][0]
    assert first["status"] == "applied"
    assert second == {"id": vitals["id"], "status": "duplicate", "outcome": "applied",
                      "version": 1, "visit_version": first["visit_version"], "flags": []}
    assert _count(app, VitalSign) == 1
    assert _count(app, InboxEntry) == 1


def test_same_mutation_id_with_other_content_is_refused_kept_and_audited(app, enroll, agency):
    device = enroll("nurse_a")
    vitals = _hr(device, agency["visit_a"])
    device.push([vitals])
    forged = {**vitals, "data": {**vitals["data"], "value": 190}}
    result = device.push([forged]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "different content" in result["errors"]["id"][0]
    with app.app_context():
        assert db.session.scalar(select(VitalSign.value)) == 72
        kept = db.session.scalars(select(InboxEntry).where(
            InboxEntry.mutation_id == uuid.UUID(vitals["id"]))).all()
        assert len(kept) == 2
        payloads = [ledger.read_payload(e, app.config["INFUSYNC_DATA_KEY"]) for e in kept]
        assert forged in payloads
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.outcome == "suspicious")) == 1


def test_inbox_is_encrypted_at_rest(app, enroll, agency):
    device = enroll("nurse_a")
    device.push([_hr(device, agency["visit_a"], 73)])
    with app.app_context():
        entry = db.session.scalars(select(InboxEntry)).one()
        assert b"8867-4" not in entry.payload
        assert ledger.read_payload(entry, app.config["INFUSYNC_DATA_KEY"])["data"]["value"] == 73


def test_tampered_sealed_body_is_422_and_stores_nothing(app, enroll, agency):
    device = enroll("nurse_a")
    body = device.body(device.plaintext([_hr(device, agency["visit_a"])]))
    sealed = bytearray(body["sealed"].encode())
    sealed[60] = ord("A") if sealed[60] != ord("A") else ord("B")
    body["sealed"] = sealed.decode()
    response = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert _count(app, InboxEntry) == _count(app, SyncBatch) == 0


def test_resigned_by_another_key_is_422(app, enroll, agency):
    device, thief = enroll("nurse_a"), enroll("nurse_b")
    body = device.body(device.plaintext([_hr(device, agency["visit_a"])]))
    from sync import envelope

    body["signature"] = envelope.sign_push(thief.key, body["device_id"], body["batch_id"],
                                           body["key_id"], body["sealed"])
    response = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert _count(app, InboxEntry) == 0


def test_envelope_moved_to_another_batch_does_not_open(app, enroll, agency):
    device = enroll("nurse_a")
    body = device.body(device.plaintext([_hr(device, agency["visit_a"])]))
    from sync import envelope

    body["batch_id"] = str(uuid.uuid4())
    body["signature"] = envelope.sign_push(device.key, body["device_id"], body["batch_id"],
                                           body["key_id"], body["sealed"])
    response = device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "envelope_does_not_open"
    assert _count(app, InboxEntry) == _count(app, SyncBatch) == 0
    with app.app_context():
        refused = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sync.push")).one()
        assert refused.outcome == "refused"


def test_too_many_mutations_is_413_and_stores_nothing(app, enroll, agency):
    app.config["SYNC_MAX_BATCH_MUTATIONS"] = 3
    device = enroll("nurse_a")
    response = device.push([_hr(device, agency["visit_a"]) for _ in range(4)])
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_many_mutations"
    assert _count(app, InboxEntry) == _count(app, VitalSign) == 0


def test_body_over_max_body_bytes_is_413(app, enroll, agency):
    app.config["SYNC_MAX_BODY_BYTES"] = 2048
    device = enroll("nurse_a")
    response = device.push([_hr(device, agency["visit_a"]) for _ in range(20)])
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"
    assert _count(app, InboxEntry) == 0


def test_malformed_push_body_is_400(client, enroll):
    device = enroll("nurse_a")
    response = client.post("/api/v1/sync/push", headers=device.headers,
                           json={"protocol": 1, "device_id": "nope"})
    assert response.status_code == 400
    assert "device_id" in response.get_json()["error"]["details"]


def test_invalid_mutations_are_rejected_but_kept(app, enroll, agency):
    device = enroll("nurse_a")
    unknown_type = device.mutation("visit.teleport", agency["visit_a"], {})
    bad_data = device.mutation("vitals.record", agency["visit_a"], {"code": "8867-4"})
    no_id = {"seq": 99, "type": "vitals.record"}
    results = device.push([unknown_type, bad_data, no_id]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert "type" in results[0]["errors"]
    # One shape for every refusal: flat, each field named by its path in the mutation.
    assert results[1]["errors"] == {"data.unit": ["Missing data for required field."],
                                    "data.taken_at": ["Missing data for required field."]}
    assert "id" in results[2]["errors"]
    assert _count(app, InboxEntry) == 3


def test_text_that_is_not_text_refuses_its_mutation_alone_and_keeps_it(app, enroll, agency):
    """A lone surrogate or a control character once made the whole push a 500 (and a NUL
    refused the whole batch): each such mutation is refused on its own, and kept."""
    device, visit = enroll("nurse_a"), agency["visit_a"]
    note = device.mutation("visit.note", visit, {"category": "general", "text": "a\udc80b"})
    escape = _hr(device, visit)
    escape["data"]["unit"] = "/min\x1b[2J"
    nul = _hr(device, visit)
    nul["data"]["unit"] = "/min\x00"
    bad_key = {**_hr(device, visit), "\ud800": 1}
    bad_id = {**_hr(device, visit), "id": "x\udc80"}
    sent = [note, escape, nul, bad_key, bad_id, _hr(device, visit, 75)]
    response = device.push(sent)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 5 + ["applied"]
    assert [r["errors"] for r in results[:5]] == [
        {"data.text": [SURROGATE_MESSAGE]}, {"data.unit": [CONTROL_MESSAGE]},
        {"data.unit": [NUL_MESSAGE]}, {"\\ud800": [SURROGATE_MESSAGE]},
        {"id": [SURROGATE_MESSAGE]}]
    assert _count(app, VitalSign) == 1
    with app.app_context():
        kept = db.session.scalars(select(InboxEntry)).all()
        payloads = [ledger.read_payload(e, app.config["INFUSYNC_DATA_KEY"]) for e in kept]
    assert sorted(map(repr, payloads)) == sorted(map(repr, sent))


def test_text_that_is_not_text_around_the_mutations_refuses_the_batch(app, enroll, agency):
    device = enroll("nurse_a")
    for app_version in ("1.0\udc80", "1.0\x1b"):
        plaintext = json.dumps({"schema_version": 1, "device_clock": "2026-11-23T13:00:00+00:00",
                                "app_version": app_version,
                                "mutations": [_hr(device, agency["visit_a"])]}).encode()
        response = device.client.post("/api/v1/sync/push", headers=device.headers,
                                      json=device.body(plaintext))
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["code"] == "invalid_batch"
        assert list(response.get_json()["error"]["details"]) == ["app_version"]
    assert _count(app, InboxEntry) == 0


def test_never_assigned_visit_is_rejected_kept_and_audited(app, enroll, agency):
    device = enroll("nurse_a")
    result = device.push([_hr(device, agency["visit_b"])]).get_json()["results"][0]
    assert result["status"] == "rejected"
    assert "visit_id" in result["errors"]
    assert _count(app, VitalSign) == 0
    assert _count(app, InboxEntry) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "sync.mutation", AuditEvent.outcome == "rejected")) == 1


def test_documentation_after_reassignment_is_a_conflict_with_a_review_item(
        app, client, enroll, agency, as_user):
    device = enroll("nurse_a")
    moved = client.patch(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("coordinator"),
                         json={"nurse_id": str(agency["nurse_b"]), "version": 1})
    assert moved.status_code == 200
    result = device.push([_hr(device, agency["visit_a"])]).get_json()["results"][0]
    assert result["status"] == "conflict"
    with app.app_context():
        item = db.session.get(ReviewItem, uuid.UUID(result["review_item_id"]))
        assert item.kind == "documentation_on_reassigned_visit"
        assert item.visit_id == agency["visit_a"]
        sign = db.session.scalars(select(VitalSign)).one()
        assert sign.conflict is True


def test_check_out_before_check_in_completes_when_both_arrive(app, enroll, agency):
    device = enroll("nurse_a")
    check_in = _check_in(device, agency["visit_a"])
    check_out = device.mutation("visit.check_out", agency["visit_a"], {
        "at": "2026-11-23T10:05:00-05:00", "location": None})
    assert device.push([check_out]).get_json()["results"][0]["status"] == "applied"
    with app.app_context():
        assert db.session.get(Visit, agency["visit_a"]).status.value == "scheduled"
    device.push([check_in])
    with app.app_context():
        visit = db.session.get(Visit, agency["visit_a"])
        assert visit.status.value == "completed"


def test_seq_gap_opens_a_review_item_that_heals(app, enroll, agency):
    device = enroll("nurse_a")
    first, second, third = (_hr(device, agency["visit_a"]) for _ in range(3))
    device.push([first, third])
    with app.app_context():
        gap = db.session.scalars(select(ReviewItem).where(ReviewItem.kind == "seq_gap")).one()
        assert gap.status.value == "open"
        assert gap.details["missing"] == 1
    device.push([second])
    with app.app_context():
        gap = db.session.scalars(select(ReviewItem).where(ReviewItem.kind == "seq_gap")).one()
        assert gap.status.value == "resolved"


def test_device_clock_skew_is_recorded_and_flags_mutations(app, enroll, agency, clock):
    from datetime import timedelta

    device = enroll("nurse_a")
    body = device.body(device.plaintext([_hr(device, agency["visit_a"])],
                                        clock=clock() + timedelta(minutes=30)))
    device.client.post("/api/v1/sync/push", headers=device.headers, json=body)
    with app.app_context():
        batch = db.session.scalars(select(SyncBatch)).one()
        assert batch.clock_flagged is True
        assert batch.clock_skew_s == 1800
        assert "device_clock_skew" in db.session.scalars(select(VitalSign)).one().flags
        # Kept with the outcome, never shown to the device as a flag of the result.
        assert db.session.scalars(select(LedgerEntry)).one().result["record_flags"] == [
            "device_clock_skew"]


def test_vitals_impossible_rejected_abnormal_flagged(app, enroll, agency):
    device = enroll("nurse_a")
    impossible = _hr(device, agency["visit_a"], 400)
    high = _hr(device, agency["visit_a"], 130)
    bad_unit = device.mutation("vitals.record", agency["visit_a"], {
        "code": "8310-5", "value": 37, "unit": "degC", "taken_at": "2026-11-23T09:10:00Z"},
        entity_id=uuid.uuid4())
    bp = device.mutation("vitals.record", agency["visit_a"], {
        "code": "85354-9", "unit": "mm[Hg]", "taken_at": "2026-11-23T09:10:00Z",
        "components": [{"code": "8480-6", "value": 120, "unit": "mm[Hg]"},
                       {"code": "8462-4", "value": 80, "unit": "mm[Hg]"}]},
        entity_id=uuid.uuid4())
    results = device.push([impossible, high, bad_unit, bp]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied", "rejected", "applied"]
    assert "impossible" in results[0]["errors"]["data.value"][0]
    assert "degC" in results[2]["errors"]["data.unit"][0]
    with app.app_context():
        flags = {str(s.id): s.flags for s in db.session.scalars(select(VitalSign))}
        assert flags[high["entity_id"]] == ["abnormal"]
        assert flags[bp["entity_id"]] == []
