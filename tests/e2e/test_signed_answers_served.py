"""Signed answers and key rotation over a real ``infusync serve`` and the device command line.

A revoked device's sync wipes it (the signed wipe, verified for this device and request);
a device that was offline while the signing key was rotated syncs again by following the
old key's endorsement of the new one.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_device_sync import (
    HOME,
    _device,
    _enroll,
    _http_code,
    _ok,
    _patient,
    _pending,
    _visit,
)

pytestmark = pytest.mark.e2e


def _nurse_with_a_visit(served):
    """A coordinator's token, a nurse's id and one visit of hers an hour ahead."""
    served.create_user("coord@e2e.test", "coordinator")
    nurse = served.create_user("anna@e2e.test", "nurse")
    coordinator = served.login("coord@e2e.test")
    visit = _visit(served, coordinator, _patient(served, coordinator, "E2E-S", "Sue", "Signe"),
                   nurse, hours_ahead=1)
    return coordinator, nurse, visit


def test_a_revoked_device_is_wiped_by_the_signed_answer(served, tmp_path):
    coordinator, nurse, _visit_row = _nurse_with_a_visit(served)
    store = tmp_path / "stolen.sqlite3"
    device_id = _enroll(store, served.base, _http_code(served, coordinator, nurse))
    _ok(store, "sync")
    status, body = served.request("POST", f"/api/v1/devices/{device_id}/revoke",
                                  token=coordinator)
    assert status == 200, body

    wiped = _device(store, "sync")
    assert wiped.returncode == 1
    assert wiped.stderr.startswith("infusync-device: this device was wiped")
    assert "Traceback" not in wiped.stderr
    status, listed = served.request("GET", f"/api/v1/devices?user_id={nurse}",
                                    token=coordinator)
    assert [d["wipe_delivered_at"] is not None for d in listed] == [True]


def test_a_device_offline_through_a_signing_rotation_syncs_after_it(served, tmp_path):
    coordinator, nurse, visit = _nurse_with_a_visit(served)
    store = tmp_path / "tablet.sqlite3"
    _enroll(store, served.base, _http_code(served, coordinator, nurse))
    _ok(store, "sync")
    _ok(store, "check-in", visit["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])

    rotated = served.cli("keys", "rotate-signing", "--grace-hours", "0")
    assert rotated.returncode == 0, rotated.stderr
    assert "endorsed by signing-initial" in rotated.stdout

    report = _ok(store, "sync")
    assert "sent 1 mutation(s)" in report and "1 applied" in report
    assert _pending(store) == 0
