"""End to end: the lead publishes a required module; an offline nurse takes it on the real
device client; the server scores it, and her eligibility for PICC visits comes back."""

import hashlib
import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_device_sync import (
    _device,
    _enroll,
    _ok,
    _patient,
)

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n" + b"PICC flushing steps\n" * 20000 + b"%%EOF\n"  # ~400 KB: two ranges
QUIZ = {"pass_mark_percent": 100, "questions": [
    {"id": "q1", "text": "Flush a PICC before and after each use?", "kind": "single",
     "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
     "correct": ["yes"]},
    {"id": "q2", "text": "Signs of phlebitis?", "kind": "multiple",
     "options": [{"id": "red", "text": "Redness"}, {"id": "warm", "text": "Warmth"},
                 {"id": "cold", "text": "Cold fingers"}],
     "correct": ["red", "warm"]}]}


def _upload(served, token, data, content_type):
    request = urllib.request.Request(served.base + "/api/v1/training/assets", data=data,
                                     method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _picc_visit(served, coordinator, physician_id):
    """An unassigned visit, two days ahead, of an order that needs picc-care."""
    patient = _patient(served, coordinator, "E2E-T", "Tess", "Tamarack")
    status, order = served.request("POST", "/api/v1/orders", {
        "patient_id": patient["id"], "physician_id": physician_id, "medication": "vancomycin",
        "dose": 1, "dose_unit": "g", "frequency_kind": "daily",
        "start_date": datetime.now(UTC).date().isoformat(),
        "required_competency": "picc-care"}, coordinator)
    assert status == 201, order
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    status, visit = served.request("POST", "/api/v1/visits", {
        "patient_id": patient["id"], "order_id": order["id"],
        "service_location_id": patient["locations"][0]["id"],
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat()}, coordinator)
    assert status == 201, visit
    return visit


def _publish(served, lead, digest):
    overdue_since = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    status, draft = served.request("POST", "/api/v1/training/modules", {
        "title": "PICC line care refresher", "summary": "Flushing and site checks",
        "body_md": "# PICC care\nFlush with 10 mL saline before and after each use.",
        "attachments": [{"sha256": digest, "name": "picc-steps.pdf"}], "quiz": QUIZ,
        "competency": "picc-care", "audience": {"competencies": ["picc-care"]},
        "due_rule": {"kind": "date", "date": overdue_since}, "required": True}, lead)
    assert status == 201, draft
    status, module = served.request("POST", f"/api/v1/training/modules/{draft['id']}/publish",
                                    token=lead)
    assert status == 200, module
    return module


def _state(served, token, nurse_id):
    status, rows = served.request("GET", f"/api/v1/training/status?nurse_id={nurse_id}",
                                  token=token)
    assert status == 200, rows
    (row,) = rows
    return row


def test_an_offline_nurse_completes_a_required_module_and_is_eligible_again(served, tmp_path):
    served.create_user("lead@e2e.test", "training_lead")
    served.create_user("coord@e2e.test", "coordinator")
    nurse_id = served.create_user("nia@e2e.test", "nurse", "--competency", "picc-care")
    physician_id = served.create_user("doc@e2e.test", "physician", "--npi", "1234567893")
    lead, coordinator = served.login("lead@e2e.test"), served.login("coord@e2e.test")
    status, asset = _upload(served, lead, PDF, "application/pdf")
    assert status == 201, asset
    assert asset["sha256"] == hashlib.sha256(PDF).hexdigest()
    module = _publish(served, lead, asset["sha256"])

    # Online once: enrol, pull the module, fetch its attachment.
    store = tmp_path / "nia.sqlite3"
    code = served.admin("devices", "enrollment-code", "--email", "nia@e2e.test").stdout.strip()
    _enroll(store, served.base, code)
    _ok(store, "sync")
    assert "1 attachment(s) fetched" in _ok(store, "training", "fetch")

    # The daily job finds her overdue: no PICC visit for her until she passes.
    job = served.cli("jobs", "run", "training_daily")
    assert job.returncode == 0, job.stderr
    assert _state(served, coordinator, nurse_id)["state"] == "overdue"
    visit = _picc_visit(served, coordinator, physician_id)
    assign = {"nurse_id": nurse_id, "version": visit["version"]}
    status, refused = served.request("POST", f"/api/v1/visits/{visit['id']}/assign", assign,
                                     coordinator)
    assert status == 409, refused
    assert "training_overdue" in json.dumps(refused)

    # Offline: she reads the module and takes the quiz; nothing reaches the server yet.
    listing = _ok(store, "training", "list")
    assert "PICC line care refresher" in listing and "required" in listing
    shown = _ok(store, "training", "show", module["id"])
    assert "picc-steps.pdf" in shown and "not fetched" not in shown and "correct" not in shown
    refused_take = _device(store, "training", "take", module["id"], "--answer", "q1=yes")
    assert refused_take.returncode == 1 and "missing: q2" in refused_take.stderr
    _ok(store, "training", "take", module["id"], "--answer", "q1=yes",
        "--answer", "q2=red,warm")
    assert "1 attempt(s) not yet sent" in _ok(store, "training", "list")
    assert _state(served, coordinator, nurse_id)["state"] == "overdue"

    # Back online: one sync sends her answers and brings back the server's verdict.
    _ok(store, "sync")
    listing = _ok(store, "training", "list")
    assert re.search(r"passed\s+due", listing) and "last score 100%" in listing
    assert "not yet sent" not in listing
    row = _state(served, lead, nurse_id)
    assert (row["state"], row["last_score_percent"], row["attempts"]) == ("passed", 100.0, 1)
    status, assigned = served.request("POST", f"/api/v1/visits/{visit['id']}/assign", assign,
                                      coordinator)
    assert status == 200, assigned
    assert assigned["nurse_id"] == nurse_id
