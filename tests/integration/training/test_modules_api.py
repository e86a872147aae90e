"""The training lead's modules: drafts, publishing, frozen versions, new versions, assets."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.models import TrainingAsset
from tests.assertions import count_rows, error_of
from tests.integration.training.modules import QUIZ

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_publishing_freezes_a_version_and_a_change_is_a_new_version(
        client: FlaskClient, lead: Any) -> None:
    draft = lead.draft()
    assert (draft["status"], draft["version"]) == ("draft", None)
    edited = client.patch(f"/api/v1/training/modules/{draft['id']}", json={"title": "PICC v1"},
                          headers={**lead.headers, "If-Match": str(draft["revision"])})
    assert edited.status_code == 200 and edited.get_json()["title"] == "PICC v1"

    published = lead.post(f"/modules/{draft['id']}/publish").get_json()
    assert (published["status"], published["version"]) == ("published", 1)
    refused = client.patch(f"/api/v1/training/modules/{draft['id']}", json={"title": "Sneaky"},
                           headers=lead.headers)
    error = error_of(refused, 409, "module_immutable")
    assert "immutable" in error["message"] and "/versions" in error["message"]
    assert client.get(f"/api/v1/training/modules/{draft['id']}",
                      headers=lead.headers).get_json()["title"] == "PICC v1"

    second = lead.post(f"/modules/{draft['id']}/versions")
    assert second.status_code == 201
    v2 = second.get_json()
    assert (v2["lineage_id"], v2["status"], v2["title"]) == (
        published["lineage_id"], "draft", "PICC v1")
    error_of(lead.post(f"/modules/{draft['id']}/versions"), 409, "draft_exists")
    client.patch(f"/api/v1/training/modules/{v2['id']}", json={"title": "PICC v2"},
                 headers=lead.headers)
    assert lead.post(f"/modules/{v2['id']}/publish").get_json()["version"] == 2
    old = client.get(f"/api/v1/training/modules/{draft['id']}", headers=lead.headers).get_json()
    assert (old["status"], old["title"], old["version"]) == ("retired", "PICC v1", 1)
    error_of(lead.post(f"/modules/{draft['id']}/publish"), 409, "module_immutable")


def test_an_incomplete_draft_is_not_published_and_says_what_is_missing(
        client: FlaskClient, lead: Any) -> None:
    draft = lead.draft(quiz={"questions": []}, audience={}, due_rule=None)
    error = error_of(lead.post(f"/modules/{draft['id']}/publish"), 422)
    assert set(error["details"]) == {"quiz", "audience", "due_rule"}
    no_answers = {**QUIZ, "questions": [{**QUIZ["questions"][0], "correct": []}]}
    draft = lead.draft(quiz=no_answers)
    error = error_of(lead.post(f"/modules/{draft['id']}/publish"), 422)
    assert error["details"]["quiz"] == ["Every question needs its correct option(s)."]


def test_bad_module_input_is_refused_with_field_messages(client: FlaskClient, lead: Any) -> None:
    bad_quiz = {"pass_mark_percent": 0, "questions": [{
        "id": "q1", "text": "?", "kind": "single",
        "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        "correct": ["a", "b"]}]}
    response = client.post("/api/v1/training/modules", headers=lead.headers, json={
        "title": "X", "quiz": bad_quiz, "due_rule": {"kind": "recurring"}, "passed": True})
    details = error_of(response, 422)["details"]
    assert "pass_mark_percent" in details["quiz"]
    assert "correct" in details["quiz"]["questions"]["0"]
    assert details["due_rule"] == {"months": ["A 'recurring' rule needs months."]}
    assert details["passed"] == ["Unknown field."]
    missing_asset = client.post("/api/v1/training/modules", headers=lead.headers, json={
        "title": "X", "attachments": [{"sha256": "0" * 64, "name": "x.png"}]})
    assert "attachments" in error_of(missing_asset, 422)["details"]
    error_of(client.patch("/api/v1/training/modules/00000000-0000-4000-8000-000000000000",
                          json={"title": "x"}, headers=lead.headers), 404)


def test_only_the_lead_and_admin_write_and_nurses_do_not_read(
        client: FlaskClient, lead: Any, as_user: Any) -> None:
    module = lead.publish()
    for who in ("nurse_a", "coordinator", "qc", "physician_a"):
        error_of(client.post("/api/v1/training/modules", json={"title": "x"},
                             headers=as_user(who)), 403)
        error_of(client.post(f"/api/v1/training/modules/{module['id']}/retire",
                             headers=as_user(who)), 403)
    for who in ("nurse_a", "physician_a"):
        error_of(client.get("/api/v1/training/status", headers=as_user(who)), 403)
        error_of(client.get("/api/v1/training/modules", headers=as_user(who)), 403)
    for who in ("coordinator", "qc", "admin"):
        assert client.get("/api/v1/training/status", headers=as_user(who)).status_code == 200
    assert client.post("/api/v1/training/modules", json={"title": "By admin"},
                       headers=as_user("admin")).status_code == 201


def test_assets_are_stored_once_by_sha256_with_type_and_size_limits(
        app: Flask, client: FlaskClient, lead: Any) -> None:
    digest = hashlib.sha256(PNG).hexdigest()
    first = lead.post("/assets", data=PNG, content_type="image/png")
    assert first.status_code == 201
    assert first.get_json() == {"sha256": digest, "content_type": "image/png", "size": len(PNG)}
    assert lead.post("/assets", data=PNG, content_type="image/png").status_code == 200
    assert count_rows(app, TrainingAsset) == 1
    error_of(lead.post("/assets", data=b"MZ\x90", content_type="application/x-msdownload"),
             415)
    error_of(lead.post("/assets", data=b"", content_type="application/pdf"), 422)
    app.config["TRAINING_ASSET_MAX_BYTES"] = 100
    error = error_of(lead.post("/assets", data=PNG, content_type="image/png"), 413)
    assert "100" in error["message"]

    module = lead.draft(attachments=[{"sha256": digest, "name": "flush.png"}])
    assert module["attachments"] == [{"sha256": digest, "name": "flush.png",
                                      "content_type": "image/png", "size": len(PNG)}]


def test_listing_filters_by_status_and_lineage(client: FlaskClient, lead: Any) -> None:
    published = lead.publish()
    lead.draft(title="Another")
    listing = client.get("/api/v1/training/modules", query_string={"status": "published"},
                         headers=lead.headers).get_json()
    assert [m["id"] for m in listing] == [published["id"]]
    assert "correct" in listing[0]["quiz"]["questions"][0]  # staff see the answers
    lineage = client.get("/api/v1/training/modules", headers=lead.headers,
                         query_string={"lineage_id": published["lineage_id"]}).get_json()
    assert len(lineage) == 1
    error_of(client.get("/api/v1/training/modules", query_string={"status": "nope"},
                        headers=lead.headers), 422)


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
PDF = b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n"
HTML = b"<!DOCTYPE html><script>alert(1)</script>"


def test_an_attachment_whose_bytes_are_not_its_declared_type_is_refused(
        app: Flask, lead: Any) -> None:
    for data, kind in ((HTML, "image/png"), (HTML, "application/pdf"), (PNG, "image/jpeg"),
                       (JPEG, "application/pdf"), (PDF, "image/png"), (b"%PDF", "image/jpeg"),
                       (b"\x89PNG", "image/png")):
        error = error_of(lead.post("/assets", data=data, content_type=kind), 422,
                         "validation_failed")
        assert list(error["details"]) == ["body"], kind
        assert kind in error["message"]
    assert count_rows(app, TrainingAsset) == 0
    for data, kind in ((PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf")):
        assert lead.post("/assets", data=data, content_type=kind).status_code == 201, kind
    assert count_rows(app, TrainingAsset) == 3


def test_a_chunked_upload_over_the_limit_is_413_not_stored_cut_short(
        app: Flask, client: FlaskClient, lead: Any) -> None:
    """Without Content-Length werkzeug stopped reading at the limit and the view stored the
    first bytes as if they were the file. (gunicorn sets wsgi.input_terminated.)"""
    app.config["TRAINING_ASSET_MAX_BYTES"] = 1000
    for size, status in ((1000, 201), (1001, 413)):
        data = PDF + b"x" * (size - len(PDF))
        response = client.post("/api/v1/training/assets", input_stream=io.BytesIO(data),
                               headers={**lead.headers, "Transfer-Encoding": "chunked",
                                        "Content-Type": "application/pdf"},
                               environ_overrides={"wsgi.input_terminated": True})
        assert response.status_code == status, response.get_json()
    assert count_rows(app, TrainingAsset) == 1


def test_an_attachment_larger_than_other_request_bodies_is_accepted_up_to_its_own_limit(
        app: Flask, lead: Any) -> None:
    big = b"%PDF-1.4\n" + b"x" * (3 * 1024 * 1024)  # over INFUSYNC_MAX_BODY_BYTES (2 MiB)
    response = lead.post("/assets", data=big, content_type="application/pdf")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["size"] == len(big)
    app.config["TRAINING_ASSET_MAX_BYTES"] = 2 * 1024 * 1024
    error_of(lead.post("/assets", data=big, content_type="application/pdf"), 413)


def test_publishing_or_retiring_in_the_wrong_state_is_a_clear_409(
        client: FlaskClient, lead: Any) -> None:
    draft = lead.draft()
    assert "never published" in error_of(lead.post(f"/modules/{draft['id']}/retire"),
                                         409)["message"]
    assert "edit it directly" in error_of(lead.post(f"/modules/{draft['id']}/versions"),
                                          409)["message"]
    error_of(lead.post("/modules/00000000-0000-4000-8000-000000000000/publish"), 404)
    stale = client.patch(f"/api/v1/training/modules/{draft['id']}", json={"title": "x"},
                         headers={**lead.headers, "If-Match": "99"})
    assert error_of(stale, 409, "stale_version")["details"] == {"current_revision": 1}
    error_of(client.patch(f"/api/v1/training/modules/{draft['id']}", json={"title": "x"},
                          headers={**lead.headers, "If-Match": "abc"}), 422)
    error_of(client.post("/api/v1/training/modules", data="{", content_type="application/json",
                         headers=lead.headers), 400)
