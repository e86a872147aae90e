"""A coordinator in a real browser against a real ``infusync serve``: she searches a
patient, opens her page, edits an order and sees which visits the change cancels before
she saves it; a refused admission keeps what she typed. The patient list, her page, the
admission form, the order preview and the staff directory pass
axe-core (no serious or critical violation), with screenshots at 1280 and 390 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.console_pages import screenshots, serious_violations, sign_in
from tests.e2e.test_device_sync import _patient

# One database: what the browser (or the socket) sees does not depend on it, and each
# page's rules run on both in tests/integration; PostgreSQL is production's.
pytestmark = [pytest.mark.e2e,
              pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


def _order(served, token, patient, physician_id, days):
    """A daily order at 09:00 from tomorrow, ending ``days`` days from today."""
    today = datetime.now(UTC).date()
    status, order = served.request("POST", "/api/v1/orders", {
        "patient_id": patient["id"], "physician_id": physician_id, "medication": "cefazolin",
        "dose": 2, "dose_unit": "g", "frequency_kind": "daily", "window_start": "09:00",
        "start_date": (today + timedelta(days=1)).isoformat(),
        "end_date": (today + timedelta(days=days)).isoformat()}, token)
    assert status == 201, order
    return order


def _refused_admission(page):
    """The admission form refuses a latitude that is no number: beside the field, in the
    summary, with what was typed kept."""
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Admit a patient").click()
    page.get_by_label("MRN").fill("E2E-Q")
    page.get_by_label("First name").fill("Quinn")
    page.get_by_label("Last name").fill("Quarry")
    page.get_by_label("Date of birth").fill("1980-03-04")
    page.get_by_label("Address").fill("4 Pine St")
    page.get_by_label("Latitude").fill("north")
    page.get_by_label("Longitude").fill("-75")
    page.get_by_role("button", name="Admit the patient").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link", name="Latitude: Not a valid number.")).to_be_visible()
    expect(page.get_by_text("Error: Not a valid number.")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Quinn")
    assert serious_violations(page) == []
    screenshots(page, "patient-form")


def _search_and_open(page, base):
    page.get_by_role("link", name="Patients").click()
    assert serious_violations(page) == []
    page.get_by_label("Name or MRN").fill("Mar")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 found for “Mar”")).to_be_visible()
    screenshots(page, "patients")
    page.get_by_role("link", name="Marlowe, Mara").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mara Marlowe")
    expect(page.get_by_role("region", name="Orders")).to_contain_text("cefazolin 2 g IV")
    assert serious_violations(page) == []
    screenshots(page, "patient")


def _shorten_the_order(page):
    page.get_by_role("link", name="Edit cefazolin").click()
    end = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    page.get_by_label("End date").fill(end)
    page.get_by_role("button", name="Preview the visits").click()
    preview = page.get_by_role("region", name="What saving does to the visits")
    expect(preview).to_contain_text("Visits to be cancelled (3)")
    expect(preview).to_contain_text("Visits to be created (0)")
    assert serious_violations(page) == []
    screenshots(page, "order-preview")
    page.get_by_role("button", name="Save the order").click()
    expect(page.get_by_role("status")).to_have_text("The order is saved.")
    expect(page.get_by_role("region", name="Orders")).to_contain_text(end)


def test_a_coordinator_edits_an_order_after_seeing_its_visits(served, page):
    served.create_user("coord@e2e.test", "coordinator")
    physician = served.create_user("doc@e2e.test", "physician", "--npi", "1234567893")
    served.create_user("nina@e2e.test", "nurse", "--competency", "picc-care")
    token = served.login("coord@e2e.test")
    patient = _patient(served, token, "E2E-M", "Mara", "Marlowe")
    _patient(served, token, "E2E-O", "Otto", "Oakes")
    _order(served, token, patient, physician, days=5)

    sign_in(page, served.base, "coord@e2e.test")
    _refused_admission(page)
    _search_and_open(page, served.base)
    _shorten_the_order(page)

    page.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("row", name="nina nurse picc-care")).to_be_visible()
    assert serious_violations(page) == []
    screenshots(page, "directory")
