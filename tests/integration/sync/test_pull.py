"""Pull: exactly the nurse's scope, signed, resumable, and following her changes."""

import gzip
from datetime import timedelta

from sqlalchemy import update

from server.extensions import db
from server.models import Patient
from sync import feed


def _ids(held, kind):
    return {key[1] for key in held if key[0] == kind}


def test_snapshot_holds_exactly_her_scope(enroll, agency):
    held, _ = enroll("nurse_a").pull_all()
    assert _ids(held, "visit") == {str(agency["visit_a"])}
    assert _ids(held, "patient") == {str(agency["patient_a"])}
    assert _ids(held, "service_location") == {str(agency["location_a"])}
    assert _ids(held, "order") == {str(agency["order_a"])}
    assert _ids(held, "pump") == {str(agency["pump_a"])}
    assert _ids(held, "profile") == {str(agency["nurse_a"])}
    assert "MRN-B" not in str(held)


def test_snapshot_in_small_pages_equals_one_page(enroll, agency):
    device = enroll("nurse_a")
    whole, _ = device.pull_all()
    cursor, paged = "", {}
    while True:
        page = device.pull(cursor, limit=2).get_json()
        assert len(page["changes"]) <= 2
        paged.update({(c["type"], c["id"]): c["data"] for c in page["changes"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert paged == whole


def test_reassignment_moves_the_visit_between_devices(client, enroll, agency, as_user):
    device_a, device_b = enroll("nurse_a"), enroll("nurse_b")
    _, cursor_a = device_a.pull_all()
    _, cursor_b = device_b.pull_all()
    response = client.patch(f"/api/v1/visits/{agency['visit_a']}",
                            headers=as_user("coordinator"),
                            json={"nurse_id": str(agency["nurse_b"]), "version": 1})
    assert response.status_code == 200
    page_a = device_a.pull(cursor_a).get_json()
    removed = {(c["type"], c["id"]) for c in page_a["changes"] if c["op"] == "remove"}
    assert ("visit", str(agency["visit_a"])) in removed
    assert ("patient", str(agency["patient_a"])) in removed
    assert all(c["op"] == "remove" for c in page_a["changes"])
    delta_b, _ = device_b.pull_all(cursor_b)
    assert ("visit", str(agency["visit_a"])) in delta_b
    assert ("patient", str(agency["patient_a"])) in delta_b
    assert ("pump", str(agency["pump_a"])) in delta_b


def test_cancelled_visit_is_removed(client, enroll, agency, as_user):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    client.patch(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("coordinator"),
                 json={"status": "cancelled", "cancel_reason": "Hospitalised", "version": 1})
    changes = device.pull(cursor).get_json()["changes"]
    assert {"type": "visit", "id": str(agency["visit_a"]), "op": "remove", "version": None,
            "data": None} in changes


def test_patient_change_reaches_her_device_only(client, enroll, agency, as_user):
    device_a, device_b = enroll("nurse_a"), enroll("nurse_b")
    _, cursor_a = device_a.pull_all()
    _, cursor_b = device_b.pull_all()
    client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=as_user("coordinator"),
                 json={"phone": "555-0199"})
    changes_a = device_a.pull(cursor_a).get_json()["changes"]
    patient = next(c for c in changes_a if c["type"] == "patient")
    assert patient["data"]["phone"] == "555-0199"
    assert device_b.pull(cursor_b).get_json()["changes"] == []


def test_time_passing_brings_visits_into_the_window(app, client, enroll, agency, as_user, clock):
    device = enroll("nurse_a")
    far = clock() + timedelta(days=20)
    created = client.post("/api/v1/visits", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_a"]), "nurse_id": str(agency["nurse_a"]),
        "service_location_id": str(agency["location_a"]),
        "scheduled_start": far.isoformat(),
        "scheduled_end": (far + timedelta(hours=1)).isoformat()}).get_json()
    held, cursor = device.pull_all()
    assert created["id"] not in _ids(held, "visit")
    clock.advance(days=7)
    changes = device.pull(cursor).get_json()["changes"]
    assert {"type": "visit", "id": created["id"], "op": "upsert"}.items() <= next(
        c for c in changes if c["id"] == created["id"]).items()


def test_pull_is_signed_and_gzipped_when_accepted(client, enroll):
    device = enroll("nurse_a")
    response = client.get("/api/v1/sync/pull", headers={**device.headers,
                                                         "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.data)
    from sync import envelope

    key_id, sig = envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])
    signing = device.enrollment["server"]["signing_key"]
    envelope.verify_pull(envelope.ed25519_public_key_from_b64u(signing["public_key"]), body, sig)
    assert key_id == signing["key_id"]


def test_forged_cursor_is_400(enroll):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    forged = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    response = device.pull(forged)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_cursor"


def test_another_nurses_cursor_is_400(enroll):
    _, cursor_a = enroll("nurse_a").pull_all()
    response = enroll("nurse_b").pull(cursor_a)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_cursor"


def test_compacted_cursor_is_410(app, client, enroll, agency, as_user, clock):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=as_user("coordinator"),
                 json={"phone": "555-0100"})
    client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=as_user("coordinator"),
                 json={"phone": "555-0101"})
    first = device.pull(cursor, limit=1).get_json()
    with app.app_context():
        removed = feed.compact(db.session, clock() + timedelta(seconds=1))
        db.session.commit()
    assert removed >= 2
    response = device.pull(first["cursor"])
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "cursor_expired"
    assert device.pull("").status_code == 200


