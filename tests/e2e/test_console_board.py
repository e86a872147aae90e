"""The coordinator's day in a real browser against a real ``infusync serve`` and a real
``infusync-device``: an override on the visit page reaches the nurse's device, and the
board shows her check-in without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.console_pages import screenshots, serious_violations, sign_in
from tests.e2e.test_device_sync import (
    HOME,
    _assert_clean_server_logs,
    _enroll,
    _http_code,
    _ok,
    _patient,
    _visit_ids,
)

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]
AGENCY_ZONE = ZoneInfo("America/New_York")  # the server's default INFUSYNC_AGENCY_TIMEZONE
REASON = "Only nurse free this morning; PICC refresher booked for Friday"


def _picc_visit(served, token, physician_id):
    """An unassigned one-hour visit starting in an hour, of an order that needs picc-care."""
    patient = _patient(served, token, "E2E-C", "Cora", "Cedarwood")
    status, order = served.request("POST", "/api/v1/orders", {
        "patient_id": patient["id"], "physician_id": physician_id, "medication": "vancomycin",
        "dose": 1, "dose_unit": "g", "frequency_kind": "daily",
        "start_date": datetime.now(UTC).date().isoformat(),
        "required_competency": "picc-care"}, token)
    assert status == 201, order
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    status, visit = served.request("POST", "/api/v1/visits", {
        "patient_id": patient["id"], "order_id": order["id"],
        "service_location_id": patient["locations"][0]["id"],
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat()}, token)
    assert status == 201, visit
    return visit, start.astimezone(AGENCY_ZONE).date().isoformat()


def _override_on_the_visit_page(page):
    expect(page.get_by_text("1 nurse who may not take this visit is not listed")).to_be_visible()
    page.get_by_label("Find a nurse").fill("nina")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("1 active nurse match “nina”, eligible first.")).to_be_visible()
    page.get_by_label("Nurse", exact=True).select_option(
        label="nina — not eligible: missing competency: picc-care")
    page.get_by_role("button", name="Assign").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("The nurse may not take this visit: "
                                    "missing_competency: picc-care")
    ask = "To assign her anyway, say why you override the rules."
    expect(summary.get_by_role("link", name=f"Reason for the override: {ask}")).to_be_visible()
    expect(page.get_by_text(f"Error: {ask}")).to_be_visible()  # beside the field too
    assert serious_violations(page) == []
    page.get_by_label("Reason for the override").fill(REASON)
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status").filter(has_text="The visit is assigned.")).to_be_visible()
    expect(page.get_by_text(f"nina (override: {REASON})")).to_be_visible()


def test_an_override_reaches_the_nurse_and_her_check_in_shows_on_the_board(
        served, page, tmp_path):
    served.create_user("coord@e2e.test", "coordinator")
    nina = served.create_user("nina@e2e.test", "nurse")  # no picc-care
    physician = served.create_user("doc@e2e.test", "physician", "--npi", "1234567893")
    token = served.login("coord@e2e.test")
    visit, day = _picc_visit(served, token, physician)
    store = tmp_path / "nina.sqlite3"
    _enroll(store, served.base, _http_code(served, token, nina))
    _ok(store, "sync")
    assert _visit_ids(store) == []

    sign_in(page, served.base, "coord@e2e.test")
    page.goto(f"{served.base}/console/board?date={day}")
    unassigned = page.get_by_role("list").filter(has_text="Cedarwood")
    expect(unassigned).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Cora Cedarwood").click()
    _override_on_the_visit_page(page)
    screenshots(page, "visit")

    _ok(store, "sync")
    assert _visit_ids(store) == [visit["id"]]

    page.goto(f"{served.base}/console/board?date={day}")
    lane = page.get_by_role("region", name="nina")
    expect(lane).to_contain_text("Cora Cedarwood")
    expect(lane).to_contain_text("not started")
    page.evaluate("window.notReloaded = true")
    _ok(store, "check-in", visit["id"], "--lat", HOME["lat"], "--lon", HOME["lon"])
    _ok(store, "sync")
    expect(lane).to_contain_text("checked in", timeout=10_000)
    assert page.evaluate("window.notReloaded === true")
    expect(page.get_by_role("status").filter(has_text="Updated at")).to_be_visible()
    screenshots(page, "board")
    _assert_clean_server_logs(tmp_path, "Cora", "Cedarwood")
