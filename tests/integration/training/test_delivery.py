"""Published modules reach the devices of their audience only; attachments resume."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import User
from tests.assertions import error_of

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _modules(held: dict[tuple[str, str], Any]) -> dict[str, Any]:
    return {key[1]: data for key, data in held.items() if key[0] == "training"}


def test_only_the_audience_receives_the_module_and_never_the_answers(
        lead: Any, enroll: Any) -> None:
    module = lead.publish(audience={"competencies": ["picc-care"]})
    ann, bea = enroll("nurse_a"), enroll("nurse_b")
    held_a, _ = ann.pull_all()
    held_b, _ = bea.pull_all()
    assert list(_modules(held_a)) == [module["id"]]
    assert _modules(held_b) == {}
    assert not [k for k in held_b if k[0] == "training_status"]
    sent = _modules(held_a)[module["id"]]
    assert sent["title"] == "PICC line care refresher" and sent["version"] == 1
    assert all("correct" not in q for q in sent["quiz"]["questions"])
    assert "correct" not in str(sent)


def test_named_nurses_and_roles_are_audiences_too(lead: Any, enroll: Any, agency: Any) -> None:
    named = lead.publish(audience={"nurse_ids": [str(agency["nurse_b"])]})
    everyone = lead.publish(title="Hand hygiene", audience={"roles": ["nurse"]})
    held_b, _ = enroll("nurse_b").pull_all()
    assert set(_modules(held_b)) == {named["id"], everyone["id"]}


def test_a_module_published_or_retired_later_arrives_and_leaves_in_the_delta(
        lead: Any, enroll: Any) -> None:
    ann = enroll("nurse_a")
    _held, cursor = ann.pull_all()
    module = lead.publish()
    page = ann.pull(cursor).get_json()
    ops = {(c["type"], c["op"]) for c in page["changes"]}
    assert ("training", "upsert") in ops and ("training_status", "upsert") in ops
    assert lead.post(f"/modules/{module['id']}/retire").status_code == 200
    page = ann.pull(page["cursor"]).get_json()
    removed = {(c["type"], c["id"]) for c in page["changes"] if c["op"] == "remove"}
    assert ("training", module["id"]) in removed
    assert any(kind == "training_status" for kind, _id in removed)


def test_a_new_version_replaces_the_old_on_the_device(lead: Any, enroll: Any) -> None:
    v1 = lead.publish()
    ann = enroll("nurse_a")
    _held, cursor = ann.pull_all()
    v2 = lead.post(f"/modules/{v1['id']}/versions").get_json()
    lead.post(f"/modules/{v2['id']}/publish")
    held, _ = ann.pull_all()
    assert list(_modules(held)) == [v2["id"]]
    changes = ann.pull(cursor).get_json()["changes"]
    assert {"type": "training", "id": v1["id"], "op": "remove", "version": None,
            "data": None} in changes


def test_a_nurse_who_gains_the_competency_receives_the_module(
        app: Flask, lead: Any, enroll: Any, agency: Any) -> None:
    module = lead.publish()
    bea = enroll("nurse_b")
    _held, cursor = bea.pull_all()
    with app.app_context():
        nurse = db.session.get_one(User, agency["nurse_b"])
        nurse.competencies = ["tpn", "picc-care"]
        db.session.commit()
    page = bea.pull(cursor).get_json()
    assert ("training", module["id"], "upsert") in {
        (c["type"], c["id"], c["op"]) for c in page["changes"]}
    with app.app_context():
        nurse = db.session.get_one(User, agency["nurse_b"])
        nurse.competencies = ["tpn"]
        db.session.commit()
    page = bea.pull(page["cursor"]).get_json()
    assert ("training", module["id"], "remove") in {
        (c["type"], c["id"], c["op"]) for c in page["changes"]}


def test_an_attachment_download_cut_short_resumes_with_range_and_checks_the_hash(
        client: FlaskClient, lead: Any, enroll: Any) -> None:
    digest = lead.post("/assets", data=PDF, content_type="application/pdf").get_json()["sha256"]
    lead.publish(attachments=[{"sha256": digest, "name": "picc.pdf"}])
    ann = enroll("nurse_a")
    held, _ = ann.pull_all()
    (module,) = _modules(held).values()
    assert module["attachments"] == [{"sha256": digest, "name": "picc.pdf",
                                      "content_type": "application/pdf", "size": len(PDF)}]
    url = f"/api/v1/sync/assets/{digest}"
    first = client.get(url, headers={**ann.headers, "Range": "bytes=0-999"})
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-999/{len(PDF)}"
    received = first.data  # the signal drops here; the device resumes from byte 1000
    rest = client.get(url, headers={**ann.headers, "Range": f"bytes={len(received)}-",
                                    "If-Range": f'"{digest}"'})
    assert rest.status_code == 206
    received += rest.data
    assert hashlib.sha256(received).hexdigest() == digest
    assert rest.headers["ETag"] == f'"{digest}"'
    whole = client.get(url, headers=ann.headers)
    assert whole.status_code == 200 and whole.data == PDF
    assert whole.headers["Accept-Ranges"] == "bytes"
    beyond = client.get(url, headers={**ann.headers, "Range": f"bytes={len(PDF) + 5}-"})
    assert beyond.status_code == 416


def test_attachments_are_only_for_devices_of_the_audience(
        client: FlaskClient, lead: Any, enroll: Any) -> None:
    digest = lead.post("/assets", data=PDF, content_type="application/pdf").get_json()["sha256"]
    lead.publish(attachments=[{"sha256": digest, "name": "picc.pdf"}])
    url = f"/api/v1/sync/assets/{digest}"
    error_of(client.get(url, headers=enroll("nurse_b").headers), 404)
    error_of(client.get(url, headers=lead.headers), 401)
    error_of(client.get("/api/v1/sync/assets/not-a-hash", headers=enroll("nurse_a").headers),
             404)
    orphan = lead.post("/assets", data=PDF + b"x", content_type="application/pdf").get_json()
    error_of(client.get(f"/api/v1/sync/assets/{orphan['sha256']}",
                        headers=enroll("nurse_a").headers), 404)


def test_a_snapshot_in_pages_of_one_holds_each_module_once(lead: Any, enroll: Any) -> None:
    modules = {lead.publish(title=f"Module {n}", audience={"roles": ["nurse"]})["id"]
               for n in range(3)}
    device = enroll("nurse_a")
    whole, _ = device.pull_all()
    cursor, paged, sent = "", {}, []
    while True:
        page = device.pull(cursor, limit=1).get_json()
        sent += [(c["type"], c["id"]) for c in page["changes"]]
        paged.update({(c["type"], c["id"]): c["data"] for c in page["changes"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert set(_modules(paged)) == modules and paged == whole
    assert len(sent) == len(set(sent))
