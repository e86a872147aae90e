"""End to end, issue 11 item 1: a pump used at two patients this month is recalled.

A real server, two ``infusync-device`` clients on the real clock. Nurse Anna infuses Ada
Alder through pump DEMO-CS-0031; the pump is swapped to Bo Birch, where nurse Ben infuses
through it; both devices push. The pump is then recalled, once through PATCH /pumps/{id},
once through a CSV recall list: within one sync each device shows the notification, and
each patient has a critical review item listing that infusion as evidence, and each
patient's physician has one notification in her inbox (item 5).
"""

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_device_sync import (
    _assert_clean_server_logs,
    _enroll,
    _http_code,
    _ok,
    _patient,
    _visit,
)

pytestmark = pytest.mark.e2e

SERIAL = "DEMO-CS-0031"
MESSAGE = f"Pump {SERIAL} is recalled: stop using it and call the pharmacy."
PHYSICIAN_NPIS = ("1234567893", "1234567802")


def _order(served, token, patient, physician_id):
    """Ceftriaxone 2 g daily for ``patient``, prescribed by ``physician_id``."""
    status, order = served.request("POST", "/api/v1/orders", {
        "patient_id": patient["id"], "physician_id": physician_id, "medication": "ceftriaxone",
        "dose": 2, "dose_unit": "g", "frequency_kind": "daily",
        "start_date": datetime.now(UTC).date().isoformat()}, token)
    assert status == 201, order
    return order


def _infuse(store, visit, order):
    """The nurse documents an infusion through the pump that started an hour ago; its id."""
    started = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    out = _ok(store, "infusion", visit["id"], "--order", order["id"],
              "--medication", "ceftriaxone", "--dose", "2", "--unit", "g", "--route", "IV",
              "--lot", "L-77", "--lot-expiry", "2030-01-31", "--access-type", "picc",
              "--site", "right basilic", "--phlebitis", "0", "--infiltration", "0",
              "--started", started.strftime("%Y-%m-%dT%H:%M+00:00"),
              "--stopped", (started + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M+00:00"),
              "--pump-serial", SERIAL, "--rate", "100")
    return re.search(r"infusion recorded as record (\S+)", out).group(1)


def _pump_at(served, token, pump_id, **fields):
    """PATCH the pump at its current version."""
    status, pump = served.request("GET", f"/api/v1/pumps/{pump_id}", token=token)
    assert status == 200, pump
    status, pump = served.request("PATCH", f"/api/v1/pumps/{pump_id}",
                                  {**fields, "version": pump["version"]}, token)
    assert status == 200, pump
    return pump


def _pump_used_at_two_patients(served, tmp_path):
    """Everything up to the recall; the coordinator's token, the pump, both stores, and
    per patient the infusion documented there."""
    served.create_user("coord@e2e.test", "coordinator")
    anna = served.create_user("anna@e2e.test", "nurse")
    ben = served.create_user("ben@e2e.test", "nurse")
    doctors = [served.create_user(f"dr{i}@e2e.test", "physician", "--npi", npi)
               for i, npi in enumerate(PHYSICIAN_NPIS)]
    token = served.login("coord@e2e.test")
    alder = _patient(served, token, "E2E-A", "Ada", "Alder")
    birch = _patient(served, token, "E2E-B", "Bo", "Birch")
    orders = [_order(served, token, p, d) for p, d in zip((alder, birch), doctors, strict=True)]
    visits = [_visit(served, token, alder, anna, 2), _visit(served, token, birch, ben, 3)]
    status, pump = served.request("POST", "/api/v1/pumps", {
        "serial": SERIAL, "manufacturer": "Smiths", "model": "CADD-Solis",
        "patient_id": alder["id"]}, token)
    assert status == 201, pump
    stores = [tmp_path / "anna.sqlite3", tmp_path / "ben.sqlite3"]
    for store, nurse in zip(stores, (anna, ben), strict=True):
        _enroll(store, served.base, _http_code(served, token, nurse))
        _ok(store, "sync")

    given = {alder["id"]: _infuse(stores[0], visits[0], orders[0])}
    assert "1 applied" in _ok(stores[0], "sync")
    _pump_at(served, token, pump["id"], patient_id=birch["id"])  # swapped out to Birch
    given[birch["id"]] = _infuse(stores[1], visits[1], orders[1])
    assert "1 applied" in _ok(stores[1], "sync")
    return token, pump, stores, given


def _post_csv(served, token, text):
    request = urllib.request.Request(served.base + "/api/v1/pumps/recalls",
                                     data=text.encode(), method="POST")
    request.add_header("Content-Type", "text/csv")
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _assert_traced(served, token, stores, given, recall_number=None):
    """One sync later: each device lists the notification; each patient has her item."""
    for store in stores:
        _ok(store, "sync")
        listing = _ok(store, "notifications")
        assert "Pump recalled" in listing and MESSAGE in listing, listing
    status, items = served.request("GET", "/api/v1/review-items?kind=pump_recalled",
                                   token=token)
    assert status == 200, items
    assert {item["patient_id"]: [a["id"] for a in item["details"]["administrations"]]
            for item in items} == {patient: [record] for patient, record in given.items()}
    assert {(item["severity"], item["details"]["recall_number"]) for item in items} == {
        ("critical", recall_number)}


def _assert_physicians_told(served, given):
    """Each patient's physician (dr0: Alder's, dr1: Birch's) has one notification, for her."""
    for index, patient_id in enumerate(given):
        status, inbox = served.request("GET", "/api/v1/notifications",
                                       token=served.login(f"dr{index}@e2e.test"))
        assert status == 200, inbox
        assert [(n["kind"], n["patient_id"]) for n in inbox] == [
            ("critical_finding", patient_id)]
        assert inbox[0]["title"] == "Critical finding on a patient of yours: pump recalled"


def test_a_recall_through_the_api_reaches_both_nurses_and_both_patients(served, tmp_path):
    token, pump, stores, given = _pump_used_at_two_patients(served, tmp_path)
    _pump_at(served, token, pump["id"], status="recalled")
    _assert_traced(served, token, stores, given)
    _assert_physicians_told(served, given)
    _assert_clean_server_logs(tmp_path, "Alder", "Birch")


def test_a_recall_list_reaches_both_nurses_and_both_patients_once(served, tmp_path):
    token, _pump, stores, given = _pump_used_at_two_patients(served, tmp_path)
    recall_list = f"serial,recall_number,reason\n{SERIAL},Z-0311-2026,Free-flow risk\n"
    status, report = _post_csv(served, token, recall_list)
    assert status == 200, report
    assert (report["review_items_opened"], report["notifications_sent"]) == (2, 2)
    _assert_traced(served, token, stores, given, "Z-0311-2026")
    status, again = _post_csv(served, token, recall_list)  # the same list, imported again
    assert status == 200, again
    assert [p["outcome"] for p in again["pumps"]] == ["already_recalled"]
    _assert_traced(served, token, stores, given, "Z-0311-2026")
    for store in stores:
        assert _ok(store, "notifications").count(MESSAGE) == 1
    _assert_physicians_told(served, given)
    _assert_clean_server_logs(tmp_path, "Alder", "Birch")