def test_direct_database_change_without_fanout_is_not_seen(app, enroll, agency):
    """Documents the contract: only changes made through the ORM session reach feeds."""
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    with app.app_context():
        db.session.execute(update(Patient).where(Patient.id == agency["patient_a"])
                           .values(phone="555-0142"))
        db.session.commit()
    assert device.pull(cursor).get_json()["changes"] == []


def test_compact_command_keeps_the_retention_window(app, runner, client, enroll, agency,
                                                     as_user, clock):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=as_user("coordinator"),
                 json={"phone": "555-0100"})
    result = runner.invoke(args=["sync", "compact"])
    assert result.exit_code == 0, result.output
    assert "removed 0 feed entries older than 336 h" in result.output
    clock.advance(hours=337)
    result = runner.invoke(args=["sync", "compact"])
    assert "removed 0" not in result.output
    assert device.pull(cursor).status_code == 410


def test_a_cursor_ahead_of_a_restored_feed_is_410_with_its_reason(app, client, enroll,
                                                                  agency, as_user):
    """A database restored from a backup hands out positions the device has already seen:
    reading on from its cursor would skip them, so the device is sent to a snapshot."""
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=as_user("coordinator"),
                 json={"phone": "555-0100"})
    _, ahead = device.pull_all(cursor)
    with app.app_context():  # the restored database: as it was before that change
        db.session.execute(update(feed.FeedHead).values(position=feed.FeedHead.position - 1))
        db.session.commit()
    response = device.pull(ahead)
    assert response.status_code == 410
    error = response.get_json()["error"]
    assert error["code"] == "cursor_expired"
    assert error["details"] == {"reason": "feed_behind_cursor"}
    assert "restored from a backup" in error["message"]
    assert device.pull("").status_code == 200


def test_a_delta_about_her_own_check_in_carries_the_visit_alone(enroll, agency):
    """Her check-in moves the visit; the patient, locations, order and pump did not change
    and stay off the page (issue 12, item 8: deltas re-sent them every time)."""
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    check_in = device.mutation("visit.check_in", agency["visit_a"],
                               {"at": "2026-11-23T09:02:00-05:00", "location": {
                                   "latitude": 39.78, "longitude": -89.65, "accuracy_m": 5}})
    assert device.push([check_in]).get_json()["results"][0]["status"] == "applied"
    changes = device.pull(cursor).get_json()["changes"]
    assert [(c["type"], c["id"], c["data"]["status"]) for c in changes] == [
        ("visit", str(agency["visit_a"]), "in_progress")]


def test_a_visit_of_a_patient_new_to_her_brings_the_patient_and_her_records(
        client, enroll, agency, as_user, clock):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    start = clock() + timedelta(days=1)
    created = client.post("/api/v1/visits", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_b"]), "nurse_id": str(agency["nurse_a"]),
        "service_location_id": str(agency["location_b"]),
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat()}).get_json()
    held, _ = device.pull_all(cursor)
    assert set(held) == {("visit", created["id"]), ("patient", str(agency["patient_b"])),
                         ("service_location", str(agency["location_b"])),
                         ("order", str(agency["order_b"])), ("pump", str(agency["pump_b"]))}


def test_a_visit_entering_the_window_with_time_brings_its_patient(
        app, client, enroll, agency, as_user, clock):
    device = enroll("nurse_a")
    far = clock() + timedelta(days=20)
    client.post("/api/v1/visits", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_b"]), "nurse_id": str(agency["nurse_a"]),
        "service_location_id": str(agency["location_b"]), "scheduled_start": far.isoformat(),
        "scheduled_end": (far + timedelta(hours=1)).isoformat()})
    held, cursor = device.pull_all()
    assert str(agency["patient_b"]) not in _ids(held, "patient")
    clock.advance(days=7)
    delta, _ = device.pull_all(cursor)
    assert ("patient", str(agency["patient_b"])) in delta
    assert ("service_location", str(agency["location_b"])) in delta
