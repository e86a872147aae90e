"""End to end: a real server, two ``infusync-device`` clients, offline work, sync, reconciliation.

Everything runs as real processes on the real clock: visits are scheduled in the next hours
so they fall inside a nurse's sync window (7 days back, 14 ahead).
"""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, Server, free_port, wait_until_up

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served


PIN = "246813"
FAST_SCRYPT_N = str(2**10)  # the store's PIN cost, lowered so each command starts quickly
HOME = {"lat": "40.0", "lon": "-75.0"}
VITALS = ("--hr", "72", "--bp", "120/80", "--temp", "37.1", "--spo2", "98", "--rr", "16")


def _patient(served, token, mrn, first, last):
    """A patient with one home location (``mrn`` made the test's own on a shared server)."""
    status, patient = served.request("POST", "/api/v1/patients", {
        "mrn": served.unique(mrn), "first_name": first, "last_name": last,
        "birth_date": "1970-01-02",
        "locations": [{"kind": "home", "address": "9 Oak Rd", "latitude": float(HOME["lat"]),
                       "longitude": float(HOME["lon"])}],
    }, token)
    assert status == 201, patient
    return patient


def _visit(served, token, patient, nurse_id, hours_ahead):
    """A one-hour visit starting ``hours_ahead`` hours from now (the real clock)."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours_ahead)
    status, visit = served.request("POST", "/api/v1/visits", {
        "patient_id": patient["id"], "nurse_id": nurse_id,
        "service_location_id": patient["locations"][0]["id"],
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat(),
    }, token)
    assert status == 201, visit
    return visit


def _patch_if_match(served, path, body, token, version):
    """PATCH with ``If-Match: "<version>"`` (the fixture's client sends no extra headers)."""
    request = urllib.request.Request(served.base + path, data=json.dumps(body).encode(),
                                     method="PATCH")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("If-Match", f'"{version}"')
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _device(store, *args):
    """Run ``infusync-device --store STORE ARGS`` with the PIN in the environment."""
    env = {**os.environ, "INFUSYNC_DEVICE_PIN": PIN}
    return subprocess.run([str(BIN / "infusync-device"), "--store", str(store), *args],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def _ok(store, *args):
    """Run a device command that must succeed; return its stdout."""
    result = _device(store, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _enroll(store, base, code):
    """Enrol a new store; return the device id the server gave it."""
    out = _ok(store, "enroll", "--server", base, "--code", code, "--scrypt-n", FAST_SCRYPT_N)
    return re.search(r"enrolled as device (\S+);", out).group(1)


def _pending(store):
    """The pending-mutation count ``status`` shows."""
    return int(re.search(r"^pending\s+(\d+) mutation", _ok(store, "status"), re.M).group(1))


def _visit_ids(store):
    """The visit ids ``visits`` lists (first column; indented lines are their documents)."""
    out = _ok(store, "visits")
    if out.startswith("no visits"):
        return []
    return [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]


def _cli_code(served, email):
    result = served.admin("devices", "enrollment-code", "--email", email)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _http_code(served, token, user_id):
    status, body = served.request("POST", f"/api/v1/users/{user_id}/enrollment-codes",
                                  token=token)
    assert status == 201, body
    return body["code"]


def _assert_clean_server_logs(folder, *patient_names):
    """No request answered 5xx, and no patient name reached a server log."""
    logs = sorted(folder.glob("serve*.log"))
    assert logs
    for log in logs:
        text = log.read_text()
        assert not re.search(r'^\S+ "[A-Z]+ \S+" 5\d\d ', text, re.M), text
        for name in patient_names:
            assert name not in text


def _visit_status(served, token, visit_id):
    status, body = served.request("GET", f"/api/v1/visits/{visit_id}", token=token)
    assert status == 200, body
    return body["status"]


def _two_nurses_two_visits(served):
    """A coordinator's token, nurses A and B, and a visit for each (patients Alder, Birch)."""
    served.create_user(served.email("coord"), "coordinator")
    nurse_a = served.create_user(served.email("anna"), "nurse")
    nurse_b = served.create_user(served.email("ben"), "nurse")
    coordinator = served.login(served.email("coord"))
    alder = _patient(served, coordinator, "E2E-A", "Ada", "Alder")
    birch = _patient(served, coordinator, "E2E-B", "Bo", "Birch")
    return (coordinator, nurse_a, nurse_b,
            _visit(served, coordinator, alder, nurse_a, hours_ahead=1),
            _visit(served, coordinator, birch, nurse_b, hours_ahead=3))


def _assert_devices_synced(served, token, owners):
    """GET /devices lists exactly ``owners`` (device id → nurse id) for these nurses, each
    pushed and pulled (the shared server holds other tests' nurses and devices too)."""
    listed = []
    for nurse in sorted(set(owners.values())):
        status, hers = served.request("GET", f"/api/v1/devices?user_id={nurse}", token=token)
        assert status == 200, hers
        listed += hers
    assert {device["id"]: device["user_id"] for device in listed} == owners
    for device in listed:
        assert device["last_push_at"] and device["last_pull_at"], device


def _enrol_and_pull(store, base, code, visit, shown, hidden):
    """Enrol, pull the schedule, and see only ``visit``: patient ``shown``, never ``hidden``."""
    device_id = _enroll(store, base, code)
    _ok(store, "sync")
    listing = _ok(store, "visits")
    assert _visit_ids(store) == [visit["id"]]
    assert shown in listing and hidden not in listing
    return device_id


def test_two_devices_work_offline_then_sync_and_reconcile(served, tmp_path):
    coordinator, nurse_a, nurse_b, visit_a, visit_b = _two_nurses_two_visits(served)
    store_a, store_b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    device_a = _enrol_and_pull(store_a, served.base, _cli_code(served, served.email("anna")),
                               visit_a, shown="A. Alder", hidden="Birch")
    device_b = _enrol_and_pull(store_b, served.base, _http_code(served, coordinator, nurse_b),
                               visit_b, shown="B. Birch", hidden="Alder")

    # Offline work: nothing is sent until the next sync.
    location = ("--lat", HOME["lat"], "--lon", HOME["lon"], "--accuracy", "10")
    _ok(store_a, "check-in", visit_a["id"], *location)
    assert "5 reading(s) recorded" in _ok(store_a, "vitals", visit_a["id"], *VITALS)
    _ok(store_a, "check-out", visit_a["id"], *location)
    assert _pending(store_a) == 7
    assert "unsent: check-in, vitals x5, check-out" in _ok(store_a, "visits")
    _ok(store_b, "check-in", visit_b["id"], *location)
    assert _visit_status(served, coordinator, visit_a["id"]) == "scheduled"

    # Meanwhile the coordinator hands B's visit to nurse A.
    status, moved = _patch_if_match(served, f"/api/v1/visits/{visit_b['id']}",
                                    {"nurse_id": nurse_a}, coordinator, visit_b["version"])
    assert status == 200, moved
    assert moved["nurse_id"] == nurse_a

    report_a = _ok(store_a, "sync")
    assert "sent 7 mutation(s)" in report_a and "7 applied" in report_a
    report_b = _ok(store_b, "sync")
    assert "1 conflict" in report_b, report_b

    assert _visit_status(served, coordinator, visit_a["id"]) == "completed"
    _assert_devices_synced(served, coordinator, {device_a: nurse_a, device_b: nurse_b})

    assert _pending(store_a) == 0
    assert _pending(store_b) == 0
    problems = _ok(store_b, "status")
    assert re.search(rf"conflict\s+seq \d+\s+visit.check_in\s+{visit_b['id']} review ", problems)
    assert sorted(_visit_ids(store_a)) == sorted([visit_a["id"], visit_b["id"]])
    assert "B. Birch" in _ok(store_a, "visits")
    assert _visit_ids(store_b) == []
    assert "Birch" not in _ok(store_b, "visits")
    _assert_clean_server_logs(served.folder, "Alder", "Birch")


@contextmanager
def _second_server(env, port):
    """Another ``infusync serve`` on the same database and ``port``, stopped on exit."""
    with (Path(env["INFUSYNC_INSTANCE_PATH"]) / f"serve-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [str(BIN / "infusync"), "serve", "--port", str(port), "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(f"http://127.0.0.1:{port}", process)
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_documentation_survives_a_server_outage(served, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    served.create_user(served.email("coord"), "coordinator")
    nurse = served.create_user(served.email("anna"), "nurse")
    coordinator = served.login(served.email("coord"))
    visit = _visit(served, coordinator, _patient(served, coordinator, "E2E-A", "Ada", "Alder"),
                   nurse, hours_ahead=1)
    store = tmp_path / "a.sqlite3"
    with _second_server(served.env, port):
        _enroll(store, base, _http_code(served, coordinator, nurse))
        _ok(store, "sync")
    assert _visit_ids(store) == [visit["id"]]

    # The server the device enrolled with is stopped: documenting works, sending does not.
    # (Started again on the same port below, it answers at the URL the device stored.)
    _ok(store, "check-in", visit["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
    _ok(store, "vitals", visit["id"], "--hr", "72")
    failed = _device(store, "sync")
    assert failed.returncode == 1
    assert failed.stderr == (
        "infusync-device: No connection to the agency. Your documentation (2 records) is "
        "safe on this device and will be sent when the connection returns.\n")
    assert "Traceback" not in failed.stderr
    assert _pending(store) == 2
    assert "unsent: check-in, vitals" in _ok(store, "visits")
    assert _visit_status(served, coordinator, visit["id"]) == "scheduled"

    with _second_server(served.env, port):
        report = _ok(store, "sync")
    assert "sent 2 mutation(s)" in report and "2 applied" in report
    assert _pending(store) == 0
    assert _visit_status(served, coordinator, visit["id"]) == "in_progress"
    _assert_clean_server_logs(served.folder, "Alder")


def test_a_qc_resolution_shows_on_the_nurses_device_after_one_sync(served, tmp_path):
    coordinator, nurse_a, nurse_b, visit_a, visit_b = _two_nurses_two_visits(served)
    served.create_user(served.email("quinn"), "qc")
    store_a, store_b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    _enrol_and_pull(store_a, served.base, _cli_code(served, served.email("anna")), visit_a,
                    shown="A. Alder", hidden="Birch")
    _enrol_and_pull(store_b, served.base, _http_code(served, coordinator, nurse_b), visit_b,
                    shown="B. Birch", hidden="Alder")

    # Nurse B checks in offline while the coordinator hands her visit to nurse A.
    _ok(store_b, "check-in", visit_b["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
    status, _moved = _patch_if_match(served, f"/api/v1/visits/{visit_b['id']}",
                                     {"nurse_id": nurse_a}, coordinator, visit_b["version"])
    assert status == 200
    assert "1 conflict" in _ok(store_b, "sync")
    before = _ok(store_b, "status")
    item_id = re.search(rf"conflict\s+seq \d+\s+visit.check_in\s+{visit_b['id']} .*review "
                        r"(\S+)", before).group(1)
    assert re.search(r"^  open      check-in on visit \S+: documented on a visit reassigned",
                     before, re.M), before

    note = "Checked with the coordinator: she was there before the visit moved."
    status, resolved = served.request("POST", f"/api/v1/review-items/{item_id}/resolve",
                                      {"resolution": "accept", "comment": note},
                                      served.login(served.email("quinn")))
    assert status == 200, resolved

    _ok(store_b, "sync")
    after = _ok(store_b, "status")
    assert "needs attention" not in after
    assert re.search(rf"^  resolved  check-in on visit {visit_b['id']}: documented on a visit "
                     rf"reassigned while you were offline\n\s+resolved by quinn \(qc\) on "
                     rf"[\d-]+ [\d:]+: accepted as documented — {re.escape(note)}$",
                     after, re.M), after
    # Nurse A now holds the visit, but the documentation and its review are nurse B's.
    _ok(store_a, "sync")
    assert "review of your documentation" not in _ok(store_a, "status")
    _assert_clean_server_logs(served.folder, "Alder", "Birch")
