"""End to end: a reassignment made on the coordinator's board reaches both nurses' devices.

A real ``infusync serve`` and two ``infusync-device`` stores: the old nurse's next sync
purges the visit and its patient, the new nurse's brings them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_device_sync import (
    _enroll,
    _http_code,
    _ok,
    _patient,
    _visit,
    _visit_ids,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served

AGENCY_ZONE = ZoneInfo("America/New_York")  # the server's default INFUSYNC_AGENCY_TIMEZONE


def _board_entry(served, token, visit):
    day = datetime.fromisoformat(visit["scheduled_start"]).astimezone(AGENCY_ZONE).date()
    status, board = served.request("GET", f"/api/v1/board?date={day.isoformat()}", token=token)
    assert status == 200, board
    rows = {row["nurse"]["id"]: row["visits"] for row in board["nurses"]}
    return rows, next(v for visits in rows.values() for v in visits if v["id"] == visit["id"])


def test_a_reassignment_on_the_board_reaches_the_old_and_the_new_nurse(served, tmp_path):
    served.create_user(served.email("coord"), "coordinator")
    anna = served.create_user(served.email("anna"), "nurse")
    ben = served.create_user(served.email("ben"), "nurse")
    coordinator = served.login(served.email("coord"))
    visit = _visit(served, coordinator, _patient(served, coordinator, "E2E-A", "Ada", "Alder"),
                   anna, hours_ahead=2)
    store_anna, store_ben = tmp_path / "anna.sqlite3", tmp_path / "ben.sqlite3"
    _enroll(store_anna, served.base, _http_code(served, coordinator, anna))
    _enroll(store_ben, served.base, _http_code(served, coordinator, ben))
    _ok(store_anna, "sync")
    _ok(store_ben, "sync")
    assert _visit_ids(store_anna) == [visit["id"]] and _visit_ids(store_ben) == []

    rows, entry = _board_entry(served, coordinator, visit)
    assert [v["id"] for v in rows[anna]] == [visit["id"]]
    status, body = served.request("POST", f"/api/v1/visits/{visit['id']}/assign",
                                  {"nurse_id": ben, "version": entry["version"]}, coordinator)
    assert status == 200, body
    rows, _entry = _board_entry(served, coordinator, visit)
    assert anna not in rows and [v["id"] for v in rows[ben]] == [visit["id"]]

    _ok(store_anna, "sync")
    _ok(store_ben, "sync")
    assert _visit_ids(store_anna) == []
    assert "Alder" not in _ok(store_anna, "visits")
    assert _visit_ids(store_ben) == [visit["id"]]
    assert "A. Alder" in _ok(store_ben, "visits")
